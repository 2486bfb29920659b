"""The fast path (``transforms.fast_path``) and the precise path give every message the same outcome.

``triage(..., fast=False)`` is the precise path alone. Outcomes are compared by equality and by
``repr`` (so ``Decimal('1.50')`` is not ``Decimal('1.5')``, key order and types count): every
accepted event the same ``ValidEvent`` (stream, event_id, event_time, event, row), every rejected
message the same ``Failure`` (stream, stage, code, reason, event_id). Over (a) a generated sample
as the benchmark builds it, (b) hypothesis mutations of valid events and hostile lines, and (c)
explicit cases proving the fast path does take the common valid event, so its speed-up cannot
silently vanish. The shared pieces made faster (the row shaper, the IP truncation, the canonical
JSON of a derived id, the time formats) are checked against their former definitions.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import logging
import random
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from localdev.fuzz import (
    EXTREMES,
    SPICE,
    TIMESTAMPS,
    HostileInputs,
    Pairs,
    Raw,
    dump,
    mutate,
    to_bytes,
    valid_event,
)
from localdev.generator import GeneratorConfig, generate
from pipeline.sources import line_to_message
from schemas import load_schema
from tests.events import INVENTORY, ORDER, USER_ACTIVITY, encode, value_paths
from tests.property_budgets import budget
from transforms import fast_path
from transforms.messages import INVALID_ENVELOPE_ATTRIBUTE, Failure, Message, ValidEvent
from transforms.rows import event_row, table_row
from transforms.times import rfc3339
from transforms.triage import triage
from transforms.validation import canonical_json, derive_event_id, mask_ip

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
KEY = b"paths-key"
# The benchmark's sample (bench/validation_bench.py), two days of it: a few thousand messages.
SAMPLE_CONFIG = GeneratorConfig(
    seed=42, start=date(2026, 10, 1), days=2, orders_per_day=160, sessions_per_day=160, max_oversized=0
)
SAMPLE_NOW = SAMPLE_CONFIG.end + timedelta(days=1)
IP_SETTINGS = (("truncate", None), ("raw", None), ("hash", KEY), ("hash", None), ("bogus", None))
BASES = (ORDER, INVENTORY, USER_ACTIVITY)
STREAM_BASES = {"orders": ORDER, "inventory": INVENTORY, "user_activity": USER_ACTIVITY}


def both(
    message: Message, now: datetime = NOW, ip_mode: str = "truncate", key: bytes | None = KEY
) -> ValidEvent | Failure:
    """The outcome of ``message``, after checking both paths give exactly that outcome."""
    fast = triage(message, now, ip_mode, key)
    precise = triage(message, now, ip_mode, key, fast=False)
    assert fast == precise, f"{message.data[:300]!r}"
    assert repr(fast) == repr(precise), f"{message.data[:300]!r}"
    return fast


def line(obj: Any, ensure_ascii: bool = True) -> bytes:
    return to_bytes(dump(obj, ensure_ascii))


# --- (a) the generated sample ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> list[bytes]:
    return [m.data for m in generate(SAMPLE_CONFIG).messages]


@pytest.mark.parametrize(("ip_mode", "key"), IP_SETTINGS)
def test_every_sample_message_gets_the_same_outcome_on_both_paths(sample, ip_mode, key, monkeypatch):
    # With no key or a bogus mode, triage logs every message's internal_error with its traceback:
    # formatting thousands of them took two thirds of this test's time. It compares outcomes only.
    monkeypatch.setattr(logging.getLogger("transforms.triage"), "disabled", True)
    for data in sample:
        both(Message(data=data, message_id="m"), SAMPLE_NOW, ip_mode, key)
        both(line_to_message("events.jsonl", data), SAMPLE_NOW, ip_mode, key)


def test_the_fast_path_takes_the_sample_s_valid_messages(sample):
    valid = [d for d in sample if isinstance(triage(Message(data=d), SAMPLE_NOW, fast=False), ValidEvent)]
    fast = [d for d in valid if fast_path.accept(Message(data=d), SAMPLE_NOW) is not None]
    assert len(valid) > 5000 and len(fast) / len(valid) > 0.99


# --- (b) properties: mutated events, hostile lines -------------------------------------------------

EDGES = (
    None, "", " ", "\t", "\u3000", " x ", "x\u00a0", "\u00e9", "\U0001f600", "\x00", "a" * 129, "a" * 128,
    True, False, 0, 1, -1, 7, 100, -100, 101, 2**63 - 1, 2**63, -(2**63), 10**30, 1.0, 1.5, -0.0,
    Decimal("1.50"), Decimal("0.000000001"), Decimal("0.0000000001"), Decimal("1E+2"), Decimal("-0.0"),
    Decimal("99999999999999999999999999999.999999999"), Decimal("1E+29"), Decimal("0E-10"),
    Raw("-0"), Raw("-0.0"), Raw("1e2"), Raw("1E-7"), Raw("0.0000001"), Raw("1e99999999999999999999"),
    Raw("1" * 4301), Raw('"\\ud800"'), Raw('"\\udc00x"'), Raw('"\\ud83d\\ude00"'), Raw('"\\u0041"'),
    "1.50", " 1.5 ", "1_000", "\u0664.10", "+1", "1e5", "007.50", "0" * 30 + "1", "1.", ".5", "NaN", "-0",
    "1.1234567891", "15.45", "4.10",
    "order", "inventory", "user_activity", "pending", "sale", "restock", "return", "damage", "web",
    "no", " no ", "NO", "\ufb01", "XX", "se", "Us",
    "203.0.113.77", " 203.0.113.77 ", "203.0.113.0", "::ffff:1.2.3.4", "2001:db8::1", "2001:db8::",
    "fe80::1%eth0", "fe80::%x", "fe80::1%\u00e9", "1.2.3", "01.2.3.4", "1.2.3.4/24",
    -62_135_596_800_000, -62_135_596_800_001, 253_402_300_799_999, 253_402_300_800_000, 1762000000000,
    "2026-11-01T10:15:00.1234567Z", "2026-11-01T10:15:00.123456789+05:30", "2026-11-01T10:15:00,5Z",
    "2026-11-01T10:15:00.5-00:00", "2026-11-01T10:15Z", "2026-11-01T10:15:00+0530", "20261101T101500Z",
    "2026-11-01T10:15:00.250Z", "2026-11-03T11:59:59.999999Z", "2026-11-03T12:00:00.000001Z",
    [], {}, [{}], {"a": [1, {"b": None}]}, {"nested": {"deeper": [Decimal("1.5"), "x"]}},
)  # fmt: skip
# Copied: a later mutation must not change the constants.
values = st.one_of(st.sampled_from(EDGES), st.sampled_from(TIMESTAMPS), st.sampled_from(EXTREMES)).map(
    copy.deepcopy
)
texts = st.lists(st.one_of(st.characters(), st.sampled_from(SPICE)), max_size=6).map("".join)


@st.composite
def respelled(draw, key: Any, value: Any) -> Any:
    """``value`` written another way that may or may not mean the same to the contract."""
    if key in ("price", "total_amount") and isinstance(value, (str, int, Decimal)):
        try:  # the same amount, with 0 to 12 decimals
            amount = Decimal(str(value).strip()).quantize(
                Decimal(10) ** -draw(st.sampled_from((0, 2, 9, 10, 12)))
            )
        except ArithmeticError:  # not a number (any more)
            return value
        text = format(amount, "f")
        return draw(
            st.sampled_from(
                (
                    amount,
                    text,
                    f" {text} ",
                    f"+{text}",
                    f"00{text}",
                    text.replace(".", "_", 1),
                    Raw(f"{text}e0"),
                )
            )
        )
    if key in ("timestamp", "order_date") and isinstance(value, (str, int)):
        moment = datetime(2026, 11, 1, 10, 15, 0, draw(st.sampled_from((0, 1, 250000, 999999))), timezone.utc)
        shifted = moment.astimezone(timezone(timedelta(minutes=draw(st.sampled_from((0, 330, -480))))))
        text = shifted.isoformat(timespec=draw(st.sampled_from(("seconds", "milliseconds", "microseconds"))))
        text = text.replace("+00:00", draw(st.sampled_from(("Z", "z", "+00:00", "-00:00"))))
        text = text.replace("T", draw(st.sampled_from(("T", "t", " "))))
        text = re.sub(r"(\.[0-9]+)", r"\g<1>" + draw(st.sampled_from(("", "0", "9999"))), text, count=1)
        return draw(st.sampled_from((text, f" {text} ", int(moment.timestamp() * 1000))))
    if key in ("quantity", "quantity_change") and isinstance(value, int) and not isinstance(value, bool):
        return draw(
            st.sampled_from((value, float(value), str(value), Decimal(value), Raw(f"{value}e0"), -value))
        )
    if isinstance(value, str):
        return draw(st.sampled_from((value.lower(), value.upper(), f" {value}", f"{value}\u3000", value * 2)))
    return value


@st.composite
def mutated(draw) -> bytes:
    """A valid event (a fixed one or a generated one) with 1-3 field-level mutations."""
    if draw(st.booleans()):
        obj: Any = copy.deepcopy(draw(st.sampled_from(BASES)))
    else:
        obj = valid_event(random.Random(draw(st.integers(0, 2**32))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(value_paths(obj) or [("event_id",)]))
        parent: Any = obj
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        op = draw(st.sampled_from(("drop", "set", "set", "respell", "respell", "spice", "extra", "rekey")))
        if op == "respell":
            parent[key] = draw(respelled(key, parent[key]))
        elif op == "drop":
            del parent[key]
        elif op == "spice" and isinstance(parent[key], str):
            at = draw(st.integers(0, len(parent[key])))
            parent[key] = parent[key][:at] + draw(st.sampled_from(SPICE)) + parent[key][at:]
        elif op == "extra" and isinstance(parent, dict):  # an unknown key, maybe nested
            parent[draw(st.sampled_from(("extra", "x\u00e9", "event_idx", "")))] = draw(values)
        elif op == "rekey" and isinstance(parent, dict):
            parent[draw(st.sampled_from(("Event_id", "event_id ", "items", "price", key.upper())))] = (
                parent.pop(key)
            )
        else:
            parent[key] = draw(values)
    if draw(st.booleans()) and isinstance(obj, dict):  # a duplicate key, first or last
        pairs = list(obj.items())
        extra = (draw(st.sampled_from(sorted(obj) or ["event_type"])), draw(values))
        obj = Pairs([extra, *pairs] if draw(st.booleans()) else [*pairs, extra])
    return line(obj, draw(st.booleans()))


@budget(1500)
@given(data=mutated(), ip=st.sampled_from(IP_SETTINGS), envelope_mark=st.booleans())
def test_mutated_events_get_the_same_outcome_on_both_paths(data, ip, envelope_mark):
    attributes = {INVALID_ENVELOPE_ATTRIBUTE: "spoofed"} if envelope_mark else {}
    both(Message(data=data, attributes=attributes), NOW, *ip)
    both(line_to_message("events.jsonl", data), NOW, *ip)


@st.composite
def respelled_events(draw) -> bytes:
    """A valid event with one or two of its values written another way: right at the rules' edges."""
    obj: Any = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(value_paths(obj)))
        parent: Any = obj
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = draw(respelled(path[-1], parent[path[-1]]))
    return line(obj, draw(st.booleans()))


