"""The run report (localdev/report/): built from a hand-written export folder, checked in real Chromium.

The browser is Debian's ``chromium`` (``make browser`` installs it; ``make test`` depends on that),
driven by Python Playwright through ``executable_path``, headless, with a new empty profile. The
page is opened from disk (file://); every other request is recorded and refused, so a page that
fetched anything (a CDN script, a font) fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from localdev.report import charts, data, render, write_report
from localdev.report.charts import PANELS, draw
from localdev.report.data import Exports, PlatformDay, StreamDay
from localdev.report.page import page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".local"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "Chromium is needed for the report's browser test and was not found at {path}: "
    "run `make browser` (it runs `apt-get install -y chromium`), or set CHROMIUM=/path/to/chromium"
)


def chromium_path() -> str:
    """Debian's Chromium (or $CHROMIUM); fails the test, never skips it, when it is missing."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(path, os.X_OK):
        pytest.fail(INSTALL_HINT.format(path=path), pytrace=False)
    return path


@dataclass
class Rendered:
    charts: list[dict]
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    title: str = ""


# Per plotly div: its traces as plotly drew them and the marks in its SVG / heat map image.
CHART_STATE = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(div => ({
  id: div.id,
  section: div.closest('section') ? div.closest('section').querySelector('h2').textContent : '',
  traces: (div._fullData || []).filter(t => t.visible !== false).map(t => t.type),
  svgs: div.querySelectorAll('svg.main-svg').length,
  marks: div.querySelectorAll(
    'g.barlayer path, g.funnellayer path, g.heatmaplayer image, g.scatterlayer path.point, ' +
    'g.scatterlayer path.js-line'
  ).length,
  annotations: Array.from(div.querySelectorAll('g.annotation-text-g text')).map(t => t.textContent),
  xtitle: (div.querySelector('g.g-xtitle text, g.g-x2title text') || {}).textContent || '',
  ytitle: (div.querySelector('g.g-ytitle text') || {}).textContent || '',
}))"""


def open_report(report: Path, screenshot: Path | None = None, width: int = 1400) -> Rendered:
    """Load ``report`` from disk in headless Chromium and read what each chart drew."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    profile = tempfile.mkdtemp(prefix="report-chromium-")
    try:
        with sync_playwright() as p:
            # A persistent context on a new, empty profile folder: Playwright's own form of --user-data-dir.
            browser = p.chromium.launch_persistent_context(
                profile,
                executable_path=executable,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": width, "height": 1000},
            )
            try:
                page = browser.new_page()
                seen = Rendered(charts=[])
                page.on("console", lambda m: m.type == "error" and seen.console_errors.append(m.text))
                page.on("pageerror", lambda e: seen.page_errors.append(str(e)))

                def route(r):
                    url = r.request.url
                    seen.requests.append(url)
                    if url.startswith(("file://", "data:", "blob:")):
                        r.continue_()
                    else:
                        seen.refused.append(url)
                        r.abort()

                page.route("**/*", route)
                page.goto(report.resolve().as_uri(), wait_until="load")
                page.wait_for_function(
                    "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
                    arg=len(PANELS),
                    timeout=30_000,
                )
                page.wait_for_timeout(500)  # let plotly finish its resize pass
                seen.charts = page.evaluate(CHART_STATE)
                seen.title = page.title()
                if screenshot is not None:
                    screenshot.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshot), full_page=True)
            finally:
                browser.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return seen


def assert_renders(seen: Rendered) -> None:
    """Every chart drew an SVG with data marks; no console error, no page error, nothing fetched."""
    assert seen.page_errors == [] and seen.console_errors == [], (seen.page_errors, seen.console_errors)
    assert seen.refused == [], f"the page fetched {seen.refused}"
    assert all(u.startswith(("file://", "data:", "blob:")) for u in seen.requests), seen.requests
    assert len(seen.charts) == len(PANELS), [c["id"] for c in seen.charts]
    for chart in seen.charts:
        assert chart["svgs"] >= 1, chart
        assert chart["traces"], f"{chart['section']}: no data traces"
        assert chart["marks"] > 0, f"{chart['section']}: nothing drawn: {chart}"
        assert not [a for a in chart["annotations"] if a.startswith("no ")], chart
        assert chart["xtitle"] and chart["ytitle"], f"{chart['section']}: unlabelled axis"


