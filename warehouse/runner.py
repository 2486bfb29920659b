"""Run the scheduled BigQuery models in ``sql/``: daily incremental steps and backfills.

Every model has ``sql/<model>/incremental.sql`` (parameter ``@run_date``) and
``sql/<model>/backfill.sql`` (``@start_date``, ``@end_date``); ``sql/models.json`` lists
the models in dependency order and is the only place that order is written. The SQL names
tables as backticked ``events.<table>`` and ``analytics.<table>``; other dataset names are
substituted into those references (:func:`rewrite_datasets`).

Command line::

    python -m warehouse.runner run --date 2026-11-03
    python -m warehouse.runner backfill --start 2026-11-01 --end 2026-11-21 [--mode backfill|replay]
    python -m warehouse.runner backfill ... --dry-run     # print the SQL with parameters bound

``backfill`` mode runs each model's backfill SQL once over the range; ``replay`` runs every
model's incremental step day by day. Both give the same tables. Connection flags:
``--project``, ``--location``, ``--bigquery-endpoint`` (a local emulator, anonymous
credentials; otherwise Application Default Credentials), ``--events-dataset``,
``--analytics-dataset``.

Python API: :func:`run_day`, :func:`backfill` (both return ``{model: row count}``),
:func:`model_names`, :func:`sql_files`, :func:`load_sql`, :func:`plan_day`,
:func:`plan_backfill`, :func:`execute`, :func:`row_counts`, :func:`make_client`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pipeline.bigquery_client import EMULATOR_PROJECT, bigquery_client

if TYPE_CHECKING:
    from google.cloud import bigquery

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
MODELS_FILE = SQL_DIR / "models.json"
LOGICAL_DATASETS = ("events", "analytics")
DEFAULT_DATASETS = {name: name for name in LOGICAL_DATASETS}
MODES = ("backfill", "replay")
SQL_KINDS = ("backfill", "incremental")
PARAMETERS = {"incremental": ("run_date",), "backfill": ("start_date", "end_date")}

# A dataset reference: a dataset id, optionally prefixed by a project id ("my-project.events").
_DATASET_NAME = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9.:-]*\.)?[A-Za-z_][A-Za-z0-9_]*$")
# A backticked table reference of a logical dataset, e.g. `events.orders`.
_TABLE_REFERENCE = re.compile(r"`(" + "|".join(LOGICAL_DATASETS) + r")\.([A-Za-z_][A-Za-z0-9_]*)`")
# A query parameter, or text where "@name" is not one: comments, strings, quoted identifiers.
_PARAMETER_OR_SKIPPED = re.compile(
    r"""--[^\n]*|#[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|`[^`]*`"""
    r"|@(?P<parameter>[A-Za-z_][A-Za-z0-9_]*)\b",
    re.S,
)


def model_names() -> list[str]:
    """The models, in dependency order, as listed in ``sql/models.json``."""
    names = json.loads(MODELS_FILE.read_text())
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{MODELS_FILE} must be a JSON array of model names")
    if len(set(names)) != len(names):
        raise ValueError(f"{MODELS_FILE} lists a model twice")
    return names


def sql_path(model: str, kind: str) -> Path:
    """``sql/<model>/<kind>.sql`` where kind is ``backfill`` or ``incremental``."""
    if kind not in SQL_KINDS:
        raise ValueError(f"unknown SQL kind {kind!r}; expected one of {SQL_KINDS}")
    return SQL_DIR / model / f"{kind}.sql"


def sql_files() -> list[Path]:
    """Every model SQL file, models in dependency order, backfill before incremental."""
    return [sql_path(model, kind) for model in model_names() for kind in SQL_KINDS]


def check_datasets(datasets: dict[str, str] | None) -> dict[str, str]:
    """The logical-to-actual dataset map with defaults filled in; rejects unsafe names."""
    resolved = dict(DEFAULT_DATASETS)
    for logical, actual in (datasets or {}).items():
        if logical not in DEFAULT_DATASETS:
            raise ValueError(f"unknown dataset {logical!r}; expected one of {LOGICAL_DATASETS}")
        if not _DATASET_NAME.match(actual or ""):
            raise ValueError(f"invalid dataset name {actual!r} for {logical!r}")
        resolved[logical] = actual
    return resolved


def rewrite_datasets(sql: str, datasets: dict[str, str] | None) -> str:
    """Point backticked ``events.x`` / ``analytics.x`` references at the configured datasets.

    Only backticked ``dataset.table`` references of the two logical datasets change;
    text elsewhere (comments, strings, column names) is left alone.
    """
    resolved = check_datasets(datasets)
    if resolved == DEFAULT_DATASETS:
        return sql
    return _TABLE_REFERENCE.sub(lambda m: f"`{resolved[m.group(1)]}.{m.group(2)}`", sql)


def load_sql(model: str, kind: str, datasets: dict[str, str] | None = None) -> str:
    """The SQL of one model step, with dataset names substituted."""
    return rewrite_datasets(sql_path(model, kind).read_text(), datasets)


def strip_comment_lines(sql: str) -> str:
    """The SQL without its whole-line ``--`` comments (the header), as it is sent to BigQuery.

    The headers name the parameters (``@run_date``); bqemulator counts an ``@name`` inside a
    comment as a placeholder and then fails, so comment lines are not sent (see
    docs/emulator-gaps.md). Real BigQuery ignores comments, so nothing else changes.
    """
    kept = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(kept).strip() + "\n"


