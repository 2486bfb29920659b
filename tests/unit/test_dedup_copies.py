"""What batch de-duplication carries through its shuffle (``EventCopy`` and its coder), the archive
line written without ``json.dumps``, and the per-stream outputs of ``DeduplicateEvents``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas import STREAMS
from tests.events import INVENTORY, ORDER, encode
from transforms.dedup import DeduplicateEvents, EventCopyCoder
from transforms.messages import EventCopy, Message, ValidEvent
from transforms.triage import triage

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
PUBLISHED = datetime(2026, 11, 1, 8, 30, 15, 123456, tzinfo=timezone.utc)


def valid(payload: dict, **message) -> ValidEvent:
    outcome = triage(Message(data=encode(payload), **message), NOW)
    assert isinstance(outcome, ValidEvent), outcome
    return outcome


def test_a_copy_carries_what_the_later_stages_read():
    event = valid(ORDER, attributes={"k": "v"}, message_id="m-1", publish_time=PUBLISHED)
    copy = EventCopy.of(event)

    assert (copy.message, copy.stream, copy.event_id, copy.row) == (
        event.message,
        event.stream,
        event.event_id,
        event.row,
    )
    assert copy.event_time == event.event_time
    assert copy.metric_type == "pending"


@pytest.mark.parametrize(
    "message",
    [
        {},
        {"attributes": {"k": "v"}, "message_id": "m-1", "publish_time": PUBLISHED},
        {"publish_time": datetime(1, 1, 1, tzinfo=timezone.utc)},
    ],
)
def test_the_coder_gives_back_the_copy(message):
    copy = EventCopy.of(valid(ORDER, **message))
    coder = EventCopyCoder()
    assert coder.decode(coder.encode(copy)) == copy


def test_what_msgpack_cannot_carry_exactly_is_pickled():
    other_zone = timezone(timedelta(hours=2))
    copy = EventCopy.of(valid(INVENTORY, publish_time=PUBLISHED.astimezone(other_zone)))
    huge = EventCopy.of(valid(INVENTORY))
    huge.row["quantity_change"] = 2**70
    coder = EventCopyCoder()
    for value in (copy, huge):
        back = coder.decode(coder.encode(value))
        assert back == value
        assert back.message.publish_time is None or back.message.publish_time.utcoffset() == (
            value.message.publish_time.utcoffset()
        )


@pytest.mark.parametrize(
    "message",
    [
        Message(data=b'{"a": 1}'),
        Message(
            data=b"\xff\xfe binary",
            attributes={"z": "1", "a": "\u00e9"},
            message_id="m",
            publish_time=PUBLISHED,
        ),
        Message(data='Malmö \u2028 "q" \\ \n'.encode(), attributes={"source_file": "in.jsonl"}),
        Message(data=b"", attributes={"k": ""}, message_id=""),
        Message(data=b"x", attributes={"n": 1, "b": None}),
    ],
)
def test_the_archive_line_is_the_sorted_json_of_the_envelope(message):
    assert message.envelope_line() == json.dumps(message.to_envelope(), sort_keys=True)


def order(event_id: str, status: str = "pending") -> ValidEvent:
    return valid({**ORDER, "event_id": event_id, "status": status})


def test_by_stream_routes_each_unique_event_to_its_streams_output():
    stock = valid(INVENTORY)
    events = [order("o-1"), order("o-1", "shipped"), order("o-2"), stock]
    with TestPipeline() as p:
        unique, by_stream = p | beam.Create(events) | DeduplicateEvents(streaming=False)
        assert set(by_stream) == set(STREAMS)
        assert_that(
            unique | "AllIds" >> beam.Map(lambda e: e.event_id), equal_to(["o-1", "o-2", stock.event_id])
        )
        assert_that(
            by_stream["orders"] | "OrderIds" >> beam.Map(lambda e: e.event_id),
            equal_to(["o-1", "o-2"]),
            label="Orders",
        )
        assert_that(
            by_stream["inventory"] | "InventoryIds" >> beam.Map(lambda e: e.event_id),
            equal_to([stock.event_id]),
            label="Inventory",
        )
        assert_that(by_stream["user_activity"], equal_to([]), label="NoActivity")
