"""On a generated multi-week sample: backfill equals replay, reruns change nothing, late data is
fixed, and the generated scheduled-query script builds the same tables as the runner.

The sample (tests/models_scenario.generate_sample) is written straight into the raw tables:
21 days across a month end, eight customers, six products, three warehouses, twelve users. The
three builds compared also hold copies of some of its events (tests/models_scenario.sample_copies:
the same day, re-sent one and three days later), so backfill = replay holds with copies present;
tests/integration/test_models_once_only.py checks that the copies change nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.models_scenario import (
    activity,
    generate_sample,
    insert,
    inventory,
    new_datasets,
    order,
    replay_twice,
    sample_copies,
    snapshot,
)
from warehouse import render, runner
from warehouse.graph import model_names

START = date(2026, 10, 20)
DAYS = 21
END = START + timedelta(days=DAYS - 1)


@pytest.fixture(scope="module")
def sample():
    return generate_sample(START, DAYS)


@pytest.fixture(scope="module")
def builds(bq_client, sample):
    built = {}
    copies = sample_copies(sample)
    for how in ("backfill", "replay", "chunked"):
        built[how] = new_datasets(bq_client, "gs")
        insert(bq_client, built[how], sample)
        insert(bq_client, built[how], copies)
    counts = runner.backfill(bq_client, START, END, "backfill", built["backfill"])
    # Every step of every third day (7 days, the month end among them) runs twice.
    rerun_changed = replay_twice(bq_client, built["replay"], START, END, every=3)
    middle = START + timedelta(days=9)
    runner.backfill(bq_client, START, middle, "backfill", built["chunked"])
    runner.backfill(bq_client, middle + timedelta(days=1), END, "backfill", built["chunked"])
    return {
        "datasets": built,
        "counts": counts,
        "rerun_changed": rerun_changed,
        "tables": {how: snapshot(bq_client, datasets) for how, datasets in built.items()},
    }


def test_the_sample_exercises_every_rule(builds, sample):
    tables = builds["tables"]["backfill"]
    assert len({r["event_date"] for r in sample["orders"]}) >= DAYS
    assert any(r["status"] == "cancelled" for r in sample["orders"])
    assert any(r["cancelled_value"] != "0" for r in tables["customer_daily_balance"])
    assert len({r["customer_tier"] for r in tables["customers_scd"]}) >= 3
    scd_keys = [r["customer_id"] for r in tables["customers_scd"]]
    assert any(scd_keys.count(k) >= 3 for k in scd_keys), "some customer changes several times"
    product_keys = [r["product_id"] for r in tables["products_scd"]]
    assert any(product_keys.count(k) >= 2 for k in product_keys), "some product changes"
    assert any(r["is_low_stock"] for r in tables["inventory_daily_balance"])
    assert any(not r["is_low_stock"] for r in tables["inventory_daily_balance"])
    assert any(
        r["closing_quantity"] < 0 or r["opening_quantity"] == 0 for r in tables["inventory_daily_balance"]
    )
    assert {r["month_start"] for r in tables["activity_monthly_reduced"]} == {"2026-10-01", "2026-11-01"}
    assert any(not r["is_weekly_active"] for r in tables["users_cumulated"])
    assert any(len(r["platform_dates"]) >= 2 for r in tables["users_cumulated"])


@pytest.mark.parametrize("model", model_names())
def test_backfill_equals_replay(builds, model):
    backfilled = builds["tables"]["backfill"][model]
    assert backfilled, f"{model} is empty"
    assert builds["tables"]["replay"][model] == backfilled


@pytest.mark.parametrize("model", model_names())
def test_backfill_in_two_ranges_equals_one_backfill(builds, model):
    """The second range starts from the state the first left: history before start_date is kept."""
    assert builds["tables"]["chunked"][model] == builds["tables"]["backfill"][model]


def test_every_daily_step_rerun_changes_nothing(builds):
    assert builds["rerun_changed"] == []


def test_backfill_returns_row_counts(builds):
    assert builds["counts"] == {m: len(rows) for m, rows in builds["tables"]["backfill"].items()}
    assert list(builds["counts"]) == model_names()


def _late_events(sample, day: date) -> dict[str, list[dict]]:
    """Events of ``day`` that arrive after the day was built: a new big order, a cancellation, etc."""
    first_day = (day - timedelta(days=1)).isoformat()
    statuses: dict[str, list[dict]] = {}
    for row in sample["orders"]:
        statuses.setdefault(row["order_id"], []).append(row)
    victim = next(
        events[0]
        for events in statuses.values()
        if events[0]["event_date"] == first_day and all(e["status"] != "cancelled" for e in events)
    )
    items = [(i["product_id"], i["product_name"], i["quantity"], i["price"]) for i in victim["items"]]
    address = victim["shipping_address"]
    return {
        "orders": [
            order("late-1", "c01", day, "23:58:00", "pending", [("p1", "Product 1 (late)", 1, "6000.00")],
                  "Tromso", "NO"),
            order(victim["order_id"], victim["customer_id"], day, "23:55:00", "cancelled", items,
                  address["city"], address["country"]),
        ],
        "inventory": [inventory("p2", "w1", day, "23:00:00", -4, "damage", event_id="late-i")],
        "user_activity": [
            activity("late-user", day, "12:00:00", "login", "tablet", event_id="late-a1"),
            activity("c01", day, "12:30:00", "view_product", "tablet", event_id="late-a2"),
        ],
    }  # fmt: skip


def _on_time(sample, last: date) -> dict[str, list[dict]]:
    return {t: [r for r in rows if r["event_date"] <= last.isoformat()] for t, rows in sample.items()}


def _cli(endpoint: str, datasets: dict[str, str], *args: str) -> int:
    connection = ["--bigquery-endpoint", endpoint, "--events-dataset", datasets["events"]]
    return runner.main([*args, *connection, "--analytics-dataset", datasets["analytics"]])


def test_late_data_is_fixed_by_rerunning_from_its_day(bq_client, bigquery_emulator, sample, capsys):
    first, last, late_day = START, START + timedelta(days=4), START + timedelta(days=1)
    endpoint = f"http://{bigquery_emulator.host}"
    on_time, late = _on_time(sample, last), _late_events(sample, late_day)

    # Days 1..5 run by the daily schedule (the CLI's `run`), then day 2's late events land.
    daily = new_datasets(bq_client, "late")
    insert(bq_client, daily, on_time)
    for day in runner.days(first, last):
        assert _cli(endpoint, daily, "run", "--date", day.isoformat(), "--quiet") == 0
    insert(bq_client, daily, late)
    stale = snapshot(bq_client, daily)

    # The same history built by a backfill, then the same late events.
    backfilled = new_datasets(bq_client, "late")
    insert(bq_client, backfilled, on_time)
    runner.backfill(bq_client, first, last, "backfill", backfilled)
    insert(bq_client, backfilled, late)

    # What the tables must become: a from-scratch build with every event.
    scratch = new_datasets(bq_client, "late")
    insert(bq_client, scratch, on_time)
    insert(bq_client, scratch, late)
    runner.backfill(bq_client, first, last, "backfill", scratch)
    expected = snapshot(bq_client, scratch)
    assert all(stale[m] != expected[m] for m in expected), "every model must be affected by the late events"
    capsys.readouterr()

    # The documented fix: backfill from the late day to the last built day, in either mode.
    start, end = late_day.isoformat(), last.isoformat()
    assert _cli(endpoint, daily, "backfill", "--start", start, "--end", end, "--mode", "replay") == 0
    out = capsys.readouterr()
    steps = 4 * len(expected)
    assert f"] {steps}/{steps} " in out.err  # the tqdm bar reached every step
    assert f"{daily['analytics']}.customers_scd\t{len(expected['customers_scd'])}" in out.out.splitlines()
    assert _cli(endpoint, backfilled, "backfill", "--start", start, "--end", end, "--mode", "backfill") == 0

    assert snapshot(bq_client, daily) == expected
    assert snapshot(bq_client, backfilled) == expected


def test_the_scheduled_query_script_builds_what_the_runner_builds(bq_client, sample):
    """The generated script, run once per scheduled day (each run builds the day before its run
    date), gives the tables the runner gives over the same days."""
    first, last = START + timedelta(days=8), START + timedelta(days=12)  # across the month end
    scheduled, built = new_datasets(bq_client, "sq"), new_datasets(bq_client, "sq")
    insert(bq_client, scheduled, sample)
    insert(bq_client, built, sample)
    runner.backfill(bq_client, START, first - timedelta(days=1), "backfill", scheduled)
    runner.backfill(bq_client, START, last, "backfill", built)
    for day in runner.days(first, last):
        # terraform/generated/daily_models.sql as templatefile() renders it, @run_date bound.
        bq_client.query(render.scheduled_script(day + timedelta(days=1), scheduled)).result()
    tables = snapshot(bq_client, scheduled)
    assert all(tables.values())
    assert tables == snapshot(bq_client, built)
