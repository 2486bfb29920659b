"""Run the scheduled BigQuery models of ``sql/``: one day, or a backfill over a range.

Command line::

    python -m warehouse.runner run --date 2026-11-03
    python -m warehouse.runner backfill --start 2026-11-01 --end 2026-11-21 [--mode backfill|replay]
    python -m warehouse.runner backfill ... --dry-run     # print each step's script, parameters bound
    python -m warehouse.runner scheduled --run-date 2026-11-04   # exactly what the scheduled query runs

The models run in the order derived from the tables their SQL reads (:mod:`warehouse.graph`).
A day runs each model's file (``sql/models/<model>.sql``) over that one day. ``backfill`` mode
runs each model's file once over the range; ``replay`` runs it day by day. Both give the same
tables. Each step is sent as the script :func:`warehouse.sql.step_script` builds. ``scheduled``
runs the scheduled query's own script (``terraform/generated/daily_models.sql`` as Terraform
deploys it, ``@run_date`` bound): it finds the late rows and missed days itself, builds them and
logs the run in ``analytics.model_builds`` (:func:`run_scheduled`). Connection
flags: ``--project``, ``--location``, ``--bigquery-endpoint`` (a local emulator, anonymous
credentials; otherwise Application Default Credentials), ``--events-dataset``,
``--analytics-dataset``. Every request has a deadline (:mod:`warehouse.clients`): an endpoint
that does not answer ends the run in one line, and retries are said on stderr.

Python API: :func:`backfill` (returns ``{model: row count}``), :func:`run_scheduled` (returns
the build log row), :func:`plan_day`, :func:`plan_backfill`, :func:`execute`, :func:`row_counts`,
:func:`warehouse.clients.tool_client`.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, TextIO

from tqdm import tqdm

from pipeline.commands import ArgumentParser, UsageError, iso_date, run_command
from warehouse import render
from warehouse.clients import EMULATOR_PROJECT, refused, tool_client
from warehouse.graph import model_names
from warehouse.sql import check_datasets, date_literal, step_script

if TYPE_CHECKING:
    from google.cloud import bigquery

MODES = ("backfill", "replay")


@dataclass(frozen=True)
class Step:
    """One query job: a model's SQL file for a day or a range, with its parameters."""

    model: str
    parameters: dict[str, date] = field(hash=False)
    sql: str = field(repr=False, hash=False)  # the script sent, parameters written in

    @property
    def kind(self) -> str:
        """``day`` for a daily step, ``range`` for a range of days in one query."""
        return "day" if self.parameters["start_date"] == self.parameters["end_date"] else "range"

    @property
    def label(self) -> str:
        days = sorted(set(self.parameters.values()))
        when = days[0].isoformat() if len(days) == 1 else f"{days[0]}..{days[-1]}"
        return f"{when} {self.model}"


def make_step(model: str, start: date, end: date, datasets: Mapping[str, str] | None) -> Step:
    """The step that runs ``model`` over the days ``start`` .. ``end``."""
    parameters = {"start_date": start, "end_date": end}
    return Step(model, parameters, step_script(model, parameters, datasets))


def _selected(models: Sequence[str] | None) -> list[str]:
    names = model_names()
    if models is None:
        return names
    unknown = [m for m in dict.fromkeys(models) if m not in names]
    if unknown:
        nearest = difflib.get_close_matches(unknown[0], names, n=len(names), cutoff=0)
        raise UsageError(
            f"--models: unknown model{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"the models, nearest first: {', '.join(nearest)}"
        )
    return [n for n in names if n in set(models)]


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def days(start: date | str, end: date | str) -> list[date]:
    """Every date from start to end inclusive."""
    first, last = _as_date(start), _as_date(end)
    if last < first:
        raise ValueError(f"end {last} is before start {first}")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def plan_day(
    day: date | str, datasets: Mapping[str, str] | None = None, models: Sequence[str] | None = None
) -> list[Step]:
    """The daily steps for one day, in run order."""
    run_date = _as_date(day)
    return [make_step(m, run_date, run_date, datasets) for m in _selected(models)]


