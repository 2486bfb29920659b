"""Run the scheduled BigQuery models of ``sql/``: one day, or a backfill over a range.

Command line::

    python -m warehouse.runner run --date 2026-11-03
    python -m warehouse.runner backfill --start 2026-11-01 --end 2026-11-21 [--mode backfill|replay]
    python -m warehouse.runner backfill ... --dry-run     # print each step's script, parameters bound

The models run in the order derived from the tables their SQL reads (:mod:`warehouse.graph`).
A day runs each model's daily step: ``incremental.sql`` for a stateful model, ``range.sql`` over
that one day for the others. ``backfill`` mode runs each model's range SQL (``backfill.sql`` or
``range.sql``) once over the range; ``replay`` runs the daily steps day by day. Both give the same
tables. Each step is sent as the script :func:`warehouse.sql.step_script` builds. Connection
flags: ``--project``, ``--location``, ``--bigquery-endpoint`` (a local emulator, anonymous
credentials; otherwise Application Default Credentials), ``--events-dataset``,
``--analytics-dataset``.

Python API: :func:`backfill` (returns ``{model: row count}``), :func:`plan_day`,
:func:`plan_backfill`, :func:`execute`, :func:`row_counts`, :func:`make_client`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, TextIO

from tqdm import tqdm

from pipeline.bigquery_client import EMULATOR_PROJECT, bigquery_client
from warehouse.graph import model_names
from warehouse.sql import check_datasets, date_literal, model_sql, step_script

if TYPE_CHECKING:
    from google.cloud import bigquery

MODES = ("backfill", "replay")


@dataclass(frozen=True)
class Step:
    """One query job: a model's SQL file for a day or a range, with its parameters."""

    model: str
    kind: str  # the file: "incremental", "backfill" or "range"
    parameters: dict[str, date] = field(hash=False)
    sql: str = field(repr=False, hash=False)  # the script sent, parameters written in

    @property
    def label(self) -> str:
        days = sorted(set(self.parameters.values()))
        when = days[0].isoformat() if len(days) == 1 else f"{days[0]}..{days[-1]}"
        return f"{when} {self.model}"


def make_step(
    model: str, kind: str, parameters: Mapping[str, date], datasets: Mapping[str, str] | None
) -> Step:
    return Step(model, kind, dict(parameters), step_script(model, kind, parameters, datasets))


def _selected(models: Sequence[str] | None) -> list[str]:
    names = model_names()
    if models is None:
        return names
    unknown = sorted(set(models) - set(names))
    if unknown:
        raise ValueError(f"unknown models {unknown}; known: {names}")
    return [n for n in names if n in set(models)]


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def days(start: date | str, end: date | str) -> list[date]:
    """Every date from start to end inclusive."""
    first, last = _as_date(start), _as_date(end)
    if last < first:
        raise ValueError(f"end {last} is before start {first}")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _day_step(model: str, day: date, datasets: Mapping[str, str] | None) -> Step:
    kind = model_sql(model).day_kind
    parameters = {"run_date": day} if kind == "incremental" else {"start_date": day, "end_date": day}
    return make_step(model, kind, parameters, datasets)


def plan_day(
    day: date | str, datasets: Mapping[str, str] | None = None, models: Sequence[str] | None = None
) -> list[Step]:
    """The daily steps for one day, in run order."""
    run_date = _as_date(day)
    return [_day_step(m, run_date, datasets) for m in _selected(models)]


def plan_backfill(
    start: date | str,
    end: date | str,
    mode: str = "backfill",
    datasets: Mapping[str, str] | None = None,
    models: Sequence[str] | None = None,
) -> list[Step]:
    """The steps of a backfill: each model's range SQL once, or every day's daily steps."""
    dates = days(start, end)
    if mode == "backfill":
        params = {"start_date": dates[0], "end_date": dates[-1]}
        return [make_step(m, model_sql(m).range_kind, params, datasets) for m in _selected(models)]
    if mode == "replay":
        return [step for d in dates for step in plan_day(d, datasets, models)]
    raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")