@budget(1000)
@given(data=respelled_events(), ip=st.sampled_from(IP_SETTINGS))
def test_respelled_values_get_the_same_outcome_on_both_paths(data, ip):
    both(Message(data=data), NOW, *ip)


@budget(400)
@given(seed=st.integers(0, 2**32), ip=st.sampled_from(IP_SETTINGS))
def test_generated_mutations_and_hostile_lines_get_the_same_outcome(seed, ip):
    rng = random.Random(seed)
    obj: Any = valid_event(rng)
    for _ in range(rng.choice((0, 1, 2))):
        obj = mutate(rng, obj, huge=False) if isinstance(obj, dict) else obj
    both(Message(data=line(obj, rng.random() < 0.5)), NOW, *ip)
    _kind, hostile = HostileInputs(seed=seed, huge=0.0).line()
    both(line_to_message("hostile.jsonl", hostile), NOW, *ip)


@budget(200)
@given(event=st.sampled_from(BASES), now=st.datetimes(timezones=st.just(timezone.utc)))
def test_any_processing_time_gives_the_same_outcome(event, now):
    both(Message(data=encode(event)), now)


# --- (c) the fast path takes the common valid event ------------------------------------------------

COMMON = {
    "order, numeric strings": ORDER,
    "order, numbers": {**ORDER, "items": [{**i, "price": Decimal(str(i["price"]))} for i in ORDER["items"]]},
    "order without event_id": {k: v for k, v in ORDER.items() if k != "event_id"},
    "inventory without event_id": INVENTORY,
    "inventory with event_id": {**INVENTORY, "event_id": "evt-inv-1", "timestamp": "2026-11-01T10:15:00Z"},
    "user_activity, extra key": USER_ACTIVITY,
    "user_activity, IPv6": {**USER_ACTIVITY, "ip_address": "2001:db8:85a3::8a2e:370:7334"},
    "user_activity, null event_id": {**USER_ACTIVITY, "event_id": None, "timestamp": 1762000000000},
}


