"""The report's data: a run's exported tables, read into plain records, one reader per panel.

Every number the report shows is read from the table that holds it, never derived again here:
the models (``analytics.*``) hold the messages and rejections per day, the weekly error rate,
the active users, retention, the funnel, churn and the balances, and their rules live in
``sql/`` only. Two panels show what no model holds and read the pipeline's own tables: the
rejections by error code (``events.dead_letter``, each rejected message once) and the event
types of the sliding windows (``events.realtime_event_metrics``, the latest pane of each window).

The tables are the exports ``make run`` writes from the BigQuery emulator
(``.local/export/<dataset>.<table>.jsonl``, one JSON object per row, as
:mod:`localdev.export` writes them), so the page can be rebuilt after the emulators stopped.
A table that was not exported reads as no rows. Dates stay ISO ``YYYY-MM-DD`` strings.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from recovery.dead_letters import dead_letter_key

EXPORT = Path(".local/export")

FACT_EVENTS_DAILY = "analytics.fact_events_daily"
WEEKLY_ERROR_RATE = "analytics.weekly_error_rate"
DAILY_ACTIVE_USERS = "analytics.daily_active_users"
RETENTION_COHORTS = "analytics.retention_cohorts"
FUNNEL_DAILY = "analytics.funnel_daily"
CHURN_CLASSIFICATION = "analytics.churn_classification"
INVENTORY_DAILY_BALANCE = "analytics.inventory_daily_balance"
CUSTOMER_DAILY_BALANCE = "analytics.customer_daily_balance"
DEAD_LETTER = "events.dead_letter"
REALTIME_EVENT_METRICS = "events.realtime_event_metrics"
ALL_TYPES = "(all)"  # fact_events_daily's row of a stream's whole day, the only one with errors

_LINES = msgspec.json.Decoder()  # JSON Lines, blank lines skipped: ~2x json.loads per line


class Exports:
    """The exported tables of one run, read on first use."""

    def __init__(self, export_dir: Path):
        self.dir = Path(export_dir)
        self._cache: dict[str, list[dict[str, Any]]] = {}

    def path(self, table: str) -> Path:
        return self.dir / f"{table}.jsonl"

    def has(self, table: str) -> bool:
        return self.path(table).is_file()

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Rows of ``<dataset>.<table>``; [] when it was not exported."""
        if table not in self._cache:
            path = self.path(table)
            self._cache[table] = _LINES.decode_lines(path.read_bytes()) if path.is_file() else []
        return self._cache[table]


def _num(value: Any) -> float:
    """An exported number (NUMERIC arrives as a decimal string) as a float; None as 0."""
    return float(value) if value not in (None, "") else 0.0


# --------------------------------------------------------------------------- messages and rejections


@dataclass(frozen=True)
class StreamDay:
    """One stream's day, as its ``'(all)'`` row of ``analytics.fact_events_daily`` holds it."""

    day: str
    stream: str
    loaded: int  # total_events: events loaded that day, each event_id once
    rejected: int  # error_events: messages rejected, dated by their message time, each once


def messages_per_day(data: Exports) -> list[StreamDay]:
    """Each stream's loaded events and rejected messages per day, by day then stream."""
    days = [
        StreamDay(r["date"], r["stream"], int(r["total_events"] or 0), int(r["error_events"] or 0))
        for r in data.rows(FACT_EVENTS_DAILY)
        if r["event_type"] == ALL_TYPES
    ]
    return sorted(days, key=lambda d: (d.day, d.stream))


def event_dates(data: Exports) -> tuple[str, str] | None:
    """The first and last day with a loaded event, from ``analytics.fact_events_daily``."""
    days = [d.day for d in messages_per_day(data) if d.loaded]
    return (min(days), max(days)) if days else None


