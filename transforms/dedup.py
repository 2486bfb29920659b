"""De-duplicate events on ``event_id``: whole-run in batch, a bounded window in streaming.

Streaming: a stateful DoFn keeps the first event seen for an id and remembers the id
until an event-time timer fires ``window`` after the latest copy (default 10 minutes).

Batch: a ``GroupByKey`` on the id keeps one copy of every id in the run, the earliest
published (then by message id and bytes), so a replay keeps the same copy every time.
No per-key state: Beam's local runner weighs every state value it caches with a deep
object walk (``objsize``), which made the stateful step most of a batch run's time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import apache_beam as beam
from apache_beam.coders import VarIntCoder
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.timestamp import Duration, Timestamp

from transforms.counters import stream_counter
from transforms.messages import ValidEvent


class DropRepeatedIds(beam.DoFn):
    """Emit the first event per id; count and drop later copies until the id expires.

    One state cell per id, its expiry (event-time micros): held means seen. On an SDK harness
    whose state cache is on, every state access is weighed with a deep object walk
    (``objsize``); docs/scaling.md gives what that costs and how to turn the cache off.
    """

    EXPIRY = ReadModifyWriteStateSpec("expiry_micros", VarIntCoder())
    EXPIRE = TimerSpec("expire", TimeDomain.WATERMARK)

    def __init__(self, window_s: float) -> None:
        self.window = Duration(seconds=window_s)

    def process(
        self,
        keyed: tuple[str, ValidEvent],
        timestamp=beam.DoFn.TimestampParam,
        expiry=beam.DoFn.StateParam(EXPIRY),
        expire=beam.DoFn.TimerParam(EXPIRE),
    ) -> Iterator[ValidEvent]:
        _, event = keyed
        deadline = (timestamp + self.window).micros
        held = expiry.read()
        if held is None or deadline > held:
            expiry.write(deadline)
            expire.set(Timestamp(micros=deadline))
        if held is not None:
            stream_counter(event.stream, "duplicates").inc()
            return
        yield event

    @on_timer(EXPIRE)
    def forget(self, expiry=beam.DoFn.StateParam(EXPIRY)) -> None:
        expiry.clear()


def copy_order(event: ValidEvent) -> tuple:
    """Which copy of an id a batch run keeps: the earliest published, then by message id and bytes."""
    message = event.message
    published = message.publish_time
    return (
        published is None,
        published.timestamp() if published else 0.0,
        message.message_id or "",
        message.data,
    )


class KeepOneCopy(beam.DoFn):
    """(event_id, copies) -> the copy ``copy_order`` puts first; counts the others as duplicates."""

    def process(self, group: tuple[str, Iterable[ValidEvent]]) -> Iterator[ValidEvent]:
        _, copies = group
        kept, *others = sorted(copies, key=copy_order)
        for other in others:
            stream_counter(other.stream, "duplicates").inc()
        yield kept


class DeduplicateEvents(beam.PTransform):
    """ValidEvents -> ValidEvents with at most one event per ``event_id``: within ``window_s``
    in streaming, over the whole run in batch.

    Both run in the global window, so a copy is compared across window bounds.
    """

    def __init__(self, window_s: float = 600.0, streaming: bool = True) -> None:
        super().__init__()
        self.window_s = window_s
        self.streaming = streaming

    def expand(self, events):
        keyed = (
            events
            | "GlobalWindow" >> beam.WindowInto(GlobalWindows())
            | "KeyByEventId" >> beam.Map(lambda e: (e.event_id, e)).with_output_types(tuple[str, ValidEvent])
        )
        if self.streaming:
            return keyed | "DropRepeatedIds" >> beam.ParDo(DropRepeatedIds(self.window_s))
        return keyed | "GroupByEventId" >> beam.GroupByKey() | "KeepOneCopy" >> beam.ParDo(KeepOneCopy())