@pytest.mark.parametrize("name", sorted(COMMON))
@pytest.mark.parametrize(("ip_mode", "key"), IP_SETTINGS[:3])
def test_the_fast_path_accepts_the_common_valid_event(name, ip_mode, key):
    message = Message(data=line(COMMON[name]), message_id="m-1")
    accepted = fast_path.accept(message, NOW, ip_mode, key)
    assert accepted is not None
    assert accepted == both(message, NOW, ip_mode, key)


@pytest.mark.parametrize("price", ["0.0000001", "1.1234567", "0.000000000"])
def test_money_of_more_than_6_decimals_is_the_precise_path_s(price):
    # str() of such a Decimal may take an exponent ('1E-7', '0E-9'), which the fast path's row
    # writer (msgspec) would send; the precise path writes the fixed-point text BigQuery expects.
    order = {**ORDER, "items": [{**ORDER["items"][0], "quantity": 1, "price": price}], "total_amount": price}
    message = Message(data=line(order), message_id="m-1")
    assert fast_path.accept(message, NOW) is None
    outcome = both(message)
    assert outcome.row["total_amount"] == outcome.row["items"][0]["price"] == format(Decimal(price), "f")


def test_a_pubsub_publish_time_is_no_concern_of_either_path():
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds

    published = DatetimeWithNanoseconds(2026, 11, 1, 10, 0, 0, nanosecond=123456789, tzinfo=timezone.utc)
    for event in (*BASES, {"event_type": "order"}):
        outcome = both(Message(data=encode(event), message_id="m", publish_time=published))
        assert outcome.message.publish_time is published