# --------------------------------------------------------------------------- a hand-written export folder

DAYS = ["2026-11-02", "2026-11-03", "2026-11-04"]


def _event(stream: str, day: str, n: int, **fields) -> dict:
    return {"event_id": f"{stream}-{day}-{n}", "event_type": stream, "event_date": day, **fields}


_FAILED_AT = "failed_at"


def _dead_letter(
    n: int,
    stream: str,
    code: str,
    failed_at: str,
    message_id: str | None = None,
    message_time: str | None = _FAILED_AT,
) -> dict:
    """A dead_letter export row; ``message_time`` defaults to its failed_at, None is a row written
    before the column existed."""
    return {
        "failed_at": failed_at,
        "stream": stream,
        "stage": "validate",
        "error_code": code,
        "error_message": f"{code} in message {n}",
        "payload": f'{{"n": {n}}}',
        "payload_encoding": "utf-8",
        "payload_truncated": False,
        "attributes": None,
        "message_id": message_id if message_id is not None else f"events.jsonl:{n}",
        "publish_time": None,
        "event_id": None,
        "message_time": failed_at if message_time == _FAILED_AT else message_time,
    }


def _fact(day: str, stream: str, event_type: str, total: int, errors: int | None = None) -> dict:
    """An analytics.fact_events_daily export row (error_events only on the '(all)' rows)."""
    return {
        "date": day,
        "stream": stream,
        "event_type": event_type,
        "total_events": total,
        "error_events": errors,
        "unique_sessions": None,
        "avg_session_duration_s": None,
    }


