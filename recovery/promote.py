"""Promote past values of a new typed field from ``extra_fields`` into its column.

When a NULLABLE field is added to ``schemas/events/<stream>.json`` it becomes a typed field
(``transforms.known_fields``): from then on the pipeline checks it and loads it as a column. The
rows loaded before the change still hold the value inside ``extra_fields``
(``{"coupon_code": "WINTER", "other": 1}``). ``promote`` moves those values, day by day over a
range of ``event_date`` partitions:

1. one SELECT per day reads the rows of that partition whose ``extra_fields`` has the key;
2. each value is checked by the pipeline's own rule (``known_fields.typed_value``): a valid one
   becomes the column's value and leaves ``extra_fields`` (NULL when nothing else is left); a
   value that is not of the field's type stays where it is, counted by error code;
3. one UPDATE per chunk of rows writes the values back, matching each row by ``event_id``, its
   partition and its ``extra_fields`` exactly as read, and only while the column is still NULL.

Running it again finds nothing to do: the column is set and the key is gone. Only top-level
typed fields are promoted; a field inside a record is promoted by replaying the archive for the
range into a fresh dataset. On BigQuery, rows streamed with insertAll in the last ~30 minutes
(up to 90) cannot be updated: promote older days, or run again later.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, NamedTuple

from pipeline.batching import bounded_runs
from pipeline.commands import CommandError, UsageError
from schemas import STREAMS
from transforms import known_fields as contract
from transforms.errors import Rejection
from transforms.known_fields import PIPELINE_COLUMNS, TYPED, Known, SchemaProblem, json_safe, typed_value
from transforms.rows import event_json_text

# Rows per UPDATE, and the characters of parameter text per UPDATE: one request carries at most
# 10 MB, and JSON text grows when the request escapes it. A row larger than that goes alone.
CHUNK_ROWS = 2_000
CHUNK_CHARS = 3_000_000
EXAMPLES_PER_CODE = 3
EXTRA = "extra_fields"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATASET = re.compile(r"[A-Za-z0-9_]+")
_PROJECT = re.compile(r"[A-Za-z0-9.:_-]+")
# How the UPDATE turns the value's text into the column's type. NUMERIC goes through
# PARSE_NUMERIC: the emulator casts a bare CAST(... AS NUMERIC) to DECIMAL(18,3) (3 decimals);
# BigQuery reads both exactly.
_SQL_VALUE = {
    "STRING": "CAST(u.value AS STRING)",
    "INTEGER": "CAST(u.value AS INT64)",
    "INT64": "CAST(u.value AS INT64)",
    "BOOLEAN": "CAST(u.value AS BOOL)",
    "BOOL": "CAST(u.value AS BOOL)",
    "NUMERIC": "PARSE_NUMERIC(u.value)",
    "TIMESTAMP": "CAST(u.value AS TIMESTAMP)",
    "DATE": "CAST(u.value AS DATE)",
    "JSON": "PARSE_JSON(u.value)",
}
# Spellings of one type (schemas/ and the table's metadata may differ).
_SAME_TYPE = {"INT64": "INTEGER", "BOOL": "BOOLEAN"}
_STREAMING_BUFFER = "streaming buffer"


class PromotionError(UsageError):
    """A promotion that cannot start: one line naming the option, table or field at fault."""


class PromotionRefused(CommandError):
    """BigQuery refused a statement of the promotion: one line with the table, the day and what to do."""


class Plan(NamedTuple):
    """What one row becomes: the column's value and the rest of ``extra_fields``, as text
    BigQuery reads unambiguously (``None``: NULL)."""

    value: str | None
    rest: str | None


# --- what may be promoted ----------------------------------------------------------------------


def typed_kind(stream: str, field_name: str, tree: dict[str, Known] | None = None) -> str:
    """The type of ``stream``'s top-level typed field ``field_name`` in ``schemas/`` (or in
    ``tree``, a ``known_fields`` tree); ``PromotionError`` saying why any other field is refused."""
    if stream not in STREAMS:
        raise PromotionError(f"--table {stream!r} is not a stream; use one of {', '.join(STREAMS)}")
    where = f"schemas/events/{stream}.json"
    if tree is None:
        try:
            tree = contract.known_fields(stream)
        except SchemaProblem as exc:
            raise PromotionError(str(exc)) from None
    if "." in field_name or "[" in field_name:
        raise PromotionError(
            f"--field {field_name}: a field inside a record; promotion handles top-level typed "
            "fields (a record's elements are not matched by event_id alone). For a field inside a "
            "record, replay the archive for the range into a fresh dataset (python -m recovery "
            "replay-archive)"
        )
    if field_name in PIPELINE_COLUMNS:
        raise PromotionError(
            f"--field {field_name}: a column the pipeline fills, never read from the payload; "
            "nothing to promote"
        )
    known = tree.get(field_name)
    if known is None:
        raise PromotionError(
            f"--field {field_name}: not a field of {where}; add it there (NULLABLE, one of "
            f"{', '.join(TYPED)}), add the column to the table, then promote"
        )
    if known.typed is None:
        raise PromotionError(
            f"--field {field_name}: a rule field of {stream} (validated by the contract function, "
            "never kept in extra_fields); promotion handles top-level typed fields only"
        )
    return known.typed


# --- planning one row (pure) ---------------------------------------------------------------------


def value_text(kind: str, value: Any) -> str | None:
    """A checked value (what ``typed_value`` returned) as text the UPDATE casts exactly."""
    if value is None:
        return None
    if kind == "JSON":
        return event_json_text(value)
    if kind == "TIMESTAMP":
        moment: datetime = value.astimezone(timezone.utc)
        return (
            f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}+00"
        )
    if kind == "NUMERIC":
        return format(value, "f")  # fixed point: str() may give 1E+2
    if kind in ("BOOLEAN", "BOOL"):
        return "true" if value else "false"
    if kind == "DATE":
        return value.isoformat()
    return str(value)  # STRING, INTEGER


def plan_row(kind: str, field_name: str, extra_text: str | None) -> Plan | Rejection | None:
    """What one row's ``extra_fields`` (``TO_JSON_STRING``'s text) becomes when ``field_name``
    (a typed field of type ``kind``) is promoted.

    ``None`` when the key is not there (nothing to do); the ``Rejection`` of
    ``known_fields.typed_value`` when its value is not of the type (it stays in extra_fields);
    else a ``Plan``: the value (NULL for a JSON null) and the rest, NULL when nothing is left.
    """
    if extra_text is None:
        return None
    extra = json.loads(extra_text, parse_float=Decimal)
    if not isinstance(extra, dict) or field_name not in extra:
        return None
    rest = {key: value for key, value in extra.items() if key != field_name}
    try:
        value = typed_value(kind, extra[field_name], field_name)
    except Rejection as rejection:
        return rejection
    return Plan(value_text(kind, value), event_json_text(json_safe(rest)) if rest else None)


# --- SQL -----------------------------------------------------------------------------------------


def select_sql(table_ref: str, field_name: str) -> str:
    """The day's rows whose ``extra_fields`` has the key (a JSON null included), and whether the
    column is already set. Reads event_id, extra_fields and the column of one partition."""
    return (
        f"SELECT event_id, TO_JSON_STRING({EXTRA}) AS extra, {field_name} IS NOT NULL AS has_column "
        f"FROM {table_ref} "
        f"WHERE event_date = @day AND {EXTRA} IS NOT NULL "
        f"AND JSON_QUERY({EXTRA}, '$.{field_name}') IS NOT NULL"
    )


def update_sql(table_ref: str, field_name: str, kind: str) -> str:
    """One UPDATE for a chunk of planned rows (``@updates``), within one partition (``@day``).

    A row is changed only if its ``extra_fields`` is still what was read and the column is still
    NULL, so a row changed meanwhile, or promoted already, is left as it is. Identical duplicate
    rows of one event match one entry of ``@updates``, which holds each (event_id, extra) once.
    """
    return (
        f"UPDATE {table_ref} AS t SET {field_name} = {_SQL_VALUE[kind]}, "
        f"{EXTRA} = IF(u.rest IS NULL, NULL, PARSE_JSON(u.rest)) "
        "FROM UNNEST(@updates) AS u "
        f"WHERE t.event_date = @day AND t.event_id = u.event_id "
        f"AND TO_JSON_STRING(t.{EXTRA}) = u.extra AND t.{field_name} IS NULL"
    )


def _updates_parameter(chunk: list[tuple[str, str, Plan]]):
    """``ARRAY<STRUCT<event_id STRING, extra STRING, value STRING, rest STRING>>``."""
    from google.cloud import bigquery

    names = ("event_id", "extra", "value", "rest")
    element = bigquery.StructQueryParameterType(
        *(bigquery.ScalarQueryParameterType("STRING", name=name) for name in names)
    )
    values = [
        bigquery.StructQueryParameter(
            None,
            *(
                bigquery.ScalarQueryParameter(name, "STRING", text)
                for name, text in zip(names, (event_id, extra, plan.value, plan.rest), strict=True)
            ),
        )
        for event_id, extra, plan in chunk
    ]
    return bigquery.ArrayQueryParameter("updates", element, values)


def chunks(
    planned: list[tuple[str, str, Plan]], rows: int = CHUNK_ROWS, chars: int = CHUNK_CHARS
) -> Iterator[list[tuple[str, str, Plan]]]:
    """``planned`` in chunks of at most ``rows`` entries and ``chars`` characters of text."""
    return bounded_runs(planned, rows, chars, _entry_chars)


def _entry_chars(entry: tuple[str, str, Plan]) -> int:
    """The characters of text one planned entry adds to an UPDATE."""
    event_id, extra, plan = entry
    return len(event_id) + len(extra) + len(plan.value or "") + len(plan.rest or "")


# --- the report ----------------------------------------------------------------------------------


@dataclass
class DayReport:
    """One day's work: rows promoted (or, in a dry run, to promote), rows whose value stays in
    extra_fields by error code, rows whose column was set already, and UPDATE statements run."""

    day: date
    promoted: int = 0
    null_values: int = 0
    left: Counter = dataclasses.field(default_factory=Counter)
    already_columns: int = 0
    changed_meanwhile: int = 0
    statements: int = 0

    @property
    def has_work(self) -> bool:
        return bool(self.promoted or self.left or self.already_columns or self.changed_meanwhile)

    def line(self, dry_run: bool = False) -> str:
        """``2026-11-01: promoted 3 rows (1 UPDATE); left in extra_fields: wrong_type 1``."""
        verb = "would promote" if dry_run else "promoted"
        text = f"{self.day}: {verb} {_rows(self.promoted)}"
        if not dry_run and self.statements:
            text += f" ({self.statements} UPDATE)"
        if self.null_values:
            text += f", {self.null_values} of them null (key removed, column stays NULL)"
        if self.left:
            text += "; left in extra_fields: " + ", ".join(
                f"{code} {count}" for code, count in sorted(self.left.items())
            )
        if self.already_columns:
            text += f"; column already set: {_rows(self.already_columns)}"
        if self.changed_meanwhile:
            text += f"; changed since read, left as they are: {_rows(self.changed_meanwhile)}"
        return text


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


@dataclass
class PromotionReport:
    """What ``promote`` did (or, with ``dry_run``, would do) over a range of days."""

    table: str
    field: str
    kind: str
    start: date
    end: date
    dry_run: bool
    days: list[DayReport] = dataclasses.field(default_factory=list)
    examples: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    @property
    def promoted(self) -> int:
        return sum(day.promoted for day in self.days)

    @property
    def left_in_extra_fields(self) -> dict[str, int]:
        total: Counter = Counter()
        for day in self.days:
            total.update(day.left)
        return dict(sorted(total.items()))

    @property
    def already_columns(self) -> int:
        return sum(day.already_columns for day in self.days)

    @property
    def changed_meanwhile(self) -> int:
        return sum(day.changed_meanwhile for day in self.days)

    @property
    def statements(self) -> int:
        return sum(day.statements for day in self.days)

    def summary(self) -> list[str]:
        """The report as lines: the totals, then each error code with its first examples."""
        verb = "dry run, nothing written: would promote" if self.dry_run else "promoted"
        worked = sum(1 for day in self.days if day.has_work)
        left = self.left_in_extra_fields
        total = (
            f"{self.table}.{self.field} ({self.kind}), {self.start}..{self.end}: {verb} "
            f"{_rows(self.promoted)} ({worked} of {len(self.days)} days had work"
            + ("" if self.dry_run else f", {self.statements} UPDATE statements")
            + f"); left in extra_fields: {_rows(sum(left.values()))}"
            + f"; column already set: {_rows(self.already_columns)}"
        )
        if self.changed_meanwhile:
            total += f"; changed since read: {_rows(self.changed_meanwhile)}, run again"
        lines = [total]
        for code, count in left.items():
            lines.append(f"  {code}: {_rows(count)}, e.g. " + " | ".join(self.examples.get(code, [])))
        return lines


# --- the runner ----------------------------------------------------------------------------------


def _failure(exc: Exception, table_id: str, day: date, what: str) -> PromotionRefused:
    """A BigQuery error as one line: what was refused, on which table and day, and what to do."""
    message = str(getattr(exc, "message", None) or exc).strip().splitlines()[0]
    if _STREAMING_BUFFER in message.lower():
        return PromotionRefused(
            f"{table_id} {day}: BigQuery refuses to UPDATE rows still in the streaming buffer "
            "(streamed with insertAll in the last ~30 minutes, rarely up to 90); the days before "
            f"{day} are done: promote days that are older (--end {day - timedelta(days=1)}), or "
            "run again later"
        )
    return PromotionRefused(f"{table_id} {day}: BigQuery refused the {what}: {message}")


def _check_table(client, table_id: str, field_name: str, kind: str) -> None:
    """Refuse a table that is missing, or lacks the column (of the field's type) or extra_fields."""
    from google.api_core.exceptions import NotFound

    try:
        table = client.get_table(table_id)
    except NotFound:
        raise PromotionError(f"table {table_id} not found; check --project and --dataset") from None
    columns = {column.name: column for column in table.schema}
    if EXTRA not in columns:
        raise PromotionError(f"{table_id} has no {EXTRA} column: it is not a raw table of this pipeline")
    column = columns.get(field_name)
    if column is None:
        raise PromotionError(
            f"--field {field_name}: {table_id} has no column {field_name}; apply the schema change "
            "to the table first (terraform apply), then promote"
        )
    have = _SAME_TYPE.get(column.field_type, column.field_type)
    if have != _SAME_TYPE.get(kind, kind) or column.mode == "REPEATED":
        raise PromotionError(
            f"--field {field_name}: {table_id}.{field_name} is {column.mode} {column.field_type}, but "
            f"the field is a NULLABLE {kind}; make the table and schemas/ agree first"
        )


def promote(
    client,
    project: str,
    dataset: str,
    table: str,
    field: str,
    start: date,
    end: date,
    dry_run: bool = False,
    kind: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[str], None] | None = None,
) -> PromotionReport:
    """Promote ``field`` of ``project.dataset.table`` from ``extra_fields`` into its column on
    the days ``start``..``end`` (``event_date``, inclusive).

    ``kind`` is the field's type; by default it is read from ``schemas/`` (``typed_kind``).
    ``progress`` receives one line per day with work. With ``dry_run`` nothing is written: the
    report counts what would be promoted. Raises ``PromotionError`` (one line) when the request
    is invalid, ``PromotionRefused`` when BigQuery refuses a statement (the days before that one
    are done).
    """
    from google.api_core.exceptions import GoogleAPICallError
    from google.cloud import bigquery

    if end < start:
        raise PromotionError(f"--end {end} is before --start {start}")
    if kind is None:
        kind = typed_kind(table, field)
    if table not in STREAMS:
        raise PromotionError(f"--table {table!r} is not a stream; use one of {', '.join(STREAMS)}")
    if kind not in _SQL_VALUE:
        raise PromotionError(
            f"--field {field}: type {kind} cannot be promoted; use one of {', '.join(TYPED)}"
        )
    if not _NAME.fullmatch(field):
        raise PromotionError(f"--field {field!r}: not a column name")
    if not _PROJECT.fullmatch(project):
        raise PromotionError(f"--project {project!r}: not a project id")
    if not _DATASET.fullmatch(dataset):
        raise PromotionError(f"--dataset {dataset!r}: not a dataset name")
    table_id = f"{project}.{dataset}.{table}"
    table_ref = f"`{table_id}`"
    _check_table(client, table_id, field, kind)

    report = PromotionReport(table_id, field, kind, start, end, dry_run)
    select, update = select_sql(table_ref, field), update_sql(table_ref, field, kind)
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        found = DayReport(day)
        report.days.append(found)
        at_day = bigquery.ScalarQueryParameter("day", "DATE", day)
        try:
            rows = list(
                client.query(select, job_config=bigquery.QueryJobConfig(query_parameters=[at_day])).result()
            )
        except GoogleAPICallError as exc:
            raise _failure(exc, table_id, day, "SELECT") from None

        planned: dict[tuple[str, str], Plan] = {}
        copies: Counter = Counter()
        for row in rows:
            if row["has_column"]:
                found.already_columns += 1
                continue
            outcome = plan_row(kind, field, row["extra"])
            if outcome is None:
                continue
            if isinstance(outcome, Rejection):
                found.left[outcome.code] += 1
                shown = report.examples.setdefault(outcome.code, [])
                if len(shown) < EXAMPLES_PER_CODE:
                    shown.append(f"{day} {row['event_id']}: {outcome.message}")
                continue
            key = (row["event_id"], row["extra"])
            planned.setdefault(key, outcome)
            copies[key] += 1
            if outcome.value is None:
                found.null_values += 1

        entries = [(event_id, extra, plan) for (event_id, extra), plan in planned.items()]
        if dry_run:
            found.promoted = sum(copies.values())
        else:
            for chunk in chunks(entries, rows=chunk_rows):
                config = bigquery.QueryJobConfig(query_parameters=[at_day, _updates_parameter(chunk)])
                try:
                    job = client.query(update, job_config=config)
                    job.result()
                except GoogleAPICallError as exc:
                    raise _failure(exc, table_id, day, "UPDATE") from None
                expected = sum(copies[(event_id, extra)] for event_id, extra, _ in chunk)
                affected = job.num_dml_affected_rows or 0
                found.statements += 1
                found.promoted += affected
                found.changed_meanwhile += max(0, expected - affected)
        if found.has_work and progress is not None:
            progress(found.line(dry_run))
    return report
