"""``dead_letter.message_time``: every rejection is dated by the message's own time.

The rule: the Pub/Sub publish time when there is one, else the event's own time (``order_date`` /
``timestamp``) when it can be read and is not in the future, else ``failed_at``.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.bigquery_writes import RECEIVED
from pipeline.sinks import RejectedRowToDeadLetter
from tests.events import INVENTORY, ORDER, USER_ACTIVITY, changed, encode
from transforms.messages import Failure, Message
from transforms.rows import dead_letter_row, event_row
from transforms.times import epoch_micros, rfc3339
from transforms.triage import triage, validate_message
from transforms.validation import TIME_FIELD, parse_payload, readable_event_time, validate_event

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
FAILED_AT = datetime(2026, 11, 2, 12, 0, 5, tzinfo=timezone.utc)
PUBLISHED = datetime(2026, 10, 30, 9, 0, 0, 125000, tzinfo=timezone.utc)
ORDER_TIME = "2026-11-01T08:15:00Z"  # ORDER's order_date, 10:15+02:00, in UTC
INVENTORY_TIME = "2025-11-01T12:26:40Z"  # INVENTORY's timestamp, epoch ms 1762000000000
ACTIVITY_TIME = "2026-11-01T08:00:00.250000Z"  # USER_ACTIVITY's timestamp


def message_time_of(payload: bytes, publish_time: datetime | None = None) -> str:
    """The ``message_time`` of the dead letter ``payload`` becomes (it must be rejected)."""
    outcome = triage(Message(data=payload, message_id="m-1", publish_time=publish_time), NOW)
    assert isinstance(outcome, Failure), "expected a rejection"
    return dead_letter_row(outcome, FAILED_AT)["message_time"]


def test_the_publish_time_wins_over_the_event_time():
    assert message_time_of(changed(ORDER, "customer_id", delete=True), PUBLISHED) == rfc3339(PUBLISHED)
    assert message_time_of(b"{not json", PUBLISHED) == rfc3339(PUBLISHED)


@pytest.mark.parametrize(
    ("payload", "code", "expected"),
    [
        pytest.param(changed(ORDER, "customer_id", delete=True), "missing_field", ORDER_TIME, id="rfc3339"),
        pytest.param(changed(ORDER, "total_amount", "99"), "amount_mismatch", ORDER_TIME, id="amount"),
        pytest.param(changed(ORDER, "status", "lost"), "invalid_value", ORDER_TIME, id="after-the-time"),
        pytest.param(
            changed(INVENTORY, "quantity_change", 5), "invalid_value", INVENTORY_TIME, id="epoch-ms"
        ),
        pytest.param(changed(USER_ACTIVITY, "ip_address", "x"), "invalid_value", ACTIVITY_TIME, id="before"),
        pytest.param(
            changed(USER_ACTIVITY, "metadata", delete=True), "missing_field", ACTIVITY_TIME, id="after"
        ),
    ],
)
def test_without_a_publish_time_a_validate_failure_is_dated_by_its_event_time(payload, code, expected):
    outcome = triage(Message(data=payload), NOW)
    assert outcome.code == code
    assert dead_letter_row(outcome, FAILED_AT)["message_time"] == expected


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(changed(ORDER, "order_date", "yesterday"), id="bad_timestamp"),
        pytest.param(changed(ORDER, "order_date", "2026-11-01T10:15:00"), id="no-zone"),
        pytest.param(changed(ORDER, "order_date", "2026-11-03T12:00:01Z"), id="future_timestamp"),
        pytest.param(changed(INVENTORY, "timestamp", 10**30), id="epoch-out-of-range"),
        pytest.param(changed(INVENTORY, "timestamp", [1]), id="wrong_type"),
        pytest.param(changed(INVENTORY, "timestamp", delete=True), id="missing"),
        pytest.param(
            changed(json.loads(changed(ORDER, "order_date", "soon")), "customer_id", delete=True),
            id="unreadable-and-another-field",
        ),
        pytest.param(changed(ORDER, "event_type", "refund"), id="unknown-stream"),
        pytest.param(b"{not json", id="invalid_json"),
        pytest.param(b"\xff\xfe", id="invalid_encoding"),
        pytest.param(b"[1]", id="not_an_object"),
    ],
)
def test_an_unreadable_or_future_time_and_a_parse_failure_are_dated_by_failed_at(payload):
    assert message_time_of(payload) == rfc3339(FAILED_AT)


def test_a_time_exactly_one_day_ahead_is_still_the_event_time():
    """The contract accepts up to 1 day in the future, so that is still the message's time."""
    at_limit = rfc3339(NOW + timedelta(days=1))
    payload = changed(json.loads(changed(ORDER, "order_date", at_limit)), "status", "lost")
    assert message_time_of(payload) == at_limit