# --- the shared pieces made faster, against their former definitions --------------------------------

_EVENT_JSON = msgspec.json.Encoder(decimal_format="number", order="sorted")


def event_json_text(value: Any) -> str:
    """A raw row's JSON cell: keys sorted, compact, Decimals written as JSON numbers."""
    return _EVENT_JSON.encode(value).decode("utf-8")


def former_table_row(
    record: dict[str, Any],
    schema: list[dict[str, Any]],
    json_text: Callable[[Any], str] = lambda value: json.dumps(value, sort_keys=True),
) -> dict[str, Any]:
    """``transforms.rows.table_row`` as it was: the schema walked for every row. Raw rows write
    JSON columns with ``event_json_text`` (their numbers may be Decimals)."""

    def cell(value: Any, field: dict[str, Any]) -> Any:
        if value is None:
            return None
        if field.get("mode") == "REPEATED":
            return [scalar(v, field) for v in value]
        return scalar(value, field)

    def scalar(value: Any, field: dict[str, Any]) -> Any:
        kind = field["type"]
        if kind == "RECORD":
            return {f["name"]: cell(value.get(f["name"]), f) for f in field["fields"]}
        if kind == "TIMESTAMP":
            return rfc3339(value) if isinstance(value, datetime) else value
        if kind == "DATE":
            return value.isoformat() if isinstance(value, date) else value
        if kind == "NUMERIC":
            return format(value, "f") if isinstance(value, Decimal) else value
        if kind == "JSON":
            return json_text(value)
        return value

    return {f["name"]: cell(record.get(f["name"]), f) for f in schema}


