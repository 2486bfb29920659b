"""The report's panels: each turns the plain records of :mod:`localdev.report.data` into a plotly
figure with its title and caption. Nothing here reads a table or counts a row twice: a chart
only lays out what its reader returned. :data:`PANELS` pairs each reader with its chart, in the
page's order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from localdev.report import data
from localdev.report.data import (
    CodeCounts,
    CustomerValue,
    FunnelTotals,
    PlatformDay,
    RetentionCell,
    Stock,
    StreamDay,
    WeeklyRates,
)
from localdev.report.plotting import (
    HEIGHT,
    STREAM_COLOURS,
    WEEK_MS,
    date_axis,
    figure,
    no_rows,
    period_bar,
    streams_in_order,
    whole_ticks,
)
from schemas import STREAMS

TOP_N = 15  # bars in the lowest-stock and top-customer charts
CHURN_ORDER = ("active", "soft_churn", "churned", "hard_churn")
CHURN_COLOURS = {"active": "#2ca02c", "soft_churn": "#ffbf00", "churned": "#ff7f0e", "hard_churn": "#d62728"}
PLATFORM_COLOURS = {"web": "#1f77b4", "mobile": "#9467bd", "tablet": "#17becf"}


@dataclass(frozen=True)
class Chart:
    """One panel of the report."""

    key: str
    title: str
    caption: str
    figure: go.Figure
    wide: bool = False


def messages_per_day(days: list[StreamDay]) -> Chart:
    """Messages (loaded events + rejected messages) and the rejected ones per day and stream."""
    loaded = {(d.day, d.stream): d.loaded for d in days}
    rejected = {(d.day, d.stream): d.rejected for d in days}
    dates = sorted({d.day for d in days})
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
    for stream in streams_in_order(d.stream for d in days):
        colour = STREAM_COLOURS.get(stream)
        messages = [loaded.get((d, stream), 0) + rejected.get((d, stream), 0) for d in dates]
        fig.add_trace(
            period_bar(x=dates, y=messages, name=stream, legendgroup=stream, marker_color=colour),
            row=1,
            col=1,
        )
        fig.add_trace(
            period_bar(
                x=dates,
                y=[rejected.get((d, stream), 0) for d in dates],
                name=stream,
                legendgroup=stream,
                showlegend=False,
                marker_color=colour,
            ),
            row=2,
            col=1,
        )
    messages_by_day: Counter[str] = Counter()
    rejected_by_day: Counter[str] = Counter()
    for d in days:
        messages_by_day[d.day] += d.loaded + d.rejected
        rejected_by_day[d.day] += d.rejected
    fig.update_yaxes(title_text="messages", row=1, col=1, **whole_ticks(messages_by_day.values()))
    fig.update_yaxes(title_text="dead letters", row=2, col=1, **whole_ticks(rejected_by_day.values()))
    date_axis(fig, dates, periods=True)
    fig.update_xaxes(title_text="day (UTC; dead letters by their message time)", row=2, col=1)
    if not dates:
        no_rows(fig, f"no rows in {data.FACT_EVENTS_DAILY}", y=0.78)
    return Chart(
        "messages_per_day",
        "Messages and dead letters per day and stream",
        "Each stream's messages per day (events loaded, each once, plus rejected messages by their "
        "message time, each once) above, the rejected ones below, over the days the models are built "
        "for (a rejection with no time of its own is dated by when it failed, and counts once its day "
        "is built); from analytics.fact_events_daily (the '(all)' rows: total_events + error_events).",
        fig,
        wide=True,
    )


def dead_letters_by_code(codes: CodeCounts) -> Chart:
    """Rejected messages by error code, stacked by stream."""
    counts = codes.counts
    totals: Counter[str] = Counter()
    for (code, _), n in counts.items():
        totals[code] += n
    ordered = sorted(totals, key=lambda c: (totals[c], c))  # largest at the top of a horizontal bar chart
    fig = figure("rejected messages", "error code", barmode="stack")
    for stream in streams_in_order(s for _, s in counts):
        fig.add_trace(
            go.Bar(
                y=ordered,
                x=[counts.get((c, stream), 0) for c in ordered],
                name=stream,
                orientation="h",
                marker_color=STREAM_COLOURS.get(stream),
            )
        )
    fig.update_xaxes(**whole_ticks(totals.values()))
    if not counts:
        no_rows(
            fig, "no dead letters: every message was loaded" if codes.exported else "no dead_letter export"
        )
    return Chart(
        "dead_letters_by_code",
        "Dead letters by error code",
        f"Rejected messages ({sum(totals.values())}, each once) by the stable error code of their first "
        "rejection, split by stream; from events.dead_letter (no model keeps the codes).",
        fig,
    )


def weekly_error_rate(weekly: WeeklyRates) -> Chart:
    """Each stream's weekly error rate, as ``analytics.weekly_error_rate`` holds it."""
    table = data.WEEKLY_ERROR_RATE
    left_out: Counter[str] = Counter()
    for r in weekly.rates:
        if r.stream not in STREAMS:
            left_out[r.stream] += r.dead_letters
    rates = [r for r in weekly.rates if r.stream in STREAMS]
    weeks = sorted({r.week for r in rates})
    fig = figure("week starting (Monday)", "error rate", barmode="group")
    fig.update_yaxes(tickformat=".1%", rangemode="tozero")
    date_axis(fig, weeks, WEEK_MS, periods=True)
    streams = streams_in_order(r.stream for r in rates)
    for index, stream in enumerate(streams):
        by_week = {r.week: r for r in rates if r.stream == stream}
        fig.add_trace(
            period_bar(
                WEEK_MS,
                (index, len(streams)),
                x=weeks,
                y=[by_week[w].error_rate if w in by_week else None for w in weeks],
                customdata=[
                    [by_week[w].dead_letters, by_week[w].messages] if w in by_week else [0, 0] for w in weeks
                ],
                hovertemplate="%{y:.2%} (%{customdata[0]} of %{customdata[1]} messages)",
                name=stream,
                marker_color=STREAM_COLOURS.get(stream),
            )
        )
    if not rates:
        no_rows(fig, "no messages to rate" if weekly.exported else f"no {table} export")
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


