"""Hand-written scenarios for the analytics layer, with the exact expected rows typed out.

daily_active_users, retention_cohorts, funnel_daily, churn_classification and fact_events_daily
(docs/models.md), each built three ways on the real bqemulator that must give the same rows:
``replay`` (each model's file day by day; in the short scenario each step runs twice to prove a
rerun changes nothing), ``backfill`` (each model's file once over the range) and ``chunked``
(two backfills, the second starting from the state the first left). None of the five keeps
history of its own: each day depends only on that day's raw partitions or on the model state of
that day. Backfill = replay on the generated multi-week sample is checked
for every model by tests/integration/test_models_consistency.py.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.models_scenario import (
    BUILDS,
    Row,
    activity,
    build_three_ways,
    dead_letter,
    dead_letter_copy,
    inventory,
    order,
    rows,
    rows_at,
    table_rows,
)
from warehouse import graph

ANALYTICS = [
    "daily_active_users",
    "retention_cohorts",
    "funnel_daily",
    "churn_classification",
    "fact_events_daily",
    "weekly_error_rate",
]
# The analytics models and the models they read.
SHORT_MODELS = ["orders_first_seen", "users_cumulated", *ANALYTICS]
LONG_MODELS = ["users_cumulated", "daily_active_users", "retention_cohorts", "churn_classification"]

# Four days across a month end (2026-10-30 .. 2026-11-02).
D1, D2, D3, D4 = (date(2026, 10, 30) + timedelta(days=i) for i in range(4))
d1, d2, d3, d4 = (d.isoformat() for d in (D1, D2, D3, D4))

ITEMS = [("p1", "Mug", 1, "50.00")]


def session(user_id: str, day: date, platform: str, session_id: str, *steps: tuple[str, str]) -> list[Row]:
    """A session's activity rows, one a step (time, activity_type)."""
    return [activity(user_id, day, time, kind, platform, session_id) for time, kind in steps]


SHORT_ACTIVITY = [
    # D1. c1: the whole funnel in session s1 (09:00 .. 09:30, 1800 s), a second session on mobile.
    *session("c1", D1, "web", "s1", ("09:00:00", "login"), ("09:05:00", "view_product"),
             ("09:20:00", "add_to_cart"), ("09:30:00", "logout")),
    *session("c1", D1, "mobile", "s2", ("20:00:00", "view_product")),  # one event: 0 s
    # c2 views twice (600 s) but never adds to cart on D1.
    *session("c2", D1, "web", "s3", ("10:00:00", "view_product"), ("10:10:00", "view_product")),
    # c3 adds to cart and orders without viewing: outside the strict funnel.
    *session("c3", D1, "tablet", "s4", ("11:00:00", "add_to_cart")),
    *session("u9", D1, "web", "s5", ("12:00:00", "login"), ("12:00:30", "logout")),  # 30 s
    # D2. c1 views and adds to cart (60 s) but only has a status update of o1: no new order.
    *session("c1", D2, "web", "s6", ("08:00:00", "view_product"), ("08:01:00", "add_to_cart")),
    # c2 views, adds to cart (3599 s) and places o3.
    *session("c2", D2, "mobile", "s7", ("23:00:00", "view_product"), ("23:59:59", "add_to_cart")),
    # u8's first day: the D2 cohort.
    *session("u8", D2, "web", "s9", ("15:00:00", "login"), ("15:00:01", "logout")),  # 1 s
    # D3: no activity at all.
    # D4. c3 views, does not add to cart, orders: not counted as ordered.
    *session("c3", D4, "tablet", "s8", ("14:00:00", "view_product")),
]  # fmt: skip

SHORT_ORDERS = [
    order("o1", "c1", D1, "09:25:00", "pending", ITEMS),
    order("o2", "c3", D1, "11:05:00", "pending", ITEMS),
    order("o1", "c1", D2, "08:02:00", "processing", ITEMS),
    order("o3", "c2", D2, "23:59:00", "pending", ITEMS),
    order("o4", "c3", D4, "14:05:00", "pending", ITEMS),
]

SHORT_INVENTORY = [
    inventory("p1", "w1", D1, "08:00:00", 30, "restock"),
    inventory("p1", "w1", D1, "09:25:00", -1, "sale"),
    inventory("p1", "w1", D1, "11:05:00", -1, "sale"),
]

