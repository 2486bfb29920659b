"""The run report (localdev/report.py): what each chart computes from a hand-written export folder.

Rendering the page in Chromium is tests/infra/test_report_browser.py.
"""

from __future__ import annotations

from localdev.report import CHARTS, Exports, render
from tests.report_exports import SUMMARY, fixture_tables, write_exports


def _chart(data: Exports, key: str):
    return {chart.key: chart for chart in (make(data) for make in CHARTS)}[key]


# --------------------------------------------------------------------------- what the charts compute


def test_each_event_and_each_rejected_message_counts_once(tmp_path):
    data = Exports(write_exports(tmp_path, fixture_tables()))
    fig = _chart(data, "messages_per_day").figure
    top = {t.name: dict(zip(t.x, t.y, strict=True)) for t in fig.data if t.showlegend is not False}
    dead = {t.name: dict(zip(t.x, t.y, strict=True)) for t in fig.data if t.showlegend is False}
    assert top["orders"]["2026-11-02"] == 3 + 1  # three events (one row twice) + one rejected message
    assert dead["orders"] == {"2026-11-02": 1, "2026-11-03": 0, "2026-11-04": 0}
    assert dead["inventory"]["2026-11-03"] == 1  # no message_time: dated by failed_at
    assert dead["unknown"]["2026-11-04"] == 1 and dead["user_activity"]["2026-11-04"] == 1  # not 11-09
    assert fig.layout.xaxis.type == "date" and fig.layout.xaxis2.type == "date"

    codes = _chart(data, "dead_letters_by_code")
    assert sum(sum(t.x) for t in codes.figure.data) == 4
    assert "(4, each once)" in codes.caption


def test_weekly_error_rate_is_read_from_the_model_only(tmp_path):
    tables = fixture_tables()
    tables["analytics.weekly_error_rate"] = [
        {"week": "2026-11-09", "stream": "orders", "messages": 10, "dead_letters": 5, "error_rate": 0.5},
        *tables["analytics.weekly_error_rate"],
        {"week": "2026-10-26", "stream": "orders", "messages": 8, "dead_letters": 1, "error_rate": 0.125},
        {"week": "2026-11-02", "stream": "unknown", "messages": 1, "dead_letters": 1, "error_rate": 1.0},
    ]
    model = _chart(Exports(write_exports(tmp_path / "a", tables)), "weekly_error_rate")
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


def test_date_axes_are_dates_in_ascending_order_whatever_the_export_order(tmp_path):
    tables = fixture_tables()
    # mobile has a day web lacks, and the export lists the days newest first
    tables["analytics.daily_active_users"] = [
        {"date": "2026-11-04", "platform": "web", "dau": 4},
        {"date": "2026-11-04", "platform": "mobile", "dau": 2},
        {"date": "2026-11-02", "platform": "web", "dau": 5},
        {"date": "2026-11-03", "platform": "mobile", "dau": 1},
        {"date": "2026-11-02", "platform": "mobile", "dau": 3},
    ]
    data = Exports(write_exports(tmp_path, tables))
    dau = _chart(data, "daily_active_users").figure
    assert dau.layout.xaxis.type == "date"
    assert {t.name: list(t.x) for t in dau.data} == {
        "mobile": ["2026-11-02", "2026-11-03", "2026-11-04"],
        "web": ["2026-11-02", "2026-11-04"],
    }
    for key in ("messages_per_day", "churn"):
        fig = _chart(data, key).figure
        assert fig.layout.xaxis.type == "date", key
        assert all(list(t.x) == sorted(t.x) for t in fig.data), key


def test_latest_pane_latest_balance_and_top_values(tmp_path):
    data = Exports(write_exports(tmp_path, fixture_tables()))
    shares = {t.name: dict(zip(t.y, t.x, strict=True)) for t in _chart(data, "event_types").figure.data}
    assert shares["orders"] == {"pending": 2 / 6, "shipped": 4 / 6}  # pane 1 of each window, not pane 0

    stock = _chart(data, "lowest_stock")
    [bars] = stock.figure.data
    assert list(bars.x) == [25, 20, 15, 10, 5]  # on the latest day, the lowest at the top
    assert list(bars.y)[-1] == "prod-5 · wh-01" and list(bars.marker.color)[-1] == "#d62728"  # low stock
    assert "on 2026-11-04" in stock.caption

    [customers] = _chart(data, "top_customers").figure.data
    assert list(customers.y)[-1] == "cust-2" and list(customers.x)[-1] == 3 * 3 * 100.25

    [funnel] = _chart(data, "funnel").figure.data
    assert list(funnel.x) == [30, 15, 6]
    churn = _chart(data, "churn")
    assert "latest (2026-11-04): active 1, soft_churn 1, churned 1, hard_churn 1" in churn.caption


def test_the_page_is_self_contained_with_the_run_summary_in_its_header(tmp_path):
    page = render(write_exports(tmp_path, fixture_tables()), SUMMARY)
    assert page.count("<script") == 1 + len(CHARTS)  # plotly.js once, then one newPlot per chart
    assert "<script src" not in page and "<link" not in page
    for label in ("messages in", "loaded", "rejected", "duplicates"):
        assert f"<span>{label}</span>" in page
    assert "<b>61</b>" in page and "<b>27</b>" in page and "<b>4</b>" in page
