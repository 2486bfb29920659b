"""Parse and validate: every error code from a real bad payload, and exact rows for valid events.

Runs the Beam transforms on the TestPipeline with ``assert_that``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import date, datetime, timezone
from decimal import Decimal

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.events import INVENTORY, ORDER, USER_ACTIVITY, changed, encode
from transforms.messages import Failure, Message, ValidEvent, envelope_of
from transforms.parse import ParseAndValidate
from transforms.rows import dead_letter_row, event_row
from transforms.triage import triage, validate_message
from transforms.validation import MAX_PAYLOAD_BYTES, derive_event_id, mask_ip, parse_payload

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
FAILED_AT = datetime(2026, 11, 2, 12, 0, 5, tzinfo=timezone.utc)


def fixed_clock() -> datetime:
    return NOW


def dead_letter_of(payload: bytes, ip_mode: str = "truncate", key: bytes | None = None) -> dict:
    """The one outcome of ``payload`` through the parse/validate core, as its dead-letter row."""
    outcome = triage(Message(data=payload, message_id="m-0"), NOW, ip_mode, key)
    assert isinstance(outcome, Failure), f"expected a failure, got a valid {outcome.stream} event"
    return dead_letter_row(outcome, FAILED_AT)


# (error code, stream, stage) -> the bad payloads that end there, each as
# (id, payload, words the error message must contain)
BAD_OUTCOMES = {
    ("nesting_too_deep", "unknown", "parse"): [
        ("deep-array", b"[" * 100_000, "deeper than 32"),
        ("deep-object", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "32"),
    ],
    ("invalid_json", "unknown", "parse"): [
        ("truncated-json", b'{"event_type": "order", "order_id": "o', "not valid JSON"),
        ("nan-constant", b'{"event_type": NaN}', "NaN"),
    ],
    ("invalid_encoding", "unknown", "parse"): [
        ("invalid-utf8", b'{"event_type": "order", "x": "\xff\xfe"}', "UTF-8"),
    ],
    ("invalid_encoding", "inventory", "validate"): [
        (
            "lone-surrogate",
            changed(INVENTORY, "warehouse_id", "hw-\ud800"),
            "field 'warehouse_id' holds a lone UTF-16 surrogate",
        ),
    ],
    ("not_an_object", "unknown", "parse"): [
        ("array", b'[{"event_type": "order"}]', "array"),
    ],
    ("unknown_event_type", "unknown", "validate"): [
        ("unknown-type", b'{"event_type": "refund", "refund_id": "r-1"}', "refund"),
    ],
    ("missing_field", "unknown", "validate"): [
        ("missing-event-type", encode({"order_id": "o-1"}), "event_type"),
    ],
    ("missing_field", "orders", "validate"): [
        ("missing-customer-id", changed(ORDER, "customer_id", delete=True), "'customer_id'"),
        ("missing-item-price", changed(ORDER, "items.0.price", delete=True), "'items[0].price'"),
        ("missing-city", changed(ORDER, "shipping_address.city", delete=True), "'shipping_address.city'"),
    ],
    ("missing_field", "inventory", "validate"): [
        ("missing-warehouse", changed(INVENTORY, "warehouse_id", delete=True), "'warehouse_id'"),
    ],
    ("missing_field", "user_activity", "validate"): [
        ("missing-platform", changed(USER_ACTIVITY, "metadata.platform", delete=True), "'metadata.platform'"),
        ("missing-metadata", changed(USER_ACTIVITY, "metadata", delete=True), "'metadata'"),
    ],
    ("wrong_type", "orders", "validate"): [
        (
            "quantity-string",
            changed(ORDER, "items.0.quantity", "three"),
            "'items[0].quantity' must be an integer",
        ),
        ("quantity-fraction", changed(ORDER, "items.0.quantity", 1.5), "'items[0].quantity'"),
        ("items-object", changed(ORDER, "items", {"product_id": "p"}), "'items' must be an array"),
        ("customer-number", changed(ORDER, "customer_id", 42), "'customer_id' must be a string"),
        ("amount-text", changed(ORDER, "total_amount", "a lot"), "'total_amount' must be a decimal"),
        (
            "address-string",
            changed(ORDER, "shipping_address", "Oslo"),
            "'shipping_address' must be an object",
        ),
        ("event-id-number", changed(ORDER, "event_id", 7), "'event_id'"),
    ],
    ("invalid_value", "orders", "validate"): [
        ("status-enum", changed(ORDER, "status", "lost"), "'status'"),
        ("items-empty", changed(ORDER, "items", []), "at least one"),
        ("quantity-zero", changed(ORDER, "items.0.quantity", 0), "'items[0].quantity' must be >= 1"),
        ("price-negative", changed(ORDER, "items.0.price", "-1.00"), "'items[0].price' must be >= 0"),
        ("country-unknown", changed(ORDER, "shipping_address.country", "XX"), "ISO 3166-1"),
        ("event-id-too-long", changed(ORDER, "event_id", "x" * 129), "'event_id'"),
    ],
    ("invalid_value", "inventory", "validate"): [
        ("change-zero", changed(INVENTORY, "quantity_change", 0), "'quantity_change'"),
        ("change-range", changed(INVENTORY, "quantity_change", 150), "between -100 and 100"),
        ("sale-positive", changed(INVENTORY, "quantity_change", 5), "negative for reason 'sale'"),
        (
            "restock-negative",
            encode({**INVENTORY, "reason": "restock", "quantity_change": -3}),
            "positive for reason 'restock'",
        ),
        ("reason-enum", changed(INVENTORY, "reason", "theft"), "'reason'"),
    ],
    ("invalid_value", "user_activity", "validate"): [
        ("activity-enum", changed(USER_ACTIVITY, "activity_type", "purchase"), "'activity_type'"),
        ("platform-enum", changed(USER_ACTIVITY, "metadata.platform", "desktop"), "'metadata.platform'"),
        ("ip-invalid", changed(USER_ACTIVITY, "ip_address", "999.1.1.1"), "'ip_address'"),
    ],
    ("bad_timestamp", "orders", "validate"): [
        ("timestamp-impossible", changed(ORDER, "order_date", "2026-13-45T00:00:00Z"), "'order_date'"),
        ("timestamp-naive", changed(ORDER, "order_date", "2026-11-01T10:00:00"), "no zone offset"),
    ],
    ("bad_timestamp", "user_activity", "validate"): [
        ("timestamp-text", changed(USER_ACTIVITY, "timestamp", "yesterday"), "RFC 3339"),
    ],
    ("future_timestamp", "inventory", "validate"): [
        ("timestamp-future", changed(INVENTORY, "timestamp", "2026-11-04T12:00:01Z"), "more than 1 day"),
    ],
    ("amount_mismatch", "orders", "validate"): [
        ("amount-mismatch", changed(ORDER, "total_amount", "20.45"), "15.45"),
    ],
    ("payload_too_large", "unknown", "parse"): [
        ("oversized", encode({**ORDER, "padding": "x" * MAX_PAYLOAD_BYTES}), "1 MiB"),
    ],
}
BAD_CASES = [
    pytest.param(payload, *outcome, words, id=name)
    for outcome, cases in BAD_OUTCOMES.items()
    for name, payload, words in cases
]


@pytest.mark.parametrize(("payload", "code", "stream", "stage", "words"), BAD_CASES)
def test_bad_message_becomes_one_dead_letter_row(payload, code, stream, stage, words):
    row = dead_letter_of(payload)
    assert (row["error_code"], row["stream"], row["stage"]) == (code, stream, stage)
    assert words in row["error_message"]
    assert row["failed_at"] == "2026-11-02T12:00:05Z"
    assert row["message_id"] == "m-0"
    if code == "invalid_encoding" and not payload.isascii():
        assert row["payload_encoding"] == "base64"
    elif code == "payload_too_large":
        assert row["payload_truncated"] is True
        assert len(row["payload"].encode("utf-8")) == MAX_PAYLOAD_BYTES
    else:
        assert (row["payload"], row["payload_encoding"], row["payload_truncated"]) == (
            payload.decode(),
            "utf-8",
            False,
        )


def test_the_beam_stage_routes_every_bad_case_to_failures_and_counts_it():
    """The DoFns around the core: every bad case on the failures output, once, with its code."""
    payloads = [case.values[0] for case in BAD_CASES]
    with TestPipeline() as p:
        messages = p | beam.Create([Message(data=d, message_id=f"m-{i}") for i, d in enumerate(payloads)])
        valid, failures = messages | ParseAndValidate("truncate", None, fixed_clock)
        assert_that(
            failures | beam.Map(lambda f: (f.message.message_id, f.code)),
            equal_to([(f"m-{i}", case.values[1]) for i, case in enumerate(BAD_CASES)]),
        )
        assert_that(valid, equal_to([]), label="NothingValid")


def test_a_bug_in_our_code_dead_letters_the_message_as_internal_error():
    # --ip_mode hash without a key is refused up front by the options; reaching mask_ip without
    # one stands in for any bug of ours: that message, and only it, becomes internal_error.
    row = dead_letter_of(encode(USER_ACTIVITY), ip_mode="hash", key=None)
    assert (row["error_code"], row["stream"], row["stage"]) == ("internal_error", "user_activity", "validate")
    assert row["error_message"].startswith("ValueError at stage validate: --ip_mode hash needs")
    assert row["payload"] == encode(USER_ACTIVITY).decode()
    assert isinstance(triage(Message(data=encode(ORDER)), NOW, "hash", None), ValidEvent)


def test_all_error_codes_are_covered_by_cases():
    from transforms.errors import ERROR_CODES, INTERNAL_ERROR, INVALID_ENVELOPE, LOAD_REJECTED

    covered = {case.values[1] for case in BAD_CASES}
    # load_rejected: integration/test_load_rejected.py and the row-size test below; internal_error
    # and invalid_envelope: their own tests above and below.
    assert covered == set(ERROR_CODES) - {LOAD_REJECTED, INTERNAL_ERROR, INVALID_ENVELOPE}


def test_timestamp_exactly_one_day_ahead_is_accepted_but_not_beyond():
    ok = changed(INVENTORY, "timestamp", "2026-11-03T12:00:00Z")
    late = changed(INVENTORY, "timestamp", "2026-11-03T12:00:00.001Z")
    with TestPipeline() as p:
        valid, failures = (
            p
            | beam.Create([Message(data=ok), Message(data=late)])
            | ParseAndValidate("truncate", None, fixed_clock)
        )
        assert_that(
            valid | beam.Map(lambda e: e.event["timestamp"].isoformat()),
            equal_to(["2026-11-03T12:00:00+00:00"]),
        )
        assert_that(failures | beam.Map(lambda f: f.code), equal_to(["future_timestamp"]), label="Rejected")


def assert_rows(
    payloads: list[bytes], expected: list[tuple], ip_mode: str = "truncate", key: bytes | None = None
):
    """Run ParseAndValidate; the (stream, row) pairs must equal ``expected`` and nothing may fail."""
    with TestPipeline() as p:
        messages = p | beam.Create([Message(data=d) for d in payloads])
        valid, failures = messages | ParseAndValidate(ip_mode, key, fixed_clock)
        rows = valid | beam.Map(lambda e: (e.stream, event_row(e.stream, e.event)))
        assert_that(rows, equal_to(expected))
        assert_that(failures, equal_to([]), label="NoFailures")


def test_valid_events_become_exact_rows():
    order_row = {
        "order_id": "ord-1",
        "customer_id": "cust-1",
        "order_date": "2026-11-01T08:15:00Z",
        "status": "pending",
        "items": [
            {"product_id": "p-1", "product_name": "Mug", "quantity": 2, "price": "4.10"},
            {"product_id": "p-2", "product_name": "Tea", "quantity": 1, "price": "7.25"},
        ],
        "shipping_address": {"street": "1 Karl Johans gate", "city": "Oslo", "country": "NO"},
        "total_amount": "15.45",
        "event_id": "evt-order-1",
        "event_type": "order",
        "processed_timestamp": "2026-11-02T12:00:00Z",
        "event_date": "2026-11-01",
        "message_id": None,
        "publish_time": None,
        "attributes": None,
        "extra_fields": None,
    }
    inventory_row = {
        "inventory_id": "inv-1",
        "product_id": "p-1",
        "warehouse_id": "wh-1",
        "quantity_change": -2,
        "reason": "sale",
        "timestamp": "2025-11-01T12:26:40Z",
        "event_id": derive_event_id(parse_payload(encode(INVENTORY))),
        "event_type": "inventory",
        "processed_timestamp": "2026-11-02T12:00:00Z",
        "event_date": "2025-11-01",
        "message_id": None,
        "publish_time": None,
        "attributes": None,
        "extra_fields": None,
    }
    activity_row = {
        "user_id": "cust-1",
        "activity_type": "add_to_cart",
        "ip_address": "203.0.113.0",
        "user_agent": "Mozilla/5.0",
        "timestamp": "2026-11-01T08:00:00.250000Z",
        "metadata": {"session_id": "sess-1", "platform": "mobile"},
        "event_id": "evt-ua-1",
        "event_type": "user_activity",
        "processed_timestamp": "2026-11-02T12:00:00Z",
        "event_date": "2026-11-01",
        "message_id": None,
        "publish_time": None,
        "attributes": None,
        "extra_fields": '{"client_version":"7.1"}',  # a key the contract does not know, kept
    }
    assert_rows(
        [encode(ORDER), encode(INVENTORY), encode(USER_ACTIVITY)],
        [("orders", order_row), ("inventory", inventory_row), ("user_activity", activity_row)],
    )


def test_event_date_is_the_utc_date_of_the_event_time():
    late_evening_in_new_york = changed(ORDER, "order_date", "2026-10-31T22:30:00-04:00")
    with TestPipeline() as p:
        valid, _ = (
            p | beam.Create([Message(data=late_evening_in_new_york)]) | ParseAndValidate(clock=fixed_clock)
        )
        dates = valid | beam.Map(
            lambda e: (event_row(e.stream, e.event)["order_date"], e.event["event_date"])
        )
        assert_that(dates, equal_to([("2026-11-01T02:30:00Z", date(2026, 11, 1))]))


def test_money_stays_exact():
    one_line = [{"product_id": "p", "product_name": "n", "quantity": 3, "price": 0.1}]
    payload = changed(ORDER, "items", one_line).replace(b'"total_amount": "15.45"', b'"total_amount": 0.30')
    with TestPipeline() as p:
        valid, _ = p | beam.Create([Message(data=payload)]) | ParseAndValidate(clock=fixed_clock)
        money = valid | beam.Map(lambda e: (e.event["items"][0]["price"], e.event["total_amount"]))
        assert_that(money, equal_to([(Decimal("0.1"), Decimal("0.30"))]))


def test_derived_event_id_is_stable_across_key_order_and_whitespace():
    a = encode({k: INVENTORY[k] for k in sorted(INVENTORY)})
    b = encode({k: INVENTORY[k] for k in sorted(INVENTORY, reverse=True)}).replace(b", ", b" ,  ")
    expected = hashlib.sha256(
        b'{"event_type":"inventory","inventory_id":"inv-1","product_id":"p-1","quantity_change":-2,'
        b'"reason":"sale","timestamp":1762000000000,"warehouse_id":"wh-1"}'
    ).hexdigest()
    with TestPipeline() as p:
        valid, _ = p | beam.Create([Message(data=a), Message(data=b)]) | ParseAndValidate(clock=fixed_clock)
        assert_that(valid | beam.Map(lambda e: e.event_id), equal_to([expected, expected]))


@pytest.mark.parametrize(
    ("address", "mode", "expected"),
    [
        ("203.0.113.77", "raw", "203.0.113.77"),
        ("203.0.113.77", "truncate", "203.0.113.0"),
        ("2001:db8:abcd:12:34:56:78:9a", "truncate", "2001:db8:abcd::"),
        ("2001:db8:abcd:12:34:56:78:9a", "raw", "2001:db8:abcd:12:34:56:78:9a"),
    ],
)
def test_ip_modes(address, mode, expected):
    import ipaddress

    assert mask_ip(ipaddress.ip_address(address), mode, None) == expected


def test_ip_hash_is_keyed_hmac_sha256():
    expected = hmac.new(b"secret", b"203.0.113.77", hashlib.sha256).hexdigest()
    with TestPipeline() as p:
        valid, _ = (
            p
            | beam.Create([Message(data=encode(USER_ACTIVITY))])
            | ParseAndValidate("hash", b"secret", fixed_clock)
        )
        assert_that(valid | beam.Map(lambda e: e.event["ip_address"]), equal_to([expected]))


def test_archive_envelope_round_trips_bytes_attributes_and_ids():
    original = Message(
        data=b'{"event_type": "order", "x": "\xff"}',
        attributes={"origin": "test"},
        message_id="123",
        publish_time=datetime(2026, 11, 1, 8, 30, 0, 250000, tzinfo=timezone.utc),
    )
    envelope = original.to_envelope()
    assert envelope["data_encoding"] == "base64"
    assert envelope["publish_time"] == "2026-11-01T08:30:00.250000Z"
    line = json.dumps(envelope).encode()
    assert envelope_of(line, 10**7) == envelope
    assert Message.from_envelope(envelope_of(line, 10**7)) == original
    assert envelope_of(encode(ORDER), 10**7) is None


ENVELOPE_LOOKALIKES = [
    pytest.param({"data": "@@@", "data_encoding": "base64"}, "not valid base64", id="bad-base64"),
    pytest.param(
        {"data": "{}", "data_encoding": "utf-8", "publish_time": "yesterday"}, "publish_time", id="time"
    ),
    pytest.param(
        {"data": "{}", "data_encoding": "utf-8", "attributes": ["a"]}, "attributes", id="attrs-list"
    ),
    pytest.param(
        {"data": "{}", "data_encoding": "utf-8", "attributes": {"k": 1}}, "attributes", id="attr-int"
    ),
    pytest.param(
        {"data": {"event_type": "order"}, "data_encoding": "utf-8"}, "'data' must be", id="data-obj"
    ),
    pytest.param({"data": "{}", "data_encoding": "rot13"}, "data_encoding", id="encoding"),
    pytest.param({"data": "{}", "data_encoding": "utf-8", "message_id": 7}, "message_id", id="message-id"),
]


@pytest.mark.parametrize(("envelope", "words"), ENVELOPE_LOOKALIKES)
def test_envelope_lookalike_becomes_invalid_envelope_with_the_line_as_payload(envelope, words):
    from pipeline.sources import line_to_message

    line = json.dumps(envelope).encode()
    outcome = triage(line_to_message("in.jsonl", line), NOW)
    assert isinstance(outcome, Failure)
    assert (outcome.code, outcome.stream, outcome.stage) == ("invalid_envelope", "unknown", "parse")
    assert words in outcome.reason
    row = dead_letter_row(outcome, FAILED_AT)
    assert row["payload"] == line.decode()
    assert json.loads(row["attributes"])["source_file"] == "in.jsonl"
    # replaying the archived message gives the same outcome
    replayed = triage(Message.from_envelope(outcome.message.to_envelope()), NOW)
    assert (replayed.code, replayed.reason) == (outcome.code, outcome.reason)


def test_a_deeply_nested_envelope_lookalike_stays_data_and_is_rejected_as_too_deep():
    from pipeline.sources import line_to_message

    line = b'{"data_encoding": "base64", "data": ' + b"[" * 100_000 + b"}"
    outcome = triage(line_to_message("in.jsonl", line), NOW)
    assert outcome.code == "nesting_too_deep"


@pytest.mark.parametrize(
    ("field", "value", "code", "words"),
    [
        ("timestamp", "9999-12-31T23:30:00-01:00", "bad_timestamp", "not a valid time"),
        ("timestamp", "0001-01-01T00:10:00+01:00", "bad_timestamp", "not a valid time"),
        ("quantity_change", 2**63, "invalid_value", "64-bit"),
        ("quantity_change", -(2**70), "invalid_value", "64-bit"),
        ("timestamp", 10**30, "bad_timestamp", "out of range"),
    ],
)
def test_extreme_values_are_rejected_with_the_field_named(field, value, code, words):
    row = dead_letter_of(changed(INVENTORY, field, value))
    assert row["error_code"] == code
    assert f"'{field}'" in row["error_message"] and words in row["error_message"]


def test_order_quantity_beyond_int64_is_rejected_before_bigquery_would_refuse_it():
    row = dead_letter_of(changed(ORDER, "items.0.quantity", 2**64))
    assert (row["error_code"], row["stream"]) == ("invalid_value", "orders")
    assert "items[0].quantity" in row["error_message"]


def test_a_row_too_large_for_one_insert_request_is_load_rejected_not_sent():
    message = Message(data=encode(ORDER), message_id="m-big")
    parsed = parse_payload(message.data)
    outcome = validate_message(message, parsed, NOW, max_row_bytes=200)
    assert isinstance(outcome, Failure)
    assert (outcome.code, outcome.stage, outcome.stream) == ("load_rejected", "load", "orders")
    assert "one BigQuery insert request holds at most 200 bytes" in outcome.reason
    assert isinstance(validate_message(message, parsed, NOW), ValidEvent)


def _writable(row: dict) -> int:
    text = json.dumps(row)
    text.encode("utf-8")
    return len(text)


def test_dead_letter_row_is_writable_whatever_the_failure_holds():
    hostile = Failure(
        message=Message(
            data=b"\x01" * MAX_PAYLOAD_BYTES * 2,
            attributes={f"k\ud800{i}": "v\udfff" * 2000 for i in range(150)},
            message_id="id-\ud800",
            publish_time=datetime(2026, 11, 1, tzinfo=timezone.utc),
        ),
        stream="orders",
        stage="validate",
        code="invalid_value",
        reason="why \ud800 " * 10_000,
        event_id="e-\udc00",
    )
    row = dead_letter_row(hostile, FAILED_AT, max_row_bytes=2_000_000)
    assert _writable(row) <= 2_000_000
    assert row["payload_truncated"] is True and row["payload_encoding"] == "utf-8"
    attributes = json.loads(row["attributes"])
    assert len(attributes) == 101 and "50 more attributes not kept" in attributes.values()
    assert row["message_id"] == "id-\\ud800" and row["event_id"] == "e-\\udc00"
    assert len(row["error_message"]) == 4000


def test_dead_letter_payload_is_base64_when_not_utf8_and_cut_to_fit_the_row_limit():
    failure = Failure(Message(data=b"\xff" * 500_000), "unknown", "parse", "invalid_encoding", "not UTF-8")
    row = dead_letter_row(failure, FAILED_AT, max_row_bytes=100_000)
    assert row["payload_encoding"] == "base64" and row["payload_truncated"] is True
    assert _writable(row) <= 100_000
    assert base64.b64decode(row["payload"]) == b"\xff" * len(base64.b64decode(row["payload"]))


@pytest.mark.parametrize("price", ["15_45", "\u0664.10", "0x10", "1,5"])
def test_numeric_strings_take_ascii_digits_only(price):
    row = dead_letter_of(changed(ORDER, "items.0.price", price))
    assert (row["error_code"], row["stream"]) == ("wrong_type", "orders")
    assert "items[0].price" in row["error_message"]


def test_a_country_that_only_upper_cases_to_a_code_is_refused():
    row = dead_letter_of(changed(ORDER, "shipping_address.country", "\ufb01"))  # the "fi" ligature
    assert row["error_code"] == "invalid_value" and "shipping_address.country" in row["error_message"]
    assert isinstance(triage(Message(data=changed(ORDER, "shipping_address.country", "no")), NOW), ValidEvent)