def plan_backfill(
    start: date | str,
    end: date | str,
    mode: str = "backfill",
    datasets: Mapping[str, str] | None = None,
    models: Sequence[str] | None = None,
) -> list[Step]:
    """The steps of a backfill: each model once over the range, or every day's daily steps."""
    dates = days(start, end)
    if mode == "backfill":
        return [make_step(m, dates[0], dates[-1], datasets) for m in _selected(models)]
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
        from google.api_core.exceptions import GoogleAPICallError
        from google.cloud import bigquery

        if client is None:
            raise ValueError("a BigQuery client is needed unless dry_run is set")
        config = bigquery.QueryJobConfig(
            labels={"eventharbor_model": step.model, "eventharbor_step": step.kind}
        )
        try:
            client.query(step.sql, job_config=config).result()
        except GoogleAPICallError as exc:
            raise refused(exc, f"step {number}/{len(steps)}, {step.label} ({step.kind})") from exc


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


BUILD_LOG = "model_builds"


def last_build(client: bigquery.Client, datasets: Mapping[str, str] | None = None) -> dict | None:
    """The newest row of ``analytics.model_builds`` (without its counts), or None before any run."""
    analytics = check_datasets(datasets)["analytics"]
    sql = (
        f"SELECT * EXCEPT (partition_rows) FROM `{analytics}.{BUILD_LOG}` "
        "ORDER BY finished_at DESC, build_id DESC LIMIT 1"
    )
    rows = [dict(row) for row in client.query(sql).result()]
    return rows[0] if rows else None


def run_scheduled(
    client: bigquery.Client,
    run_date: date | str,
    datasets: Mapping[str, str] | None = None,
    *,
    lag_days: int = render.DEFAULT_LAG_DAYS,
    horizon_days: int = render.DEFAULT_HORIZON_DAYS,
    expiration_days: int | None = None,
) -> dict:
    """Run the scheduled query's script for the scheduled run of ``run_date`` (its ``@run_date``);
    returns the build log row it wrote."""
    script = render.scheduled_script(
        _as_date(run_date),
        datasets,
        lag_days=lag_days,
        horizon_days=horizon_days,
        expiration_days=expiration_days,
    )
    from google.api_core.exceptions import GoogleAPICallError
    from google.cloud import bigquery

    config = bigquery.QueryJobConfig(labels={"eventharbor_model": "all", "eventharbor_step": "scheduled"})
    try:
        client.query(script, job_config=config).result()
    except GoogleAPICallError as exc:
        raise refused(exc, f"the scheduled script for @run_date {run_date}") from exc
    build = last_build(client, datasets)
    if build is None:
        raise RuntimeError("the scheduled script finished without writing its analytics.model_builds row")
    return build