class Progress:
    """Model steps done, as a tqdm bar on stderr (or any stream): count, the step, elapsed time."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.bar = tqdm(
            total=total,
            file=stream if stream is not None else sys.stderr,
            unit="step",
            ascii=True,
            mininterval=0,
            bar_format="models [{bar:24}] {n_fmt}/{total_fmt} {desc} {elapsed}",
        )

    def __call__(self, step: Step) -> None:
        self.bar.set_description_str(f"{step.label} ({step.kind})", refresh=False)
        self.bar.update(1)
        if self.bar.n >= self.bar.total:
            self.bar.close()


ProgressArg = Callable[[Step], None] | TextIO | bool | None


def _progress_callback(progress: ProgressArg, total: int) -> Callable[[Step], None] | None:
    """A callback from what callers pass: a callable, a text stream, True (stderr) or None/False."""
    if progress is None or progress is False:
        return None
    if progress is True:
        return Progress(total)
    if hasattr(progress, "write"):
        return Progress(total, stream=progress)  # type: ignore[arg-type]
    return progress  # type: ignore[return-value]


def execute(
    client: bigquery.Client | None,
    steps: Iterable[Step],
    progress: ProgressArg = None,
    dry_run: bool = False,
    out: TextIO | None = None,
) -> None:
    """Run the steps in order (or, with ``dry_run``, print the script each would send).

    ``progress``: a callable given each step before it runs, a text stream for a
    :class:`Progress` bar, ``True`` for a bar on stderr, or None.
    """
    steps = list(steps)
    out = out if out is not None else sys.stdout
    progress = _progress_callback(progress, len(steps))
    for number, step in enumerate(steps, start=1):
        if progress:
            progress(step)
        if dry_run:
            bound = ", ".join(f"@{n} = {date_literal(v)}" for n, v in step.parameters.items())
            out.write(f"-- [{number}/{len(steps)}] {step.model} ({step.kind}): {bound}\n")
            out.write(step.sql.rstrip() + "\n\n")
            continue
        from google.cloud import bigquery

        if client is None:
            raise ValueError("a BigQuery client is needed unless dry_run is set")
        config = bigquery.QueryJobConfig(
            labels={"eventharbor_model": step.model, "eventharbor_step": step.kind}
        )
        client.query(step.sql, job_config=config).result()


def row_counts(
    client: bigquery.Client, datasets: Mapping[str, str] | None = None, models: Sequence[str] | None = None
) -> dict[str, int]:
    """``{model: number of rows}`` for each model's table, in run order."""
    analytics = check_datasets(datasets)["analytics"]
    counts = {}
    for model in _selected(models):
        rows = client.query(f"SELECT COUNT(*) AS n FROM `{analytics}.{model}`").result()
        counts[model] = next(iter(rows))["n"]
    return counts


def backfill(
    client: bigquery.Client,
    start: date | str,
    end: date | str,
    mode: str = "backfill",
    datasets: Mapping[str, str] | None = None,
    *,
    models: Sequence[str] | None = None,
    progress: ProgressArg = None,
) -> dict[str, int]:
    """Rebuild the models over ``[start, end]`` (``backfill`` or ``replay`` mode); returns row counts."""
    execute(client, plan_backfill(start, end, mode, datasets, models), progress)
    return row_counts(client, datasets, models)


def make_client(
    project: str | None = None, endpoint: str | None = None, location: str | None = None
) -> bigquery.Client:
    """A google-cloud-bigquery client: the emulator at ``endpoint`` (anonymous), else ADC."""
    return bigquery_client(project or (EMULATOR_PROJECT if endpoint else None), endpoint, location)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m warehouse.runner", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--project", help="Google Cloud project (default: from the environment)")
    common.add_argument("--location", help="BigQuery location, e.g. EU or US")
    common.add_argument(
        "--bigquery-endpoint", metavar="URL", help="a local BigQuery emulator, e.g. http://127.0.0.1:9050"
    )
    common.add_argument("--events-dataset", default="events", help="dataset of the raw tables")
    common.add_argument("--analytics-dataset", default="analytics", help="dataset of the model tables")
    common.add_argument("--models", help="comma-separated subset of models (run order is kept)")
    common.add_argument("--dry-run", action="store_true", help="print each step's script, parameters bound")
    common.add_argument("--quiet", action="store_true", help="no progress bar")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", parents=[common], help="run every model's daily step for a day")
    run.add_argument("--date", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    fill = commands.add_parser("backfill", parents=[common], help="rebuild the models over a date range")
    fill.add_argument("--start", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    fill.add_argument("--end", required=True, type=date.fromisoformat, help="YYYY-MM-DD (inclusive)")
    fill.add_argument(
        "--mode",
        choices=MODES,
        default="backfill",
        help="backfill: each model's range SQL once; replay: the daily steps day by day",
    )
    args = parser.parse_args(argv)
    if args.command == "backfill" and args.end < args.start:
        parser.error(f"--end {args.end} is before --start {args.start}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    datasets = check_datasets({"events": args.events_dataset, "analytics": args.analytics_dataset})
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    if args.command == "run":
        steps = plan_day(args.date, datasets, models)
    else:
        steps = plan_backfill(args.start, args.end, args.mode, datasets, models)
    progress = None if args.quiet else Progress(len(steps))
    if args.dry_run:
        execute(None, steps, progress, dry_run=True)
        return 0
    client = make_client(args.project, args.bigquery_endpoint, args.location)
    execute(client, steps, progress)
    for model, count in row_counts(client, datasets, models).items():
        print(f"{datasets['analytics']}.{model}\t{count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
