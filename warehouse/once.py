"""The once-only rule of the models (docs/contract.md#once-only): each event, each rejected message once.

The raw tables may hold an event more than once: Pub/Sub redelivers, BigQuery's insertId
de-duplication is best effort, the pipeline's de-duplication window is bounded and archive
replays overlap what is loaded. The copies share ``event_id`` and ``event_date`` (the UTC day of
the event's own time) and differ at most in ``processed_timestamp``.

**Events.** Every read of a raw table (``events.orders``, ``events.inventory``,
``events.user_activity``) is a common table expression of its own that keeps one row per
``(event_date, event_id)`` — the first copy loaded — before anything else looks at the rows::

    <name> AS (
      SELECT <columns>
      FROM `events.<table>` AS raw_event
      WHERE event_date <the step's partitions>
      QUALIFY ROW_NUMBER() OVER (
        PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
      ) = 1
    )

(:data:`FIRST_COPY`). The copy kept is the one with the earliest ``processed_timestamp``; copies
loaded at the same instant are ordered by their whole row as JSON, so the choice never depends
on the engine's row order and every model keeps the same copy. A producer reusing an
``event_id`` for different content on the same ``event_date`` therefore gets its first loaded
event counted and the others dropped. The same ``event_id`` on two different ``event_date`` values
counts once on each day: a step reads only its own partitions, so it cannot see the other day,
and keying on ``(event_date, event_id)`` keeps a backfill over a range equal to its days run
one by one. The ``WHERE`` runs before ``QUALIFY``, so partition pruning is untouched; filters on
the content (an activity type, a status) come after, in the next expression.

**Rejected messages.** A dead letter is identified by ``dead_letter_key(message_id, payload,
payload_encoding)`` (sql/rules.sql; the same key as ``recovery.dead_letters.dead_letter_key``)
and dated by its message time, ``COALESCE(message_time, failed_at)`` (the column is NULL only on
rows written before it existed): the publish time, else the event's own time, else ``failed_at``,
so a replay of history dates its rejections in the past. A read of ``events.dead_letter`` starts
``dead_letter_window_days`` + 1 days before its range on ``failed_at``, the partitioning column
(:data:`DEAD_LETTER_WINDOW_START`; a message fails at most a day before its message time, and
with no upper bound, as a replay may reject it long after), orders the copies of each key by
message time, then ``failed_at`` (:data:`PREVIOUS_COPY`) and counts a row only when
``is_first_rejection`` says its previous copy's message time is older than the window
(:data:`FIRST_REJECTION`): a rejected message counts once, on the day of its message time (copies
of a Pub/Sub message share their publish time, hence their day).

:func:`problems` checks a statement against these shapes; ``tests/unit/test_models_sql.py`` runs it
on every model file, and the docs table of how each model applies the rule is generated from
:func:`raw_reads` (``warehouse/docs.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sqlglot
from sqlglot import exp

RAW_TABLES = ("orders", "inventory", "user_activity")
ALIAS = "raw_event"
FIRST_COPY = (
    "ROW_NUMBER() OVER (PARTITION BY event_date, event_id "
    f"ORDER BY processed_timestamp, TO_JSON_STRING({ALIAS})) = 1"
)
DEAD_LETTER_KEY = "dead_letter_key(message_id, payload, payload_encoding)"
MESSAGE_TIME = "COALESCE(message_time, failed_at)"
PREVIOUS_COPY = (
    f"LAG({MESSAGE_TIME}) OVER (PARTITION BY {DEAD_LETTER_KEY} ORDER BY {MESSAGE_TIME}, failed_at, stream)"
)
DEAD_LETTER_WINDOW_START = "TIMESTAMP(DATE_SUB(@start_date, INTERVAL dead_letter_window_days + 1 DAY))"
FIRST_REJECTION = "is_first_rejection(message_time, previous_copy_message_time, dead_letter_window_days)"


@cache
def _canonical(sql: str) -> str:
    return sqlglot.parse_one(sql, read="bigquery").sql("bigquery")


@dataclass(frozen=True)
class RawRead:
    """One read of a raw table in a statement."""

    table: str  # orders, inventory or user_activity
    name: str | None  # the common table expression it is, None when it is not one
    problems: tuple[str, ...]  # how it breaks the once-only shape; empty when it keeps it


def _read_problems(table: exp.Table, select: exp.Select | None) -> list[str]:
    if select is None:
        return ["is not read by a SELECT"]
    found = []
    if table.alias != ALIAS:
        found.append(f"must be read AS {ALIAS}")
    if select.args.get("joins") or len(list(select.find_all(exp.Table))) != 1:
        found.append("is joined: de-duplicate it alone, then join")
    for clause in ("group", "having", "distinct"):
        if select.args.get(clause):
            found.append(f"has {clause.upper()}: de-duplicate first, then aggregate")
    if select.find(exp.AggFunc) is not None:
        found.append("is aggregated: de-duplicate first, then aggregate")
    if not select.args.get("where"):
        found.append("has no WHERE on its partitions")
    qualify = select.args.get("qualify")
    if qualify is None or qualify.this.sql("bigquery") != _canonical(FIRST_COPY):
        found.append(f"must keep the first copy: QUALIFY {FIRST_COPY}")
    if not isinstance(select.parent, exp.CTE):
        found.append("must be a common table expression of its own")
    return found


def _statements(sql: str) -> list[exp.Expression]:
    """The statements of ``sql`` as BigQuery parses them, the empty ones (after a last ``;``) left out."""
    return [tree for tree in sqlglot.parse(sql, read="bigquery") if tree is not None]


def raw_reads(sql: str) -> list[RawRead]:
    """Every read of a raw table in ``sql``, with what keeps it from counting each event once."""
    found = []
    for tree in _statements(sql):
        for table in tree.find_all(exp.Table):
            if table.db != "events" or table.name not in RAW_TABLES:
                continue
            select = table.parent_select
            parent = select.parent if select is not None else None
            name = parent.alias if isinstance(parent, exp.CTE) else None
            found.append(RawRead(table.name, name, tuple(_read_problems(table, select))))
    return found


def dead_letter_problems(sql: str) -> list[str]:
    """What keeps ``sql``'s reads of ``events.dead_letter`` from counting each rejected message once."""
    found = []
    for tree in _statements(sql):
        reads = [t for t in tree.find_all(exp.Table) if (t.db, t.name) == ("events", "dead_letter")]
        if not reads:
            continue
        text = tree.sql("bigquery")
        for table in reads:
            select = table.parent_select
            if select is None:
                found.append("events.dead_letter is not read by a SELECT")
                continue
            windows = [w.sql("bigquery") for w in select.find_all(exp.Window)]
            if _canonical(PREVIOUS_COPY) not in windows:
                found.append(f"events.dead_letter must number the copies of a message: {PREVIOUS_COPY}")
            where = select.args.get("where")
            if where is None or _canonical(DEAD_LETTER_WINDOW_START) not in where.sql("bigquery"):
                found.append(f"events.dead_letter must be read from {DEAD_LETTER_WINDOW_START}")
        if _canonical(FIRST_REJECTION) not in text:
            found.append(f"a dead letter must count only when {FIRST_REJECTION}")
    return found


def problems(sql: str) -> list[str]:
    """Every way ``sql`` breaks the once-only rule; empty when it keeps it."""
    found = [
        f"events.{read.table}{f' ({read.name})' if read.name else ''} {problem}"
        for read in raw_reads(sql)
        for problem in read.problems
    ]
    return found + dead_letter_problems(sql)
