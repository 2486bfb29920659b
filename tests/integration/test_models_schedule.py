"""The scheduled query heals late data by itself (docs/models.md, "Late data"), on the real bqemulator.

Every run here is the scheduled query's own script (``terraform/generated/daily_models.sql`` as
Terraform deploys it, ``@run_date`` bound: :func:`warehouse.runner.run_scheduled`). A simulated
schedule loads each day's arrivals — most events on their own day, some 1 to 4 days late, dead
letters of old messages — then runs the script for that day; after every run every model table
must equal a from-scratch build of the rows loaded so far. Then: a late address change and a late
price change take their place in SCD2 history; rows beyond the horizon and in expired partitions
are counted, not absorbed; a failed run is caught up by the next; a run for a past date rebuilds
up to what is built.
"""

from __future__ import annotations

import hashlib
import time
from datetime import date, timedelta

import pytest

from pipeline.commands import UsageError
from tests.models_scenario import (
    Row,
    dead_letter,
    generate_sample,
    insert,
    insert_dead_letters,
    new_datasets,
    order,
    rows,
    snapshot,
    table_rows,
)
from warehouse import render, runner
from warehouse.graph import model_names

START = date(2026, 10, 20)
DAYS = 12
HORIZON = 7


def _late_by(row: Row) -> int:
    """Days after its own day that a row arrives: 0 for most, 1-4 for about one in nine."""
    digest = int(hashlib.sha256(row["event_id"].encode()).hexdigest(), 16)
    return 0 if digest % 9 else 1 + digest // 9 % 4


def _arrival(row: Row, late: int) -> Row:
    """The row as loaded ``late`` days after its day: processed then, not on its own day."""
    processed = date.fromisoformat(row["event_date"]) + timedelta(days=late)
    return {**row, "processed_timestamp": f"{processed.isoformat()}T23:59:00Z"}


def _arrivals(sample: dict[str, list[Row]]) -> dict[date, dict[str, list[Row]]]:
    """Each row of the sample under the day it is loaded (its day plus its lateness)."""
    by_day: dict[date, dict[str, list[Row]]] = {}
    for table, table_rows_ in sample.items():
        for row in table_rows_:
            late = _late_by(row)
            loaded = date.fromisoformat(row["event_date"]) + timedelta(days=late)
            by_day.setdefault(loaded, {}).setdefault(table, []).append(_arrival(row, late))
    return by_day


def _dead_letters(day: date) -> list[Row]:
    """Each day's rejections: one of the day's own messages, and one of a message 3 days older
    (an archive replay rejecting it again), dated by its message time."""
    older = day - timedelta(days=3)
    return [
        dead_letter("orders", day, "10:00:00", message_id=f"dl-{day}"),
        dead_letter(
            "inventory", day, "11:00:00", message_id=f"dl-old-{older}", message_time=f"{older}T08:00:00Z"
        ),
    ]


def _scratch(client, loaded: dict[str, list[Row]], dead: list[Row], through: date) -> dict[str, list[Row]]:
    """The model tables a from-scratch backfill builds from these rows, from the first day with
    any (a dead letter of a message 3 days before START) to ``through``."""
    datasets = new_datasets(client, "scratch")
    insert(client, datasets, loaded)
    insert_dead_letters(client, datasets, dead)
    runner.backfill(client, START - timedelta(days=3), through, "backfill", datasets)
    return snapshot(client, datasets)


