"""The report's HTML page: a header with the run summary's numbers, then one section per chart.
plotly.js is embedded once, in one ``<script>``: the page fetches nothing when it is viewed."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from plotly.offline import get_plotlyjs

from localdev.report import data
from localdev.report.charts import Chart, draw

OUT = Path(".local/report.html")
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

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
    """The run summary's reconciliation numbers (raw counts no model holds) as header cards."""
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


def page(charts: list[Chart], summary: dict[str, Any] | None, subtitle: str) -> str:
    """The page of ``charts`` as HTML text, under a header of ``subtitle`` and the run summary."""
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
        f"<p>{html.escape(subtitle)}</p>"
        f"{_figures_html(summary)}</header>\n"
        f"<main>\n{body}\n</main>\n"
        "</body></html>\n"
    )


def render(export_dir: Path, summary: dict[str, Any] | None) -> str:
    """The report page of the exports in ``export_dir`` as HTML text."""
    tables = data.Exports(export_dir)
    dates = data.event_dates(tables)
    loaded = f"events from {dates[0]} to {dates[1]}" if dates else "no events loaded"
    return page(draw(tables), summary, f"{loaded} · exports from {export_dir}")


def write_report(export_dir: Path, out: Path = OUT) -> Path:
    """Write the report of ``export_dir`` (and ``run-summary.json`` beside it) to ``out``."""
    export_dir, out = Path(export_dir), Path(out)
    summary_path = export_dir.parent / "run-summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(export_dir, summary), encoding="utf-8")
    return out