# A replay of history rejects an orders message of D2 three weeks after its time (TODAY), and
# rejects it again two days later: it counts once, in D2's day and week, not on the days it failed.
TODAY = D2 + timedelta(days=21)
REPLAYED = dead_letter("orders", TODAY, "09:00:00", "amount_mismatch", message_time=f"{d2}T18:30:00Z")
SHORT_DEAD_LETTERS = [
    dead_letter("orders", D1, "23:59:59", "missing_field"),  # the last second of D1
    dead_letter("unknown", D1, "07:00:00", "unknown_event_type"),
    dead_letter("user_activity", D2, "00:00:00", "invalid_json"),  # the first instant of D2
    # a day with no raw rows at all; written before message_time existed (NULL): dated by failed_at
    dead_letter("inventory", D3, "12:00:00", "invalid_json", message_time=None),
    REPLAYED,
    dead_letter_copy(REPLAYED, timedelta(days=2)),
]

# 35 days (2026-09-01 .. 2026-10-05) of activity only: churn thresholds and day 30 retention.
L0, LEND = date(2026, 9, 1), date(2026, 10, 5)
LONG_ACTIVITY = [
    activity("u7", "2026-09-01", "10:00:00", "login", "web"),
    activity("u7", "2026-09-20", "10:00:00", "login", "mobile"),
    activity("u8", "2026-09-01", "11:00:00", "login", "web"),
    activity("u10", "2026-09-03", "10:00:00", "login", "web"),
    activity("u10", "2026-10-04", "10:00:00", "login", "web"),  # day 31 of its cohort: no row
    activity("u9", "2026-09-05", "10:00:00", "login", "tablet"),
    activity("u9", "2026-10-05", "10:00:00", "login", "tablet"),  # day 30 of its cohort
]


@pytest.fixture(scope="module")
def short(bq_client):
    raw = {"orders": SHORT_ORDERS, "inventory": SHORT_INVENTORY, "user_activity": SHORT_ACTIVITY}
    return build_three_ways(
        bq_client, raw, D1, D4, SHORT_MODELS, dead_letters=SHORT_DEAD_LETTERS, prefix="an"
    )


@pytest.fixture(scope="module")
def long(bq_client):
    # 35 days: replayed once (the short scenario and the generated sample rerun every step).
    raw = {"user_activity": LONG_ACTIVITY}
    return build_three_ways(bq_client, raw, L0, LEND, LONG_MODELS, rerun_each_step=False, prefix="an")


def test_the_analytics_models_run_after_what_they_read():
    names = graph.model_names()
    assert set(ANALYTICS) <= set(names)
    for model in ("retention_cohorts", "churn_classification"):
        assert names.index("users_cumulated") < names.index(model)
    assert names.index("orders_first_seen") < names.index("funnel_daily")


# D1..D3 (Fri..Sun) are the ISO week of Monday 2026-10-26; D4 (Mon) starts the next.
WEEK, NEXT_WEEK = "2026-10-26", d4

CHURN_CLASSIFICATION = "user_id, snapshot_date, last_active_date, days_inactive, churn_status"

