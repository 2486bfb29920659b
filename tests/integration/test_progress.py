"""Long local runs show progress (tqdm bars): messages read, and rows written to BigQuery per table."""

from __future__ import annotations

import pickle
import re

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.transforms.window import GlobalWindows

from pipeline.bigquery_writes import BigQueryTarget, InsertRows
from pipeline.sources import ReadProgress
from transforms.messages import Message


def metric_row(n: int) -> dict:
    return {
        "stream": "orders",
        "event_type": "pending",
        "window_start": "2026-11-01T12:00:00Z",
        "window_end": "2026-11-01T12:01:00Z",
        "occurrences": n,
        "last_event_ts": "2026-11-01T12:00:30Z",
        "pane_timing": "ON_TIME",
        "pane_index": 0,
    }


def _states(err: str) -> list[str]:
    """What the tqdm bars drew (they redraw with carriage returns on a non-terminal stream)."""
    return [line.strip() for line in re.split(r"[\r\n]+", err) if line.strip()]


def insert_bundles(dofn: InsertRows, bundles: list[list[dict]]) -> None:
    """Drive the DoFn as a runner does, one bundle per list."""
    for rows in bundles:
        dofn.start_bundle()
        for row in rows:
            dofn.process(row, GlobalWindows.windowed_value(row))
        assert list(dofn.finish_bundle()) == []


def test_inserts_count_rows_written_per_table_on_a_bar(stack, capfd):
    dataset = stack.fresh_dataset()
    table = f"{stack.project}:{dataset}.realtime_event_metrics"
    dofn = InsertRows(table, BigQueryTarget(stack.project, stack.bigquery_endpoint, report_every=2))
    copy = pickle.loads(pickle.dumps(dofn))

    dofn.setup()
    insert_bundles(dofn, [[metric_row(1)], [metric_row(2), metric_row(3), metric_row(4)], [metric_row(5)]])
    assert dofn._bar.n == 5
    dofn.teardown()
    states = _states(capfd.readouterr().err)
    assert states[-1].startswith(f"wrote {dataset}.realtime_event_metrics: 5 rows"), states

    copy.setup()
    assert copy._bar is None, "each worker's copy counts its own rows"
    silent = InsertRows(table, BigQueryTarget(stack.project, stack.bigquery_endpoint))
    silent.setup()
    insert_bundles(silent, [[metric_row(6), metric_row(7)]])
    silent.teardown()
    assert capfd.readouterr().err == "" and silent._bar is None


def test_read_progress_counts_messages_on_a_bar(capfd):
    with TestPipeline() as p:
        _ = p | beam.Create([Message(data=b"%d" % i) for i in range(5)]) | beam.ParDo(ReadProgress(every=2))
    states = _states(capfd.readouterr().err)
    assert states[0].startswith("read: 0 messages") and states[-1].startswith("read: 5 messages"), states
    assert not any(s.startswith(("read: 1 ", "read: 3 ")) for s in states), "redrawn every 2 only"
