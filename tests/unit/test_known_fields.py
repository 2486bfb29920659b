"""Nothing a producer sends is dropped: unknown keys at any depth go to ``extra_fields``, the
message's lineage goes with every row, and a NULLABLE field added to ``schemas/`` is checked by
type and loaded as a column with no other edit (``transforms.known_fields``)."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import STREAMS, load_schema
from tests.events import INVENTORY, ORDER, USER_ACTIVITY, encode
from transforms import errors, known_fields
from transforms.errors import Rejection
from transforms.known_fields import RULE_FIELDS, SchemaProblem, json_safe, typed_value
from transforms.messages import Failure, Message, ValidEvent
from transforms.triage import triage

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
BASES = {"orders": ORDER, "inventory": INVENTORY, "user_activity": USER_ACTIVITY}


def both(message: Message) -> ValidEvent | Failure:
    """The outcome of ``message``, after checking the fast and the precise path agree on it."""
    fast = triage(message, NOW)
    precise = triage(message, NOW, fast=False)
    assert repr(fast) == repr(precise), message.data[:300]
    return fast


def extra_fields(event: dict[str, Any]) -> Any:
    outcome = both(Message(data=encode(event)))
    assert isinstance(outcome, ValidEvent), outcome
    text = outcome.row["extra_fields"]
    return None if text is None else json.loads(text)


def test_events_without_unknown_keys_have_no_extra_fields():
    order = {k: v for k, v in ORDER.items()}
    assert extra_fields(order) is None
    assert extra_fields(INVENTORY) is None
    activity = {k: v for k, v in USER_ACTIVITY.items() if k != "client_version"}
    assert extra_fields(activity) is None


def test_unknown_keys_are_kept_at_every_depth_under_their_paths():
    order = copy.deepcopy(ORDER)
    order["coupon_code"] = "WINTER"
    order["shipping_address"]["floor"] = 3
    order["items"][1]["sku_color"] = "red"
    order["items"][1]["options"] = {"gift": True, "wrap": [1, {"paper": None}]}
    order["nested"] = {"a": [1, {"b": None}], "c": {"d": {"e": "deep"}}}
    assert extra_fields(order) == {
        "coupon_code": "WINTER",
        "shipping_address": {"floor": 3},
        "items": [{}, {"sku_color": "red", "options": {"gift": True, "wrap": [1, {"paper": None}]}}],
        "nested": {"a": [1, {"b": None}], "c": {"d": {"e": "deep"}}},
    }
    activity = copy.deepcopy(USER_ACTIVITY)
    activity["metadata"]["screen"] = {"width": 390, "height": 844}
    assert extra_fields(activity) == {
        "client_version": "7.1",
        "metadata": {"screen": {"width": 390, "height": 844}},
    }


def test_a_key_named_like_a_pipeline_column_is_the_producers_data():
    order = {**ORDER, "event_date": "1999-01-01", "message_id": "fake", "extra_fields": {"x": 1}}
    outcome = both(Message(data=encode(order)))
    assert outcome.row["event_date"] == "2026-11-01"  # the pipeline's, from order_date
    assert outcome.row["message_id"] is None  # a file line has none
    assert json.loads(outcome.row["extra_fields"]) == {
        "event_date": "1999-01-01",
        "message_id": "fake",
        "extra_fields": {"x": 1},
    }


def test_numbers_bigquery_json_would_round_are_kept_as_their_exact_text():
    data = (
        b'{"event_type": "inventory", "inventory_id": "i", "product_id": "p", "warehouse_id": "w",'
        b' "quantity_change": 5, "reason": "restock", "timestamp": 1762000000000,'
        b' "ratio": 1.00000000000000000001, "plain": 0.1, "price": 19.99, "huge": 1180591620717411303424,'
        b' "uint": 18446744073709551615, "tiny": 1e-400, "big": 1e400, "count": 42}'
    )
    outcome = both(Message(data=data))
    assert json.loads(outcome.row["extra_fields"], parse_float=Decimal) == {
        "ratio": "1.00000000000000000001",
        "plain": Decimal("0.1"),
        "price": Decimal("19.99"),
        "huge": "1180591620717411303424",
        "uint": 18446744073709551615,
        "tiny": "1E-400",
        "big": "1E+400",
        "count": 42,
    }
    assert json_safe([True, None, "s"]) == [True, None, "s"]


def test_lineage_of_pubsub_messages_envelopes_and_plain_lines():
    published = datetime(2026, 11, 1, 9, 0, 0, 123000, tzinfo=timezone.utc)
    pubsub = both(Message(encode(INVENTORY), {"origin": "shop", "tenant": "eu"}, "m-17", published))
    assert (pubsub.row["message_id"], pubsub.row["publish_time"]) == ("m-17", "2026-11-01T09:00:00.123000Z")
    assert json.loads(pubsub.row["attributes"]) == {"origin": "shop", "tenant": "eu"}
    bare = both(Message(encode(INVENTORY), {}, "m-18", published))
    assert bare.row["attributes"] == "{}"
    envelope = Message(encode(INVENTORY), {"origin": "shop"}, "m-19", published).to_envelope()
    replayed = both(Message.from_envelope(envelope))
    assert replayed.row["message_id"] == "m-19"
    assert json.loads(replayed.row["attributes"]) == {"origin": "shop"}
    plain = both(Message(encode(INVENTORY), {"source_file": "events-1.jsonl"}))
    assert [plain.row[c] for c in ("message_id", "publish_time", "attributes")] == [None, None, None]


@pytest.mark.parametrize("stream", STREAMS)
def test_rule_fields_are_what_each_contract_function_builds(stream):
    outcome = both(Message(data=encode(BASES[stream])))

    def paths(value: dict[str, Any], prefix: str = "") -> set[str]:
        found = set()
        for key, child in value.items():
            found.add(prefix + key)
            element = child[0] if isinstance(child, list) and child and isinstance(child[0], dict) else child
            if isinstance(element, dict):
                found |= paths(element, f"{prefix}{key}.")
        return found

    built = paths({k: v for k, v in outcome.event.items() if k not in known_fields.PIPELINE_COLUMNS})
    assert built == RULE_FIELDS[stream]
    schema_paths = paths({f["name"]: _as_value(f) for f in load_schema("events", stream)})
    assert RULE_FIELDS[stream] <= schema_paths


def _as_value(field: dict[str, Any]) -> Any:
    if field["type"] != "RECORD":
        return None
    record = {f["name"]: _as_value(f) for f in field["fields"]}
    return [record] if field.get("mode") == "REPEATED" else record


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("STRING", "", ""),
        ("STRING", "WINTER", "WINTER"),
        ("INTEGER", -7, -7),
        ("INT64", 2**63 - 1, 2**63 - 1),
        ("NUMERIC", Decimal("-1.25"), Decimal("-1.25")),
        ("NUMERIC", " 10.5 ", Decimal("10.5")),
        ("NUMERIC", 3, Decimal(3)),
        ("BOOLEAN", False, False),
        ("BOOL", True, True),
        ("TIMESTAMP", "2026-11-01T10:00:00+02:00", datetime(2026, 11, 1, 8, tzinfo=timezone.utc)),
        ("TIMESTAMP", 0, datetime(1970, 1, 1, tzinfo=timezone.utc)),
        ("DATE", "2024-02-29", date(2024, 2, 29)),
        ("JSON", {"a": [1, Decimal("1.00000000000000000001")]}, {"a": [1, "1.00000000000000000001"]}),
        ("STRING", None, None),
    ],
)
def test_typed_values_of_each_type(kind, value, expected):
    assert typed_value(kind, value, "f") == expected


@pytest.mark.parametrize(
    ("kind", "value", "code", "words"),
    [
        ("STRING", 5, errors.WRONG_TYPE, "must be a string, got number 5"),
        ("INTEGER", "5", errors.WRONG_TYPE, "must be an integer"),
        ("INTEGER", True, errors.WRONG_TYPE, "must be an integer, got boolean"),
        ("INTEGER", Decimal("2.0"), errors.WRONG_TYPE, "must be an integer"),
        ("INTEGER", 2**63, errors.INVALID_VALUE, "does not fit a 64-bit integer"),
        ("NUMERIC", "ten", errors.WRONG_TYPE, "must be a decimal number"),
        ("NUMERIC", "\u0664", errors.WRONG_TYPE, "must be a decimal number"),
        ("NUMERIC", Decimal("1e29"), errors.INVALID_VALUE, "does not fit BigQuery NUMERIC"),
        ("NUMERIC", "0.0000000001", errors.INVALID_VALUE, "does not fit BigQuery NUMERIC"),
        ("NUMERIC", Decimal("-1E+999999999999999999"), errors.INVALID_VALUE, "does not fit BigQuery NUMERIC"),
        ("NUMERIC", "NaN", errors.INVALID_VALUE, "must be a finite number"),
        ("BOOLEAN", "true", errors.WRONG_TYPE, "must be true or false"),
        ("TIMESTAMP", "yesterday", errors.BAD_TIMESTAMP, "is not an RFC 3339 timestamp"),
        ("DATE", "2023-02-29", errors.INVALID_VALUE, "must be a date YYYY-MM-DD"),
        ("DATE", "20240101", errors.INVALID_VALUE, "must be a date YYYY-MM-DD"),
        ("DATE", 20240101, errors.WRONG_TYPE, "must be a date (YYYY-MM-DD)"),
    ],
)
def test_typed_values_of_the_wrong_type_are_rejected_naming_the_field(kind, value, code, words):
    with pytest.raises(Rejection) as raised:
        typed_value(kind, value, "items[0].promo")
    assert raised.value.code == code
    assert "field 'items[0].promo'" in raised.value.message and words in raised.value.message


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ({"name": "coupon", "type": "STRING", "mode": "REQUIRED"}, "is REQUIRED, but no contract rule"),
        ({"name": "ratio", "type": "FLOAT", "mode": "NULLABLE"}, "has type FLOAT"),
        ({"name": "tags", "type": "STRING", "mode": "REPEATED"}, "is REPEATED"),
    ],
)
def test_a_field_the_pipeline_cannot_check_by_type_is_refused_naming_file_and_field(field, words):
    schema = [*load_schema("events", "orders"), field]
    with pytest.raises(SchemaProblem) as raised:
        known_fields._tree("orders", schema, "")
    assert f"schemas/events/orders.json: field '{field['name']}'" in str(raised.value)
    assert words in str(raised.value)


# --- a property: whatever unknown keys a producer adds, where it may, they all come back ---------

KNOWN_NAMES = {"event_type", "event_id", "items", "shipping_address", "metadata"} | {
    path.rsplit(".", 1)[-1] for paths in RULE_FIELDS.values() for path in paths
}
unknown_keys = st.text(min_size=1, max_size=12).filter(lambda key: key not in KNOWN_NAMES)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
additions = st.dictionaries(unknown_keys, json_values, max_size=3)


def known_columns(event: dict[str, Any]) -> dict[str, Any]:
    outcome = both(Message(data=json.dumps(event).encode("utf-8")))
    assert isinstance(outcome, ValidEvent), outcome
    return {k: v for k, v in outcome.row.items() if k != "extra_fields"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(top=additions, address=additions, item=additions, metadata=additions, at=st.integers(0, 1))
def test_every_unknown_key_added_anywhere_comes_back_in_extra_fields(top, address, item, metadata, at):
    order = copy.deepcopy(ORDER)
    order.update(top)
    order["shipping_address"].update(address)
    order["items"][at].update(item)
    order_kept: dict[str, Any] = dict(top)
    if address:
        order_kept["shipping_address"] = address
    if item:
        order_kept["items"] = [item if index == at else {} for index in range(len(order["items"]))]
    activity_base = {k: v for k, v in USER_ACTIVITY.items() if k != "client_version"}
    activity = copy.deepcopy(activity_base)
    activity.update(top)
    activity["metadata"].update(metadata)
    activity_kept: dict[str, Any] = dict(top)
    if metadata:
        activity_kept["metadata"] = metadata
    for event, base, kept in ((order, ORDER, order_kept), (activity, activity_base, activity_kept)):
        assert extra_fields(event) == (json.loads(json.dumps(json_safe(kept))) if kept else None)
        assert known_columns(event) == known_columns(base)  # the known columns are untouched
