"""Every generated message gets, from the pipeline's own triage, exactly the outcome the
generator promises: the same code and stream as a file line, and as Pub/Sub message data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from localdev import generator as gen
from pipeline.sources import line_to_message
from tests.generator_spec import SMALL, START
from transforms.messages import Message
from transforms.triage import triage

# Processing time: the day after the sample, so its future_timestamp defects stay in the future.
NOW = datetime.combine(START, datetime.min.time(), tzinfo=timezone.utc) + timedelta(days=SMALL.days + 1)


def outcome(message: Message) -> tuple[str | None, str]:
    result = triage(message, NOW)
    return getattr(result, "code", None), result.stream


@pytest.fixture(scope="module")
def sample():
    return gen.generate(SMALL)


def test_as_file_lines(sample):
    for message in sample.messages:
        expected = (message.error_code, message.stream or "unknown")
        assert outcome(line_to_message("events.jsonl", message.data)) == expected, message.data[:120]


def test_as_pubsub_message_data(sample):
    for message in sample.messages:
        code = message.pubsub_error_code
        expected = (code, message.stream or "unknown")
        assert outcome(Message(data=message.data, message_id="m")) == expected, message.data[:120]


def test_the_sample_holds_every_input_code(sample):
    from transforms.errors import INPUT_ERROR_CODES

    assert {m.error_code for m in sample.messages} - {None} == set(INPUT_ERROR_CODES)
