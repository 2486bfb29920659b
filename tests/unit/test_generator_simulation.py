"""The simulated shop: a coherent story of valid events, written the way producers write them,
and the timeline of when they arrive (late ones, re-sends). Judged by the contract checker
(tests/generator_spec.py)."""

from __future__ import annotations

import ipaddress
import json
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from localdev.generator import generate, write_files
from localdev.generator.render import epoch_millis, producer_rfc3339, to_json
from tests.generator_spec import (
    CONFIG,
    LEGAL_NEXT,
    SMALL,
    START,
    Line,
    by_type,
    check,
    generated,
    read_lines,
)


@pytest.fixture(scope="module")
def sample():
    return generated(CONFIG)


@pytest.fixture(scope="module")
def lines(tmp_path_factory, sample) -> list[Line]:
    directory = tmp_path_factory.mktemp("sample")
    write_files(sample, directory)
    return read_lines(directory)


@pytest.fixture(scope="module")
def valid(lines) -> list[Line]:
    """Valid lines, each once (re-sends left out)."""
    return [line for line in lines if line.code is None and not line.resent]


# --- how producers write ------------------------------------------------------------------------


def test_producer_times_are_written_to_the_millisecond_in_their_zone():
    when = datetime(2026, 3, 2, 23, 30, 5, 120_000, tzinfo=timezone.utc)
    assert producer_rfc3339(when) == "2026-03-02T23:30:05.120Z"
    assert producer_rfc3339(when, timedelta(hours=5, minutes=30)) == "2026-03-03T05:00:05.120+05:30"
    assert producer_rfc3339(when, timedelta(0)) == "2026-03-02T23:30:05.120+00:00"
    assert producer_rfc3339(when.replace(microsecond=0), timedelta(hours=-8)) == "2026-03-02T15:30:05-08:00"
    assert epoch_millis(when) == 1772494205120


def test_json_is_compact_utf8_and_decimals_are_exact_numbers():
    assert to_json({"name": "Kaffeemühle", "price": Decimal("89.00"), "n": [1, None]}) == (
        '{"name":"Kaffeemühle","price":89.00,"n":[1,null]}'
    )


# --- the story ----------------------------------------------------------------------------------


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(sample):
    fresh = generate(CONFIG)
    assert fresh.lines() == sample.lines() and fresh.manifest == sample.manifest
    assert generate(replace(CONFIG, seed=8)).lines() != sample.lines()


def test_order_status_transitions_are_legal(valid):
    history = defaultdict(list)
    for line in valid:
        if line.event["event_type"] == "order":
            history[line.event["order_id"]].append((line.time, line.event["status"]))
    assert len(history) >= 200
    spans_days = 0
    for order_id, events in history.items():
        statuses = [status for _, status in sorted(events)]
        assert statuses[0] == "pending", order_id
        for before, after in zip(statuses, statuses[1:], strict=False):
            assert after in LEGAL_NEXT[before], (order_id, statuses)
        spans_days += min(events)[0].date() != max(events)[0].date()
    final = Counter(sorted(events)[-1][1] for events in history.values())
    assert {"delivered", "cancelled", "shipped"} <= set(final)
    assert spans_days > len(history) / 4


def test_order_snapshots_are_stable_per_order(valid):
    snapshot = {}
    for event in by_type(valid, "order"):
        fields = (event["customer_id"], json.dumps(event["items"], default=str), str(event["total_amount"]))
        assert snapshot.setdefault(event["order_id"], fields) == fields


def test_inventory_signs_match_reasons_and_stock_stays_non_negative(valid):
    levels, went_low = Counter(), set()
    moves = [(line.time, line.event) for line in valid if line.event["event_type"] == "inventory"]
    reasons = Counter()
    for _, event in sorted(moves, key=lambda move: (move[0], move[1]["inventory_id"])):
        change, reason = event["quantity_change"], event["reason"]
        assert change != 0 and abs(change) <= 100
        assert (change > 0) == (reason in ("restock", "return"))
        reasons[reason] += 1
        key = (event["product_id"], event["warehouse_id"])
        levels[key] += change
        assert levels[key] >= 0, key
        if levels[key] < 10:
            went_low.add(key)
    assert set(reasons) == {"restock", "sale", "return", "damage"}
    assert went_low


def test_sales_follow_shipments(valid):
    shipped = {}
    for line in valid:
        if line.event["event_type"] == "order" and line.event["status"] == "shipped":
            for item in line.event["items"]:
                shipped.setdefault(item["product_id"], []).append((line.time, item["quantity"]))
    sales = [(line.time, line.event) for line in valid if line.event.get("reason") == "sale"]
    assert sales
    for when, event in sales:
        candidates = shipped.get(event["product_id"], [])
        assert any(
            timedelta(0) < when - t <= timedelta(hours=1) and -event["quantity_change"] == min(q, 100)
            for t, q in candidates
        ), event


