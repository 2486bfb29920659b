"""De-duplicate events on ``event_id``: whole-run in batch, a bounded window in streaming.

Streaming: a stateful DoFn keeps the first event seen for an id and remembers the id
until an event-time timer fires ``window`` after the latest copy (default 10 minutes).

Batch: a ``GroupByKey`` on the id keeps one copy of every id in the run, the earliest
published (then by message id and bytes), so a replay keeps the same copy every time. What
crosses the shuffle is an :class:`~transforms.messages.EventCopy` (no normalised event), with a
msgpack coder (``EventCopyCoder``). Copies are not gathered into chunks before the shuffle (as
the archive's lines are): holding them as objects until a bundle ends costs the collector more
than the local runner's per-element shuffle does.
No per-key state: Beam's local runner weighs every state value it caches with a deep
object walk (``objsize``), which made the stateful step most of a batch run's time.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone

import apache_beam as beam
import msgspec
from apache_beam import pvalue
from apache_beam.coders import Coder, VarIntCoder
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.timestamp import Duration, Timestamp

from schemas import STREAMS
from transforms.counters import stream_counter
from transforms.messages import EventCopy, Message, ValidEvent
from transforms.times import epoch_micros, from_epoch_micros

_PACKED = b"\x00"  # msgpack of the copy's fields
_PICKLED = b"\x01"  # anything msgpack cannot carry exactly (a huge integer, another time zone ...)


def _packed_fields(copy: EventCopy) -> tuple:
    """A copy's fields as msgpack carries them; TypeError when one would not come back as it was."""
    message = copy.message
    published = message.publish_time
    if published is not None:
        if type(published) is not datetime or published.tzinfo is not timezone.utc:
            raise TypeError("not a plain UTC datetime")
        published = epoch_micros(published)
    return (
        message.data,
        message.attributes,
        message.message_id,
        published,
        copy.stream,
        copy.event_id,
        copy.event_micros,
        copy.metric_type,
        copy.row,
    )


def _unpacked(fields: list) -> EventCopy:
    data, attributes, message_id, published, stream, event_id, micros, metric_type, row = fields
    publish_time = None if published is None else from_epoch_micros(published)
    return EventCopy(
        Message(data, attributes, message_id, publish_time), stream, event_id, micros, metric_type, row
    )


class EventCopyCoder(Coder):
    """An :class:`EventCopy` as msgpack of its fields (several times cheaper than pickle), or
    pickled whole when msgpack would not give a value back exactly (a huge integer, another
    time zone ...)."""

    def __init__(self) -> None:
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder()

    def encode(self, value: EventCopy) -> bytes:
        try:
            return _PACKED + self._encoder.encode(_packed_fields(value))
        except (TypeError, ValueError, OverflowError):
            return _PICKLED + pickle.dumps(value, pickle.HIGHEST_PROTOCOL)

    def decode(self, encoded: bytes) -> EventCopy:
        if encoded[:1] == _PICKLED:
            return pickle.loads(encoded[1:])
        return _unpacked(self._decoder.decode(memoryview(encoded)[1:]))

    def is_deterministic(self) -> bool:
        return False

    def to_type_hint(self):
        return EventCopy

    def __eq__(self, other) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __reduce__(self):
        return EventCopyCoder, ()


beam.coders.registry.register_coder(EventCopy, EventCopyCoder)


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
        yield pvalue.TaggedOutput(event.stream, event)

    @on_timer(EXPIRE)
    def forget(self, expiry=beam.DoFn.StateParam(EXPIRY)) -> None:
        expiry.clear()


def copy_order(event: ValidEvent | EventCopy) -> tuple:
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
    """(event_id, copies) -> the copy ``copy_order`` puts first; counts the others as duplicates.

    The copy also goes to the output named by its stream.
    """

    def process(self, group: tuple[str, Iterable[EventCopy]]) -> Iterator[EventCopy]:
        _, copies = group
        kept, *others = sorted(copies, key=copy_order)
        for other in others:
            stream_counter(other.stream, "duplicates").inc()
        yield kept
        yield pvalue.TaggedOutput(kept.stream, kept)


class DeduplicateEvents(beam.PTransform):
    """ValidEvents -> (every unique event, {stream: its unique events}): at most one event per
    ``event_id`` within ``window_s`` in streaming (ValidEvents), one per ``event_id`` over the
    whole run in batch (EventCopies). The step that de-duplicates routes each event too.

    Both run in the global window, so a copy is compared across window bounds.
    """

    def __init__(self, window_s: float = 600.0, streaming: bool = True) -> None:
        super().__init__()
        self.window_s = window_s
        self.streaming = streaming

    def expand(self, events):
        if self.streaming:
            keyed = (
                events
                | "GlobalWindow" >> beam.WindowInto(GlobalWindows())
                | "KeyByEventId"
                >> beam.Map(lambda e: (e.event_id, e)).with_output_types(tuple[str, ValidEvent])
            )
            label, keep = "DropRepeatedIds", beam.ParDo(DropRepeatedIds(self.window_s))
        else:
            # Batch input (files) is in the global window already.
            keyed = (
                events
                | "KeyByEventId" >> beam.Map(keyed_copy).with_output_types(tuple[str, EventCopy])
                | "GroupByEventId" >> beam.GroupByKey()
            )
            label, keep = "KeepOneCopy", beam.ParDo(KeepOneCopy()).with_output_types(EventCopy)
        outputs = keyed | label >> keep.with_outputs(*STREAMS, main="unique")
        return outputs.unique, {stream: outputs[stream] for stream in STREAMS}


def keyed_copy(event: ValidEvent | EventCopy) -> tuple[str, EventCopy]:
    """(event_id, the event's :class:`EventCopy`): what the batch shuffle carries."""
    return event.event_id, event if isinstance(event, EventCopy) else EventCopy.of(event)