# model -> (the columns it is ordered by, the exact rows the short scenario builds)
SHORT_EXPECTED = {
    "daily_active_users": (
        "date, platform",
        rows(
            "date, platform, dau",
            (d1, "mobile", 1),  # c1
            (d1, "tablet", 1),  # c3
            (d1, "web", 3),  # c1, c2, u9 (c1 counts on web and on mobile)
            (d2, "mobile", 1),  # c2
            (d2, "web", 2),  # c1, u8
            (d4, "tablet", 1),  # c3; D3 had no activity: no rows
        ),
    ),
    "retention_cohorts": (
        "cohort_date, day_n",
        rows(
            "cohort_date, day_n, users, retained, rate",
            (d1, 0, 4, 4, 1.0),  # c1, c2, c3, u9
            (d1, 1, 4, 2, 0.5),  # c1, c2 on D2
            (d1, 2, 4, 0, 0.0),  # D3: nobody
            (d1, 3, 4, 1, 0.25),  # c3 on D4
            (d2, 0, 1, 1, 1.0),  # u8
            (d2, 1, 1, 0, 0.0),
            (d2, 2, 1, 0, 0.0),
        ),
    ),
    "funnel_daily": (
        "date",
        rows(
            "date, viewed_users, carted_users, ordered_users, view_to_cart_rate, cart_to_order_rate",
            (d1, 2, 1, 1, 0.5, 1.0),  # viewed c1, c2; carted c1 (c3 never viewed); c1 placed o1
            (d2, 2, 2, 1, 1.0, 0.5),  # c1's o1 update is not a new order; c2 placed o3
            (d3, 0, 0, 0, None, None),  # a day without events still has its row
            (d4, 1, 0, 0, 0.0, None),  # c3 viewed and ordered o4 but never added to cart
        ),
    ),
    "churn_classification": (
        "user_id, snapshot_date",
        rows(
            CHURN_CLASSIFICATION,
            ("c1", d1, d1, 0, "active"),
            ("c1", d2, d2, 0, "active"),
            ("c1", d3, d2, 1, "active"),
            ("c1", d4, d2, 2, "active"),
            ("c2", d1, d1, 0, "active"),
            ("c2", d2, d2, 0, "active"),
            ("c2", d3, d2, 1, "active"),
            ("c2", d4, d2, 2, "active"),
            ("c3", d1, d1, 0, "active"),
            ("c3", d2, d1, 1, "active"),
            ("c3", d3, d1, 2, "active"),
            ("c3", d4, d4, 0, "active"),
            ("u8", d2, d2, 0, "active"),
            ("u8", d3, d2, 1, "active"),
            ("u8", d4, d2, 2, "active"),
            ("u9", d1, d1, 0, "active"),
            ("u9", d2, d1, 1, "active"),
            ("u9", d3, d1, 2, "active"),
            ("u9", d4, d1, 3, "active"),
        ),
    ),
    "fact_events_daily": (
        "date, stream, event_type",
        rows(
            "date, stream, event_type, total_events, error_events, unique_sessions, avg_session_duration_s",
            (d1, "inventory", "(all)", 3, 0, None, None),
            (d1, "inventory", "restock", 1, None, None, None),
            (d1, "inventory", "sale", 2, None, None, None),
            (d1, "orders", "(all)", 2, 1, None, None),  # the dead letter at 23:59:59 is D1's
            (d1, "orders", "pending", 2, None, None, None),
            (d1, "unknown", "(all)", 0, 1, None, None),  # errors only: no raw table
            # sessions s1 1800 s, s2 0 s, s3 600 s, s4 0 s, s5 30 s
            (d1, "user_activity", "(all)", 10, 0, 5, 486.0),  # (1800 + 0 + 600 + 0 + 30) / 5
            (d1, "user_activity", "add_to_cart", 2, None, 2, 900.0),  # s1, s4
            (d1, "user_activity", "login", 2, None, 2, 915.0),  # s1, s5
            (d1, "user_activity", "logout", 2, None, 2, 915.0),  # s1, s5
            (d1, "user_activity", "view_product", 4, None, 3, 800.0),  # s1, s2, s3 (twice)
            (d2, "orders", "(all)", 2, 1, None, None),  # REPLAYED, rejected three weeks later, twice
            (d2, "orders", "pending", 1, None, None, None),
            (d2, "orders", "processing", 1, None, None, None),
            # sessions s6 60 s, s7 3599 s, s9 1 s; the dead letter at 00:00:00 is D2's
            (d2, "user_activity", "(all)", 6, 1, 3, 1220.0),  # (60 + 3599 + 1) / 3
            (d2, "user_activity", "add_to_cart", 2, None, 2, 1829.5),  # s6, s7
            (d2, "user_activity", "login", 1, None, 1, 1.0),  # s9
            (d2, "user_activity", "logout", 1, None, 1, 1.0),  # s9
            (d2, "user_activity", "view_product", 2, None, 2, 1829.5),  # s6, s7
            (d3, "inventory", "(all)", 0, 1, None, None),  # D3: only a rejected inventory message
            (d4, "orders", "(all)", 1, 0, None, None),
            (d4, "orders", "pending", 1, None, None, None),
            (d4, "user_activity", "(all)", 1, 0, 1, 0.0),
            (d4, "user_activity", "view_product", 1, None, 1, 0.0),
        ),
    ),
    "weekly_error_rate": (
        "week, stream",
        rows(
            "week, stream, messages, dead_letters, error_rate",
            (WEEK, "inventory", 4, 1, 0.25),  # 3 movements on D1, one rejected message on D3
            (WEEK, "orders", 6, 2, 2 / 6),  # 2 + 2 events, the D1 dead letter, REPLAYED (D2) once
            (WEEK, "unknown", 1, 1, 1.0),  # a rejected message whose stream cannot be told
            (WEEK, "user_activity", 17, 1, 1 / 17),  # 10 + 6 events, the D2 dead letter
            (NEXT_WEEK, "orders", 1, 0, 0.0),
            (NEXT_WEEK, "user_activity", 1, 0, 0.0),
        ),
    ),
}