def test_every_order_follows_an_add_to_cart_by_its_customer(valid):
    carts = defaultdict(list)
    users = set()
    for line in valid:
        if line.event["event_type"] == "user_activity":
            users.add(line.event["user_id"])
            if line.event["activity_type"] == "add_to_cart":
                carts[line.event["user_id"]].append(line.time)
    for line in valid:
        if line.event["event_type"] == "order":
            assert line.event["customer_id"] in users
            if line.event["status"] == "pending":
                placed = line.time
                assert any(
                    timedelta(0) < placed - t < timedelta(hours=1) for t in carts[line.event["customer_id"]]
                )


def test_total_amount_is_the_exact_sum_and_money_is_never_float(valid):
    styles = Counter()
    for event in by_type(valid, "order"):
        amounts = [event["total_amount"]] + [item["price"] for item in event["items"]]
        for amount in amounts:
            assert not isinstance(amount, float)
            styles[type(amount).__name__] += 1
            exact = Decimal(amount)
            assert exact.as_tuple().exponent == -2, amount
        total = sum((Decimal(item["price"]) * item["quantity"] for item in event["items"]), Decimal(0))
        assert total == Decimal(event["total_amount"])
    assert styles["str"] and styles["Decimal"]


def test_event_ids_are_unique_and_a_third_are_left_out(valid):
    ids = [line.event["event_id"] for line in valid if "event_id" in line.event]
    assert len(ids) == len(set(ids))
    assert 0.28 < 1 - len(ids) / len(valid) < 0.39
    extra = [line.event for line in valid if "client_version" in line.event]
    assert 0 < len(extra) < len(valid) / 20


def test_timestamps_mix_formats_and_ips_mix_families(valid):
    formats = Counter()
    for line in valid:
        raw = line.event.get("order_date", line.event.get("timestamp"))
        formats["millis" if isinstance(raw, int) else "Z" if raw.endswith("Z") else "offset"] += 1
    assert min(formats.values()) > len(valid) / 20, formats
    versions = Counter(ipaddress.ip_address(e["ip_address"]).version for e in by_type(valid, "user_activity"))
    assert versions[4] > versions[6] > 0


def lifetime_values(valid: list[Line]) -> dict[str, Decimal]:
    """Per customer: the value of each order at its first event, minus cancelled orders."""
    first, cancelled = {}, set()
    for line in sorted(valid, key=lambda line: line.time):
        event = line.event
        if event["event_type"] == "order":
            first.setdefault(event["order_id"], (event["customer_id"], Decimal(event["total_amount"])))
            if event["status"] == "cancelled":
                cancelled.add(event["order_id"])
    values = defaultdict(Decimal)
    for order_id, (customer, total) in first.items():
        values[customer] += 0 if order_id in cancelled else total
    return values


def test_the_story_feeds_the_models(valid):
    orders = by_type(valid, "order")
    addresses = defaultdict(set)
    for event in orders:
        addresses[event["customer_id"]].add(json.dumps(event["shipping_address"], sort_keys=True))
    assert 1 <= sum(len(a) > 1 for a in addresses.values()) <= 6
    prices = defaultdict(set)
    for event in orders:
        for item in event["items"]:
            prices[item["product_id"]].add(Decimal(item["price"]))
    assert sum(len(p) > 1 for p in prices.values()) >= 2
    tiers = Counter(
        "platinum" if v >= 5000 else "gold" if v >= 1000 else "silver" if v >= 200 else "bronze"
        for v in lifetime_values(valid).values()
    )
    assert set(tiers) == {"bronze", "silver", "gold", "platinum"}, tiers
    last_active = {}
    for line in valid:
        if line.event["event_type"] == "user_activity":
            user = line.event["user_id"]
            last_active[user] = max(last_active.get(user, line.time), line.time)
    quiet = [u for u, t in last_active.items() if t.date() <= START + timedelta(days=3)]
    assert quiet
    assert set(last_active) - {e["customer_id"] for e in orders}, "some users never order"


def test_no_event_happens_outside_the_range(valid):
    begin = datetime(2026, 3, 2, tzinfo=timezone.utc)
    assert all(begin <= line.time < begin + timedelta(days=7) for line in valid)


# --- the arrival timeline -----------------------------------------------------------------------


def test_late_events_arrive_on_a_later_day_within_two_days(valid, sample):
    late = [line for line in valid if line.day > line.time.date()]
    assert late and len(late) == sample.manifest["late"]
    arrivals = {m.data: m.arrival for m in sample.messages if m.late}
    for line in late:
        assert timedelta(hours=2) <= arrivals[line.data] - line.time <= timedelta(hours=48)


def test_duplicates_come_after_their_original_and_are_valid(lines):
    first_seen = {}
    resent = 0
    for index, line in enumerate(lines):
        first_seen.setdefault(line.data, index)
        if line.resent:
            resent += 1
            assert first_seen[line.data] < index
            assert line.code is None
    assert resent


def test_zero_fractions_give_only_valid_unique_events():
    config = replace(SMALL, bad_fraction=0, duplicate_fraction=0, late_fraction=0)
    sample = generate(config)
    assert len(set(sample.lines())) == len(sample.lines()) == sum(sample.manifest["valid_unique"].values())
    assert sample.manifest["rejected"] == {} and sample.manifest["late"] == 0
    for data in sample.lines():
        check(data)
