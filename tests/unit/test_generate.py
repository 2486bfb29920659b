"""The sample generator: deterministic, coherent, and its manifest tells the truth.

The checker here is written from SPEC section 3 on purpose, independent of the generator.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from localdev import generate as gen
from localdev.stack import PROJECT

MIB = 1024 * 1024
START = date(2026, 3, 2)
CONFIG = gen.GeneratorConfig(seed=7, start=START)
SMALL = gen.GeneratorConfig(seed=3, start=START, days=2, customers=8, orders_per_day=5, sessions_per_day=5)
ALL_CODES = {
    "payload_too_large",
    "invalid_encoding",
    "invalid_json",
    "not_an_object",
    "unknown_event_type",
    "missing_field",
    "wrong_type",
    "invalid_value",
    "bad_timestamp",
    "future_timestamp",
    "amount_mismatch",
}
TABLES = {"order": "orders", "inventory": "inventory", "user_activity": "user_activity"}
COUNTRIES = {
    *"AR AT AU BE BR CA CH CN CZ DE DK ES FI FR GB GR HU IE IN IT JP KR".split(),
    *"MX NL NO NZ PL PT SE SG TR US ZA".split(),
}
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
LEGAL_NEXT = {
    "pending": {"processing", "cancelled"},
    "processing": {"shipped", "cancelled"},
    "shipped": {"delivered"},
    "delivered": set(),
    "cancelled": set(),
}

# Required fields per event type: a Python type, "money" (decimal string or JSON number) or "time".
FIELDS = {
    "order": {
        "order_id": str,
        "customer_id": str,
        "order_date": "time",
        "status": str,
        "items": list,
        "shipping_address": dict,
        "total_amount": "money",
    },
    "inventory": {
        "inventory_id": str,
        "product_id": str,
        "warehouse_id": str,
        "quantity_change": int,
        "reason": str,
        "timestamp": "time",
    },
    "user_activity": {
        "user_id": str,
        "activity_type": str,
        "ip_address": str,
        "user_agent": str,
        "timestamp": "time",
        "metadata": dict,
    },
}
ITEM = {"product_id": str, "product_name": str, "quantity": int, "price": "money"}
ADDRESS = {"street": str, "city": str, "country": str}
METADATA = {"session_id": str, "platform": str}


class Rejected(Exception):
    """The checker's verdict on a message: the dead-letter code it must get."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _is(value: object, kind: object) -> bool:
    if kind == "money":
        return isinstance(value, str | Decimal) or (isinstance(value, int) and not isinstance(value, bool))
    if kind == "time":
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _require(obj: dict, spec: dict) -> None:
    for name, kind in spec.items():
        if name not in obj:
            raise Rejected("missing_field")
        if not _is(obj[name], kind):
            raise Rejected("wrong_type")


def _money(value: object) -> Decimal:
    try:
        amount = Decimal(value)
    except ArithmeticError as exc:
        raise Rejected("invalid_value") from exc
    if not amount.is_finite() or amount < 0:
        raise Rejected("invalid_value")
    return amount


