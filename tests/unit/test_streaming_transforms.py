"""Event time, windows and late data with Beam's TestStream (streaming DirectRunner)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import FixedWindows, SlidingWindows, TimestampedValue, WindowFn
from apache_beam.utils.timestamp import Timestamp
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.dedup import DeduplicateEvents
from transforms.messages import Message, ValidEvent
from transforms.realtime_metrics import KeyByWindow, RealtimeEventMetrics

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def epoch(seconds: float) -> float:
    return at(seconds).timestamp()


def order_event(event_id: str, seconds: float, status: str = "pending") -> ValidEvent:
    return ValidEvent(
        message=Message(data=event_id.encode()),
        stream="orders",
        event_id=event_id,
        event_time=at(seconds),
        event={"status": status},
    )


def timed(
    event_id: str, seconds: float, status: str = "pending", at_s: float | None = None
) -> TimestampedValue:
    """An order event as a timestamped element: at its event time, or at ``at_s`` (a re-send)."""
    return TimestampedValue(order_event(event_id, seconds, status), epoch(seconds if at_s is None else at_s))


def streaming_pipeline() -> TestPipeline:
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    return TestPipeline(options=options)


def stamp(seconds: float) -> str:
    return at(seconds).isoformat().replace("+00:00", "Z")


def summarise(row: dict) -> tuple:
    return (row["event_type"], row["window_start"], row["window_end"], row["occurrences"], row["pane_timing"])


def pane(row: dict) -> tuple:
    """A row's window start, count and pane."""
    return (row["window_start"], row["occurrences"], row["pane_timing"], row["pane_index"])


def from_time_zero() -> TestStream:
    """A TestStream whose watermark starts at T0."""
    return TestStream().advance_watermark_to(epoch(0))


def assert_streamed_metrics(stream: TestStream, project, expected: list, **windowing) -> None:
    """RealtimeEventMetrics over ``stream`` (then the watermark to the end) on the streaming runner:
    its rows, each through ``project``, must equal ``expected``. No lateness nor early firing unless
    ``windowing`` says so."""
    windowing = {"allowed_lateness_s": 0, "early_firing_s": 0, **windowing}
    with streaming_pipeline() as p:
        rows = p | stream.advance_watermark_to_infinity() | RealtimeEventMetrics(**windowing)
        assert_that(rows | beam.Map(project), equal_to(expected))


def test_sliding_windows_count_each_event_in_every_window_that_holds_it():
    stream = (
        from_time_zero()
        .add_elements([timed("a", 5)])
        .add_elements([timed("b", 15)])
        .add_elements([timed("c", 16, "shipped")])
    )
    assert_streamed_metrics(
        stream,
        lambda r: (*summarise(r), r["last_event_ts"]),
        [
            ("pending", stamp(-10), stamp(10), 1, "ON_TIME", stamp(5)),
            ("pending", stamp(0), stamp(20), 2, "ON_TIME", stamp(15)),
            ("pending", stamp(10), stamp(30), 1, "ON_TIME", stamp(15)),
            ("shipped", stamp(0), stamp(20), 1, "ON_TIME", stamp(16)),
            ("shipped", stamp(10), stamp(30), 1, "ON_TIME", stamp(16)),
        ],
        size_s=20,
        period_s=10,
    )


def test_late_data_inside_allowed_lateness_updates_the_count_and_beyond_it_is_dropped():
    stream = (
        from_time_zero()
        .add_elements([timed("a", 12)])
        .advance_watermark_to(epoch(45))  # windows ending at 20 and 30 fire on time
        .add_elements([timed("late", 13)])  # 15-25 s late: allowed
        .advance_watermark_to(epoch(100))  # both windows now past end + 30 s lateness
        .add_elements([timed("too-late", 14)])
    )
    expected = [
        (stamp(0), 1, "ON_TIME", 0),
        (stamp(10), 1, "ON_TIME", 0),
        (stamp(0), 2, "LATE", 1),
        (stamp(10), 2, "LATE", 1),
    ]
    assert_streamed_metrics(stream, pane, expected, size_s=20, period_s=10, allowed_lateness_s=30)


def test_early_panes_fire_on_processing_time_before_the_watermark():
    stream = (
        from_time_zero()
        .add_elements([timed("a", 2)])
        .advance_processing_time(11)  # past the 10 s early firing: a pane before the watermark
        .add_elements([timed("b", 3)])
    )
    assert_streamed_metrics(
        stream,
        lambda r: (r["occurrences"], r["pane_timing"]),
        [(1, "EARLY"), (2, "ON_TIME")],
        size_s=10,
        period_s=10,
        early_firing_s=10,
    )


def test_streaming_dedup_drops_copies_within_the_window_and_forgets_after_it():
    stream = (
        from_time_zero()
        .add_elements([timed("x", 0)])
        .add_elements([timed("y", 1)])
        .add_elements([timed("x", 0, at_s=30)])  # re-sent 30 s later: dropped
        .advance_watermark_to(epoch(200))  # x's state expires at 30 + 60 s
        .add_elements([timed("x", 0, at_s=250)])  # re-sent after the window
        .advance_watermark_to_infinity()
    )
    with streaming_pipeline() as p:
        unique, _ = p | stream | DeduplicateEvents(window_s=60)
        assert_that(unique | beam.Map(lambda e: e.event_id), equal_to(["x", "y", "x"]))


