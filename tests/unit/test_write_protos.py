"""The Storage Write API's proto mapping (pipeline.write_protos) against every table the pipeline
writes, from schemas/: every type, nested, repeated and NULL, and the rows the pipeline makes."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from google.protobuf import descriptor_pb2

from pipeline.bigquery_writes import RECEIVED
from pipeline.storage_writes import shard_of
from pipeline.write_protos import (
    PROTO_TYPES,
    UnsupportedColumn,
    date_days,
    descriptor,
    numeric_text,
    row_encoder,
    timestamp_micros,
)
from schemas import load_schema
from tests.events import ORDER, USER_ACTIVITY, encode
from transforms.messages import Failure, Message, ValidEvent
from transforms.rows import dead_letter_row
from transforms.triage import triage

F = descriptor_pb2.FieldDescriptorProto
WRITTEN = ["orders", "inventory", "user_activity", "dead_letter", "realtime_event_metrics"]


def walk(schema, proto, by_name):
    """Assert every column of ``schema`` is a field of ``proto`` as the mapping says."""
    fields = {f.name: f for f in proto.field}
    assert list(fields) == [c["name"] for c in schema], "every column, in order, nothing else"
    for number, column in enumerate(schema, start=1):
        field = fields[column["name"]]
        assert field.number == number
        mode = column.get("mode", "NULLABLE")
        assert field.label == (F.LABEL_REPEATED if mode == "REPEATED" else F.LABEL_OPTIONAL)
        if column["type"] == "RECORD":
            assert field.type == F.TYPE_MESSAGE
            walk(column["fields"], by_name[field.type_name], by_name)
        else:
            assert field.type == PROTO_TYPES[column["type"]]


@pytest.mark.parametrize("table", WRITTEN)
def test_every_column_of_every_written_table_maps_to_its_field(table):
    schema = load_schema("events", table)
    proto = descriptor(schema, name=f"{table}_row")
    names = [n.name for n in proto.nested_type]
    assert len(names) == len(set(names)), "nested types are named uniquely"
    assert all(not n.nested_type for n in proto.nested_type), "every RECORD is a nested type of the root"
    walk(schema, proto, {n.name: n for n in proto.nested_type})
    row_encoder(schema, f"{table}_row")  # the class builds


def test_types_the_schemas_use_are_all_mapped():
    used = set()

    def collect(columns):
        for c in columns:
            used.add(c["type"])
            collect(c.get("fields", []))

    for table in WRITTEN:
        collect(load_schema("events", table))
    assert used <= set(PROTO_TYPES) | {"RECORD"}


SCHEMA = [
    {"name": "s", "type": "STRING", "mode": "REQUIRED"},
    {"name": "j", "type": "JSON"},
    {"name": "i", "type": "INTEGER"},
    {"name": "b", "type": "BOOLEAN"},
    {"name": "n", "type": "NUMERIC"},
    {"name": "ts", "type": "TIMESTAMP"},
    {"name": "d", "type": "DATE"},
    {"name": "f", "type": "FLOAT"},
    {"name": "tags", "type": "STRING", "mode": "REPEATED"},
    {
        "name": "rec",
        "type": "RECORD",
        "fields": [
            {"name": "x", "type": "INTEGER", "mode": "REQUIRED"},
            {"name": "deep", "type": "RECORD", "fields": [{"name": "t", "type": "TIMESTAMP"}]},
        ],
    },
    {"name": "recs", "type": "RECORD", "mode": "REPEATED", "fields": [{"name": "p", "type": "NUMERIC"}]},
]


def test_every_type_round_trips_in_its_wire_form():
    encoder = row_encoder(SCHEMA)
    row = {
        "s": "héllo 中",
        "j": json.dumps({"a": [1, "x"]}),
        "i": -9223372036854775808,
        "b": False,
        "n": "-12345678901234567890.123456789",
        "ts": "2026-03-04T05:06:07.123456Z",
        "d": "2026-03-04",
        "f": 1.5,
        "tags": ["a", "b"],
        "rec": {"x": 1, "deep": {"t": "1970-01-01T00:00:01+01:00"}},
        "recs": [{"p": "0.1"}, {"p": None}, {}],
        RECEIVED: {"data": "never sent"},
    }
    msg = encoder.decode(encoder.encode(row))
    assert msg.s == "héllo 中" and json.loads(msg.j) == {"a": [1, "x"]}
    assert msg.i == -9223372036854775808
    assert msg.HasField("b") and msg.b is False, "False is a value, not NULL"
    assert msg.n == "-12345678901234567890.123456789"
    assert msg.ts == timestamp_micros(datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=timezone.utc))
    assert msg.ts == 1772600767123456
    assert msg.d == (date(2026, 3, 4) - date(1970, 1, 1)).days
    assert msg.f == 1.5
    assert list(msg.tags) == ["a", "b"]
    assert msg.rec.x == 1 and msg.rec.deep.t == -3_599_000_000
    assert [r.HasField("p") for r in msg.recs] == [True, False, False]
    assert msg.recs[0].p == "0.1"
    assert RECEIVED not in {f.name for f, _ in msg.ListFields()}


def test_null_and_absent_leave_fields_unset_and_an_empty_record_is_a_value():
    encoder = row_encoder(SCHEMA)
    msg = encoder.decode(encoder.encode({"s": None, "tags": None, "recs": None, "rec": {}}))
    assert [f.name for f, _ in msg.ListFields()] == ["rec"]
    assert not msg.rec.HasField("x")
    assert encoder.encode({}) == b"", "an all-NULL row is the empty message"


def test_wire_conversions():
    assert timestamp_micros("1970-01-01T00:00:00Z") == 0
    assert timestamp_micros("1969-12-31T23:59:59.999999Z") == -1
    assert timestamp_micros(datetime(2026, 1, 1)) == timestamp_micros("2026-01-01T00:00:00+00:00")
    assert timestamp_micros("0001-01-01T00:00:00Z") == -62135596800000000
    assert date_days("1970-01-02") == 1 and date_days(date(1969, 12, 31)) == -1
    assert date_days(datetime(1970, 1, 3, 5)) == 2
    assert numeric_text(Decimal("1E+2")) == "100" and numeric_text("1.50") == "1.50"
    assert numeric_text(7) == "7"


@pytest.mark.parametrize(
    "row",
    [{"i": "three"}, {"ts": "yesterday"}, {"d": "2026-02-30"}, {"n": True}, {"rec": {"x": 1.5}}, {"b": "x"}],
)
def test_a_value_that_does_not_fit_its_column_raises_a_value_or_type_error(row):
    with pytest.raises((TypeError, ValueError)):
        row_encoder(SCHEMA).encode(row)


def test_an_unmapped_type_is_named():
    with pytest.raises(UnsupportedColumn, match="'r.g'.*GEOGRAPHY"):
        descriptor([{"name": "r", "type": "RECORD", "fields": [{"name": "g", "type": "GEOGRAPHY"}]}])


def _valid_row(payload: bytes) -> dict:
    now = datetime(2026, 11, 2, tzinfo=timezone.utc)
    outcome = triage(Message(data=payload, message_id="m-1", publish_time=now), now)
    assert isinstance(outcome, ValidEvent), outcome
    return outcome.row


def test_rows_the_pipeline_makes_encode_for_their_tables():
    order = _valid_row(encode(ORDER))
    activity = _valid_row(encode(USER_ACTIVITY))
    for table, row in (("orders", order), ("user_activity", activity)):
        encoder = row_encoder(load_schema("events", table))
        msg = encoder.decode(encoder.encode({**row, RECEIVED: {"data": "{}"}}))
        assert msg.event_id == row["event_id"]
        assert msg.event_date == date_days(row["event_date"])
    msg = row_encoder(load_schema("events", "orders")).decode(
        row_encoder(load_schema("events", "orders")).encode(order)
    )
    assert [(i.product_id, i.quantity, Decimal(i.price)) for i in msg.items] == [
        ("p-1", 2, Decimal("4.10")),
        ("p-2", 1, Decimal("7.25")),
    ]
    assert msg.shipping_address.city == "Oslo" and Decimal(msg.total_amount) == Decimal("15.45")
    assert not msg.HasField("extra_fields"), "NULL JSON stays unset"
    activity_msg = row_encoder(load_schema("events", "user_activity")).decode(
        row_encoder(load_schema("events", "user_activity")).encode(activity)
    )
    assert json.loads(activity_msg.extra_fields) == {"client_version": "7.1"}
    assert activity_msg.metadata.platform == "mobile"

    failure = Failure(Message(data=b"{not json"), "unknown", "parse", "invalid_json", "bad")
    dead = dead_letter_row(failure, datetime(2026, 11, 1, tzinfo=timezone.utc))
    encoder = row_encoder(load_schema("events", "dead_letter"))
    msg = encoder.decode(encoder.encode(dead))
    assert msg.payload == "{not json" and msg.error_code == "invalid_json"
    assert msg.failed_at == timestamp_micros("2026-11-01T00:00:00Z")
    assert not msg.HasField("event_id")


def test_shards_are_stable_and_spread():
    rows = [{"event_id": f"evt-{n}"} for n in range(400)]
    shards = [shard_of(r, 4) for r in rows]
    assert shards == [shard_of(r, 4) for r in rows]
    assert set(shards) == {0, 1, 2, 3}
    assert shard_of({"window_start": "2026-01-01T00:00:00Z", "n": 1}, 4) == shard_of(
        {"window_start": "2026-01-01T00:00:00Z", "n": 1}, 4
    )