@pytest.mark.parametrize("how", BUILDS)
@pytest.mark.parametrize("model", SHORT_EXPECTED)
def test_the_short_scenario_builds_the_exact_rows(bq_client, short, model, how):
    order_by, expected = SHORT_EXPECTED[model]
    assert table_rows(bq_client, short[how], model, order_by) == expected


def _cohort(cohort_date: str, users: int, retained: dict[int, int], last_day_n: int = 30) -> list[tuple]:
    """Rows (cohort_date, day_n, users, retained, rate) for day_n 0..last_day_n; retained 0 unless given."""
    return [
        (cohort_date, n, users, retained.get(n, 0), retained.get(n, 0) / users) for n in range(last_day_n + 1)
    ]


@pytest.mark.parametrize("how", BUILDS)
def test_retention_cohorts_cover_day_0_to_30(bq_client, long, how):
    expected = rows(
        "cohort_date, day_n, users, retained, rate",
        *_cohort("2026-09-01", 2, {0: 2, 19: 1}),  # u7, u8; u7 back on 09-20 (day 19)
        *_cohort("2026-09-03", 1, {0: 1}),  # u10: its 10-04 activity is day 31, past the triangle
        *_cohort("2026-09-05", 1, {0: 1, 30: 1}),  # u9: back on 10-05, day 30
    )
    built = table_rows(bq_client, long[how], "retention_cohorts")
    assert sorted(built, key=lambda r: (r["cohort_date"], r["day_n"])) == expected


@pytest.mark.parametrize("how", BUILDS)
def test_churn_classification_thresholds(bq_client, long, how):
    snapshots = table_rows(bq_client, long[how], "churn_classification", "user_id, snapshot_date")
    expected = rows(
        CHURN_CLASSIFICATION,
        ("u7", "2026-09-19", "2026-09-01", 18, "churned"),
        ("u7", "2026-09-20", "2026-09-20", 0, "active"),  # back: active again
        ("u8", "2026-09-07", "2026-09-01", 6, "active"),
        ("u8", "2026-09-08", "2026-09-01", 7, "soft_churn"),
        ("u8", "2026-09-14", "2026-09-01", 13, "soft_churn"),
        ("u8", "2026-09-15", "2026-09-01", 14, "churned"),
        ("u8", "2026-09-30", "2026-09-01", 29, "churned"),
        ("u8", "2026-10-01", "2026-09-01", 30, "hard_churn"),
        ("u8", "2026-10-05", "2026-09-01", 34, "hard_churn"),
        ("u9", "2026-10-04", "2026-09-05", 29, "churned"),
        ("u9", "2026-10-05", "2026-10-05", 0, "active"),
    )
    assert rows_at(snapshots, expected, "user_id, snapshot_date") == expected
    # One row per user per day from the first activity (users_cumulated's grain).
    assert {u: sum(r["user_id"] == u for r in snapshots) for u in ("u7", "u8", "u9", "u10")} == {
        "u7": 35,
        "u8": 35,
        "u9": 31,
        "u10": 33,
    }


@pytest.mark.parametrize("how", BUILDS)
def test_daily_active_users_long(bq_client, long, how):
    assert table_rows(bq_client, long[how], "daily_active_users", "date, platform") == rows(
        "date, platform, dau",
        ("2026-09-01", "web", 2),
        ("2026-09-03", "web", 1),
        ("2026-09-05", "tablet", 1),
        ("2026-09-20", "mobile", 1),
        ("2026-10-04", "web", 1),
        ("2026-10-05", "tablet", 1),
    )
