"""The run report (localdev/report/): what each chart shows, from a hand-written export folder.

Rendering the page in Chromium is tests/infra/test_report_browser.py.
"""

from __future__ import annotations

from localdev.report import charts, data, render
from localdev.report.charts import PANELS, draw
from localdev.report.data import Exports, PlatformDay, StreamDay
from localdev.report.page import page
from tests.report_exports import SUMMARY, dead_letter, fixture_tables, write_exports


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
        dead_letter(7, "orders", "late_copy", "2026-11-09T10:00:00Z", "m-7", "2026-11-01T10:00:00Z"),
        dead_letter(7, "orders", "first", "2026-11-08T10:00:00Z", "m-7", "2026-11-01T09:00:00Z"),
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