def describe_build(build: Mapping[str, object]) -> str:
    """One line for a build log row: what was built and what was late."""
    text = (
        f"run for {build['run_date']}: {build['mode']} build of {build['rebuilt_from']} .. "
        f"{build['built_through']}; {build['late_rows']} late rows absorbed"
    )
    if build["rows_beyond_horizon"] or build["days_beyond_horizon"]:
        text += (
            f"; beyond the late-data horizon: {build['rows_beyond_horizon']} rows, "
            f"{build['days_beyond_horizon']} days not rebuilt (run a backfill over them)"
        )
    if build["rows_in_expired_partitions"]:
        text += (
            f"; {build['rows_in_expired_partitions']} rows in partitions older than the raw tables' "
            "expiration (BigQuery deletes them; replay them from the archive only within the expiration)"
        )
    return text


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(prog="python -m warehouse.runner", description=__doc__.splitlines()[0])
    common = ArgumentParser(add_help=False)
    common.add_argument(
        "--project",
        help="Google Cloud project (default: the environment's; the emulator's "
        f"{EMULATOR_PROJECT!r} with --bigquery-endpoint)",
    )
    common.add_argument("--location", help="BigQuery location, e.g. EU or US (default: the datasets')")
    common.add_argument(
        "--bigquery-endpoint",
        metavar="URL",
        help="a local BigQuery emulator, e.g. http://127.0.0.1:9050 (default: BigQuery, with Application "
        "Default Credentials)",
    )
    common.add_argument(
        "--events-dataset", default="events", help="dataset of the raw tables (default: %(default)s)"
    )
    common.add_argument(
        "--analytics-dataset", default="analytics", help="dataset of the model tables (default: %(default)s)"
    )
    common.add_argument(
        "--models", help="comma-separated subset of models, run in their usual order (default: all)"
    )
    common.add_argument("--dry-run", action="store_true", help="print each step's script, parameters bound")
    common.add_argument("--quiet", action="store_true", help="no progress bar")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{run,backfill,scheduled}")
    about = "run every model's daily step for a day"
    run = commands.add_parser("run", parents=[common], help=about, description=about)
    run.add_argument("--date", required=True, type=iso_date, help="the day, YYYY-MM-DD")
    about = "rebuild the models over a date range"
    fill = commands.add_parser("backfill", parents=[common], help=about, description=about)
    fill.add_argument("--start", required=True, type=iso_date, help="first day, YYYY-MM-DD")
    fill.add_argument("--end", required=True, type=iso_date, help="last day, YYYY-MM-DD (inclusive)")
    fill.add_argument(
        "--mode",
        choices=MODES,
        default="backfill",
        help="backfill: each model's range SQL once; replay: the daily steps day by day "
        "(default: %(default)s)",
    )
    about = "run the scheduled query's script (terraform/generated/daily_models.sql) for a scheduled run"
    scheduled = commands.add_parser("scheduled", parents=[common], help=about, description=about)
    scheduled.add_argument(
        "--run-date",
        required=True,
        type=iso_date,
        help="the scheduled run's @run_date, YYYY-MM-DD (it builds the day --lag-days before it)",
    )
    scheduled.add_argument(
        "--lag-days",
        type=int,
        default=render.DEFAULT_LAG_DAYS,
        help="Terraform's models_lag_days (default: %(default)s)",
    )
    scheduled.add_argument(
        "--late-data-horizon-days",
        type=int,
        default=render.DEFAULT_HORIZON_DAYS,
        help="Terraform's late_data_horizon_days: how far back a run may rebuild (default: %(default)s)",
    )
    scheduled.add_argument(
        "--raw-partition-expiration-days",
        type=int,
        help="the raw tables' partition expiration (default: schemas/tables.json's)",
    )
    args = parser.parse_args(argv)
    if args.command == "scheduled":
        if args.models:
            scheduled.error("--models: the scheduled script runs every model")
        expiration = args.raw_partition_expiration_days
        if expiration is None:
            expiration = render.raw_partition_expiration_days()
        try:
            render.check_schedule_settings(args.lag_days, args.late_data_horizon_days, expiration)
        except ValueError as exc:
            scheduled.error(str(exc))
    if args.command == "backfill" and args.end < args.start:
        fill.error(f"--end {args.end} is before --start {args.start}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module's docstring); errors raise, :func:`run_command` ends them."""
    args = _parse_args(argv)
    datasets = check_datasets({"events": args.events_dataset, "analytics": args.analytics_dataset})
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    if args.command == "scheduled":
        return _main_scheduled(args, datasets)
    if args.command == "run":
        steps = plan_day(args.date, datasets, models)
    else:
        steps = plan_backfill(args.start, args.end, args.mode, datasets, models)
    client = None if args.dry_run else tool_client(args.project, args.bigquery_endpoint, args.location)
    progress = None if args.quiet else Progress(len(steps))
    execute(client, steps, progress, dry_run=args.dry_run)
    if client is not None:
        for model, count in row_counts(client, datasets, models).items():
            print(f"{datasets['analytics']}.{model}\t{count}")
    return 0


def _main_scheduled(args: argparse.Namespace, datasets: dict[str, str]) -> int:
    settings = {
        "lag_days": args.lag_days,
        "horizon_days": args.late_data_horizon_days,
        "expiration_days": args.raw_partition_expiration_days,
    }
    if args.dry_run:
        print(render.scheduled_script(args.run_date, datasets, **settings), end="")
        return 0
    client = tool_client(args.project, args.bigquery_endpoint, args.location)
    if not args.quiet:
        print(f"scheduled run {args.run_date}: one script, every model ...", file=sys.stderr, flush=True)
    build = run_scheduled(client, args.run_date, datasets, **settings)
    print(describe_build(build), file=sys.stderr)
    for model, count in row_counts(client, datasets).items():
        print(f"{datasets['analytics']}.{model}\t{count}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, "python -m warehouse.runner"))