def test_a_load_stage_failure_is_dated_by_its_validated_event_time():
    message = Message(data=encode(ORDER))
    outcome = validate_message(message, parse_payload(message.data), NOW, max_row_bytes=200)
    assert (outcome.code, outcome.stage) == ("load_rejected", "load")
    assert dead_letter_row(outcome, FAILED_AT)["message_time"] == ORDER_TIME


@pytest.mark.parametrize(("publish_time", "expected"), [(None, ORDER_TIME), (PUBLISHED, rfc3339(PUBLISHED))])
def test_a_row_bigquery_refuses_is_dated_by_its_message_then_its_event_time(publish_time, expected):
    message = Message(data=encode(ORDER), message_id="m-9", publish_time=publish_time)
    stream, _, _, event = validate_event(parse_payload(message.data), NOW)
    row = {**event_row(stream, event), RECEIVED: message.to_envelope()}
    [dead] = RejectedRowToDeadLetter().process(("p:events.orders", row, [{"reason": "invalid"}]))
    assert (dead["error_code"], dead["message_time"]) == ("load_rejected", expected)


@pytest.mark.parametrize("event", [ORDER, INVENTORY, USER_ACTIVITY], ids=lambda e: e["event_type"])
def test_the_time_read_best_effort_is_the_time_validation_accepts(event):
    stream, _, event_time, _ = validate_event(parse_payload(encode(event)), NOW)
    assert readable_event_time(stream, event, NOW) == event_time
    assert (
        readable_event_time(stream, {k: v for k, v in event.items() if k != TIME_FIELD[stream]}, NOW) is None
    )
    assert readable_event_time("unknown", event, NOW) is None


# --- property: message_time is always the publish time, the event time or failed_at ----------------

GARBAGE_TIMES = (
    "yesterday",
    "2026-13-45T00:00:00Z",
    "2026-11-01T10:00:00",
    True,
    [1],
    {"at": 1},
    10**30,
    None,
)
BREAKAGES = {
    "orders": [("customer_id", None), ("total_amount", "99"), ("status", "lost")],
    "inventory": [("product_id", None), ("quantity_change", 0), ("reason", "theft")],
    "user_activity": [("user_id", None), ("ip_address", "x"), ("metadata", None)],
}
BASES = {"orders": ORDER, "inventory": INVENTORY, "user_activity": USER_ACTIVITY}
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(timezone.utc)
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))


@st.composite
def rejected_events(draw) -> tuple[dict[str, Any], datetime | None]:
    """(an event of any stream broken in another field, with a readable time or not, its time)."""
    stream = draw(st.sampled_from(sorted(BASES)))
    event = copy.deepcopy(BASES[stream])
    field, value = draw(st.sampled_from(BREAKAGES[stream]))
    event[field] = value
    if draw(st.booleans()):
        moment = draw(times)
        event[TIME_FIELD[stream]] = draw(
            st.sampled_from((rfc3339(moment), epoch_micros(moment) // 1000, moment.isoformat()))
        )
        return event, moment
    event[TIME_FIELD[stream]] = draw(st.sampled_from(GARBAGE_TIMES))
    return event, None


@settings(max_examples=300, deadline=None)
@given(rejected=rejected_events(), publish_time=st.one_of(st.none(), times))
def test_message_time_is_the_publish_time_else_the_readable_past_event_time_else_failed_at(
    rejected, publish_time
):
    event, event_time = rejected
    message_time = message_time_of(encode(event), publish_time)
    assert message_time is not None
    assert message_time in {rfc3339(t) for t in (publish_time, event_time, FAILED_AT) if t is not None}
    if publish_time is not None:
        expected = publish_time
    elif event_time is not None and event_time <= NOW + timedelta(days=1):
        expected = event_time
    else:
        expected = FAILED_AT
    assert message_time == rfc3339(expected)
