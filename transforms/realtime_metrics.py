"""Event-time window counts per stream and event type (``realtime_event_metrics``).

Streaming: sliding windows (``size_s`` long, one every ``period_s``). Each window gets one
on-time pane when the watermark passes its end, so a fresh complete count lands every period
without early panes; ``early_firing_s`` adds speculative panes while a window is open (0, the
default, turns them off: they multiply the rows by the panes a window gets and tell little that
the next period's window does not). Each late event updates its windows (one LATE pane each)
until ``allowed_lateness_s`` after their end (batching them with ``AfterProcessingTime`` as
the late trigger labels the panes EARLY and fails on Beam 2.77's DirectRunner). Panes
accumulate, so each row holds the complete count so far; the row with the highest
``pane_index`` for a window is the latest figure.

Batch runs (a replay of history) see complete input, so each window gets one exact ON_TIME row,
over tumbling windows of ``batch_window_s`` (default one hour): sliding 10 s windows over days of
history would write up to six rows per event that nobody reads at that grain.
``batch_window_s=0`` writes the streaming job's sliding windows instead. The windows are part of
the key, counted per bundle first, and the counts are combined in the global window: the same
rows as Beam's windowing, without the runner's per-key trigger state, whose cost on the
DirectRunner grows with the square of the windows a key holds (a week of 10 s periods is ~60,000
windows per key).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import apache_beam as beam
from apache_beam.transforms import trigger
from apache_beam.transforms.window import GlobalWindows, IntervalWindow, SlidingWindows, TimestampedValue
from apache_beam.utils.timestamp import Duration, Timestamp
from apache_beam.utils.windowed_value import PaneInfoTiming, WindowedValue

from transforms.messages import EventCopy, ValidEvent
from transforms.times import epoch_micros, rfc3339

# BigQuery's TIMESTAMP range (and Python's datetime's): a window reaching outside it has no row.
_FIRST_MICROS = epoch_micros(datetime(1, 1, 1, tzinfo=timezone.utc))
_LAST_MICROS = epoch_micros(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc))


def representable(start_micros: int, end_micros: int) -> bool:
    """True when a window lies inside the TIMESTAMP range (an event in the first minute of year 1
    has sliding windows that start before it: those are skipped, the event itself still loads)."""
    return start_micros >= _FIRST_MICROS and end_micros <= _LAST_MICROS


def metric_key(event: ValidEvent | EventCopy) -> tuple[str, str]:
    """(stream, the status / reason / activity_type being counted)."""
    return event.stream, event.metric_type


class CountAndLatest(beam.CombineFn):
    """Count of events and the latest event time (micros) in a window."""

    def create_accumulator(self) -> tuple[int, int]:
        return 0, 0

    def add_input(self, acc: tuple[int, int], event_micros: int) -> tuple[int, int]:
        return acc[0] + 1, max(acc[1], event_micros)

    def merge_accumulators(self, accs) -> tuple[int, int]:
        total, latest = 0, 0
        for count, micros in accs:
            total, latest = total + count, max(latest, micros)
        return total, latest

    def extract_output(self, acc: tuple[int, int]) -> tuple[int, int]:
        return acc


def metric_row(
    key: tuple[str, str], window: IntervalWindow, count: int, latest_micros: int, timing: str, index: int
) -> dict[str, Any]:
    """One ``realtime_event_metrics`` row."""
    stream, event_type = key
    return {
        "stream": stream,
        "event_type": event_type,
        "window_start": rfc3339(window.start.to_utc_datetime(has_tz=True)),
        "window_end": rfc3339(window.end.to_utc_datetime(has_tz=True)),
        "occurrences": count,
        "last_event_ts": rfc3339(datetime.fromtimestamp(latest_micros / 1e6, tz=timezone.utc)),
        "pane_timing": timing,
        "pane_index": index,
    }


class FormatMetricRow(beam.DoFn):
    """Turn one window pane's (key, (count, latest)) into a ``realtime_event_metrics`` row."""

    def process(
        self,
        element: tuple[tuple[str, str], tuple[int, int]],
        window=beam.DoFn.WindowParam,
        pane=beam.DoFn.PaneInfoParam,
    ) -> Iterator[dict[str, Any]]:
        key, (count, latest_micros) = element
        if representable(window.start.micros, window.end.micros):
            yield metric_row(
                key, window, count, latest_micros, PaneInfoTiming.to_string(pane.timing), pane.index
            )