@pytest.fixture(scope="module")
def schedule(bq_client):
    """Runs the simulated schedule once; returns what each run logged and how the tables compared."""
    sample = generate_sample(START, DAYS)
    arrivals = _arrivals(sample)
    datasets = new_datasets(bq_client, "sched")
    loaded: dict[str, list[Row]] = {}
    dead: list[Row] = []
    runs = []
    for day in runner.days(START, START + timedelta(days=DAYS - 1)):
        today = arrivals.get(day, {})
        insert(bq_client, datasets, today)
        insert_dead_letters(bq_client, datasets, _dead_letters(day))
        for table, table_rows_ in today.items():
            loaded.setdefault(table, []).extend(table_rows_)
        dead += _dead_letters(day)
        late = sum(1 for rs in today.values() for r in rs if r["event_date"] < day.isoformat())
        started = time.monotonic()
        build = runner.run_scheduled(bq_client, day + timedelta(days=1), datasets, horizon_days=HORIZON)
        seconds = time.monotonic() - started
        built = snapshot(bq_client, datasets)
        expected = _scratch(bq_client, loaded, dead, day)
        unequal = sorted(m for m in model_names() if built[m] != expected[m])
        runs.append({"day": day, "late": late, "build": build, "seconds": seconds, "unequal": unequal})
    for run in runs:  # the figures the closing note quotes (pytest -s shows them)
        build = run["build"]
        print(
            f"{run['day']}: {run['late']} late rows loaded, {build['mode']} {build['rebuilt_from']}.."
            f"{build['built_through']}, late_rows {build['late_rows']}, {run['seconds']:.1f} s"
        )
    return {"runs": runs, "datasets": datasets}


def test_the_sample_has_late_rows_of_one_to_four_days():
    arrivals = _arrivals(generate_sample(START, DAYS))
    lateness = {
        (loaded - date.fromisoformat(r["event_date"])).days
        for loaded, tables in arrivals.items()
        for rs in tables.values()
        for r in rs
    }
    assert lateness == {0, 1, 2, 3, 4}


def test_after_every_scheduled_run_every_table_equals_a_from_scratch_build(schedule):
    assert [(run["day"], run["unequal"]) for run in schedule["runs"]] == [
        (run["day"], []) for run in schedule["runs"]
    ]


def test_a_run_rebuilds_from_the_earliest_day_its_late_rows_touch(schedule):
    runs = schedule["runs"]
    assert sum(run["late"] for run in runs) > 0
    for run in runs[1:]:
        build = run["build"]
        assert build["built_through"] == run["day"]
        # Each day has a dead letter of a message 3 days older: its day is rebuilt.
        earliest = run["day"] - timedelta(days=3)
        assert build["mode"] == "range" and build["rebuilt_from"] <= max(earliest, START), run
        assert build["late_rows"] >= 1 + run["late"]
        assert build["rows_beyond_horizon"] == build["days_beyond_horizon"] == 0


def test_a_run_with_nothing_late_runs_only_the_daily_steps(bq_client):
    sample = generate_sample(START, 4)
    datasets = new_datasets(bq_client, "ontime")
    builds = []
    for day in runner.days(START, START + timedelta(days=3)):
        insert(
            bq_client,
            datasets,
            {t: [r for r in rs if r["event_date"] == day.isoformat()] for t, rs in sample.items()},
        )
        builds.append(runner.run_scheduled(bq_client, day + timedelta(days=1), datasets))
    assert [(b["mode"], b["rebuilt_from"], b["built_through"], b["late_rows"]) for b in builds] == [
        ("daily", day, day, 0) for day in runner.days(START, START + timedelta(days=3))
    ]
    rerun = runner.run_scheduled(bq_client, START + timedelta(days=4), datasets)
    assert (rerun["mode"], rerun["rebuilt_from"]) == ("daily", START + timedelta(days=3))


# --------------------------------------------------------------------------------------
# Out-of-order history in SCD2
# --------------------------------------------------------------------------------------

D = [START + timedelta(days=i) for i in range(6)]
MUG = [("p1", "Mug", 1, "50.00")]


