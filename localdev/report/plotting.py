"""The plotly building blocks every chart of the report shares: the page's colours and layout,
real date axes, bars that span their day or week, and the note of an empty panel."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go

from schemas import STREAMS

HEIGHT = 400
DAY_MS = 86_400_000  # a day on a plotly date axis: the period a daily bar spans
WEEK_MS = 7 * DAY_MS
MAX_DATE_TICKS = 31  # more days or weeks than this: plotly spaces the ticks itself
STREAM_COLOURS = {
    "orders": "#1f77b4",
    "inventory": "#ff7f0e",
    "user_activity": "#2ca02c",
    "unknown": "#7f7f7f",
}


def streams_in_order(seen: Iterable[str]) -> list[str]:
    """Streams in the project's order, then any other (``unknown``) alphabetically."""
    seen = set(seen)
    return [s for s in STREAMS if s in seen] + sorted(seen - set(STREAMS))


def figure(title_x: str, title_y: str, **layout: Any) -> go.Figure:
    """An empty figure in the report's style, with its axis titles."""
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


def whole_ticks(values: Iterable[float]) -> dict[str, int]:
    """Axis settings that keep small counts on whole-number ticks (plotly would draw 0.5 steps)."""
    return {"tick0": 0, "dtick": 1} if max(values, default=0) < 6 else {}


def no_rows(fig: go.Figure, message: str, y: float = 0.5) -> go.Figure:
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


def date_axis(fig: go.Figure, dates: list[str], period_ms: int = DAY_MS, periods: bool = False) -> None:
    """Make the x axes real dates (in time order, whatever order the traces list them in), one tick
    per day or week (``period_ms``) from the first of ``dates``. With ``periods`` each label sits in
    the middle of its period, under the bars drawn over it (:func:`period_bar`)."""
    ticks: dict[str, Any] = (
        {"tick0": dates[0], "dtick": period_ms} if dates and len(dates) <= MAX_DATE_TICKS else {}
    )
    if periods and dates:  # the whole of the first and last period, so each has its label
        ticks["range"] = [
            dates[0],
            (date.fromisoformat(dates[-1]) + timedelta(milliseconds=period_ms)).isoformat(),
        ]
    fig.update_xaxes(
        type="date", tickformat="%Y-%m-%d", ticklabelmode="period" if periods else "instant", **ticks
    )


def period_bar(period_ms: int = DAY_MS, slot: tuple[int, int] = (0, 1), **bar: Any) -> go.Bar:
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
