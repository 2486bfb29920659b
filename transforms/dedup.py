"""De-duplicate events on ``event_id`` with bounded per-key state.

One stateful DoFn serves batch and streaming: the first event seen for an id is
kept and the id is remembered until the event-time timer fires ``window``
after the latest copy. In batch the watermark only advances at the end of the
input, so every copy in the run is compared (whole-run de-duplication); in
streaming the state of an id lives for the window (default 10 minutes).
"""

from __future__ import annotations

from collections.abc import Iterator

import apache_beam as beam
from apache_beam.coders import BooleanCoder, VarIntCoder
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.timestamp import Duration, Timestamp

from transforms.counters import stream_counter
from transforms.messages import ValidEvent


class DropRepeatedIds(beam.DoFn):
    """Emit the first event per id; count and drop later copies until the id expires."""

    SEEN = ReadModifyWriteStateSpec("seen", BooleanCoder())
    EXPIRY = ReadModifyWriteStateSpec("expiry_micros", VarIntCoder())
    EXPIRE = TimerSpec("expire", TimeDomain.WATERMARK)

    def __init__(self, window_s: float) -> None:
        self.window = Duration(seconds=window_s)

    def process(
        self,
        keyed: tuple[str, ValidEvent],
        timestamp=beam.DoFn.TimestampParam,
        seen=beam.DoFn.StateParam(SEEN),
        expiry=beam.DoFn.StateParam(EXPIRY),
        expire=beam.DoFn.TimerParam(EXPIRE),
    ) -> Iterator[ValidEvent]:
        _, event = keyed
        deadline = (timestamp + self.window).micros
        if deadline > (expiry.read() or 0):
            expiry.write(deadline)
            expire.set(Timestamp(micros=deadline))
        if seen.read():
            stream_counter(event.stream, "duplicates").inc()
            return
        seen.write(True)
        yield event

    @on_timer(EXPIRE)
    def forget(self, seen=beam.DoFn.StateParam(SEEN), expiry=beam.DoFn.StateParam(EXPIRY)) -> None:
        seen.clear()
        expiry.clear()


class DeduplicateEvents(beam.PTransform):
    """ValidEvents -> ValidEvents with at most one event per ``event_id`` within ``window_s``.

    The output keeps the input's windowing strategy by re-windowing nothing; the
    stateful step itself runs in the global window so state spans window bounds.
    """

    def __init__(self, window_s: float = 600.0) -> None:
        super().__init__()
        self.window_s = window_s

    def expand(self, events):
        return (
            events
            | "GlobalWindow" >> beam.WindowInto(GlobalWindows())
            | "KeyByEventId" >> beam.Map(lambda e: (e.event_id, e)).with_output_types(tuple[str, ValidEvent])
            | "DropRepeatedIds" >> beam.ParDo(DropRepeatedIds(self.window_s))
        )
