"""BigQuery faults: a refused row ends in dead_letter as load_rejected and the pipeline finishes
(batch, by load jobs or streaming inserts) or goes on (streaming); transient insert faults are
retried with the same insertId until every row is loaded once (tests/integration/
test_bigquery_loads.py retries load jobs)."""

from __future__ import annotations

import uuid

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from localdev.streaming.checkpoints import create_subscription
from localdev.streaming.harness import pipeline_argv
from tests.dead_letters import stream_one_refused_order
from tests.events import ORDER, changed
from tests.fault_proxy import FaultProxy
from tests.pipeline_runs import run_batch, table_rows, write_lines

PARTITIONS = "event_date >= '2000-01-01'"


@pytest.mark.parametrize("method", ["file_loads", "streaming_inserts"])
def test_refused_row_becomes_load_rejected_dead_letter(stack, tmp_path, method):
    """A load job with the refused row fails as a whole; its rows go again by streaming inserts,
    which write the accepted one and name the refused one."""
    dataset = stack.fresh_dataset()
    refused = changed(ORDER, "event_id", "evt-refused")
    accepted = changed(ORDER, "event_id", "evt-accepted")
    inputs = write_lines(tmp_path / "orders.jsonl", [refused, accepted])
    proxy = FaultProxy(stack.bigquery_endpoint, "orders", reject_event_ids={"evt-refused"}).start()
    try:
        summary = run_batch(
            stack, str(inputs), dataset, endpoint=proxy.url, extra=[f"--bigquery_write_method={method}"]
        )
    finally:
        proxy.stop()

    assert len(proxy.load_job_ids) == (method == "file_loads")
    assert summary["messages_in"] == 2
    assert summary["loaded"]["orders"] == 1
    assert summary["rejected"] == {"load_rejected": 1}
    assert len(proxy.refused) == 1, "a refused row must not be retried"
    assert sorted(proxy.insert_ids) == ["evt-accepted", "evt-refused"], "event_id is BigQuery's insertId"
    assert [r["event_id"] for r in table_rows(stack, dataset, "orders", PARTITIONS)] == ["evt-accepted"]
    [dead] = table_rows(stack, dataset, "dead_letter")
    assert (dead["stage"], dead["stream"], dead["error_code"], dead["event_id"]) == (
        "load",
        "orders",
        "load_rejected",
        "evt-refused",
    )
    assert "total_amount: Invalid NUMERIC value" in dead["error_message"]
    assert (dead["payload"], dead["payload_encoding"]) == (refused.decode("utf-8"), "utf-8"), "as received"
    assert dead["attributes"] == {"source_file": str(inputs)}
    assert all("_received" not in row for row in proxy.rows_seen), "BigQuery gets only the table's columns"


def test_transient_faults_are_retried_and_every_row_loads_once(stack, tmp_path):
    dataset = stack.fresh_dataset()
    flaky = changed(ORDER, "event_id", "evt-flaky")
    steady = changed(ORDER, "event_id", "evt-steady")
    inputs = write_lines(tmp_path / "orders.jsonl", [flaky, steady])
    proxy = FaultProxy(
        stack.bigquery_endpoint, "orders", transient_event_ids={"evt-flaky": 2}, unavailable_requests=1
    ).start()
    try:
        summary = run_batch(
            stack,
            str(inputs),
            dataset,
            endpoint=proxy.url,
            extra=["--bigquery_write_method=streaming_inserts"],
        )
    finally:
        proxy.stop()

    assert proxy.unavailable_answers == 1, "the first insertAll was answered with HTTP 503"
    assert proxy.attempts == {"evt-flaky": 3, "evt-steady": 1}, "only the row that failed is sent again"
    assert sorted(proxy.insert_ids) == ["evt-flaky"] * 3 + ["evt-steady"], "a retry keeps the insertId"
    assert (
        summary["messages_in"],
        summary["loaded"]["orders"],
        summary["rejected"],
        summary["duplicates"],
    ) == (
        2,
        2,
        {},
        0,
    )
    loaded = table_rows(stack, dataset, "orders", PARTITIONS)
    assert sorted(r["event_id"] for r in loaded) == ["evt-flaky", "evt-steady"]
    assert table_rows(stack, dataset, "dead_letter") == []


def test_streaming_refused_row_becomes_load_rejected_dead_letter(stack):
    """In streaming the refused row's dead letter joins the other dead letters (same windowing)
    and carries the Pub/Sub metadata of the message as received."""
    dataset = stack.fresh_dataset("streamrej")
    topic = f"load-rejected-{uuid.uuid4().hex[:8]}"
    subscription = create_subscription(stack.project, topic, f"{topic}-pipeline")
    proxy = FaultProxy(stack.bigquery_endpoint, "orders", reject_event_ids={"evt-refused"}).start()
    # Streaming inserts: the path the REST fault proxy sees.
    argv = pipeline_argv(
        [subscription], stack.project, dataset, proxy.url, extra=["--bigquery_write_method=streaming_inserts"]
    )
    options = PipelineOptions(argv)
    try:
        stream_one_refused_order(stack, options, topic, dataset)
    finally:
        proxy.stop()
    assert len(proxy.refused) == 1, "a refused row is not sent again"
