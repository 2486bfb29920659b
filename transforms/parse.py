"""Beam DoFns that turn raw messages into validated events or dead-letter failures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from schemas import UNKNOWN_STREAM
from transforms import errors
from transforms.counters import NAMESPACE, count_rejection, stream_counter
from transforms.errors import Rejection
from transforms.messages import Failure, Message, ValidEvent
from transforms.times import utc_now
from transforms.validation import parse_payload, stream_of, validate_event

FAILURES = "failures"


class ParseMessage(beam.DoFn):
    """Decode a message's bytes into a JSON object; failures go to the ``failures`` output."""

    def __init__(self) -> None:
        self.messages_in = Metrics.counter(NAMESPACE, "messages_in")

    def process(self, message: Message) -> Iterator[Any]:
        self.messages_in.inc()
        try:
            yield message, parse_payload(message.data)
        except Rejection as rejection:
            stream_counter(UNKNOWN_STREAM, "read").inc()
            count_rejection(UNKNOWN_STREAM, rejection.code)
            yield pvalue.TaggedOutput(
                FAILURES,
                Failure(message, UNKNOWN_STREAM, errors.STAGE_PARSE, rejection.code, rejection.message),
            )


class ValidateEvent(beam.DoFn):
    """Check a parsed object against its stream's contract and normalise it.

    ``clock`` is injectable so tests can pin "now" for the future-timestamp rule.
    """

    def __init__(self, ip_mode: str, ip_key: bytes | None, clock: Callable[[], datetime] = utc_now) -> None:
        self.ip_mode = ip_mode
        self.ip_key = ip_key
        self.clock = clock

    def process(self, parsed: tuple[Message, dict[str, Any]]) -> Iterator[Any]:
        message, obj = parsed
        stream = stream_of(obj)
        stream_counter(stream, "read").inc()
        try:
            stream, event_id, event_time, event = validate_event(obj, self.clock(), self.ip_mode, self.ip_key)
        except Rejection as rejection:
            count_rejection(stream, rejection.code)
            event_id = obj.get("event_id") if isinstance(obj.get("event_id"), str) else None
            yield pvalue.TaggedOutput(
                FAILURES,
                Failure(
                    message,
                    stream,
                    errors.STAGE_VALIDATE,
                    rejection.code,
                    rejection.message,
                    event_id,
                ),
            )
            return
        yield ValidEvent(message, stream, event_id, event_time, event)


class ParseAndValidate(beam.PTransform):
    """Messages -> (valid events, failures): decode, parse, validate and normalise."""

    def __init__(self, ip_mode: str = "truncate", ip_key: bytes | None = None, clock=utc_now) -> None:
        super().__init__()
        self.ip_mode = ip_mode
        self.ip_key = ip_key
        self.clock = clock

    def expand(self, messages):
        parsed = messages | "Parse" >> beam.ParDo(ParseMessage()).with_outputs(FAILURES, main="parsed")
        validated = parsed.parsed | "Validate" >> beam.ParDo(
            ValidateEvent(self.ip_mode, self.ip_key, self.clock)
        ).with_outputs(FAILURES, main="valid")
        failures = (parsed[FAILURES], validated[FAILURES]) | "AllFailures" >> beam.Flatten()
        return validated.valid, failures