def fixture_tables() -> dict[str, list[dict]]:
    orders = [
        _event("orders", d, i, status=s, customer_id=f"cust-{i}", total_amount="10.5")
        for d in DAYS
        for i, s in enumerate(["pending", "shipped", "delivered"])
    ]
    orders.append(dict(orders[0]))  # a duplicate row of one event: counted once
    inventory = [_event("inventory", d, i, reason=r) for d in DAYS for i, r in enumerate(["restock", "sale"])]
    activity = [
        _event("user_activity", d, i, activity_type=a, metadata={"platform": "web", "session_id": f"s{i}"})
        for d in DAYS
        for i, a in enumerate(["login", "view_product", "add_to_cart", "logout"])
    ]
    published = "2026-11-02T09:59:58Z"
    dead = [
        _dead_letter(1, "orders", "amount_mismatch", "2026-11-02T10:00:00Z", message_time=published),
        # a copy failing the next day shares the publish time: counted once, on 2026-11-02
        _dead_letter(1, "orders", "amount_mismatch", "2026-11-03T10:00:00Z", message_time=published),
        _dead_letter(2, "inventory", "invalid_value", "2026-11-03T11:00:00Z", message_time=None),  # old row
        _dead_letter(3, "unknown", "invalid_json", "2026-11-04T12:00:00Z", message_id=""),
        # rejected by a replay on 2026-11-09: dated by its event's own time, 2026-11-04
        _dead_letter(
            4, "user_activity", "missing_field", "2026-11-09T08:00:00Z", None, "2026-11-04T07:00:00Z"
        ),
    ]
    metrics = []
    for stream, types in {
        "orders": ["pending", "shipped"],
        "user_activity": ["login", "view_product"],
    }.items():
        for k, event_type in enumerate(types):
            for pane in (0, 1):
                metrics.append(
                    {
                        "stream": stream,
                        "event_type": event_type,
                        "window_start": "2026-11-02T10:00:00Z",
                        "window_end": "2026-11-02T10:01:00Z",
                        "occurrences": (k + 1) * (pane + 1),
                        "last_event_ts": "2026-11-02T10:00:59Z",
                        "pane_timing": "EARLY" if pane == 0 else "ON_TIME",
                        "pane_index": pane,
                    }
                )
    dau = [{"date": d, "platform": p, "dau": 3 + i} for i, d in enumerate(DAYS) for p in ("web", "mobile")]
    retention = [
        {"cohort_date": c, "day_n": n, "users": 4, "retained": 4 - n, "rate": (4 - n) / 4}
        for ci, c in enumerate(DAYS)
        for n in range(len(DAYS) - ci)
    ]
    funnel = [
        {
            "date": d,
            "viewed_users": 10,
            "carted_users": 5,
            "ordered_users": 2,
            "view_to_cart_rate": 0.5,
            "cart_to_order_rate": 0.4,
        }
        for d in DAYS
    ]
    churn = [
        {
            "user_id": f"u{u}",
            "snapshot_date": d,
            "last_active_date": DAYS[0],
            "days_inactive": 8 * u,
            "churn_status": ["active", "soft_churn", "churned", "hard_churn"][u],
        }
        for d in DAYS
        for u in range(4)
    ]
    inventory_balance = [
        {
            "product_id": f"prod-{p}",
            "warehouse_id": "wh-01",
            "balance_date": d,
            "opening_quantity": 50,
            "restocked": 0,
            "sold": -5 * p,
            "returned": 0,
            "damaged": 0,
            "net_change": -5 * p,
            "closing_quantity": 50 - 5 * p - 10 * i,
            "is_low_stock": 50 - 5 * p - 10 * i < 10,
        }
        for i, d in enumerate(DAYS)
        for p in range(1, 6)
    ]
    customers = [
        {
            "customer_id": f"cust-{c}",
            "balance_date": d,
            "orders_placed": 1,
            "order_value": "100.25",
            "cancelled_value": "0",
            "net_value": "100.25",
            "lifetime_orders": i + 1,
            "lifetime_value": f"{(c + 1) * (i + 1) * 100.25:.2f}",
        }
        for i, d in enumerate(DAYS)
        for c in range(3)
    ]
    weekly = [
        {"week": "2026-11-02", "stream": s, "messages": 40, "dead_letters": n, "error_rate": n / 40}
        for s, n in (("orders", 2), ("inventory", 1), ("user_activity", 0))
    ]
    # as the model holds the rows above: each event once, each rejected message once on the day of
    # its message time (orders' copy failing on 11-03 and user_activity's replay on 11-09 included)
    errors = {
        ("2026-11-02", "orders"): 1,
        ("2026-11-03", "inventory"): 1,
        ("2026-11-04", "unknown"): 1,
        ("2026-11-04", "user_activity"): 1,
    }
    types = {
        "orders": ["pending", "shipped", "delivered"],
        "inventory": ["restock", "sale"],
        "user_activity": ["login", "view_product", "add_to_cart", "logout"],
    }
    facts = [_fact(d, s, t, 1) for d in DAYS for s, ts in types.items() for t in ts]
    facts += [_fact(d, s, "(all)", len(ts), errors.get((d, s), 0)) for d in DAYS for s, ts in types.items()]
    facts.append(_fact("2026-11-04", "unknown", "(all)", 0, 1))
    return {
        "events.orders": orders,
        "events.inventory": inventory,
        "events.user_activity": activity,
        "events.dead_letter": dead,
        "events.realtime_event_metrics": metrics,
        "analytics.daily_active_users": dau,
        "analytics.retention_cohorts": retention,
        "analytics.funnel_daily": funnel,
        "analytics.churn_classification": churn,
        "analytics.inventory_daily_balance": inventory_balance,
        "analytics.customer_daily_balance": customers,
        "analytics.weekly_error_rate": weekly,
        "analytics.fact_events_daily": facts,
    }


SUMMARY = {
    "messages_in": 61,
    "loaded": {"orders": 9, "inventory": 6, "user_activity": 12},
    "rejected": {"amount_mismatch": 1, "invalid_value": 1, "invalid_json": 1, "missing_field": 1},
    "duplicates": 1,
    "models": {"daily_active_users": 6},
}


def write_exports(local: Path, tables: dict[str, list[dict]], summary: dict | None = SUMMARY) -> Path:
    export = local / "export"
    export.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        (export / f"{name}.jsonl").write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    if summary is not None:
        (local / "run-summary.json").write_text(json.dumps(summary))
    return export