def former_truncate(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


@budget(300)
@given(
    seconds=st.integers(0, 10**9),
    micro=st.sampled_from((0, 1, 250_000, 999_999)),
    offset=st.integers(-23 * 60, 23 * 60),
    extra=st.dictionaries(st.sampled_from(("x", "event_id", "items")), st.sampled_from(EDGES), max_size=2),
)
def test_the_compiled_row_shapers_give_the_former_rows(seconds, micro, offset, extra):
    moment = datetime(1990, 1, 1, tzinfo=timezone(timedelta(minutes=offset))) + timedelta(
        seconds=seconds, microseconds=micro
    )
    for stream, base in STREAM_BASES.items():
        event = both(Message(data=encode(base)))
        odd = {**event.event, "processed_timestamp": moment, "event_date": moment.date(), **extra}
        for record in (event.event, odd, {}, {"items": [], "metadata": {}}):
            schema = load_schema("events", stream)
            try:
                expected = former_table_row(record, schema, event_json_text)
            except (AttributeError, TypeError) as exc:
                with pytest.raises(type(exc)):
                    event_row(stream, record)
                continue
            assert repr(event_row(stream, record)) == repr(expected)
            try:
                expected = former_table_row(record, schema)
            except (AttributeError, TypeError) as exc:
                with pytest.raises(type(exc)):
                    table_row(record, schema)
                continue
            assert repr(table_row(record, schema)) == repr(expected)


def test_event_times_are_written_as_rfc3339_writes_them():
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds

    schema = load_schema("events", "inventory")
    moments = [
        datetime(1, 1, 1, tzinfo=timezone.utc),
        datetime(9999, 12, 31, 23, 59, 59, 999999, timezone.utc),
    ]
    moments += [datetime(2026, 11, 1, 10, 15, 0, m, timezone.utc) for m in (0, 1, 10, 120000, 500000)]
    moments += [datetime(2026, 11, 1, 10, 15, tzinfo=timezone(timedelta(hours=5, minutes=30)))]
    moments += [DatetimeWithNanoseconds(2026, 11, 1, 10, 0, 0, nanosecond=123456789, tzinfo=timezone.utc)]
    for moment in moments:
        record = {"timestamp": moment, "processed_timestamp": moment, "event_date": moment.date()}
        assert event_row("inventory", record) == former_table_row(record, schema)
        assert event_row("inventory", record)["timestamp"] == rfc3339(moment)


def test_ip_truncation_is_the_former_network_address_scope_ids_included():
    rng = random.Random(5)
    texts = ["0.0.0.0", "1.2.3.0", "1.2.3.4", "255.255.255.255", "::", "::1", "::ffff:1.2.3.4", "2001:db8::"]
    texts += ["2001:db8:1:8000::", "fe80::1", "fe80::%eth0", "fe80::1%eth0", "::%x y", "fe80::1%\u00e9"]
    texts += [".".join(str(rng.randrange(256)) for _ in range(4)) for _ in range(200)]
    texts += [":".join(f"{rng.randrange(65536):x}" for _ in range(8)) for _ in range(200)]
    texts += [f"{t}%{rng.randrange(10)}" for t in texts[-50:] if ":" in t]
    for text in texts:
        ip = ipaddress.ip_address(text)
        assert mask_ip(ip, "truncate", None) == former_truncate(ip), text


def test_the_fast_path_s_derived_id_is_the_canonical_json_s():
    every_character = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    objects = [
        {"s": every_character, every_character: [every_character]},
        {
            "b": 1,
            "a": [1, True, None, {"d": Decimal("1E+5"), "c": Decimal("-0.0")}],
            "\U0001f600": 2,
            "\uffff": 3,
        },
        {"n": 10**300, "m": -(10**30), "d": Decimal("0.1000000000000000055511151231257827"), "": ""},
    ]
    for obj in objects:
        assert fast_path._CANONICAL.encode(obj) == canonical_json(obj).encode("utf-8")
    decoded = fast_path._UNTYPED.decode(encode(ORDER).replace(b'"4.10"', b"4.10"))
    assert decoded == json.loads(encode(ORDER).replace(b'"4.10"', b"4.10"), parse_float=Decimal)
    without_id = {k: v for k, v in decoded.items() if k != "event_id"}
    for obj in (without_id, {**without_id, "event_id": None}):
        assert both(Message(data=line(obj))).event_id == derive_event_id(obj)


def test_msgspec_reads_json_numbers_as_their_exact_text():
    decoded = fast_path._UNTYPED.decode(b'{"a": 0.1000000000000000055511151231257827, "b": 1E+5, "c": 7}')
    assert decoded == {"a": Decimal("0.1000000000000000055511151231257827"), "b": Decimal("1E+5"), "c": 7}
    assert repr(decoded["b"]) == "Decimal('1E+5')" and type(decoded["c"]) is int
    assert (
        msgspec.json.decode(b'{"event_type": "order", "x": 1, "x": 2}')["x"] == 2
    )  # the last, as json.loads
