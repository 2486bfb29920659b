"""``.local/report.html``: one self-contained page of charts from a demo run's exports.

Reads the JSON Lines that ``make run`` exports (``.local/export/<dataset>.<table>.jsonl``)
and ``run-summary.json`` beside that folder, and draws each chart with plotly. plotly.js is
embedded once, in one ``<script>``: the page fetches nothing when it is viewed.

    python -m localdev.report [--export .local/export] [--out .local/report.html]

A table whose export is missing or empty gives a labelled "no rows" panel, never an error.
The weekly error rate is read from ``analytics.weekly_error_rate``, the one place its rules live.
Rejected messages are dated by their message time (``dead_letter.message_time``: the publish time,
else the event's own time, else when it failed), as the models date them, and counted once per
``dead_letter_key``. Date axes are real dates (plotly ``date`` axes), so days run in order.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import html
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import msgspec
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from recovery.dead_letters import dead_letter_key
from schemas import STREAMS

EXPORT = Path(".local/export")
OUT = Path(".local/report.html")

TOP_N = 15  # bars in the lowest-stock and top-customer charts
CHURN_ORDER = ("active", "soft_churn", "churned", "hard_churn")
CHURN_COLOURS = {"active": "#2ca02c", "soft_churn": "#ffbf00", "churned": "#ff7f0e", "hard_churn": "#d62728"}
STREAM_COLOURS = {
    "orders": "#1f77b4",
    "inventory": "#ff7f0e",
    "user_activity": "#2ca02c",
    "unknown": "#7f7f7f",
}
PLATFORM_COLOURS = {"web": "#1f77b4", "mobile": "#9467bd", "tablet": "#17becf"}
HEIGHT = 400
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
DAY_MS = 86_400_000  # a day on a plotly date axis: the period a daily bar spans
WEEK_MS = 7 * DAY_MS


@dataclass(frozen=True)
class Chart:
    """One panel of the report."""

    key: str
    title: str
    caption: str
    figure: go.Figure
    wide: bool = False


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


# --------------------------------------------------------------------------- helpers


def _num(value: Any) -> float:
    """An exported number (NUMERIC arrives as a decimal string) as a float; None as 0."""
    return float(value) if value not in (None, "") else 0.0


def _streams(seen: Iterable[str]) -> list[str]:
    """Streams in the project's order, then any other (``unknown``) alphabetically."""
    seen = set(seen)
    return [s for s in STREAMS if s in seen] + sorted(seen - set(STREAMS))


def _figure(title_x: str, title_y: str, **layout: Any) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        template="plotly_white",
        height=HEIGHT,
        margin={"l": 70, "r": 20, "t": 30, "b": 60},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "traceorder": "normal"},
        xaxis_title=title_x,
        yaxis_title=title_y,
        **layout,
    )
    return fig


def _whole(values: Iterable[float]) -> dict[str, int]:
    """Axis settings that keep small counts on whole-number ticks (plotly would draw 0.5 steps)."""
    return {"tick0": 0, "dtick": 1} if max(values, default=0) < 6 else {}


def _no_rows(fig: go.Figure, message: str, y: float = 0.5) -> go.Figure:
    """Mark a figure that has nothing to draw; it still renders, with the reason in its middle."""
    fig.add_annotation(
        text=html.escape(message),
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0.5,
        y=y,
        font={"size": 15, "color": "#888"},
    )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    return fig


def message_day(dead_letter: dict[str, Any]) -> str:
    """The UTC day (YYYY-MM-DD) a dead letter is dated by: its message time, or its failed_at on a
    row written before ``message_time`` existed."""
    return (dead_letter.get("message_time") or dead_letter["failed_at"])[:10]


MAX_DATE_TICKS = 31  # more days or weeks than this: plotly spaces the ticks itself


def _date_axis(fig: go.Figure, dates: list[str], period_ms: int = DAY_MS, periods: bool = False) -> None:
    """Make the x axes real dates (in time order, whatever order the traces list them in), one tick
    per day or week (``period_ms``) from the first of ``dates``. With ``periods`` each label sits in
    the middle of its period, under the bars drawn over it (:func:`_period_bar`)."""
    ticks = {"tick0": dates[0], "dtick": period_ms} if dates and len(dates) <= MAX_DATE_TICKS else {}
    if periods and dates:  # the whole of the first and last period, so each has its label
        ticks["range"] = [
            dates[0],
            (date.fromisoformat(dates[-1]) + timedelta(milliseconds=period_ms)).isoformat(),
        ]
    fig.update_xaxes(
        type="date", tickformat="%Y-%m-%d", ticklabelmode="period" if periods else "instant", **ticks
    )