def test_a_late_address_and_price_change_take_their_place_in_scd2_history(bq_client):
    datasets = new_datasets(bq_client, "scd")
    insert(
        bq_client, datasets, {"orders": [order("o1", "c1", D[0], "09:00:00", "pending", MUG, "Oslo", "NO")]}
    )
    runner.run_scheduled(bq_client, D[1], datasets)
    insert(bq_client, datasets, {"orders": [
        order("o2", "c1", D[3], "09:00:00", "pending", [("p1", "Mug", 1, "60.00")], "Bergen", "NO"),
    ]})  # fmt: skip
    for day in D[1:4]:
        runner.run_scheduled(bq_client, day + timedelta(days=1), datasets)
    # D4's run: c1 lives in Bergen and p1 costs 60.00 since D3. Then an order of D1 arrives, late:
    # c1 was in Paris and p1 cost 55.00 on D1 — older than the current versions.
    insert(bq_client, datasets, {"orders": [
        order("o3", "c1", D[1], "12:00:00", "pending", [("p1", "Mug", 1, "55.00")], "Paris", "FR"),
    ]})  # fmt: skip
    build = runner.run_scheduled(bq_client, D[5], datasets)
    assert (build["mode"], build["rebuilt_from"], build["built_through"]) == ("range", D[1], D[4])
    customers = table_rows(bq_client, datasets, "customers_scd", "customer_id, valid_from")
    assert [{k: r[k] for k in ("city", "valid_from", "valid_to", "is_current")} for r in customers] == rows(
        "city, valid_from, valid_to, is_current",
        ("Oslo", D[0].isoformat(), D[1].isoformat(), False),
        ("Paris", D[1].isoformat(), D[3].isoformat(), False),
        ("Bergen", D[3].isoformat(), None, True),
    )
    products = table_rows(bq_client, datasets, "products_scd", "product_id, valid_from")
    assert [
        {k: r[k] for k in ("unit_price", "valid_from", "valid_to", "is_current")} for r in products
    ] == rows(
        "unit_price, valid_from, valid_to, is_current",
        ("50", D[0].isoformat(), D[1].isoformat(), False),
        ("55", D[1].isoformat(), D[3].isoformat(), False),
        ("60", D[3].isoformat(), None, True),
    )


# --------------------------------------------------------------------------------------
# The horizon, expired partitions, failed runs, past dates
# --------------------------------------------------------------------------------------


def _built_on_time(bq_client, prefix: str, days: int) -> tuple[dict[str, str], dict[str, list[Row]]]:
    sample = generate_sample(START, days)
    datasets = new_datasets(bq_client, prefix)
    insert(bq_client, datasets, sample)
    for day in runner.days(START, START + timedelta(days=days - 1)):
        runner.run_scheduled(bq_client, day + timedelta(days=1), datasets, horizon_days=3)
    return datasets, sample


def test_rows_beyond_the_horizon_and_in_expired_partitions_are_counted_not_absorbed(bq_client):
    datasets, sample = _built_on_time(bq_client, "horizon", 8)
    before = snapshot(bq_client, datasets)
    last = START + timedelta(days=7)
    beyond = [
        order("late-far", "c01", START + timedelta(days=2), "10:00:00", "pending", MUG),
        order("late-far-2", "c02", START + timedelta(days=2), "11:00:00", "pending", MUG),
    ]
    expired = [order("expired", "c03", last - timedelta(days=10), "10:00:00", "pending", MUG)]
    insert(bq_client, datasets, {"orders": beyond + expired})
    build = runner.run_scheduled(
        bq_client, last + timedelta(days=1), datasets, horizon_days=3, expiration_days=9
    )
    assert (build["mode"], build["rebuilt_from"], build["built_through"]) == ("daily", last, last)
    assert (
        build["rows_beyond_horizon"],
        build["days_beyond_horizon"],
        build["rows_in_expired_partitions"],
    ) == (
        2,
        1,
        1,
    )
    assert snapshot(bq_client, datasets) == before, "rows beyond the horizon are not absorbed"
    assert "beyond the late-data horizon: 2 rows, 1 days not rebuilt" in runner.describe_build(build)
    # The next run has nothing new beyond the horizon: the counts are of what arrived since.
    again = runner.run_scheduled(
        bq_client, last + timedelta(days=1), datasets, horizon_days=3, expiration_days=9
    )
    assert (again["rows_beyond_horizon"], again["rows_in_expired_partitions"]) == (0, 0)