def first_copies(dead_letters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each rejected message once: of each ``dead_letter_key``, the row with the earliest message
    time (then failed_at, then stream), as ``fact_events_daily`` counts it."""
    first: dict[str, dict[str, Any]] = {}
    order = sorted(
        dead_letters,
        key=lambda r: (
            r.get("message_time") or r.get("failed_at") or "",
            r.get("failed_at") or "",
            r["stream"],
        ),
    )
    for row in order:
        payload = row.get("payload") or ""
        try:
            data = base64.b64decode(payload) if row.get("payload_encoding") == "base64" else payload.encode()
        except binascii.Error:
            data = payload.encode()
        first.setdefault(dead_letter_key(row.get("message_id"), data), row)
    return list(first.values())


@dataclass(frozen=True)
class CodeCounts:
    """Rejected messages (each once) by the error code of their first rejection and stream."""

    counts: dict[tuple[str, str], int]  # (error_code, stream) -> rejected messages
    exported: bool  # whether events.dead_letter was exported at all


def rejections_by_code(data: Exports) -> CodeCounts:
    """From ``events.dead_letter``: no model keeps the error codes."""
    rows = first_copies(data.rows(DEAD_LETTER))
    return CodeCounts(dict(Counter((r["error_code"], r["stream"]) for r in rows)), data.has(DEAD_LETTER))


@dataclass(frozen=True)
class WeekRate:
    """One row of ``analytics.weekly_error_rate``."""

    week: str  # its Monday
    stream: str
    messages: int
    dead_letters: int
    error_rate: float


@dataclass(frozen=True)
class WeeklyRates:
    rates: list[WeekRate]  # by week, then stream
    exported: bool  # whether analytics.weekly_error_rate was exported at all


def weekly_error_rate(data: Exports) -> WeeklyRates:
    """The rows of ``analytics.weekly_error_rate`` as they are: the one place its rules live."""
    rates = [
        WeekRate(
            r["week"], r["stream"], int(r["messages"]), int(r["dead_letters"] or 0), _num(r["error_rate"])
        )
        for r in data.rows(WEEKLY_ERROR_RATE)
    ]
    return WeeklyRates(sorted(rates, key=lambda r: (r.week, r.stream)), data.has(WEEKLY_ERROR_RATE))


def event_type_counts(data: Exports) -> dict[tuple[str, str], int]:
    """(stream, event type) -> occurrences summed over the windows of
    ``events.realtime_event_metrics``, each window by its latest pane (the highest pane_index,
    as panes accumulate)."""
    latest: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for r in data.rows(REALTIME_EVENT_METRICS):
        key = (r["stream"], r["event_type"], r["window_start"], r["window_end"])
        if key not in latest or int(r["pane_index"]) > int(latest[key]["pane_index"]):
            latest[key] = r
    occurrences: Counter[tuple[str, str]] = Counter()
    for (stream, event_type, _, _), r in latest.items():
        occurrences[stream, event_type] += int(r["occurrences"])
    return dict(occurrences)


# --------------------------------------------------------------------------- users


@dataclass(frozen=True)
class PlatformDay:
    """One row of ``analytics.daily_active_users``."""

    day: str
    platform: str
    dau: int


def daily_active_users(data: Exports) -> list[PlatformDay]:
    """The rows of ``analytics.daily_active_users``, by day then platform."""
    rows = [PlatformDay(r["date"], r["platform"], int(r["dau"])) for r in data.rows(DAILY_ACTIVE_USERS)]
    return sorted(rows, key=lambda r: (r.day, r.platform))


@dataclass(frozen=True)
class RetentionCell:
    """One row of ``analytics.retention_cohorts``."""

    cohort_date: str
    day_n: int
    users: int
    retained: int
    rate: float


def retention(data: Exports) -> list[RetentionCell]:
    """The rows of ``analytics.retention_cohorts``, by cohort then day_n."""
    cells = [
        RetentionCell(r["cohort_date"], int(r["day_n"]), int(r["users"]), int(r["retained"]), _num(r["rate"]))
        for r in data.rows(RETENTION_COHORTS)
    ]
    return sorted(cells, key=lambda c: (c.cohort_date, c.day_n))


@dataclass(frozen=True)
class FunnelTotals:
    """``analytics.funnel_daily``'s users of each step, summed over its days."""

    viewed: int
    carted: int
    ordered: int
    days: int


def funnel(data: Exports) -> FunnelTotals:
    rows = data.rows(FUNNEL_DAILY)
    return FunnelTotals(
        sum(int(r["viewed_users"] or 0) for r in rows),
        sum(int(r["carted_users"] or 0) for r in rows),
        sum(int(r["ordered_users"] or 0) for r in rows),
        len({r["date"] for r in rows}),
    )


def churn_counts(data: Exports) -> dict[tuple[str, str], int]:
    """(snapshot_date, churn_status) -> users of ``analytics.churn_classification``."""
    return dict(Counter((r["snapshot_date"], r["churn_status"]) for r in data.rows(CHURN_CLASSIFICATION)))


# --------------------------------------------------------------------------- balances


@dataclass(frozen=True)
class StockLevel:
    """One product × warehouse row of ``analytics.inventory_daily_balance``."""

    product_id: str
    warehouse_id: str
    closing_quantity: int
    is_low_stock: bool


@dataclass(frozen=True)
class Stock:
    day: str | None  # the latest balance_date
    levels: list[StockLevel]  # every pair on that day, the lowest closing quantity first


def latest_stock(data: Exports) -> Stock:
    """``analytics.inventory_daily_balance`` on its latest day."""
    rows = data.rows(INVENTORY_DAILY_BALANCE)
    day = max((r["balance_date"] for r in rows), default=None)
    levels = [
        StockLevel(r["product_id"], r["warehouse_id"], int(r["closing_quantity"]), bool(r["is_low_stock"]))
        for r in rows
        if r["balance_date"] == day
    ]
    return Stock(day, sorted(levels, key=lambda s: (s.closing_quantity, s.product_id, s.warehouse_id)))


@dataclass(frozen=True)
class CustomerValue:
    """A customer's latest row of ``analytics.customer_daily_balance``."""

    customer_id: str
    balance_date: str
    lifetime_value: float
    lifetime_orders: int


def customer_values(data: Exports) -> list[CustomerValue]:
    """Each customer's latest balance, the highest lifetime value first."""
    latest: dict[str, dict[str, Any]] = {}
    for r in data.rows(CUSTOMER_DAILY_BALANCE):
        if r["customer_id"] not in latest or r["balance_date"] > latest[r["customer_id"]]["balance_date"]:
            latest[r["customer_id"]] = r
    values = [
        CustomerValue(
            r["customer_id"], r["balance_date"], _num(r["lifetime_value"]), int(r["lifetime_orders"])
        )
        for r in latest.values()
    ]
    return sorted(values, key=lambda c: (-c.lifetime_value, c.customer_id))