class KeyByWindow(beam.DoFn):
    """(key, event micros) -> ((key, window start, window end), micros) for each window that holds it.

    The windows ``SlidingWindows(size_s, period_s)`` assigns (``FixedWindows`` when the period is
    the size), in integer microseconds: Beam's own ``assign`` builds several ``Timestamp``
    objects per window, a visible share of a batch run. The tests compare the two.
    """

    def __init__(self, size_s: int, period_s: int) -> None:
        self.size = size_s * 1_000_000
        self.period = period_s * 1_000_000

    def process(self, element: tuple[tuple[str, str], int]) -> Iterator[tuple[tuple, int]]:
        key, micros = element
        for start, end in self.windows(micros):
            yield (key, start, end), micros

    def windows(self, micros: int) -> Iterator[tuple[int, int]]:
        """(start, end) micros of every representable window that holds ``micros``."""
        # As SlidingWindows.assign: the latest start at or before the event, then every period
        # back while the window still holds it (Python's % floors, as Beam's Timestamp % does).
        for start in range(micros - micros % self.period, micros - self.size, -self.period):
            end = start + self.size
            if representable(start, end):
                yield start, end


class CountWindowsInBundle(KeyByWindow):
    """Batch: events -> ((key, window start, window end), (count, latest micros)) per bundle.

    Counts each window of the bundle in a dict and emits the counts when the bundle ends (in the
    global window, where batch input is), so the runner handles one element per window and
    bundle instead of one per event and window; ``SumCounts`` adds up the bundles' counts.
    """

    def __init__(self, size_s: int, period_s: int) -> None:
        super().__init__(size_s, period_s)
        self.counts: dict[tuple, tuple[int, int]] = {}

    def start_bundle(self) -> None:
        self.counts = {}

    def process(self, event: ValidEvent | EventCopy) -> None:
        key, micros = metric_key(event), event.event_micros
        counts = self.counts
        if self.size == self.period:  # tumbling (batch's default): one window
            start = micros - micros % self.period
            windows = ((start, start + self.size),) if representable(start, start + self.size) else ()
        else:
            windows = self.windows(micros)
        for start, end in windows:
            window_key = (key, start, end)
            # As CountAndLatest: a count, and the latest event time from 0 on.
            count, latest = counts.get(window_key, (0, 0))
            counts[window_key] = count + 1, latest if latest >= micros else micros

    def finish_bundle(self) -> Iterator[WindowedValue]:
        for window_key, count_and_latest in self.counts.items():
            yield GlobalWindows.windowed_value((window_key, count_and_latest))
        self.counts = {}


class SumCounts(CountAndLatest):
    """Adds up (count, latest micros) pairs: the total count and the latest of the latest."""

    def add_input(self, acc: tuple[int, int], counted: tuple[int, int]) -> tuple[int, int]:
        return acc[0] + counted[0], max(acc[1], counted[1])


def format_batch_row(element: tuple[tuple, tuple[int, int]]) -> dict[str, Any]:
    """A whole window's count from complete (batch) input: its one ON_TIME row."""
    (key, start_micros, end_micros), (count, latest_micros) = element
    window = IntervalWindow(Timestamp(micros=start_micros), Timestamp(micros=end_micros))
    return metric_row(key, window, count, latest_micros, "ON_TIME", 0)


class RealtimeEventMetrics(beam.PTransform):
    """ValidEvents (or EventCopies) -> metric rows over sliding event-time windows."""

    def __init__(
        self,
        size_s: int = 60,
        period_s: int = 10,
        allowed_lateness_s: int = 600,
        early_firing_s: int = 0,
        streaming: bool = True,
        batch_window_s: int = 3600,
    ) -> None:
        super().__init__()
        self.size_s = size_s
        self.period_s = period_s
        self.allowed_lateness_s = allowed_lateness_s
        self.early_firing_s = early_firing_s
        self.streaming = streaming
        self.batch_window_s = batch_window_s

    def _windows(self) -> SlidingWindows:
        return SlidingWindows(self.size_s, self.period_s)

    def _batch_windows(self) -> tuple[int, int]:
        """(size_s, period_s) of a batch run's windows: fixed ``batch_window_s``, else the sliding ones."""
        if self.batch_window_s:
            return self.batch_window_s, self.batch_window_s
        return self.size_s, self.period_s

    def expand(self, events):
        if not self.streaming:
            return (
                events
                | "CountInBundle" >> beam.ParDo(CountWindowsInBundle(*self._batch_windows()))
                | "CountPerWindow" >> beam.CombinePerKey(SumCounts())
                | "ToRow" >> beam.Map(format_batch_row)
            )
        return (
            events
            | "KeyAndTime" >> beam.Map(lambda e: (metric_key(e), e.event_micros))
            | "AtEventTime" >> beam.Map(lambda kv: TimestampedValue(kv, kv[1] / 1_000_000))
            | "SlidingWindows"
            >> beam.WindowInto(
                self._windows(),
                trigger=trigger.AfterWatermark(
                    early=trigger.AfterProcessingTime(self.early_firing_s) if self.early_firing_s else None,
                    late=trigger.AfterCount(1),
                ),
                accumulation_mode=trigger.AccumulationMode.ACCUMULATING,
                allowed_lateness=Duration(seconds=self.allowed_lateness_s),
            )
            | "CountPerKey" >> beam.CombinePerKey(CountAndLatest())
            | "ToRow" >> beam.ParDo(FormatMetricRow())
        )