def test_the_counts_stay_small_whatever_dates_rejected_messages_carry(bq_client):
    """Dead letters of messages from 300 different old days (a replay of years of history, or a
    producer's clock) are counted beyond the horizon, in one shared count per source."""
    datasets, _ = _built_on_time(bq_client, "bounded", 2)
    last = START + timedelta(days=1)
    old = [
        dead_letter(
            "orders",
            last,
            "12:00:00",
            message_id=f"old-{n}",
            message_time=f"{last - timedelta(days=100 + n)}T00:00:00Z",
        )
        for n in range(300)
    ]
    insert_dead_letters(bq_client, datasets, old)
    build = runner.run_scheduled(bq_client, last + timedelta(days=1), datasets, horizon_days=3)
    assert (build["mode"], build["rows_beyond_horizon"], build["days_beyond_horizon"]) == ("daily", 300, 1)
    log = f"{datasets['analytics']}.model_builds"
    sql = f"SELECT partition_rows FROM `{log}` WHERE build_id = '{build['build_id']}'"
    (counts,) = [row["partition_rows"] for row in bq_client.query(sql).result()]
    expiration = render.raw_partition_expiration_days()
    assert len(counts) <= 4 * (expiration + 2)
    assert {"source": "dead_letter", "day": last - timedelta(days=expiration + 1), "row_count": 300} in counts
    # The next day's run shares them out from a day later: no change, nothing counted again.
    following = runner.run_scheduled(bq_client, last + timedelta(days=2), datasets, horizon_days=3)
    assert (following["rows_beyond_horizon"], following["days_beyond_horizon"]) == (0, 0)


def test_a_failed_run_is_caught_up_by_the_next(bq_client):
    sample = generate_sample(START, 6)
    datasets = new_datasets(bq_client, "failed")
    insert(
        bq_client,
        datasets,
        {t: [r for r in rs if r["event_date"] <= D[3].isoformat()] for t, rs in sample.items()},
    )
    for day in D[:3]:
        runner.run_scheduled(bq_client, day + timedelta(days=1), datasets)
    # D3's run fails half-way: the models before customers_scd ran, customers_scd did not, and
    # no build row was written.
    script = render.scheduled_script(D[4], datasets)
    block = "-- step 13 of 13: customers_scd (sql/models/customers_scd.sql)"
    assert script.count(block) == 1
    broken = script.replace(block, f"SELECT * FROM `{datasets['analytics']}.no_such_table`;\n  {block}")
    with pytest.raises(Exception, match="no_such_table"):
        bq_client.query(broken).result()
    assert runner.last_build(bq_client, datasets)["built_through"] == D[2]
    insert(
        bq_client,
        datasets,
        {t: [r for r in rs if r["event_date"] == D[4].isoformat()] for t, rs in sample.items()},
    )
    build = runner.run_scheduled(bq_client, D[5], datasets)
    assert (build["mode"], build["rebuilt_from"], build["built_through"]) == ("range", D[3], D[4])
    scratch = new_datasets(bq_client, "failed")
    insert(
        bq_client,
        scratch,
        {t: [r for r in rs if r["event_date"] <= D[4].isoformat()] for t, rs in sample.items()},
    )
    runner.backfill(bq_client, START, D[4], "backfill", scratch)
    assert snapshot(bq_client, datasets) == snapshot(bq_client, scratch)


def test_a_run_for_a_past_date_rebuilds_up_to_what_is_built(bq_client):
    datasets, sample = _built_on_time(bq_client, "past", 5)
    before = snapshot(bq_client, datasets)
    build = runner.run_scheduled(bq_client, D[2], datasets, horizon_days=3)
    assert (build["mode"], build["run_date"], build["rebuilt_from"], build["built_through"]) == (
        "range",
        D[1],
        D[1],
        D[4],
    )
    assert snapshot(bq_client, datasets) == before


def test_the_cli_runs_the_scheduled_script_and_says_what_it_built(bq_client, bigquery_emulator, capsys):
    datasets = new_datasets(bq_client, "cli")
    insert(bq_client, datasets, generate_sample(START, 2))
    connection = ["--bigquery-endpoint", f"http://{bigquery_emulator.host}"]
    names = ["--events-dataset", datasets["events"], "--analytics-dataset", datasets["analytics"]]
    day = (START + timedelta(days=2)).isoformat()
    assert runner.main(["scheduled", "--run-date", day, *connection, *names]) == 0
    out = capsys.readouterr()
    assert (
        f"run for {START + timedelta(days=1)}: range build of {START} .. {START + timedelta(days=1)}"
        in out.err
    )
    assert f"{datasets['analytics']}.customers_scd\t" in out.out
    with pytest.raises(UsageError, match=r"shorter than the raw tables' partition expiration \(90 days\)"):
        runner.main(["scheduled", "--run-date", day, "--late-data-horizon-days", "90", *connection])
