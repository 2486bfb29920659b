"""Long local runs show progress: messages read, and rows written to BigQuery per table."""

from __future__ import annotations

import pickle

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline

from pipeline.sinks import InsertClient
from pipeline.sources import ReadProgress
from tests.pipeline_runs import fresh_dataset
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


def test_insert_client_reports_every_n_rows_written_per_table(stack, capfd):
    dataset = fresh_dataset(stack)
    table = f"{stack.project}.{dataset}.realtime_event_metrics"
    client = InsertClient(stack.project, stack.bigquery_endpoint, report_every=2)

    assert client.insert_rows_json(table, [metric_row(1)]) == []
    assert capfd.readouterr().err == ""
    client.insert_rows_json(table, [metric_row(2), metric_row(3), metric_row(4)])
    assert capfd.readouterr().err == f"      wrote 4 rows to {dataset}.realtime_event_metrics\n"
    client.insert_rows_json(table, [metric_row(5)])
    assert capfd.readouterr().err == ""

    copy = pickle.loads(pickle.dumps(client))
    assert (copy.report_every, copy.written) == (2, {}), "each worker's copy counts its own rows"
    silent = InsertClient(stack.project, stack.bigquery_endpoint)
    silent.insert_rows_json(table, [metric_row(6), metric_row(7)])
    assert capfd.readouterr().err == ""


def test_read_progress_prints_every_n_messages(capfd):
    with TestPipeline() as p:
        _ = p | beam.Create([Message(data=b"%d" % i) for i in range(5)]) | beam.ParDo(ReadProgress(every=2))
    assert capfd.readouterr().err.splitlines() == ["      read 2 messages", "      read 4 messages"]
