"""``make run`` leaves ``report.html``: a real demo run's report, opened in headless Chromium.

Saves the screenshot as ``.local/report.png``; ``docs/report.png`` in the README is one of these.
The charts' numbers are those of the model tables the run exported, on date axes in order, and
the rejections of a run over past days sit on their message days, not on the day of the run.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from localdev.demo import run_demo
from localdev.generator import GeneratorConfig, generate, write_files
from localdev.report.charts import draw
from localdev.report.data import Exports
from schemas import STREAMS
from tests.report_browser import SCREENSHOTS, assert_renders, chromium_path, open_report

CONFIG = GeneratorConfig(
    seed=5, start=date(2026, 11, 2), days=3, customers=12, products=6, orders_per_day=8, sessions_per_day=8
)


def _rows(export: Path, table: str) -> list[dict]:
    return [json.loads(line) for line in (export / f"{table}.jsonl").read_text().splitlines() if line]


def _points(figure) -> dict[tuple[str, str], float]:
    """(x, trace name) -> y of every point a figure draws."""
    return {(x, t.name): y for t in figure.data for x, y in zip(t.x, t.y, strict=True) if y is not None}


def test_run_demo_leaves_a_report_that_renders_in_chromium(tmp_path):
    chromium_path()  # fail first, not after the demo, when the browser is missing
    sample = generate(CONFIG)
    write_files(sample, tmp_path / "input")
    local = tmp_path / "local"

    run_demo(str(tmp_path / "input" / "events-*.jsonl"), local=local)

    report = local / "report.html"
    assert report.is_file()
    seen = open_report(report, screenshot=SCREENSHOTS / "report.png")
    assert_renders(seen)
    text = report.read_text()
    assert f"<b>{sample.manifest['messages']:,}</b><span>messages in</span>" in text

    export = local / "export"
    charts = {chart.key: chart.figure for chart in draw(Exports(export))}
    weekly = {(r["week"], r["stream"]): r["error_rate"] for r in _rows(export, "analytics.weekly_error_rate")}
    assert _points(charts["weekly_error_rate"]) == {k: v for k, v in weekly.items() if k[1] in STREAMS}
    dau = {(r["date"], r["platform"]): r["dau"] for r in _rows(export, "analytics.daily_active_users")}
    assert _points(charts["daily_active_users"]) == dau

    facts = [r for r in _rows(export, "analytics.fact_events_daily") if r["event_type"] == "(all)"]
    messages = [t for t in charts["messages_per_day"].data if t.showlegend is not False]
    assert sum(sum(t.y) for t in messages) == sum(r["total_events"] + r["error_events"] for r in facts)
    for figure in charts.values():
        if figure.layout.xaxis.type == "date":
            assert all(list(t.x) == sorted(t.x) for t in figure.data)

    # the sample's days are weeks before the run: a rejection is on its message day, never today's
    last_event = max(r["event_date"] for s in STREAMS for r in _rows(export, f"events.{s}"))
    days = {x for t in charts["messages_per_day"].data for x in t.x}
    assert days and max(days) <= last_event < date.today().isoformat()
    assert any(r["error_events"] for r in facts)
