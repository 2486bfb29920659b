"""The Beam stage that turns raw messages into validated events or dead-letter failures.

It wraps the total function ``transforms.triage.triage``: a message always ends as one
output, on the main output or the ``failures`` output, and nothing raises out of ``process``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from transforms import errors
from transforms.counters import count_rejection, counter, stream_counter
from transforms.messages import Failure, Message
from transforms.times import utc_now
from transforms.triage import triage

FAILURES = "failures"


class TriageMessage(beam.DoFn):
    """Parse, validate and normalise one message: a ValidEvent, or a Failure on ``failures``.

    One DoFn, so the parsed user object never crosses a Beam boundary (a coder could not
    encode, say, a string holding a lone surrogate). ``clock`` is injectable so tests can pin
    "now" for the future-timestamp rule.
    """

    def __init__(
        self,
        ip_mode: str,
        ip_key: bytes | None,
        clock: Callable[[], datetime] = utc_now,
        to_message: Callable[[Any], Message | None] | None = None,
    ) -> None:
        self.ip_mode = ip_mode
        self.ip_key = ip_key
        self.clock = clock
        self.to_message = to_message
        self.messages_in = counter("messages_in")

    def process(self, element: Any) -> Iterator[Any]:
        message = element if self.to_message is None else self.to_message(element)
        if message is None:
            return
        self.messages_in.inc()
        outcome = triage(message, self.clock(), self.ip_mode, self.ip_key)
        stream_counter(outcome.stream, "read").inc()
        if isinstance(outcome, Failure):
            count_rejection(outcome.stream, outcome.code)
            if outcome.code == errors.INTERNAL_ERROR:
                counter(f"internal_error_{outcome.stage}").inc()
            yield pvalue.TaggedOutput(FAILURES, outcome)
        else:
            yield outcome


class ParseAndValidate(beam.PTransform):
    """Messages -> (valid events, failures): decode, parse, validate and normalise.

    ``to_message`` makes each element its Message first (None: the element is no message, and
    skipped), so a source's raw records need no step of their own (file lines, say).
    """

    def __init__(
        self,
        ip_mode: str = "truncate",
        ip_key: bytes | None = None,
        clock=utc_now,
        to_message: Callable[[Any], Message | None] | None = None,
    ) -> None:
        super().__init__()
        self.ip_mode = ip_mode
        self.ip_key = ip_key
        self.clock = clock
        self.to_message = to_message

    def expand(self, messages):
        outcomes = messages | "Triage" >> beam.ParDo(
            TriageMessage(self.ip_mode, self.ip_key, self.clock, self.to_message)
        ).with_outputs(FAILURES, main="valid")
        return outcomes.valid, outcomes[FAILURES]