def event_time(value: object) -> datetime:
    """An event's time in UTC: RFC 3339 with an offset, or epoch milliseconds."""
    if isinstance(value, int):
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=value)
    if not RFC3339.fullmatch(value):
        raise Rejected("bad_timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Rejected("bad_timestamp") from exc
    return parsed.astimezone(timezone.utc)


def _check_order(event: dict) -> None:
    if event["status"] not in LEGAL_NEXT or not event["items"]:
        raise Rejected("invalid_value")
    for item in event["items"]:
        if not isinstance(item, dict):
            raise Rejected("wrong_type")
        _require(item, ITEM)
        if item["quantity"] < 1:
            raise Rejected("invalid_value")
    _require(event["shipping_address"], ADDRESS)
    if event["shipping_address"]["country"] not in COUNTRIES:
        raise Rejected("invalid_value")
    total = sum((_money(i["price"]) * i["quantity"] for i in event["items"]), Decimal(0))
    if abs(total - _money(event["total_amount"])) > Decimal("0.01"):
        raise Rejected("amount_mismatch")


def _check_inventory(event: dict) -> None:
    change, reason = event["quantity_change"], event["reason"]
    signs = {"restock": 1, "return": 1, "sale": -1, "damage": -1}
    if reason not in signs or not 1 <= abs(change) <= 100 or change * signs[reason] < 0:
        raise Rejected("invalid_value")


def _check_activity(event: dict) -> None:
    _require(event["metadata"], METADATA)
    activities = {"login", "logout", "view_product", "add_to_cart", "remove_from_cart"}
    if event["activity_type"] not in activities or event["metadata"]["platform"] not in {
        "web",
        "mobile",
        "tablet",
    }:
        raise Rejected("invalid_value")
    try:
        ipaddress.ip_address(event["ip_address"])
    except ValueError as exc:
        raise Rejected("invalid_value") from exc


def check(data: bytes) -> dict:
    """The parsed event if ``data`` is valid per SPEC section 3, else raises Rejected(code)."""
    if len(data) > MIB:
        raise Rejected("payload_too_large")
    try:
        event = json.loads(data.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise Rejected("invalid_encoding") from exc
    except ValueError as exc:
        raise Rejected("invalid_json") from exc
    if not isinstance(event, dict):
        raise Rejected("not_an_object")
    if event.get("event_type") not in FIELDS:
        raise Rejected("unknown_event_type")
    if "event_id" in event and not (isinstance(event["event_id"], str) and len(event["event_id"]) <= 128):
        raise Rejected("invalid_value")
    _require(event, FIELDS[event["event_type"]])
    {"order": _check_order, "inventory": _check_inventory, "user_activity": _check_activity}[
        event["event_type"]
    ](event)
    when = event_time(event.get("order_date", event.get("timestamp")))
    if when > datetime.now(timezone.utc) + timedelta(days=1):
        raise Rejected("future_timestamp")
    return event


@dataclass(frozen=True)
class Line:
    """One line of an output file, as the checker sees it."""

    day: date
    data: bytes
    event: dict | None
    code: str | None
    resent: bool

    @property
    def time(self) -> datetime:
        return event_time(self.event.get("order_date", self.event.get("timestamp")))


def read_lines(out: Path) -> list[Line]:
    lines, seen = [], set()
    for path in sorted(out.glob("events-*.jsonl")):
        day = date.fromisoformat(path.stem.removeprefix("events-"))
        for data in path.read_bytes().split(b"\n")[:-1]:
            try:
                event, code = check(data), None
            except Rejected as rejected:
                event, code = None, rejected.code
            lines.append(Line(day, data, event, code, data in seen))
            seen.add(data)
    return lines


@pytest.fixture(scope="module")
def sample() -> gen.Sample:
    return gen.generate(CONFIG)


@pytest.fixture(scope="module")
def out(tmp_path_factory, sample) -> Path:
    directory = tmp_path_factory.mktemp("sample")
    gen.write_files(sample, directory)
    return directory


@pytest.fixture(scope="module")
def lines(out) -> list[Line]:
    return read_lines(out)


@pytest.fixture(scope="module")
def valid(lines) -> list[Line]:
    """Valid lines, each once (re-sends left out)."""
    return [line for line in lines if line.code is None and not line.resent]


def by_type(valid: list[Line], event_type: str) -> list[dict]:
    return [line.event for line in valid if line.event["event_type"] == event_type]


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(sample):
    again = gen.generate(CONFIG)
    assert again.lines() == sample.lines()
    assert again.manifest == sample.manifest
    assert gen.generate(replace(CONFIG, seed=8)).lines() != sample.lines()


def test_cli_output_is_byte_identical_across_processes(tmp_path):
    outputs = []
    for hash_seed in ("1", "2"):
        target = tmp_path / hash_seed
        args = [
            "--seed",
            "5",
            "--start",
            "2026-01-10",
            "--days",
            "2",
            "--customers",
            "12",
            "--out",
            str(target),
        ]
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-m", "localdev.generate", *args], capture_output=True, env=env, check=True
        )
        assert done.stdout == b""
        assert len(done.stderr.decode().splitlines()) == 1
        outputs.append({p.name: p.read_bytes() for p in sorted(target.iterdir())})
    assert outputs[0] == outputs[1]
    assert set(outputs[0]) == {"events-2026-01-10.jsonl", "events-2026-01-11.jsonl", "manifest.json"}


def test_help_documents_every_flag():
    done = subprocess.run(
        [sys.executable, "-m", "localdev.generate", "--help"], capture_output=True, text=True, check=True
    )
    flags = re.findall(r"--[a-z-]+", done.stdout)
    for flag in (
        "--seed",
        "--start",
        "--days",
        "--customers",
        "--products",
        "--warehouses",
        "--orders-per-day",
        "--sessions-per-day",
        "--bad-fraction",
        "--duplicate-fraction",
        "--late-fraction",
        "--max-oversized",
        "--out",
        "--pubsub-project",
        "--topic",
        "--per-stream-topics",
    ):
        assert flag in flags


def test_manifest_matches_the_files(out, lines, valid, sample):
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest == sample.manifest
    assert manifest["seed"] == 7 and manifest["start"] == "2026-03-02" and manifest["days"] == 7
    assert len(lines) == manifest["messages"] == len(sample.messages)
    assert 2000 <= manifest["messages"] <= 8000
    per_stream = Counter(TABLES[line.event["event_type"]] for line in valid)
    assert manifest["valid_unique"] == {stream: per_stream[stream] for stream in TABLES.values()}
    assert manifest["duplicates"] == sum(line.resent for line in lines)
    assert manifest["rejected"] == dict(Counter(line.code for line in lines if line.code))
    assert manifest["late"] == sum(line.day > line.time.date() for line in valid)
    assert manifest["dates"] == sorted({line.time.date().isoformat() for line in valid})
    expected = (
        sum(manifest["valid_unique"].values()) + manifest["duplicates"] + sum(manifest["rejected"].values())
    )
    assert manifest["messages"] == expected


def test_each_message_gets_the_code_the_generator_intended(sample, lines):
    assert [line.code for line in lines] == [message.error_code for message in sample.messages]
    assert [line.data for line in lines] == sample.lines()


def test_files_are_per_arrival_day_in_arrival_order(sample, out, lines):
    names = sorted(p.name for p in out.glob("events-*.jsonl"))
    assert names == [f"events-{START + timedelta(days=d)}.jsonl" for d in range(7)]
    arrivals = [message.arrival for message in sample.messages]
    assert arrivals == sorted(arrivals)
    assert [line.day for line in lines] == [a.date() for a in arrivals]


@pytest.mark.parametrize("config", [CONFIG, SMALL], ids=["default-size", "small"])
def test_every_error_code_appears(config):
    rejected = gen.generate(config).manifest["rejected"]
    assert set(rejected) == ALL_CODES
    assert rejected["payload_too_large"] == 1


def test_defects_cover_nested_fields_and_the_listed_values(lines):
    bad = b"\n".join(line.data for line in lines if line.code and line.code != "payload_too_large")
    for needle in (
        b'"event_type":"refund"',
        b'"quantity":"three"',
        b'"platform":"desktop"',
        b'"ip_address":"999.1.1.1"',
        b'"country":"XX"',
        b'"quantity_change":150',
        b"-13-45T00:00:00Z",
        b"2099-",
        b"\xff\xfe",
    ):
        assert needle in bad, needle
    missing = [json.loads(line.data) for line in lines if line.code == "missing_field"]
    assert any("city" not in e.get("shipping_address", {"city": 1}) for e in missing)
    assert any("platform" not in e.get("metadata", {"platform": 1}) for e in missing)


def test_bad_messages_are_never_resent(lines):
    assert not [line for line in lines if line.code and line.resent]
    assert all(line.code is None for line in lines if line.resent)


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


def test_late_events_arrive_on_a_later_day_within_two_days(valid, sample):
    late = [line for line in valid if line.day > line.time.date()]
    assert late and len(late) == sample.manifest["late"]
    arrivals = {m.data: m.arrival for m in sample.messages if m.late}
    for line in late:
        assert timedelta(hours=2) <= arrivals[line.data] - line.time <= timedelta(hours=48)


def test_duplicates_come_after_their_original(lines):
    first_seen = {}
    for index, line in enumerate(lines):
        first_seen.setdefault(line.data, index)
        if line.resent:
            assert first_seen[line.data] < index


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


def test_zero_fractions_give_only_valid_unique_events():
    config = replace(SMALL, bad_fraction=0, duplicate_fraction=0, late_fraction=0)
    sample = gen.generate(config)
    assert len(set(sample.lines())) == len(sample.lines()) == sum(sample.manifest["valid_unique"].values())
    assert sample.manifest["rejected"] == {} and sample.manifest["late"] == 0
    for data in sample.lines():
        check(data)


def test_no_event_happens_outside_the_range(valid):
    begin = datetime(2026, 3, 2, tzinfo=timezone.utc)
    assert all(begin <= line.time < begin + timedelta(days=7) for line in valid)


def _pull(subscription: str, expected: int, timeout: float = 60) -> list:
    from google.cloud import pubsub_v1

    received = []
    deadline = time.monotonic() + timeout
    with pubsub_v1.SubscriberClient() as subscriber:
        while len(received) < expected and time.monotonic() < deadline:
            response = subscriber.pull(subscription=subscription, max_messages=500, timeout=10)
            if response.received_messages:
                subscriber.acknowledge(
                    subscription=subscription, ack_ids=[m.ack_id for m in response.received_messages]
                )
            received += [m.message for m in response.received_messages]
    return received


def _topic_with_subscription(project: str, topic: str) -> str:
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    topic_path = publisher.topic_path(project, topic)
    publisher.create_topic(name=topic_path)
    with pubsub_v1.SubscriberClient() as subscriber:
        subscription = subscriber.subscription_path(project, f"{topic}-check")
        subscriber.create_subscription(name=subscription, topic=topic_path)
    return subscription


@pytest.mark.integration
def test_publishes_the_same_messages_to_pubsub(pubsub_emulator):
    sample = gen.generate(SMALL)
    subscription = _topic_with_subscription(PROJECT, "generate-test-events")
    assert gen.publish(sample.messages, PROJECT, topic="generate-test-events") == len(sample.messages)
    received = _pull(subscription, len(sample.messages))
    assert Counter(m.data for m in received) == Counter(sample.lines())
    assert {m.attributes["source"] for m in received} == {"eventharbor-generate"}


@pytest.mark.integration
def test_publishes_per_stream_topics(pubsub_emulator):
    # A project of its own: the stream topic names are fixed and other tests create them in PROJECT.
    project = f"{PROJECT}-generate"
    sample = gen.generate(replace(SMALL, max_oversized=0))
    subscriptions = {name: _topic_with_subscription(project, name) for name in (*TABLES.values(), "events")}
    gen.publish(sample.messages, project, per_stream=True)
    for name, subscription in subscriptions.items():
        wanted = [m.data for m in sample.messages if (m.stream or "events") == name]
        assert Counter(m.data for m in _pull(subscription, len(wanted))) == Counter(wanted), name