def event_types(occurrences: dict[tuple[str, str], int]) -> Chart:
    """Each stream's event types as a share of the stream's windowed events."""
    per_stream: Counter[str] = Counter()
    for (stream, _), n in occurrences.items():
        per_stream[stream] += n
    fig = figure("share of the stream's windowed events", "event type", barmode="stack")
    fig.update_xaxes(tickformat=".0%")
    for stream in streams_in_order(per_stream):
        types = sorted((t for s, t in occurrences if s == stream), key=lambda t: occurrences[stream, t])
        fig.add_trace(
            go.Bar(
                y=types,
                x=[occurrences[stream, t] / per_stream[stream] for t in types],
                customdata=[occurrences[stream, t] for t in types],
                hovertemplate="%{y}: %{x:.1%} (%{customdata} window counts)",
                name=stream,
                orientation="h",
                marker_color=STREAM_COLOURS.get(stream),
            )
        )
    if not occurrences:
        no_rows(fig, f"no rows in {data.REALTIME_EVENT_METRICS}")
    return Chart(
        "event_types",
        "Event-type distribution",
        "Each stream's order statuses, inventory reasons and activity types as a share of the stream: "
        "occurrences summed over the sliding windows, latest pane of each window; "
        "from events.realtime_event_metrics.",
        fig,
    )


def daily_active_users(rows: list[PlatformDay]) -> Chart:
    """DAU per platform, one line each, on a date axis."""
    fig = figure("day (UTC)", "daily active users")
    date_axis(fig, sorted({r.day for r in rows}))
    for platform in sorted({r.platform for r in rows}):
        mine = sorted((r for r in rows if r.platform == platform), key=lambda r: r.day)
        fig.add_trace(
            go.Scatter(
                x=[r.day for r in mine],
                y=[r.dau for r in mine],
                name=platform,
                mode="lines+markers",
                line_color=PLATFORM_COLOURS.get(platform),
            )
        )
    fig.update_yaxes(**whole_ticks(r.dau for r in rows))
    if not rows:
        no_rows(fig, f"no rows in {data.DAILY_ACTIVE_USERS}")
    return Chart(
        "daily_active_users",
        "Daily active users by platform",
        "Distinct users with any activity each day on each platform (a user on two platforms counts on "
        "both); from analytics.daily_active_users.",
        fig,
    )


def retention(cells: list[RetentionCell]) -> Chart:
    """The retention cohorts as a heat map: cohorts down, days since the first active day across."""
    cohorts = sorted({c.cohort_date for c in cells})
    days = sorted({c.day_n for c in cells})
    cell = {(c.cohort_date, c.day_n): c for c in cells}
    z = [[cell[c, d].rate if (c, d) in cell else None for d in days] for c in cohorts]
    text = [
        [f"{cell[c, d].retained}/{cell[c, d].users}" if (c, d) in cell else "" for d in days] for c in cohorts
    ]
    fig = figure("days since the first active day (day_n)", "cohort (first active day)")
    fig.update_layout(height=max(HEIGHT, 120 + 26 * len(cohorts)))
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_xaxes(type="category" if len(days) <= 31 else "linear", dtick=1)
    if cells:
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
        no_rows(fig, f"no rows in {data.RETENTION_COHORTS}")
    return Chart(
        "retention",
        "Retention cohorts",
        "Share of each cohort (users by their first active day) active again n days later; "
        "from analytics.retention_cohorts.",
        fig,
        wide=True,
    )


def funnel(totals: FunnelTotals) -> Chart:
    """The purchase funnel over the model's days."""
    fig = figure("", "step")
    fig.update_xaxes(visible=True, showticklabels=False, showgrid=False, zeroline=False)
    fig.update_xaxes(title_text="users, summed over the days (share of the first step, of the previous)")
    if totals.days:
        fig.add_trace(
            go.Funnel(
                y=["viewed a product", "added to cart", "ordered"],
                x=[totals.viewed, totals.carted, totals.ordered],
                textinfo="value+percent initial+percent previous",
                marker_color=["#1f77b4", "#ff7f0e", "#2ca02c"],
            )
        )
    else:
        no_rows(fig, f"no rows in {data.FUNNEL_DAILY}")
    return Chart(
        "funnel",
        "Purchase funnel",
        f"Users who viewed a product, of them those who added to cart, and of them those who ordered the "
        f"same day, summed over {totals.days} days; from analytics.funnel_daily.",
        fig,
    )