def _chart(tables: Exports, key: str) -> charts.Chart:
    return {chart.key: chart for chart in draw(tables)}[key]


# --------------------------------------------------------------------------- what the charts show


def _bars(fig) -> tuple[dict, dict]:
    """The messages chart's bars: (messages, dead letters), each {stream: {day: count}}."""
    top = {t.name: dict(zip(t.x, t.y, strict=True)) for t in fig.data if t.showlegend is not False}
    dead = {t.name: dict(zip(t.x, t.y, strict=True)) for t in fig.data if t.showlegend is False}
    return top, dead


def test_messages_per_day_are_fact_events_daily_all_rows(tmp_path):
    tables = fixture_tables()
    exports = Exports(write_exports(tmp_path / "a", tables))
    assert data.messages_per_day(exports) == sorted(
        (
            StreamDay(r["date"], r["stream"], r["total_events"], r["error_events"])
            for r in tables["analytics.fact_events_daily"]
            if r["event_type"] == "(all)"
        ),
        key=lambda d: (d.day, d.stream),
    )
    chart = _chart(exports, "messages_per_day")
    top, dead = _bars(chart.figure)
    assert top["orders"]["2026-11-02"] == 3 + 1  # the model's total_events + error_events
    assert dead["orders"] == {"2026-11-02": 1, "2026-11-03": 0, "2026-11-04": 0}
    assert dead["inventory"]["2026-11-03"] == 1
    assert dead["unknown"]["2026-11-04"] == 1 and top["unknown"]["2026-11-04"] == 1
    assert "from analytics.fact_events_daily" in chart.caption

    # the model's numbers, whatever the raw tables hold: the raw exports are not read at all
    for row in tables["analytics.fact_events_daily"]:
        if (row["date"], row["stream"], row["event_type"]) == ("2026-11-02", "orders", "(all)"):
            row["total_events"] = 7
    for raw in ("events.orders", "events.inventory", "events.user_activity", "events.dead_letter"):
        del tables[raw]
    top, dead = _bars(_chart(Exports(write_exports(tmp_path / "b", tables)), "messages_per_day").figure)
    assert top["orders"]["2026-11-02"] == 7 + 1 and dead["orders"]["2026-11-02"] == 1

    del tables["analytics.fact_events_daily"]
    missing = _chart(Exports(write_exports(tmp_path / "c", tables)), "messages_per_day")
    assert missing.figure.data == ()
    assert [a.text for a in missing.figure.layout.annotations][-1] == "no rows in analytics.fact_events_daily"


def test_rejections_are_dated_by_their_message_time_not_the_run_day(tmp_path):
    # user_activity's message failed on 2026-11-09 (a replay) but its event is of 2026-11-04: the
    # model dates it there, and so does the chart; the axis ends with the last message day
    fig = _chart(Exports(write_exports(tmp_path, fixture_tables())), "messages_per_day").figure
    top, dead = _bars(fig)
    assert dead["user_activity"] == {"2026-11-02": 0, "2026-11-03": 0, "2026-11-04": 1}
    assert all("2026-11-09" not in t.x for t in fig.data)
    assert fig.layout.xaxis.range == ("2026-11-02", "2026-11-05")  # the whole of 11-04, no more

    # of a message rejected twice, its first rejection by message time counts (dead letters by code)
    dead_letters = [
        _dead_letter(7, "orders", "late_copy", "2026-11-09T10:00:00Z", "m-7", "2026-11-01T10:00:00Z"),
        _dead_letter(7, "orders", "first", "2026-11-08T10:00:00Z", "m-7", "2026-11-01T09:00:00Z"),
    ]
    assert [r["error_code"] for r in data.first_copies(dead_letters)] == ["first"]


def test_dead_letters_by_code_count_each_rejected_message_once(tmp_path):
    codes = _chart(Exports(write_exports(tmp_path, fixture_tables())), "dead_letters_by_code")
    assert sum(sum(t.x) for t in codes.figure.data) == 4  # 5 rows, one a copy
    assert "(4, each once)" in codes.caption


