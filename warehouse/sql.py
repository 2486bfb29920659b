"""The model SQL in ``sql/``: which files a model has, and the script one step sends.

A model is a folder ``sql/<model>/`` with either

- ``range.sql`` (``@start_date``, ``@end_date``): a model whose daily step is its backfill over
  one day, run for a day (``@start_date = @end_date``) or for a range; or
- ``backfill.sql`` (``@start_date``, ``@end_date``) and ``incremental.sql`` (``@run_date``): a
  stateful model whose daily step builds on its own state of the day before.

Each file is one ``MERGE``. The SQL names tables as backticked ``events.<table>`` and
``analytics.<table>``; other dataset names are substituted into those references
(:func:`rewrite_datasets`). A step is sent as a script: the rules of ``sql/rules.sql`` it uses
(:mod:`warehouse.rules`), then its statement with the parameters written in (:func:`step_script`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from warehouse import rules

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
# Not a model: the statements of the scheduled-query script that choose the days a run builds
# and log the run (warehouse/render.py).
SCHEDULE_DIR = SQL_DIR / "schedule"
LOGICAL_DATASETS = ("events", "analytics")
DEFAULT_DATASETS = {name: name for name in LOGICAL_DATASETS}
PARAMETERS = {
    "range": ("start_date", "end_date"),
    "backfill": ("start_date", "end_date"),
    "incremental": ("run_date",),
}
# The files a model folder holds: one file for a day or a range, or a stateful model's two files.
LAYOUTS = (("range",), ("backfill", "incremental"))

# A dataset reference: a dataset id, optionally prefixed by a project id ("my-project.events").
_DATASET_NAME = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9.:-]*\.)?[A-Za-z_][A-Za-z0-9_]*$")
# A backticked table reference of a logical dataset, e.g. `events.orders`, or one of its
# INFORMATION_SCHEMA views, e.g. `events.INFORMATION_SCHEMA.PARTITIONS`.
_TABLE_REFERENCE = re.compile(
    r"`(" + "|".join(LOGICAL_DATASETS) + r")\.((?:INFORMATION_SCHEMA\.)?[A-Za-z_][A-Za-z0-9_]*)`"
)
# A query parameter, or text where "@name" is not one: comments, strings, quoted identifiers.
_PARAMETER_OR_SKIPPED = re.compile(
    r"""--[^\n]*|#[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|`[^`]*`"""
    r"|@(?P<parameter>[A-Za-z_][A-Za-z0-9_]*)\b",
    re.S,
)


@dataclass(frozen=True)
class ModelSql:
    """The SQL files of one model."""

    name: str
    kinds: tuple[str, ...]

    @property
    def stateful(self) -> bool:
        """True for a model with a backfill and an incremental step (not one file for both)."""
        return self.kinds != ("range",)

    @property
    def day_kind(self) -> str:
        """The file that builds one day: ``incremental``, or ``range`` over that day."""
        return "incremental" if self.stateful else "range"

    @property
    def range_kind(self) -> str:
        """The file that builds a range in one query: ``backfill`` or ``range``."""
        return "backfill" if self.stateful else "range"

    def path(self, kind: str) -> Path:
        if kind not in self.kinds:
            raise ValueError(f"{self.name} has no {kind}.sql; its files: {self.kinds}")
        return SQL_DIR / self.name / f"{kind}.sql"

    @property
    def paths(self) -> list[Path]:
        return [self.path(kind) for kind in self.kinds]

    def text(self, kind: str) -> str:
        """The file as written, header comments included."""
        return self.path(kind).read_text()

    def statement(self, kind: str) -> str:
        """The file's statement without its comment lines."""
        return strip_comment_lines(self.text(kind))