def churn(counts: dict[tuple[str, str], int]) -> Chart:
    """Users by churn status on each snapshot day, stacked."""
    snapshots = sorted({d for d, _ in counts})
    statuses = [s for s in CHURN_ORDER if any(k[1] == s for k in counts)]
    statuses += sorted({k[1] for k in counts} - set(statuses))
    fig = figure("snapshot day", "users", barmode="stack")
    date_axis(fig, snapshots, periods=True)
    for status in statuses:
        fig.add_trace(
            period_bar(
                x=snapshots,
                y=[counts.get((d, status), 0) for d in snapshots],
                name=status,
                marker_color=CHURN_COLOURS.get(status),
            )
        )
    users_by_day: Counter[str] = Counter()
    for (day, _), n in counts.items():
        users_by_day[day] += n
    fig.update_yaxes(**whole_ticks(users_by_day.values()))
    if not counts:
        no_rows(fig, f"no rows in {data.CHURN_CLASSIFICATION}")
    latest = snapshots[-1] if snapshots else None
    summary = ", ".join(f"{s} {counts.get((latest, s), 0)}" for s in statuses) if latest else "none"
    return Chart(
        "churn",
        "Churn status counts",
        f"Users by churn status (days since last active: active < 7 ≤ soft_churn < 14 ≤ churned < 30 ≤ "
        f"hard_churn) on each snapshot day; latest ({latest}): {summary}; "
        "from analytics.churn_classification.",
        fig,
    )


def lowest_stock(stock: Stock) -> Chart:
    """The product × warehouse pairs with the lowest closing quantity on the latest day."""
    lowest = stock.levels[:TOP_N][::-1]  # the lowest at the top
    fig = figure("closing quantity (units)", "product · warehouse")
    if lowest:
        fig.add_trace(
            go.Bar(
                y=[f"{s.product_id} · {s.warehouse_id}" for s in lowest],
                x=[s.closing_quantity for s in lowest],
                orientation="h",
                marker_color=["#d62728" if s.is_low_stock else "#1f77b4" for s in lowest],
                customdata=[["low stock" if s.is_low_stock else "in stock"] for s in lowest],
                hovertemplate="%{y}: %{x} units, %{customdata[0]}<extra></extra>",
                showlegend=False,
            )
        )
    else:
        no_rows(fig, f"no rows in {data.INVENTORY_DAILY_BALANCE}")
    low = sum(1 for s in stock.levels if s.is_low_stock)
    return Chart(
        "lowest_stock",
        "Lowest-stock products",
        f"The {len(lowest)} product × warehouse pairs with the lowest closing quantity on {stock.day} "
        f"(red: low stock, {low} of {len(stock.levels)} pairs); from analytics.inventory_daily_balance.",
        fig,
    )


def top_customers(customers: list[CustomerValue]) -> Chart:
    """The customers with the highest lifetime value on their latest balance day."""
    top = customers[:TOP_N][::-1]  # the largest at the top
    fig = figure("lifetime net order value", "customer")
    if top:
        fig.add_trace(
            go.Bar(
                y=[c.customer_id for c in top],
                x=[c.lifetime_value for c in top],
                orientation="h",
                customdata=[[c.lifetime_orders, c.balance_date] for c in top],
                hovertemplate="%{y}: %{x:,.2f} over %{customdata[0]} orders (as of %{customdata[1]})"
                "<extra></extra>",
                marker_color="#9467bd",
                showlegend=False,
            )
        )
        fig.update_xaxes(tickformat=",.0f")
    else:
        no_rows(fig, f"no rows in {data.CUSTOMER_DAILY_BALANCE}")
    day = max((c.balance_date for c in customers), default=None)
    return Chart(
        "top_customers",
        "Top customers by lifetime value",
        f"The {len(top)} customers with the highest lifetime net order value (orders less cancellations) "
        f"on their latest balance day ({day}); from analytics.customer_daily_balance.",
        fig,
    )


# (reader of the exports, chart of what it read), in the page's order.
PANELS: tuple[tuple[Callable[[data.Exports], Any], Callable[[Any], Chart]], ...] = (
    (data.messages_per_day, messages_per_day),
    (data.rejections_by_code, dead_letters_by_code),
    (data.weekly_error_rate, weekly_error_rate),
    (data.event_type_counts, event_types),
    (data.daily_active_users, daily_active_users),
    (data.retention, retention),
    (data.funnel, funnel),
    (data.churn_counts, churn),
    (data.latest_stock, lowest_stock),
    (data.customer_values, top_customers),
)


def draw(tables: data.Exports) -> list[Chart]:
    """Every panel of the report, read from ``tables``."""
    return [chart(read(tables)) for read, chart in PANELS]