def test_batch_dedup_covers_the_whole_run():
    events = [order_event("x", 0), order_event("x", 5000), order_event("y", 1), order_event("x", 86400)]
    with TestPipeline() as p:
        unique, _ = p | beam.Create(events) | DeduplicateEvents(window_s=60, streaming=False)
        assert_that(unique | beam.Map(lambda e: e.event_id), equal_to(["x", "y"]))


def published_copy(message_id: str, published_s: float | None) -> ValidEvent:
    event = order_event("x", 0)
    published = None if published_s is None else datetime.fromtimestamp(published_s, tz=timezone.utc)
    return replace(event, message=replace(event.message, message_id=message_id, publish_time=published))


def test_batch_dedup_keeps_the_earliest_published_copy_whatever_the_input_order():
    copies = [published_copy("late", 50), published_copy("unpublished", None), published_copy("first", 10)]
    for ordering in (copies, copies[::-1]):
        with TestPipeline() as p:
            unique, _ = p | beam.Create(ordering) | DeduplicateEvents(streaming=False)
            assert_that(unique | beam.Map(lambda e: e.message.message_id), equal_to(["first"]))


def test_batch_metrics_fire_one_exact_pane_per_window():
    events = [timed(str(i), s) for i, s in enumerate((5, 15, 16))]
    with TestPipeline() as p:
        rows = (
            p
            | beam.Create(events)
            | RealtimeEventMetrics(size_s=20, period_s=10, streaming=False, batch_window_s=0)
        )
        assert_that(
            rows | beam.Map(pane),
            equal_to(
                [(stamp(-10), 1, "ON_TIME", 0), (stamp(0), 3, "ON_TIME", 0), (stamp(10), 2, "ON_TIME", 0)]
            ),
        )


def test_batch_metrics_equal_beams_own_sliding_windows(tmp_path):
    """Batch keys counts by the windows SlidingWindows assigns; Beam's windowed GBK gives the same rows."""
    seconds = [-0.5, 0, 0.000001, 9.999999, 10, 24.5, 25, 61, 61, 3600.25]
    events = [order_event(f"e{i}", s, ("pending", "shipped")[i % 2]) for i, s in enumerate(seconds)]
    metrics = {"size_s": 25, "period_s": 10, "allowed_lateness_s": 0, "early_firing_s": 0}

    stream = TestStream().advance_watermark_to(epoch(-100))
    for event in events:
        stream = stream.add_elements([TimestampedValue(event, event.event_time.timestamp())])
    with streaming_pipeline() as p:
        (
            p
            | stream.advance_watermark_to_infinity()
            | RealtimeEventMetrics(**metrics)
            | beam.Map(lambda row: json.dumps(row, sort_keys=True))
            | beam.io.WriteToText(str(tmp_path / "windowed"))
        )
    windowed = [
        json.loads(line) for path in tmp_path.glob("windowed*") for line in path.read_text().splitlines()
    ]
    in_first_window = {r["event_type"]: r["occurrences"] for r in windowed if r["window_start"] == stamp(0)}
    assert in_first_window == {"pending": 2, "shipped": 3}, "[0 s, 25 s) holds e1..e5, not e0 or e6"

    with TestPipeline() as p:
        batch = p | beam.Create(events) | RealtimeEventMetrics(**metrics, streaming=False, batch_window_s=0)
        assert_that(batch, equal_to(windowed))


def test_batch_replay_writes_one_row_per_key_and_tumbling_window():
    """History in batch: hourly tumbling windows by default, each event counted exactly once."""
    seconds = [0, 59, 3599.999, 3600, 7300]
    events = [order_event(f"e{i}", s) for i, s in enumerate(seconds)] + [order_event("s", 10, "shipped")]
    with TestPipeline() as p:
        rows = p | beam.Create(events) | RealtimeEventMetrics(streaming=False)
        assert_that(
            rows | beam.Map(summarise),
            equal_to(
                [
                    ("pending", stamp(0), stamp(3600), 3, "ON_TIME"),
                    ("pending", stamp(3600), stamp(7200), 1, "ON_TIME"),
                    ("pending", stamp(7200), stamp(10800), 1, "ON_TIME"),
                    ("shipped", stamp(0), stamp(3600), 1, "ON_TIME"),
                ]
            ),
        )


@settings(max_examples=300, deadline=None)
@given(
    micros=st.integers(-(10**15), 10**15),
    size_period=st.sampled_from([(3600, 3600), (60, 10), (25, 10), (20, 10), (7, 3), (1, 1)]),
)
def test_batch_windows_are_the_ones_beam_assigns(micros, size_period):
    size_s, period_s = size_period
    beam_windows = SlidingWindows(size_s, period_s) if size_s != period_s else FixedWindows(size_s)
    assigned = beam_windows.assign(WindowFn.AssignContext(Timestamp(micros=micros)))
    expected = sorted((w.start.micros, w.end.micros) for w in assigned)
    ours = sorted(
        (start, end) for (_, start, end), _ in KeyByWindow(size_s, period_s).process((("k", "v"), micros))
    )
    assert ours == expected