def test_weekly_error_rate_is_read_from_the_model_only(tmp_path):
    tables = fixture_tables()
    tables["analytics.weekly_error_rate"] = [
        {"week": "2026-11-09", "stream": "orders", "messages": 10, "dead_letters": 5, "error_rate": 0.5},
        *tables["analytics.weekly_error_rate"],
        {"week": "2026-10-26", "stream": "orders", "messages": 8, "dead_letters": 1, "error_rate": 0.125},
        {"week": "2026-11-02", "stream": "unknown", "messages": 1, "dead_letters": 1, "error_rate": 1.0},
    ]
    exports = Exports(write_exports(tmp_path / "a", tables))
    read = data.weekly_error_rate(exports)
    assert read.exported
    assert sorted((r.week, r.stream, r.messages, r.dead_letters, r.error_rate) for r in read.rates) == sorted(
        (r["week"], r["stream"], r["messages"], r["dead_letters"], r["error_rate"])
        for r in tables["analytics.weekly_error_rate"]
    )
    model = _chart(exports, "weekly_error_rate")
    assert "from analytics.weekly_error_rate." in model.caption
    rates = {t.name: list(zip(t.x, t.y, strict=True)) for t in model.figure.data}
    # the model's rates as they are (the raw exports would give orders 1 / 10 that week), weeks in order
    assert rates["orders"] == [("2026-10-26", 0.125), ("2026-11-02", 2 / 40), ("2026-11-09", 0.5)]
    assert rates["user_activity"] == [("2026-10-26", None), ("2026-11-02", 0.0), ("2026-11-09", None)]
    assert model.figure.layout.xaxis.type == "date"
    assert "Stream 'unknown' (1 dead letters) is left out." in model.caption
    assert "dated by their message time" in model.caption

    del tables["analytics.weekly_error_rate"]
    missing = _chart(Exports(write_exports(tmp_path / "b", tables)), "weekly_error_rate")
    assert missing.figure.data == ()  # never recomputed from the raw exports
    assert [a.text for a in missing.figure.layout.annotations] == ["no analytics.weekly_error_rate export"]


def test_daily_active_users_are_the_model_rows_on_a_date_axis_in_order(tmp_path):
    tables = fixture_tables()
    # mobile has a day web lacks, and the export lists the days newest first
    tables["analytics.daily_active_users"] = [
        {"date": "2026-11-04", "platform": "web", "dau": 4},
        {"date": "2026-11-04", "platform": "mobile", "dau": 2},
        {"date": "2026-11-02", "platform": "web", "dau": 5},
        {"date": "2026-11-03", "platform": "mobile", "dau": 1},
        {"date": "2026-11-02", "platform": "mobile", "dau": 3},
    ]
    tables["analytics.fact_events_daily"].reverse()
    exports = Exports(write_exports(tmp_path, tables))
    assert {(r.day, r.platform, r.dau) for r in data.daily_active_users(exports)} == {
        (r["date"], r["platform"], r["dau"]) for r in tables["analytics.daily_active_users"]
    }
    dau = _chart(exports, "daily_active_users").figure
    assert dau.layout.xaxis.type == "date"
    assert {t.name: list(zip(t.x, t.y, strict=True)) for t in dau.data} == {
        "mobile": [("2026-11-02", 3), ("2026-11-03", 1), ("2026-11-04", 2)],
        "web": [("2026-11-02", 5), ("2026-11-04", 4)],
    }
    for key in ("messages_per_day", "churn", "weekly_error_rate"):
        fig = _chart(exports, key).figure
        assert fig.layout.xaxis.type == "date", key
        assert all(list(t.x) == sorted(t.x) for t in fig.data), key


def test_charts_put_days_in_order_whatever_order_their_records_come_in():
    # the order a held-out sample's DAU rows came in, which once reached the x axis as it was
    held_out = ["2024-03-02", "2024-03-05", "2024-03-03", "2024-03-01", "2024-03-04"]
    dau = charts.daily_active_users([PlatformDay(d, "web", n) for n, d in enumerate(held_out)]).figure
    [web] = dau.data
    assert list(web.x) == sorted(held_out) and list(web.y) == [3, 0, 2, 4, 1]
    assert dau.layout.xaxis.type == "date" and dau.layout.xaxis.tick0 == "2024-03-01"

    messages = charts.messages_per_day([StreamDay(d, "orders", 10, 1) for d in held_out]).figure
    assert all(list(t.x) == sorted(held_out) for t in messages.data)
    assert messages.layout.xaxis.range == ("2024-03-01", "2024-03-06")


