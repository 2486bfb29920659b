"""Sliding event-time window counts per stream and event type (``realtime_event_metrics``).

Trigger: one on-time pane when the watermark passes the window end, early panes
every ``early_firing_s`` of processing time while the window is open (0 turns
them off), and one
late pane per late element until ``allowed_lateness_s`` after the window end.
Panes accumulate, so each row holds the complete count so far; the row with
the highest ``pane_index`` for a window is the latest figure. Batch runs see
complete input, so they use the default trigger: one ON_TIME pane per window.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import apache_beam as beam
from apache_beam.transforms import trigger
from apache_beam.transforms.window import SlidingWindows, TimestampedValue
from apache_beam.utils.timestamp import Duration
from apache_beam.utils.windowed_value import PaneInfoTiming

from transforms.messages import ValidEvent
from transforms.validation import rfc3339

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
EVENT_TYPE_FIELD = {"orders": "status", "inventory": "reason", "user_activity": "activity_type"}


def metric_key(event: ValidEvent) -> tuple[str, str]:
    """(stream, the status / reason / activity_type being counted)."""
    return event.stream, event.event[EVENT_TYPE_FIELD[event.stream]]


class CountAndLatest(beam.CombineFn):
    """Count of events and the latest event time (micros) in a window."""

    def create_accumulator(self) -> tuple[int, int]:
        return 0, 0

    def add_input(self, acc: tuple[int, int], event_micros: int) -> tuple[int, int]:
        return acc[0] + 1, max(acc[1], event_micros)

    def merge_accumulators(self, accs) -> tuple[int, int]:
        counts, latest = zip(*accs, strict=True)
        return sum(counts), max(latest)

    def extract_output(self, acc: tuple[int, int]) -> tuple[int, int]:
        return acc


class FormatMetricRow(beam.DoFn):
    """Turn one window's (key, (count, latest)) into a ``realtime_event_metrics`` row."""

    def process(
        self,
        element: tuple[tuple[str, str], tuple[int, int]],
        window=beam.DoFn.WindowParam,
        pane=beam.DoFn.PaneInfoParam,
    ) -> Iterator[dict[str, Any]]:
        (stream, event_type), (count, latest_micros) = element
        yield {
            "stream": stream,
            "event_type": event_type,
            "window_start": rfc3339(window.start.to_utc_datetime(has_tz=True)),
            "window_end": rfc3339(window.end.to_utc_datetime(has_tz=True)),
            "occurrences": count,
            "last_event_ts": rfc3339(datetime.fromtimestamp(latest_micros / 1e6, tz=timezone.utc)),
            "pane_timing": PaneInfoTiming.to_string(pane.timing),
            "pane_index": pane.index,
        }


class RealtimeEventMetrics(beam.PTransform):
    """ValidEvents -> metric rows over sliding event-time windows."""

    def __init__(
        self,
        size_s: int = 60,
        period_s: int = 10,
        allowed_lateness_s: int = 600,
        early_firing_s: int = 10,
        streaming: bool = True,
    ) -> None:
        super().__init__()
        self.size_s = size_s
        self.period_s = period_s
        self.allowed_lateness_s = allowed_lateness_s
        self.early_firing_s = early_firing_s
        self.streaming = streaming

    def _windowing(self) -> beam.WindowInto:
        windows = SlidingWindows(self.size_s, self.period_s)
        if not self.streaming:
            # Batch input is complete when a window fires: the default trigger gives
            # one exact ON_TIME pane per window, without the streaming trigger machinery.
            return beam.WindowInto(windows)
        return beam.WindowInto(
            windows,
            trigger=trigger.AfterWatermark(
                early=trigger.AfterProcessingTime(self.early_firing_s) if self.early_firing_s else None,
                late=trigger.AfterCount(1),
            ),
            accumulation_mode=trigger.AccumulationMode.ACCUMULATING,
            allowed_lateness=Duration(seconds=self.allowed_lateness_s),
        )

    def expand(self, events):
        return (
            events
            | "AtEventTime"
            >> beam.Map(
                lambda e: TimestampedValue((metric_key(e), _micros(e.event_time)), _seconds(e.event_time))
            )
            | "SlidingWindows" >> self._windowing()
            | "CountPerKey" >> beam.CombinePerKey(CountAndLatest())
            | "ToRow" >> beam.ParDo(FormatMetricRow())
        )


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _seconds(moment: datetime) -> float:
    return _micros(moment) / 1_000_000
