"""Hand-written scenarios for every model, with the exact expected rows typed out.

Each scenario is built three ways on the real bqemulator and must give the same typed rows:
``replay`` (each model's file over each day in turn; in the short scenario each step runs twice
to prove a rerun changes nothing), ``backfill`` (each model's file once over the whole range) and
``chunked`` (two backfills, the second starting from the state the first left). The tier, activity,
low-stock and weekly/monthly boundaries of sql/rules.sql are each hit exactly.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.models_scenario import (
    BUILDS,
    activity,
    build_three_ways,
    inventory,
    month,
    order,
    rows,
    rows_at,
    table_rows,
)

D1, D2, D3, D4, D5, D6 = (date(2026, 10, 29) + timedelta(days=i) for i in range(6))
d1, d2, d3, d4, d5, d6 = (d.isoformat() for d in (D1, D2, D3, D4, D5, D6))

MUG = ("p1", "Mug", 2, "50.00")
DESK = ("p3", "Desk", 1, "900.00")
O2_ITEMS = [("p2", "Lamp", 1, "150.00"), ("p1", "Mug", 1, "50.00")]

# Six days across a month end (2026-10-29 .. 2026-11-03).
SHORT_ORDERS = [
    order("o1", "c1", D1, "09:00:00", "pending", [MUG], "Oslo", "NO"),
    order("o2", "c2", D1, "10:00:00", "pending", O2_ITEMS, "Berlin", "DE"),
    order("o1", "c1", D2, "08:00:00", "processing", [MUG], "Oslo", "NO"),
    # c1's latest event on D2 ships to Bergen and takes c1 to 1000 (gold).
    order("o3", "c1", D2, "12:00:00", "pending", [DESK], "Bergen", "NO"),
    order("o2", "c2", D2, "15:00:00", "cancelled", O2_ITEMS, "Berlin", "DE"),
    # D3: no orders at all.
    order("o1", "c1", D4, "09:00:00", "shipped", [MUG], "Oslo", "NO"),
    # c3's first order is cancelled the same day; its p1 line renames and reprices p1.
    order("o4", "c3", D4, "11:00:00", "pending", [("p1", "Mug XL", 1, "55.00")], "Paris", "FR"),
    order("o4", "c3", D4, "11:30:00", "cancelled", [("p1", "Mug XL", 1, "55.00")], "Paris", "FR"),
    order("o3", "c1", D4, "14:00:00", "processing", [DESK], "Bergen", "NO"),
    order("o5", "c2", D5, "10:00:00", "pending", [("p2", "Lamp", 2, "150.00")], "Berlin", "DE"),
    # c1's only event on D5 is o1 (Oslo, p1 back to "Mug" 50.00).
    order("o1", "c1", D5, "16:00:00", "delivered", [MUG], "Oslo", "NO"),
    # A later event of o5 with a new total: the order still counts at its first event's 300.00.
    order("o5", "c2", D6, "09:00:00", "processing", [("p2", "Lamp", 2, "140.00")], "Berlin", "DE"),
    order("o3", "c1", D6, "10:00:00", "delivered", [DESK], "Bergen", "NO"),
    # The latest D6 event for p2 and p3: p2 stays 150.00, p3 becomes 950.00; c1 reaches platinum.
    order("o6", "c1", D6, "12:00:00", "pending", [("p3", "Desk", 5, "950.00"), ("p2", "Lamp", 1, "150.00")],
          "Bergen", "NO"),
]  # fmt: skip

SHORT_INVENTORY = [
    inventory("p1", "w1", D1, "08:00:00", 30, "restock"),
    inventory("p1", "w1", D1, "12:00:00", -5, "sale"),
    inventory("p2", "w1", D1, "09:00:00", 12, "restock"),
    inventory("p1", "w1", D2, "10:00:00", -10, "sale"),
    inventory("p1", "w1", D2, "15:00:00", -8, "sale"),
    inventory("p1", "w2", D2, "09:00:00", 5, "restock"),
    inventory("p1", "w1", D3, "10:00:00", 2, "return"),
    inventory("p1", "w1", D3, "11:00:00", -1, "damage"),
    inventory("p1", "w1", D4, "08:00:00", 40, "restock"),
    inventory("p1", "w2", D4, "13:00:00", -5, "sale"),
    inventory("p2", "w1", D4, "16:00:00", -3, "damage"),
    # D5: no movements at all.
    inventory("p2", "w1", D6, "09:00:00", 1, "restock"),
]

SHORT_ACTIVITY = [
    activity("u1", D1, "09:00:00", "login", "web"),
    activity("u1", D1, "18:00:00", "login", "web"),
    activity("u1", D1, "09:05:00", "view_product", "web"),
    activity("u3", D1, "20:00:00", "login", "web"),
    activity("u1", D2, "10:00:00", "view_product", "mobile"),
    activity("u2", D3, "11:00:00", "login", "tablet"),
    activity("u1", D4, "12:00:00", "add_to_cart", "web"),
    activity("u2", D6, "13:00:00", "logout", "tablet"),
]

# 35 days (2026-09-01 .. 2026-10-05): a customer going inactive and back, users fading out.
L0, LEND = date(2026, 9, 1), date(2026, 10, 5)
LONG_MODELS = ["orders_first_seen", "customer_daily_balance", "customers_scd", "users_cumulated"]
LONG_ORDERS = [
    order("o71", "c7", "2026-09-01", "10:00:00", "pending", [("p7", "Chair", 1, "250.00")], "Oslo", "NO"),
    order("o71", "c7", "2026-09-03", "10:00:00", "shipped", [("p7", "Chair", 1, "250.00")], "Oslo", "NO"),
    order("o81", "c8", "2026-09-10", "10:00:00", "pending", [("p8", "Pen", 2, "5.00")], "Lyon", "FR"),
    order("o72", "c7", "2026-10-05", "10:00:00", "pending", [("p7", "Chair", 4, "200.00")], "Oslo", "NO"),
]
LONG_ACTIVITY = [
    activity("u7", "2026-09-01", "10:00:00", "login", "web"),
    activity("u7", "2026-09-20", "10:00:00", "login", "mobile"),
    activity("u8", "2026-09-01", "10:00:00", "login", "web"),
]


@pytest.fixture(scope="module")
def short(bq_client):
    raw = {"orders": SHORT_ORDERS, "inventory": SHORT_INVENTORY, "user_activity": SHORT_ACTIVITY}
    return build_three_ways(bq_client, raw, D1, D6, prefix="sc")


@pytest.fixture(scope="module")
def long(bq_client):
    # 35 days: replayed once (the short scenario and the generated sample rerun every step).
    raw = {"orders": LONG_ORDERS, "user_activity": LONG_ACTIVITY}
    return build_three_ways(bq_client, raw, L0, LEND, LONG_MODELS, rerun_each_step=False, prefix="sc")


CUSTOMERS_SCD = "customer_id, country, city, customer_tier, is_active, valid_from, valid_to, is_current"
USERS_CUMULATED = (
    "user_id, snapshot_date, dates_active, platform_dates, datelist_int, "
    "is_daily_active, is_weekly_active, is_monthly_active"
)
WEB_D1 = {"platform": "web", "dates_active": [d1]}
WEB_D4 = {"platform": "web", "dates_active": [d4, d1]}
MOBILE_D2 = {"platform": "mobile", "dates_active": [d2]}
TABLET_D3 = {"platform": "tablet", "dates_active": [d3]}
TABLET_D6 = {"platform": "tablet", "dates_active": [d6, d3]}

# model -> (the columns it is ordered by, the exact rows the short scenario builds)
SHORT_EXPECTED = {
    "orders_first_seen": (
        "order_id",
        rows(
            "order_id, customer_id, first_seen_date, first_event_ts, first_event_id, total_amount, "
            "cancelled_date",
            ("o1", "c1", d1, f"{d1}T09:00:00+00:00", f"o-o1-pending-{d1}-09:00:00", "100", None),
            ("o2", "c2", d1, f"{d1}T10:00:00+00:00", f"o-o2-pending-{d1}-10:00:00", "200", d2),
            ("o3", "c1", d2, f"{d2}T12:00:00+00:00", f"o-o3-pending-{d2}-12:00:00", "900", None),
            ("o4", "c3", d4, f"{d4}T11:00:00+00:00", f"o-o4-pending-{d4}-11:00:00", "55", d4),
            ("o5", "c2", d5, f"{d5}T10:00:00+00:00", f"o-o5-pending-{d5}-10:00:00", "300", None),
            ("o6", "c1", d6, f"{d6}T12:00:00+00:00", f"o-o6-pending-{d6}-12:00:00", "4900", None),
        ),
    ),
    "customer_daily_balance": (
        "customer_id, balance_date",
        rows(
            "customer_id, balance_date, orders_placed, order_value, cancelled_value, net_value, "
            "lifetime_orders, lifetime_value",
            ("c1", d1, 1, "100", "0", "100", 1, "100"),
            ("c1", d2, 1, "900", "0", "900", 2, "1000"),
            ("c1", d3, 0, "0", "0", "0", 2, "1000"),
            ("c1", d4, 0, "0", "0", "0", 2, "1000"),
            ("c1", d5, 0, "0", "0", "0", 2, "1000"),
            ("c1", d6, 1, "4900", "0", "4900", 3, "5900"),
            ("c2", d1, 1, "200", "0", "200", 1, "200"),
            ("c2", d2, 0, "0", "200", "-200", 1, "0"),  # o2 cancelled: taken back once
            ("c2", d3, 0, "0", "0", "0", 1, "0"),
            ("c2", d4, 0, "0", "0", "0", 1, "0"),
            ("c2", d5, 1, "300", "0", "300", 2, "300"),
            ("c2", d6, 0, "0", "0", "0", 2, "300"),  # o5's 280.00 update does not count
            ("c3", d4, 1, "55", "55", "0", 1, "0"),  # first seen and cancelled the same day
            ("c3", d5, 0, "0", "0", "0", 1, "0"),
            ("c3", d6, 0, "0", "0", "0", 1, "0"),
        ),
    ),
    "customers_scd": (
        "customer_id, valid_from",
        rows(
            CUSTOMERS_SCD,
            ("c1", "NO", "Oslo", "bronze", True, d1, d2, False),
            (
                "c1",
                "NO",
                "Bergen",
                "gold",
                True,
                d2,
                d5,
                False,
            ),  # D3 (no events) and D4 (latest Bergen) keep it
            ("c1", "NO", "Oslo", "gold", True, d5, d6, False),
            ("c1", "NO", "Bergen", "platinum", True, d6, None, True),
            ("c2", "DE", "Berlin", "silver", True, d1, d2, False),  # 200 is silver
            ("c2", "DE", "Berlin", "bronze", True, d2, d5, False),  # cancelled back to 0
            ("c2", "DE", "Berlin", "silver", True, d5, None, True),
            ("c3", "FR", "Paris", "bronze", True, d4, None, True),
        ),
    ),
    "products_scd": (
        "product_id, valid_from",
        rows(
            "product_id, product_name, unit_price, valid_from, valid_to, is_current",
            ("p1", "Mug", "50", d1, d4, False),
            ("p1", "Mug XL", "55", d4, d5, False),  # latest D4 event with p1: o4 cancelled 11:30
            ("p1", "Mug", "50", d5, None, True),  # latest D5 event with p1: o1 delivered
            ("p2", "Lamp", "150", d1, None, True),  # D6: o5 says 140.00 at 09:00, o6 150.00 at 12:00
            ("p3", "Desk", "900", d2, d6, False),
            ("p3", "Desk", "950", d6, None, True),
        ),
    ),
    "inventory_daily_balance": (
        "product_id, warehouse_id, balance_date",
        rows(
            "product_id, warehouse_id, balance_date, opening_quantity, restocked, sold, returned, damaged, "
            "net_change, closing_quantity, is_low_stock",
            ("p1", "w1", d1, 0, 30, -5, 0, 0, 25, 25, False),
            ("p1", "w1", d2, 25, 0, -18, 0, 0, -18, 7, True),
            ("p1", "w1", d3, 7, 0, 0, 2, -1, 1, 8, True),
            ("p1", "w1", d4, 8, 40, 0, 0, 0, 40, 48, False),
            ("p1", "w1", d5, 48, 0, 0, 0, 0, 0, 48, False),
            ("p1", "w1", d6, 48, 0, 0, 0, 0, 0, 48, False),
            ("p1", "w2", d2, 0, 5, 0, 0, 0, 5, 5, True),
            ("p1", "w2", d3, 5, 0, 0, 0, 0, 0, 5, True),
            ("p1", "w2", d4, 5, 0, -5, 0, 0, -5, 0, True),
            ("p1", "w2", d5, 0, 0, 0, 0, 0, 0, 0, True),
            ("p1", "w2", d6, 0, 0, 0, 0, 0, 0, 0, True),
            ("p2", "w1", d1, 0, 12, 0, 0, 0, 12, 12, False),
            ("p2", "w1", d2, 12, 0, 0, 0, 0, 0, 12, False),
            ("p2", "w1", d3, 12, 0, 0, 0, 0, 0, 12, False),
            ("p2", "w1", d4, 12, 0, 0, 0, -3, -3, 9, True),
            ("p2", "w1", d5, 9, 0, 0, 0, 0, 0, 9, True),
            ("p2", "w1", d6, 9, 1, 0, 0, 0, 1, 10, False),  # exactly 10 is not low
        ),
    ),
    "users_cumulated": (
        "user_id, snapshot_date",
        rows(
            USERS_CUMULATED,
            ("u1", d1, [d1], [WEB_D1], 2147483648, True, True, True),  # bit 31
            ("u1", d2, [d2, d1], [MOBILE_D2, WEB_D1], 3221225472, True, True, True),  # bits 31, 30
            ("u1", d3, [d2, d1], [MOBILE_D2, WEB_D1], 1610612736, False, True, True),  # bits 30, 29
            ("u1", d4, [d4, d2, d1], [MOBILE_D2, WEB_D4], 2952790016, True, True, True),  # bits 31, 29, 28
            ("u1", d5, [d4, d2, d1], [MOBILE_D2, WEB_D4], 1476395008, False, True, True),  # bits 30, 28, 27
            ("u1", d6, [d4, d2, d1], [MOBILE_D2, WEB_D4], 738197504, False, True, True),  # bits 29, 27, 26
            ("u2", d3, [d3], [TABLET_D3], 2147483648, True, True, True),
            ("u2", d4, [d3], [TABLET_D3], 1073741824, False, True, True),
            ("u2", d5, [d3], [TABLET_D3], 536870912, False, True, True),
            ("u2", d6, [d6, d3], [TABLET_D6], 2415919104, True, True, True),
            ("u3", d1, [d1], [WEB_D1], 2147483648, True, True, True),
            ("u3", d2, [d1], [WEB_D1], 1073741824, False, True, True),
            ("u3", d3, [d1], [WEB_D1], 536870912, False, True, True),
            ("u3", d4, [d1], [WEB_D1], 268435456, False, True, True),
            ("u3", d5, [d1], [WEB_D1], 134217728, False, True, True),
            ("u3", d6, [d1], [WEB_D1], 67108864, False, True, True),
        ),
    ),
    "activity_monthly_reduced": (
        "month_start, platform, activity_type",
        rows(
            "month_start, platform, activity_type, daily_events, daily_unique_users",
            ("2026-10-01", "mobile", "view_product", month(31, {30: 1}), month(31, {30: 1})),
            ("2026-10-01", "tablet", "login", month(31, {31: 1}), month(31, {31: 1})),
            ("2026-10-01", "web", "login", month(31, {29: 3}), month(31, {29: 2})),  # u1 twice, u3 once
            ("2026-10-01", "web", "view_product", month(31, {29: 1}), month(31, {29: 1})),
            ("2026-11-01", "tablet", "logout", month(30, {3: 1}), month(30, {3: 1})),
            ("2026-11-01", "web", "add_to_cart", month(30, {1: 1}), month(30, {1: 1})),
        ),
    ),
}


@pytest.mark.parametrize("how", BUILDS)
@pytest.mark.parametrize("model", SHORT_EXPECTED)
def test_the_short_scenario_builds_the_exact_rows(bq_client, short, model, how):
    order_by, expected = SHORT_EXPECTED[model]
    assert table_rows(bq_client, short[how], model, order_by) == expected


@pytest.mark.parametrize("how", BUILDS)
def test_customers_scd_goes_inactive_after_30_days_without_order_events(bq_client, long, how):
    expected = rows(
        CUSTOMERS_SCD,
        # last order event 2026-09-03: active through 10-02 (its 30-day window), inactive from 10-03
        ("c7", "NO", "Oslo", "silver", True, "2026-09-01", "2026-10-03", False),
        ("c7", "NO", "Oslo", "silver", False, "2026-10-03", "2026-10-05", False),
        ("c7", "NO", "Oslo", "gold", True, "2026-10-05", None, True),  # 250 + 800
        ("c8", "FR", "Lyon", "bronze", True, "2026-09-10", None, True),
    )
    assert table_rows(bq_client, long[how], "customers_scd", "customer_id, valid_from") == expected


@pytest.mark.parametrize("how", BUILDS)
def test_users_cumulated_weekly_and_monthly_windows(bq_client, long, how):
    snapshots = table_rows(bq_client, long[how], "users_cumulated", "user_id, snapshot_date")
    web = [{"platform": "web", "dates_active": ["2026-09-01"]}]
    both = [
        {"platform": "mobile", "dates_active": ["2026-09-20"]},
        {"platform": "web", "dates_active": ["2026-09-01"]},
    ]
    expected = rows(
        USERS_CUMULATED,
        ("u7", "2026-09-20", ["2026-09-20", "2026-09-01"], both, 2147487744, True, True, True),  # bits 31, 12
        ("u7", "2026-10-05", ["2026-09-20", "2026-09-01"], both, 65536, False, False, True),  # bit 16
        ("u8", "2026-09-07", ["2026-09-01"], web, 33554432, False, True, True),  # 6 days back: bit 25
        ("u8", "2026-09-08", ["2026-09-01"], web, 16777216, False, False, True),  # 7 days back: bit 24
        ("u8", "2026-09-28", ["2026-09-01"], web, 16, False, False, True),  # 27 days back: bit 4
        ("u8", "2026-09-29", ["2026-09-01"], web, 8, False, False, False),  # 28 days back: bit 3
        ("u8", "2026-10-02", ["2026-09-01"], web, 1, False, False, False),  # 31 days back: bit 0
        ("u8", "2026-10-03", ["2026-09-01"], web, 0, False, False, False),  # out of the mask, kept in dates
    )
    assert rows_at(snapshots, expected, "user_id, snapshot_date") == expected
    assert sum(r["user_id"] == "u7" for r in snapshots) == 35
    assert sum(r["user_id"] == "u8" for r in snapshots) == 35