@cache
def model_files() -> dict[str, ModelSql]:
    """Every model folder of ``sql/``, by name; raises on a folder with another set of files."""
    found = {}
    for folder in sorted(p for p in SQL_DIR.iterdir() if p.is_dir() and p != SCHEDULE_DIR):
        kinds = tuple(sorted(p.stem for p in folder.glob("*.sql")))
        if kinds not in LAYOUTS:
            expected = " or ".join("+".join(f"{k}.sql" for k in layout) for layout in LAYOUTS)
            raise ValueError(f"{folder} holds {[f'{k}.sql' for k in kinds]}; a model holds {expected}")
        found[folder.name] = ModelSql(folder.name, kinds)
    return found


def model_sql(name: str) -> ModelSql:
    try:
        return model_files()[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {sorted(model_files())}") from None


def check_datasets(datasets: Mapping[str, str] | None) -> dict[str, str]:
    """The logical-to-actual dataset map with defaults filled in; rejects unsafe names."""
    resolved = dict(DEFAULT_DATASETS)
    for logical, actual in (datasets or {}).items():
        if logical not in DEFAULT_DATASETS:
            raise ValueError(f"unknown dataset {logical!r}; expected one of {LOGICAL_DATASETS}")
        if not _DATASET_NAME.match(actual or ""):
            raise ValueError(f"invalid dataset name {actual!r} for {logical!r}")
        resolved[logical] = actual
    return resolved


def point_datasets(sql: str, targets: Mapping[str, str]) -> str:
    """Replace the dataset of every backticked ``events.x`` / ``analytics.x`` reference.

    ``targets`` maps each logical dataset to the text written instead (unchecked: a dataset
    name, or a template placeholder). Text elsewhere (comments, strings, columns) is left alone.
    """
    return _TABLE_REFERENCE.sub(lambda m: f"`{targets[m.group(1)]}.{m.group(2)}`", sql)


def rewrite_datasets(sql: str, datasets: Mapping[str, str] | None) -> str:
    """Point backticked ``events.x`` / ``analytics.x`` references at the configured datasets."""
    resolved = check_datasets(datasets)
    if resolved == DEFAULT_DATASETS:
        return sql
    return point_datasets(sql, resolved)


def strip_comment_lines(sql: str) -> str:
    """The SQL without its whole-line ``--`` comments (the header), as it is sent to BigQuery."""
    kept = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(kept).strip() + "\n"


def date_literal(value: date) -> str:
    return f"DATE '{value.isoformat()}'"


def bind_parameters(sql: str, values: Mapping[str, str]) -> str:
    """The SQL with each ``@name`` replaced by ``values[name]``, SQL text such as a DATE literal.

    Comments, string literals and quoted identifiers are left as they are. Raises if the SQL
    uses a parameter that has no value.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group("parameter")
        if name is None:
            return match.group(0)
        if name not in values:
            raise KeyError(f"SQL uses @{name} but no value was given")
        return values[name]

    return _PARAMETER_OR_SKIPPED.sub(replace, sql)


def check_parameters(kind: str, parameters: Mapping[str, object]) -> None:
    if kind not in PARAMETERS:
        raise ValueError(f"unknown SQL kind {kind!r}; expected one of {tuple(PARAMETERS)}")
    if set(parameters) != set(PARAMETERS[kind]):
        raise ValueError(f"{kind}.sql takes {PARAMETERS[kind]}, got {tuple(parameters)}")


def step_script(
    model: str, kind: str, parameters: Mapping[str, date], datasets: Mapping[str, str] | None = None
) -> str:
    """The script one step sends: the rules its statement uses, then the statement.

    Parameters are written in as ``DATE '…'`` literals, the same text for BigQuery and for the
    local emulator (which ignores query parameters in multi-statement scripts, see
    docs/emulator-gaps.md). The text is exactly what ``--dry-run`` prints.
    """
    check_parameters(kind, parameters)
    statement = rewrite_datasets(model_sql(model).statement(kind), datasets)
    bound = bind_parameters(statement, {name: date_literal(value) for name, value in parameters.items()})
    return rules.preamble(bound) + bound