def _period_bar(period_ms: int = DAY_MS, slot: tuple[int, int] = (0, 1), **bar: Any) -> go.Bar:
    """A bar per day or week (``period_ms``) on a date axis, in the middle of its period. The width
    is set, as plotly draws a lone bar on a date axis 1 ms wide; ``slot`` = (this trace, traces)
    places grouped traces side by side within the period."""
    index, count = slot
    width = 0.8 * period_ms / count
    placed = {"offset": -0.4 * period_ms + index * width} if count > 1 else {}
    return go.Bar(
        xperiod=period_ms,
        xperiod0=bar["x"][0] if bar["x"] else None,
        xperiodalignment="middle",
        width=width,
        **placed,
        **bar,
    )


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


def unique_events(rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """A raw table's events, each (event_date, event_id) once."""
    return {(r["event_date"], r["event_id"]) for r in rows}


# --------------------------------------------------------------------------- charts


def messages_per_day(data: Exports) -> Chart:
    """Messages (loaded events + rejected messages) and dead letters per day and stream."""
    loaded: dict[tuple[str, str], int] = Counter()
    rejected: dict[tuple[str, str], int] = Counter()
    for stream in STREAMS:
        for day, _ in unique_events(data.rows(f"events.{stream}")):
            loaded[day, stream] += 1
    for r in first_copies(data.rows("events.dead_letter")):
        rejected[message_day(r), r["stream"]] += 1
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, subplot_titles=("Messages", "Dead letters")
    )
    fig.update_layout(
        template="plotly_white",
        height=HEIGHT + 80,
        barmode="stack",
        margin={"l": 70, "r": 20, "t": 40, "b": 60},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.06, "x": 0},
    )
    days = sorted({d for d, _ in loaded} | {d for d, _ in rejected})
    streams = _streams({s for _, s in loaded} | {s for _, s in rejected})
    for stream in streams:
        colour = STREAM_COLOURS.get(stream)
        messages = [loaded[d, stream] + rejected[d, stream] for d in days]
        fig.add_trace(
            _period_bar(
                x=days,
                y=messages,
                name=stream,
                legendgroup=stream,
                marker_color=colour,
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            _period_bar(
                x=days,
                y=[rejected[d, stream] for d in days],
                name=stream,
                legendgroup=stream,
                showlegend=False,
                marker_color=colour,
            ),
            row=2,
            col=1,
        )
    messages_by_day, rejected_by_day = Counter(), Counter()
    for (day, _), n in loaded.items():
        messages_by_day[day] += n
    for (day, _), n in rejected.items():
        messages_by_day[day] += n
        rejected_by_day[day] += n
    fig.update_yaxes(title_text="messages", row=1, col=1, **_whole(messages_by_day.values()))
    fig.update_yaxes(title_text="dead letters", row=2, col=1, **_whole(rejected_by_day.values()))
    _date_axis(fig, days, periods=True)
    fig.update_xaxes(title_text="day (UTC; dead letters by their message time)", row=2, col=1)
    if not days:
        _no_rows(fig, "no events and no dead letters exported", y=0.78)
    return Chart(
        "messages_per_day",
        "Messages and dead letters per day and stream",
        "Each stream's messages per day (loaded events by event_date plus rejected messages by their "
        "message time, each once) above, the rejected ones below; from events.* and events.dead_letter.",
        fig,
        wide=True,
    )


def dead_letters_by_code(data: Exports) -> Chart:
    rows = first_copies(data.rows("events.dead_letter"))
    counts = Counter((r["error_code"], r["stream"]) for r in rows)
    totals = Counter(r["error_code"] for r in rows)
    codes = sorted(totals, key=lambda c: (totals[c], c))  # largest at the top of a horizontal bar chart
    fig = _figure("rejected messages", "error code", barmode="stack")
    for stream in _streams(r["stream"] for r in rows):
        fig.add_trace(
            go.Bar(
                y=codes,
                x=[counts[c, stream] for c in codes],
                name=stream,
                orientation="h",
                marker_color=STREAM_COLOURS.get(stream),
            )
        )
    fig.update_xaxes(**_whole(totals.values()))
    if not rows:
        exported = data.has("events.dead_letter")
        _no_rows(fig, "no dead letters: every message was loaded" if exported else "no dead_letter export")
    return Chart(
        "dead_letters_by_code",
        "Dead letters by error code",
        f"Rejected messages ({len(rows)}, each once) by the stable error code of their first rejection, "
        "split by stream; from events.dead_letter.",
        fig,
    )


def weekly_error_rate(data: Exports) -> Chart:
    """Each stream's weekly error rate, as ``analytics.weekly_error_rate`` holds it."""
    table = "analytics.weekly_error_rate"
    rows = data.rows(table)
    left_out: dict[str, int] = Counter()
    for r in rows:
        if r["stream"] not in STREAMS:
            left_out[r["stream"]] += int(r.get("dead_letters") or 0)
    rows = [r for r in rows if r["stream"] in STREAMS]
    weeks = sorted({r["week"] for r in rows})
    fig = _figure("week starting (Monday)", "error rate", barmode="group")
    fig.update_yaxes(tickformat=".1%", rangemode="tozero")
    _date_axis(fig, weeks, WEEK_MS, periods=True)
    streams = _streams(r["stream"] for r in rows)
    for index, stream in enumerate(streams):
        by_week = {r["week"]: r for r in rows if r["stream"] == stream}
        fig.add_trace(
            _period_bar(
                WEEK_MS,
                (index, len(streams)),
                x=weeks,
                y=[_num(by_week[w]["error_rate"]) if w in by_week else None for w in weeks],
                customdata=[
                    [int(by_week[w]["dead_letters"]), int(by_week[w]["messages"])] if w in by_week else [0, 0]
                    for w in weeks
                ],
                hovertemplate="%{y:.2%} (%{customdata[0]} of %{customdata[1]} messages)",
                name=stream,
                marker_color=STREAM_COLOURS.get(stream),
            )
        )
    if not rows:
        _no_rows(fig, "no messages to rate" if data.has(table) else f"no {table} export")
    note = "".join(f" Stream {s!r} ({n} dead letters) is left out." for s, n in sorted(left_out.items()))
    note += (
        " Dead letters are dated by their message time (publish time, else the event's own time), so a "
        "replay of past days puts its rejections in the weeks they belong to."
    )
    return Chart(
        "weekly_error_rate",
        "Weekly error rate per stream",
        f"Dead letters / all messages of each stream per week; from {table}.{note}",
        fig,
    )


def event_types(data: Exports) -> Chart:
    latest: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for r in data.rows("events.realtime_event_metrics"):
        key = (r["stream"], r["event_type"], r["window_start"], r["window_end"])
        if key not in latest or int(r["pane_index"]) > int(latest[key]["pane_index"]):
            latest[key] = r
    occurrences: dict[tuple[str, str], int] = Counter()
    for (stream, event_type, _, _), r in latest.items():
        occurrences[stream, event_type] += int(r["occurrences"])
    per_stream: dict[str, int] = Counter()
    for (stream, _), n in occurrences.items():
        per_stream[stream] += n
    fig = _figure("share of the stream's windowed events", "event type", barmode="stack")
    fig.update_xaxes(tickformat=".0%")
    for stream in _streams(per_stream):
        types = sorted((t for s, t in occurrences if s == stream), key=lambda t: occurrences[stream, t])
        fig.add_trace(
            go.Bar(
                y=[f"{t}" for t in types],
                x=[occurrences[stream, t] / per_stream[stream] for t in types],
                customdata=[occurrences[stream, t] for t in types],
                hovertemplate="%{y}: %{x:.1%} (%{customdata} window counts)",
                name=stream,
                orientation="h",
                marker_color=STREAM_COLOURS.get(stream),
            )
        )
    if not latest:
        _no_rows(fig, "no rows in events.realtime_event_metrics")
    return Chart(
        "event_types",
        "Event-type distribution",
        "Each stream's order statuses, inventory reasons and activity types as a share of the stream: "
        "occurrences summed over the sliding windows, latest pane of each window; "
        "from events.realtime_event_metrics.",
        fig,
    )


def daily_active_users(data: Exports) -> Chart:
    rows = data.rows("analytics.daily_active_users")
    fig = _figure("day (UTC)", "daily active users")
    _date_axis(fig, sorted({r["date"] for r in rows}))
    for platform in sorted({r["platform"] for r in rows}):
        mine = sorted((r for r in rows if r["platform"] == platform), key=lambda r: r["date"])
        fig.add_trace(
            go.Scatter(
                x=[r["date"] for r in mine],
                y=[int(r["dau"]) for r in mine],
                name=platform,
                mode="lines+markers",
                line_color=PLATFORM_COLOURS.get(platform),
            )
        )
    fig.update_yaxes(**_whole(int(r["dau"]) for r in rows))
    if not rows:
        _no_rows(fig, "no rows in analytics.daily_active_users")
    return Chart(
        "daily_active_users",
        "Daily active users by platform",
        "Distinct users with any activity each day on each platform (a user on two platforms counts on "
        "both); from analytics.daily_active_users.",
        fig,
    )


def retention(data: Exports) -> Chart:
    rows = data.rows("analytics.retention_cohorts")
    cohorts = sorted({r["cohort_date"] for r in rows})
    days = sorted({int(r["day_n"]) for r in rows})
    cell = {(r["cohort_date"], int(r["day_n"])): r for r in rows}
    z = [[_num(cell[c, d]["rate"]) if (c, d) in cell else None for d in days] for c in cohorts]
    text = [
        [f"{cell[c, d]['retained']}/{cell[c, d]['users']}" if (c, d) in cell else "" for d in days]
        for c in cohorts
    ]
    fig = _figure("days since the first active day (day_n)", "cohort (first active day)")
    fig.update_layout(height=max(HEIGHT, 120 + 26 * len(cohorts)))
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_xaxes(type="category" if len(days) <= 31 else "linear", dtick=1)
    if rows:
        fig.add_trace(
            go.Heatmap(
                x=days,
                y=cohorts,
                z=z,
                text=text,
                texttemplate="%{z:.0%}" if len(days) <= 16 else "",
                hovertemplate="cohort %{y}, day %{x}: %{z:.1%} (%{text} users)<extra></extra>",
                colorscale="Blues",
                zmin=0,
                zmax=1,
                colorbar={"title": {"text": "retained"}, "tickformat": ".0%"},
                xgap=1,
                ygap=1,
            )
        )
    else:
        _no_rows(fig, "no rows in analytics.retention_cohorts")
    return Chart(
        "retention",
        "Retention cohorts",
        "Share of each cohort (users by their first active day) active again n days later; "
        "from analytics.retention_cohorts.",
        fig,
        wide=True,
    )


def funnel(data: Exports) -> Chart:
    rows = data.rows("analytics.funnel_daily")
    stages = [
        ("viewed a product", "viewed_users"),
        ("added to cart", "carted_users"),
        ("ordered", "ordered_users"),
    ]
    totals = [sum(int(r[column] or 0) for r in rows) for _, column in stages]
    fig = _figure("", "step")
    fig.update_xaxes(visible=True, showticklabels=False, showgrid=False, zeroline=False)
    fig.update_xaxes(title_text="users, summed over the days (share of the first step, of the previous)")
    if rows:
        fig.add_trace(
            go.Funnel(
                y=[label for label, _ in stages],
                x=totals,
                textinfo="value+percent initial+percent previous",
                marker_color=["#1f77b4", "#ff7f0e", "#2ca02c"],
            )
        )
    else:
        _no_rows(fig, "no rows in analytics.funnel_daily")
    days = len({r["date"] for r in rows})
    return Chart(
        "funnel",
        "Purchase funnel",
        f"Users who viewed a product, of them those who added to cart, and of them those who ordered the "
        f"same day, summed over {days} days; from analytics.funnel_daily.",
        fig,
    )


def churn(data: Exports) -> Chart:
    rows = data.rows("analytics.churn_classification")
    counts = Counter((r["snapshot_date"], r["churn_status"]) for r in rows)
    snapshots = sorted({r["snapshot_date"] for r in rows})
    statuses = [s for s in CHURN_ORDER if any(k[1] == s for k in counts)]
    statuses += sorted({k[1] for k in counts} - set(statuses))
    fig = _figure("snapshot day", "users", barmode="stack")
    _date_axis(fig, snapshots, periods=True)
    for status in statuses:
        fig.add_trace(
            _period_bar(
                x=snapshots,
                y=[counts[d, status] for d in snapshots],
                name=status,
                marker_color=CHURN_COLOURS.get(status),
            )
        )
    fig.update_yaxes(**_whole(Counter(d for d, _ in counts.elements()).values()))
    if not rows:
        _no_rows(fig, "no rows in analytics.churn_classification")
    latest = snapshots[-1] if snapshots else None
    summary = ", ".join(f"{s} {counts[latest, s]}" for s in statuses) if latest else "none"
    return Chart(
        "churn",
        "Churn status counts",
        f"Users by churn status (days since last active: active < 7 ≤ soft_churn < 14 ≤ churned < 30 ≤ "
        f"hard_churn) on each snapshot day; latest ({latest}): {summary}; "
        "from analytics.churn_classification.",
        fig,
    )


def lowest_stock(data: Exports) -> Chart:
    rows = data.rows("analytics.inventory_daily_balance")
    latest = max((r["balance_date"] for r in rows), default=None)
    current = [r for r in rows if r["balance_date"] == latest]
    lowest = sorted(current, key=lambda r: (int(r["closing_quantity"]), r["product_id"], r["warehouse_id"]))
    lowest = lowest[:TOP_N][::-1]  # the lowest at the top
    fig = _figure("closing quantity (units)", "product · warehouse")
    if lowest:
        fig.add_trace(
            go.Bar(
                y=[f"{r['product_id']} · {r['warehouse_id']}" for r in lowest],
                x=[int(r["closing_quantity"]) for r in lowest],
                orientation="h",
                marker_color=["#d62728" if r["is_low_stock"] else "#1f77b4" for r in lowest],
                customdata=[["low stock" if r["is_low_stock"] else "in stock"] for r in lowest],
                hovertemplate="%{y}: %{x} units, %{customdata[0]}<extra></extra>",
                showlegend=False,
            )
        )
    else:
        _no_rows(fig, "no rows in analytics.inventory_daily_balance")
    low = sum(1 for r in current if r["is_low_stock"])
    return Chart(
        "lowest_stock",
        "Lowest-stock products",
        f"The {len(lowest)} product × warehouse pairs with the lowest closing quantity on {latest} "
        f"(red: low stock, {low} of {len(current)} pairs); from analytics.inventory_daily_balance.",
        fig,
    )


def top_customers(data: Exports) -> Chart:
    latest: dict[str, dict[str, Any]] = {}
    for r in data.rows("analytics.customer_daily_balance"):
        if r["customer_id"] not in latest or r["balance_date"] > latest[r["customer_id"]]["balance_date"]:
            latest[r["customer_id"]] = r
    top = sorted(latest.values(), key=lambda r: (-_num(r["lifetime_value"]), r["customer_id"]))[:TOP_N]
    top = top[::-1]  # the largest at the top
    fig = _figure("lifetime net order value", "customer")
    if top:
        fig.add_trace(
            go.Bar(
                y=[r["customer_id"] for r in top],
                x=[_num(r["lifetime_value"]) for r in top],
                orientation="h",
                customdata=[[int(r["lifetime_orders"]), r["balance_date"]] for r in top],
                hovertemplate="%{y}: %{x:,.2f} over %{customdata[0]} orders (as of %{customdata[1]})"
                "<extra></extra>",
                marker_color="#9467bd",
                showlegend=False,
            )
        )
        fig.update_xaxes(tickformat=",.0f")
    else:
        _no_rows(fig, "no rows in analytics.customer_daily_balance")
    day = max((r["balance_date"] for r in latest.values()), default=None)
    return Chart(
        "top_customers",
        "Top customers by lifetime value",
        f"The {len(top)} customers with the highest lifetime net order value (orders less cancellations) "
        f"on their latest balance day ({day}); from analytics.customer_daily_balance.",
        fig,
    )


CHARTS: tuple[Callable[[Exports], Chart], ...] = (
    messages_per_day,
    dead_letters_by_code,
    weekly_error_rate,
    event_types,
    daily_active_users,
    retention,
    funnel,
    churn,
    lowest_stock,
    top_customers,
)


# --------------------------------------------------------------------------- page

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       background: #f4f5f7; color: #222; }
header { background: #1f2a44; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #c9d1e3; font-size: 13px; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 14px; }
.figure { background: #2c3a5c; border-radius: 6px; padding: 8px 14px; min-width: 120px; max-width: 460px; }
.figure b { display: block; font-size: 22px; }
.figure span { font-size: 12px; color: #c9d1e3; }
.figure small { display: block; font-size: 11px; color: #aab4cc; margin-top: 2px; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px;
       padding: 16px 28px 28px; }
section.chart { background: #fff; border-radius: 6px; padding: 12px 14px;
                box-shadow: 0 1px 2px rgba(0, 0, 0, .08); min-width: 0; }
section.chart.wide { grid-column: 1 / -1; }
section.chart h2 { margin: 0 0 2px; font-size: 16px; }
section.chart p.caption { margin: 0 0 6px; font-size: 12.5px; color: #555; }
"""


def _figures_html(summary: dict[str, Any] | None) -> str:
    if not summary:
        return '<p class="nosummary">run-summary.json was not found beside the export folder.</p>'

    def card(label: str, value: int, detail: dict[str, int] | None = None) -> str:
        small = ""
        if detail:
            small = "<small>" + html.escape(", ".join(f"{k} {v:,}" for k, v in detail.items())) + "</small>"
        return f'<div class="figure"><b>{value:,}</b><span>{html.escape(label)}</span>{small}</div>'

    loaded = {k: int(v) for k, v in (summary.get("loaded") or {}).items()}
    rejected = {k: int(v) for k, v in sorted((summary.get("rejected") or {}).items(), key=lambda kv: -kv[1])}
    cards = [
        card("messages in", int(summary.get("messages_in", 0))),
        card("loaded", sum(loaded.values()), loaded),
        card("rejected", sum(rejected.values()), rejected),
        card("duplicates", int(summary.get("duplicates", 0))),
    ]
    if summary.get("models"):
        cards.append(card("model rows", sum(int(v) for v in summary["models"].values())))
    return '<div class="figures">' + "".join(cards) + "</div>"


def _chart_html(chart: Chart) -> str:
    div = chart.figure.to_html(
        full_html=False, include_plotlyjs=False, div_id=f"chart-{chart.key}", config=PLOTLY_CONFIG
    )
    classes = "chart wide" if chart.wide else "chart"
    return (
        f'<section class="{classes}" id="{chart.key}"><h2>{html.escape(chart.title)}</h2>'
        f'<p class="caption">{html.escape(chart.caption)}</p>{div}</section>'
    )


def _date_range(data: Exports) -> str:
    days = [r["event_date"] for s in STREAMS for r in data.rows(f"events.{s}")]
    return f"events from {min(days)} to {max(days)}" if days else "no events loaded"


def render(export_dir: Path, summary: dict[str, Any] | None) -> str:
    """The report page as HTML text."""
    data = Exports(export_dir)
    charts = [make(data) for make in CHARTS]
    body = "\n".join(_chart_html(c) for c in charts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>EventHarbor run report</title>\n"
        f"<style>{STYLE}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n'
        "</head><body>\n"
        "<header><h1>EventHarbor run report</h1>"
        f"<p>{html.escape(_date_range(data))} · exports from {html.escape(str(export_dir))}</p>"
        f"{_figures_html(summary)}</header>\n"
        f"<main>\n{body}\n</main>\n"
        "</body></html>\n"
    )


def write_report(export_dir: Path, out: Path) -> Path:
    """Write the report of ``export_dir`` (and ``run-summary.json`` beside it) to ``out``."""
    export_dir, out = Path(export_dir), Path(out)
    summary_path = export_dir.parent / "run-summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(export_dir, summary), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--export", type=Path, default=EXPORT, help="folder of <dataset>.<table>.jsonl exports"
    )
    parser.add_argument("--out", type=Path, default=OUT, help="the HTML page to write")
    args = parser.parse_args(argv)
    if not args.export.is_dir():
        raise SystemExit(f"error: {args.export} is not a folder of exports: run `make run` first")
    path = write_report(args.export, args.out)
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