def test_latest_pane_latest_balance_and_top_values(tmp_path):
    tables = Exports(write_exports(tmp_path, fixture_tables()))
    shares = {t.name: dict(zip(t.y, t.x, strict=True)) for t in _chart(tables, "event_types").figure.data}
    assert shares["orders"] == {"pending": 2 / 6, "shipped": 4 / 6}  # pane 1 of each window, not pane 0

    stock = _chart(tables, "lowest_stock")
    [bars] = stock.figure.data
    assert list(bars.x) == [25, 20, 15, 10, 5]  # on the latest day, the lowest at the top
    assert list(bars.y)[-1] == "prod-5 · wh-01" and list(bars.marker.color)[-1] == "#d62728"  # low stock
    assert "on 2026-11-04" in stock.caption

    [customers] = _chart(tables, "top_customers").figure.data
    assert list(customers.y)[-1] == "cust-2" and list(customers.x)[-1] == 3 * 3 * 100.25

    [funnel] = _chart(tables, "funnel").figure.data
    assert list(funnel.x) == [30, 15, 6]
    churn = _chart(tables, "churn")
    assert "latest (2026-11-04): active 1, soft_churn 1, churned 1, hard_churn 1" in churn.caption


def test_the_page_is_self_contained_with_the_run_summary_in_its_header(tmp_path):
    html = render(write_exports(tmp_path, fixture_tables()), SUMMARY)
    assert html.count("<script") == 1 + len(PANELS)  # plotly.js once, then one newPlot per chart
    assert "<script src" not in html and "<link" not in html
    for label in ("messages in", "loaded", "rejected", "duplicates"):
        assert f"<span>{label}</span>" in html
    assert "<b>61</b>" in html and "<b>27</b>" in html and "<b>4</b>" in html
    assert "events from 2026-11-02 to 2026-11-04" in html  # the model's days with loaded events


def test_the_page_lays_out_the_charts_it_is_given():
    chart = charts.messages_per_day([StreamDay("2024-03-01", "orders", 2, 1)])
    html = page([chart], None, "a subtitle <b>")
    assert html.count("<script") == 2 and 'id="messages_per_day"' in html
    assert "a subtitle &lt;b&gt;" in html and "run-summary.json was not found" in html


# --------------------------------------------------------------------------- in Chromium


def test_report_renders_every_chart_in_chromium(tmp_path):
    report = write_report(write_exports(tmp_path, fixture_tables()), tmp_path / "report.html")

    seen = open_report(report, screenshot=SCREENSHOTS / "report-fixture.png")

    assert_renders(seen)
    assert seen.title == "EventHarbor run report"
    assert (SCREENSHOTS / "report-fixture.png").stat().st_size > 10_000


def test_report_with_no_exports_still_renders_labelled_empty_panels(tmp_path):
    (tmp_path / "export").mkdir()
    report = write_report(tmp_path / "export", tmp_path / "report.html")

    seen = open_report(report)

    assert seen.page_errors == [] and seen.console_errors == [] and seen.refused == []
    assert len(seen.charts) == len(PANELS)
    empty = [c for c in seen.charts if any(a.startswith("no ") for a in c["annotations"])]
    assert len(empty) == len(PANELS), [c["id"] for c in seen.charts if c not in empty]
    assert "run-summary.json was not found" in report.read_text()


def test_the_browser_check_catches_a_page_that_fetches(tmp_path):
    report = write_report(write_exports(tmp_path, fixture_tables()), tmp_path / "report.html")
    page = report.read_text().replace(
        "</head>", '<script src="https://cdn.example.invalid/x.js"></script></head>'
    )
    report.write_text(page)

    seen = open_report(report)  # the request is refused by the route, never sent

    assert seen.refused == ["https://cdn.example.invalid/x.js"]
    with pytest.raises(AssertionError):
        assert_renders(seen)