def bind_parameters(sql: str, parameters: dict[str, date]) -> str:
    """The SQL with each ``@name`` replaced by a ``DATE 'YYYY-MM-DD'`` literal (for --dry-run).

    Comments, string literals and quoted identifiers are left as they are. Raises if the SQL
    uses a parameter that has no value.
    """

    def literal(match: re.Match[str]) -> str:
        name = match.group("parameter")
        if name is None:
            return match.group(0)
        if name not in parameters:
            raise KeyError(f"SQL uses @{name} but no value was given")
        return f"DATE '{parameters[name].isoformat()}'"

    return _PARAMETER_OR_SKIPPED.sub(literal, sql)


@dataclass(frozen=True)
class Step:
    """One query: a model's incremental step for a day or its backfill over a range."""

    model: str
    kind: str
    parameters: dict[str, date] = field(hash=False)
    sql: str = field(repr=False, hash=False)

    @property
    def label(self) -> str:
        if self.kind == "incremental":
            return f"{self.parameters['run_date']} {self.model}"
        return f"{self.parameters['start_date']}..{self.parameters['end_date']} {self.model}"

    def query_parameters(self) -> list[bigquery.ScalarQueryParameter]:
        from google.cloud import bigquery

        return [bigquery.ScalarQueryParameter(n, "DATE", v) for n, v in self.parameters.items()]

    @property
    def executable_sql(self) -> str:
        """The SQL sent to BigQuery: the file without its comment lines."""
        return strip_comment_lines(self.sql)

    def bound_sql(self) -> str:
        """The executable SQL with its parameters written in as DATE literals."""
        return bind_parameters(self.executable_sql, self.parameters)


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


def plan_day(
    day: date | str, datasets: dict[str, str] | None = None, models: Sequence[str] | None = None
) -> list[Step]:
    """The incremental steps for one day, in dependency order."""
    run_date = _as_date(day)
    return [
        Step(m, "incremental", {"run_date": run_date}, load_sql(m, "incremental", datasets))
        for m in _selected(models)
    ]


def plan_backfill(
    start: date | str,
    end: date | str,
    mode: str = "backfill",
    datasets: dict[str, str] | None = None,
    models: Sequence[str] | None = None,
) -> list[Step]:
    """The steps of a backfill: each model's backfill SQL once, or every day's incremental steps."""
    dates = days(start, end)
    if mode == "backfill":
        params = {"start_date": dates[0], "end_date": dates[-1]}
        return [Step(m, "backfill", params, load_sql(m, "backfill", datasets)) for m in _selected(models)]
    if mode == "replay":
        return [step for d in dates for step in plan_day(d, datasets, models)]
    raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")


class Progress:
    """A text progress bar, one line per step, on stderr (or any stream)."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 24) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.started = time.monotonic()
        self.done = 0

    def __call__(self, step: Step) -> None:
        self.done += 1
        filled = round(self.width * self.done / max(self.total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        digits = len(str(self.total))
        elapsed = time.monotonic() - self.started
        self.stream.write(
            f"[{bar}] {self.done:>{digits}}/{self.total} {step.label} ({step.kind}) {elapsed:6.1f}s\n"
        )
        self.stream.flush()


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
    """Run the steps in order (or, with ``dry_run``, print their SQL with parameters bound).

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
            bound = ", ".join(f"@{n} = DATE '{v.isoformat()}'" for n, v in step.parameters.items())
            out.write(f"-- [{number}/{len(steps)}] {step.model} ({step.kind}): {bound}\n")
            out.write(step.bound_sql().rstrip() + "\n\n")
            continue
        from google.cloud import bigquery

        if client is None:
            raise ValueError("a BigQuery client is needed unless dry_run is set")
        config = bigquery.QueryJobConfig(
            query_parameters=step.query_parameters(),
            labels={"eventharbor_model": step.model, "eventharbor_step": step.kind},
        )
        client.query(step.executable_sql, job_config=config).result()


def row_counts(
    client: bigquery.Client, datasets: dict[str, str] | None = None, models: Sequence[str] | None = None
) -> dict[str, int]:
    """``{model: number of rows}`` for each model's table."""
    analytics = check_datasets(datasets)["analytics"]
    counts = {}
    for model in _selected(models):
        rows = client.query(f"SELECT COUNT(*) AS n FROM `{analytics}.{model}`").result()
        counts[model] = next(iter(rows))["n"]
    return counts


def run_day(
    client: bigquery.Client,
    day: date | str,
    datasets: dict[str, str] | None = None,
    *,
    models: Sequence[str] | None = None,
    progress: ProgressArg = None,
) -> dict[str, int]:
    """Run every model's incremental step for ``day`` in dependency order; returns row counts."""
    execute(client, plan_day(day, datasets, models), progress)
    return row_counts(client, datasets, models)


def backfill(
    client: bigquery.Client,
    start: date | str,
    end: date | str,
    mode: str = "backfill",
    datasets: dict[str, str] | None = None,
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
    common.add_argument("--models", help="comma-separated subset of models (dependency order is kept)")
    common.add_argument("--dry-run", action="store_true", help="print the SQL with parameters bound")
    common.add_argument("--quiet", action="store_true", help="no progress bar")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", parents=[common], help="run every model's incremental step for a day")
    run.add_argument("--date", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    fill = commands.add_parser("backfill", parents=[common], help="rebuild the models over a date range")
    fill.add_argument("--start", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    fill.add_argument("--end", required=True, type=date.fromisoformat, help="YYYY-MM-DD (inclusive)")
    fill.add_argument(
        "--mode",
        choices=MODES,
        default="backfill",
        help="backfill: each model's backfill SQL once; replay: incremental steps day by day",
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
