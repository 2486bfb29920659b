"""The model SQL in ``sql/models/``: one file a model, and the script one step sends.

A model is one file ``sql/models/<model>.sql``, a ``MERGE`` over the days
``[@start_date, @end_date]``: run over a range it is the backfill, run for one day
(``@start_date = @end_date``) it is the daily step, and a range equals its days run one by one.
The SQL names tables as backticked ``events.<table>`` and ``analytics.<table>``; other dataset
names are substituted into those references (:func:`rewrite_datasets`). A step is sent as a
script: the rules of ``sql/rules.sql`` it uses (:mod:`warehouse.rules`), then its statement with
the parameters written in (:func:`step_script`).
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
MODELS_DIR = SQL_DIR / "models"
# Not a model: the statements of the scheduled-query script that choose the days a run builds
# and log the run (warehouse/render.py).
SCHEDULE_DIR = SQL_DIR / "schedule"
LOGICAL_DATASETS = ("events", "analytics")
DEFAULT_DATASETS = {name: name for name in LOGICAL_DATASETS}
PARAMETERS = ("start_date", "end_date")

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
    """The SQL file of one model."""

    name: str

    @property
    def path(self) -> Path:
        return MODELS_DIR / f"{self.name}.sql"

    @property
    def relative_path(self) -> str:
        """The file as the docs and the scheduled script name it: ``sql/models/<model>.sql``."""
        return self.path.relative_to(SQL_DIR.parent).as_posix()

    def text(self) -> str:
        """The file as written, header comments included."""
        return self.path.read_text()

    def statement(self) -> str:
        """The file's statement without its comment lines."""
        return strip_comment_lines(self.text())


@cache
def model_files() -> dict[str, ModelSql]:
    """Every model of ``sql/models/``, by name."""
    return {path.stem: ModelSql(path.stem) for path in sorted(MODELS_DIR.glob("*.sql"))}


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


def check_parameters(parameters: Mapping[str, object]) -> None:
    if set(parameters) != set(PARAMETERS):
        raise ValueError(f"a model's SQL takes {PARAMETERS}, got {tuple(parameters)}")


def step_script(model: str, parameters: Mapping[str, date], datasets: Mapping[str, str] | None = None) -> str:
    """The script one step sends: the rules its statement uses, then the statement.

    Parameters are written in as ``DATE '…'`` literals, the same text for BigQuery and for the
    local emulator (which ignores query parameters in multi-statement scripts, see
    docs/emulator-gaps.md). The text is exactly what ``--dry-run`` prints.
    """
    check_parameters(parameters)
    statement = rewrite_datasets(model_sql(model).statement(), datasets)
    bound = bind_parameters(statement, {name: date_literal(value) for name, value in parameters.items()})
    return rules.preamble(bound) + bound
