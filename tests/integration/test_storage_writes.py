"""The Storage Write API sink (pipeline.storage_writes) on the real emulator (bqemulator 1.4 started
through localdev/bqemulator_launcher.py, so nested rows work):

- a streaming run with the default write method writes every table (raw, dead_letter,
  realtime_event_metrics) and reconciles, each row once;
- a batch re-sent at an offset a previous attempt wrote (a bundle retried after its state was
  rolled back) is recognised: counted, not written twice; a stream the emulator forgot (restart) is
  replaced by a new one;
- a request refused as a whole (bqemulator: a NUMERIC with 10 decimals) is cut down to the row at
  fault, which alone is refused; sent again by a retried bundle, the batch is recognised, its
  refused row refused again (its dead letter went with the failed bundle) through a PENDING
  stream never committed, and the offset stays at the stream's end;
- ``row_errors`` (which bqemulator never answers) through a test double of the write client at the
  DoFn's client boundary (``AppendBatches.make_client``): the rows named become ``load_rejected``
  dead letters with BigQuery's reason, the others are written, in a batch run and in a streaming
  run (there with the Pub/Sub metadata of the message as received).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from typing import Any

import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from google.cloud import bigquery
from google.cloud.bigquery_storage_v1 import types
from google.rpc import status_pb2

from bench.by_hand import State, counted
from localdev.streaming.checkpoints import create_subscription
from localdev.streaming.direct_runner import RunnerAdaptation
from localdev.streaming.harness import StreamingPipeline, drain, pipeline_argv
from localdev.streaming.polls import landed
from localdev.streaming.publishing import SteadyPublisher
from pipeline.bigquery_writes import RECEIVED, REFUSED, BigQueryTarget
from pipeline.reconciliation import is_balanced
from pipeline.storage_writes import AppendBatches
from schemas import STREAMS, load_schema
from tests.dead_letters import stream_one_refused_order
from tests.events import ORDER, USER_ACTIVITY, changed, encode
from tests.pipeline_runs import run_batch, table_rows, write_lines
from tests.streaming_feed import feed

PARTITIONS = "event_date >= '1970-01-01'"


# Every counter of AppendBatches, read by the tests.
COUNTERS = ("inserted", "requests", "retries", "refused", "recognised", "probed", "recreated", "schema_waits")


def order_row(n: int, **changes: Any) -> dict[str, Any]:
    row = {
        "order_id": f"ord-{n}",
        "customer_id": "cust-1",
        "order_date": "2026-11-01T08:15:00Z",
        "status": "pending",
        "items": [{"product_id": "p-1", "product_name": "Mug", "quantity": 2, "price": "4.10"}],
        "shipping_address": {"street": "1 Karl Johans gate", "city": "Oslo", "country": "NO"},
        "total_amount": "8.20",
        "event_id": f"evt-{n}",
        "event_type": "order",
        "processed_timestamp": "2026-11-01T08:15:01.5Z",
        "event_date": "2026-11-01",
        "message_id": None,
        "publish_time": None,
        "attributes": None,
        "extra_fields": json.dumps({"note": n}),
        RECEIVED: {"data": "{}", "data_encoding": "utf-8"},
    }
    return {**row, **changes}


def appender(stack, dataset: str, **kwargs: Any) -> AppendBatches:
    target = BigQueryTarget(
        stack.project,
        stack.bigquery_endpoint,
        storage_write_api=True,
        storage_endpoint=stack.bigquery_storage_endpoint,
    )
    dofn = AppendBatches(
        f"{stack.project}:{dataset}.orders", target, load_schema("events", "orders"), **kwargs
    )
    counted(dofn, COUNTERS)
    dofn.setup()
    return dofn


def append(dofn: AppendBatches, rows: list[dict], stream: State, offset: State) -> list:
    return list(dofn.process((0, rows), stream, offset))


def order_ids(stack, dataset: str) -> Counter:
    return Counter(r["event_id"] for r in table_rows(stack, dataset, "orders", PARTITIONS))


def test_a_batch_sent_again_at_its_offset_is_recognised_not_written_twice(stack):
    dataset = stack.fresh_dataset("swoffset")
    dofn = appender(stack, dataset)
    try:
        stream, offset = State(), State()
        first, second = [order_row(n) for n in range(3)], [order_row(n) for n in range(3, 5)]
        assert append(dofn, first, stream, offset) == []
        before = (stream.value, offset.value)
        assert offset.value == 3 and stream.value.startswith(f"projects/{stack.project}/datasets/{dataset}/")

        # The bundle that wrote ``second`` fails after the append: its state write is lost, and the
        # retried bundle sends the same batch at the same offset.
        assert append(dofn, second, stream, offset) == []
        stream.value, offset.value = before
        assert append(dofn, second, stream, offset) == []
        assert dofn.recognised.value == 2 and offset.value == 5
        assert append(dofn, [order_row(5)], stream, offset) == []
        assert offset.value == 6 and dofn.inserted.value == 6

        assert order_ids(stack, dataset) == Counter({f"evt-{n}": 1 for n in range(6)}), "each row once"
        assert dofn.recreated.value == 0 and dofn.retries.value == 0

        # A stream the emulator no longer knows (as after its restart): a new one from offset 0.
        stream.value = stream.value.rsplit("/", 1)[0] + "/0123456789abcdef"
        assert append(dofn, [order_row(6)], stream, offset) == []
        assert (
            dofn.recreated.value == 1 and offset.value == 1 and not stream.value.endswith("0123456789abcdef")
        )
        assert order_ids(stack, dataset)["evt-6"] == 1
    finally:
        dofn.teardown()


def test_a_request_refused_as_a_whole_is_cut_down_to_the_row_at_fault(stack):
    """bqemulator refuses a whole request for a NUMERIC of 10 decimals, naming no row."""
    dataset = stack.fresh_dataset("swbisect")
    dofn = appender(stack, dataset)
    try:
        stream, offset = State(), State()
        rows = [order_row(n) for n in range(8)]
        rows[5] = order_row(5, total_amount="8.2000000001")
        refused = append(dofn, rows, stream, offset)
        [(tag, (table, row, errors))] = [(r.tag, r.value) for r in refused]
        assert tag == REFUSED and table.endswith(".orders") and row["event_id"] == "evt-5"
        assert errors[0]["reason"] == "invalid" and "Rescaling Decimal" in errors[0]["message"]
        assert offset.value == 7 and dofn.inserted.value == 7 and dofn.refused.value == 1
        assert order_ids(stack, dataset) == Counter({f"evt-{n}": 1 for n in range(8) if n != 5})
    finally:
        dofn.teardown()


class OffsetsFirstClient:
    """The real write client, except that a request at an offset below the rows already written to
    its stream is answered ALREADY_EXISTS before its rows are looked at, as BigQuery documents;
    bqemulator checks the values first (test double at the DoFn's client boundary)."""

    def __init__(self, real) -> None:
        self.real = real
        self.written: Counter = Counter()

    def append_rows(self, requests, **kwargs):
        [request] = list(requests)
        if request.offset < self.written[request.write_stream]:
            error = status_pb2.Status(code=6, message=f"Offset {request.offset} already exists")
            return iter([types.AppendRowsResponse(error=error)])
        responses = list(self.real.append_rows(iter([request]), **kwargs))
        if responses and not responses[0].error.code:
            self.written[request.write_stream] += len(request.proto_rows.rows.serialized_rows)
        return iter(responses)

    def __getattr__(self, name: str):
        return getattr(self.real, name)


@pytest.mark.parametrize("offsets_first", [False, True], ids=["bqemulator", "offsets-first"])
def test_a_retried_batch_refuses_again_what_its_first_attempt_refused_and_keeps_the_offset(
    stack, offsets_first
):
    dataset = stack.fresh_dataset(f"swprobe{int(offsets_first)}")
    dofn = appender(stack, dataset)
    if offsets_first:
        dofn._client = OffsetsFirstClient(dofn._client)
    try:
        stream, offset = State(), State()
        rows = [order_row(n) for n in range(8)]
        rows[2] = order_row(2, total_amount="8.2000000001")
        assert [r.value[1]["event_id"] for r in append(dofn, rows, stream, offset)] == ["evt-2"]
        assert offset.value == 7

        # The bundle fails after the append: its state write and its dead letter are lost.
        offset.value = 0
        again = append(dofn, rows, stream, offset)
        [(tag, (_, row, errors))] = [(r.tag, r.value) for r in again]
        assert tag == REFUSED and row["event_id"] == "evt-2" and "Rescaling Decimal" in errors[0]["message"]
        assert offset.value == 7 and dofn.recognised.value == 7
        assert dofn.inserted.value == 7, "the probe's rows are not counted as written"
        # Offsets first: the whole batch is recognised and one probe refuses evt-2 again. bqemulator
        # refuses the batch for its value first, so the retry halves as the first attempt did:
        # evt-2 is refused on the way and each written piece is recognised (3 probes, 0 refused).
        assert dofn.probed.value == (1 if offsets_first else 3)

        assert append(dofn, [order_row(8)], stream, offset) == []
        assert offset.value == 8 and dofn.recreated.value == 0, "the next batch follows on the same stream"
        assert order_ids(stack, dataset) == Counter({f"evt-{n}": 1 for n in range(9) if n != 2})
    finally:
        dofn.teardown()


def test_rows_that_do_not_fit_their_columns_are_refused_before_sending(stack):
    dataset = stack.fresh_dataset("swencode")
    dofn = appender(stack, dataset, max_request_bytes=2_000)
    try:
        stream, offset = State(), State()
        rows = [
            order_row(0, order_date="yesterday"),
            order_row(1),
            order_row(2, extra_fields=json.dumps({"big": "y" * 3000})),
        ]
        refused = [r.value for r in append(dofn, rows, stream, offset)]
        assert [(row["event_id"], errors[0]["reason"]) for _, row, errors in refused] == [
            ("evt-0", "invalid"),
            ("evt-2", "tooLarge"),
        ]
        assert order_ids(stack, dataset) == Counter({"evt-1": 1})
    finally:
        dofn.teardown()


GIFT_NOTE = {"name": "gift_note", "type": "STRING", "mode": "NULLABLE", "description": "A new column."}


def with_gift_note(stack, dataset: str, **kwargs: Any) -> AppendBatches:
    """The orders appender of a job whose ``schemas/`` gained a NULLABLE ``gift_note``."""
    dofn = appender(stack, dataset, **kwargs)
    dofn.teardown()
    dofn.schema = [*dofn.schema, GIFT_NOTE]
    dofn.setup()
    return dofn


def test_a_column_added_to_the_table_while_its_stream_is_open_is_written_to(stack):
    """Terraform adds a column, the job is updated with it, and the shard's stream (created before
    the column) goes on: rows land with the new column's values, each once."""
    dataset = stack.fresh_dataset("swschema")
    before = appender(stack, dataset)
    stream, offset = State(), State()
    try:
        assert append(before, [order_row(n) for n in range(3)], stream, offset) == []
    finally:
        before.teardown()
    client = stack.bigquery_client()
    table = client.get_table(f"{stack.project}.{dataset}.orders")
    table.schema = [*table.schema, bigquery.SchemaField("gift_note", "STRING")]
    client.update_table(table, ["schema"])  # the emulator's metadata; the ALTER its storage (gap P7)
    client.query(f"ALTER TABLE `{stack.project}.{dataset}.orders` ADD COLUMN gift_note STRING").result()

    after = with_gift_note(stack, dataset)
    try:
        opened = stream.value
        rows = [order_row(n, gift_note=f"note {n}") for n in range(3, 5)]
        assert append(after, rows, stream, offset) == []
        assert stream.value == opened and offset.value == 5
    finally:
        after.teardown()
    notes = {r["event_id"]: r["gift_note"] for r in table_rows(stack, dataset, "orders", PARTITIONS)}
    assert notes == {"evt-0": None, "evt-1": None, "evt-2": None, "evt-3": "note 3", "evt-4": "note 4"}


class SchemaBehindClient:
    """The real write client, except that the stream it is told is stale answers as BigQuery
    answers rows with a column the stream does not know (bqemulator reads the table's schema at
    each request, so never answers so; test double at the DoFn's client boundary)."""

    def __init__(self, real, stale: str) -> None:
        self.real = real
        self.stale = stale
        self.refusals = 0

    def append_rows(self, requests, **kwargs):
        requests = list(requests)
        if requests[0].write_stream != self.stale:
            return self.real.append_rows(iter(requests), **kwargs)
        self.refusals += 1
        message = (
            "Input schema has more fields than BigQuery schema, extra fields: 'gift_note' "
            f"Entity: {self.stale}"
        )
        return iter([types.AppendRowsResponse(error=status_pb2.Status(code=3, message=message))])

    def __getattr__(self, name: str):
        return getattr(self.real, name)


def test_rows_a_stream_refuses_for_a_new_column_wait_for_a_new_stream_and_are_not_refused(stack):
    dataset = stack.fresh_dataset("swstale")
    stream, offset = State(), State()
    dofn = with_gift_note(stack, dataset, first_backoff_s=0.01)
    try:
        assert append(dofn, [order_row(0)], stream, offset) == []
        stale = stream.value
        dofn._client = SchemaBehindClient(dofn._client, stale)
        rows = [order_row(n, gift_note="wrap it") for n in range(1, 4)]
        assert append(dofn, rows, stream, offset) == [], "held, not refused"
        assert dofn._client.refusals == 1 and stream.value != stale and offset.value == 3
        assert dofn.schema_waits.value == 1 and dofn.recreated.value == 1 and dofn.refused.value == 0
    finally:
        dofn.teardown()
    assert order_ids(stack, dataset) == Counter({f"evt-{n}": 1 for n in range(4)})


class RowErrorsClient:
    """The real write client, except that a request holding a row whose bytes contain one of
    ``bad`` is answered as BigQuery answers it: the whole request refused (INVALID_ARGUMENT), the
    bad rows named by index in ``row_errors``. bqemulator never answers so (test double at the
    DoFn's client boundary, for this path only)."""

    calls: list[int] = []

    def __init__(self, real, bad: tuple[bytes, ...]) -> None:
        self.real = real
        self.bad = bad

    def append_rows(self, requests, **kwargs):
        requests = list(requests)
        rows = list(requests[0].proto_rows.rows.serialized_rows)
        RowErrorsClient.calls.append(len(rows))
        orders = "/tables/orders/" in requests[0].write_stream
        named = [i for i, data in enumerate(rows) if orders and any(b in data for b in self.bad)]
        if not named:
            return self.real.append_rows(iter(requests), **kwargs)
        response = types.AppendRowsResponse(
            error=status_pb2.Status(code=3, message="Errors found while processing rows."),
            row_errors=[
                types.RowError(
                    index=i,
                    code=types.RowError.RowErrorCode.FIELDS_ERROR,
                    message="Field total_amount: NUMERIC value out of range",
                )
                for i in named
            ],
        )
        return iter([response])

    def __getattr__(self, name: str):
        return getattr(self.real, name)


def test_row_errors_become_load_rejected_dead_letters_and_the_rest_is_written(stack, tmp_path, monkeypatch):
    real = AppendBatches.make_client
    RowErrorsClient.calls = []
    monkeypatch.setattr(
        AppendBatches,
        "make_client",
        lambda self: RowErrorsClient(real(self), (b"evt-refused-1", b"evt-refused-2")),
    )
    dataset = stack.fresh_dataset("swrowerr")
    payloads = [changed(ORDER, "event_id", f"evt-ok-{n}") for n in range(5)]
    payloads[1:1] = [changed(ORDER, "event_id", "evt-refused-1")]
    payloads.append(changed(ORDER, "event_id", "evt-refused-2"))
    payloads.append(encode(USER_ACTIVITY))
    source = write_lines(tmp_path / "in.jsonl", payloads)
    summary = run_batch(
        stack,
        str(source),
        dataset,
        extra=[
            "--bigquery_write_method=storage_write_api",
            f"--bigquery_storage_endpoint={stack.bigquery_storage_endpoint}",
            "--storage_write_shards=1",
        ],
    )
    assert summary["loaded"]["orders"] == 5 and summary["rejected"] == {"load_rejected": 2}
    assert sorted(order_ids(stack, dataset)) == [f"evt-ok-{n}" for n in range(5)]
    dead = table_rows(stack, dataset, "dead_letter")
    assert sorted(r["event_id"] for r in dead) == ["evt-refused-1", "evt-refused-2"]
    for row in dead:
        assert row["error_code"] == "load_rejected" and row["stage"] == "load" and row["stream"] == "orders"
        assert "NUMERIC value out of range" in row["error_message"] and "fields_error" in row["error_message"]
        assert json.loads(row["payload"])["event_id"] == row["event_id"], "the message as received"
    # The orders' one request named two rows; the other five went again, at the same offset.
    assert 7 in RowErrorsClient.calls and 5 in RowErrorsClient.calls


def test_a_streaming_run_with_the_default_writes_every_table_once_and_reconciles(stack, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    dataset = stack.fresh_dataset("swstream")
    topic = f"storage-write-{suffix}"
    subscription = create_subscription(stack.project, topic, f"{topic}-pipeline")
    argv = pipeline_argv(
        [subscription],
        stack.project,
        dataset,
        stack.bigquery_endpoint,
        str(tmp_path / "archive"),
        ["--archive_window_s=5", "--window_size_s=10", "--window_period_s=5"],
        storage_endpoint=stack.bigquery_storage_endpoint,
    )
    assert not any(a.startswith("--bigquery_write_method") for a in argv), "the streaming default"
    pipeline = StreamingPipeline(argv, tmp_path / "pipeline", stack.env, RunnerAdaptation(idle_pull_s=0.5))
    pipeline.start()
    try:
        pipeline.wait_started()
        messages = feed(600, run_id=suffix, invalid_every=10)
        started = time.monotonic()
        published = SteadyPublisher(stack.project, topic, 40.0).publish(
            (m.event_id, m.data) for m in messages
        )
        done = drain(pipeline, published, quiet_s=8.0, timeout_s=240)
        print(
            f"published {published}; drained={done.drained} in {done.seconds:.1f} s after publishing "
            f"({time.monotonic() - started:.1f} s in all)"
        )
    finally:
        pipeline.stop()
    status = done.status
    assert done.drained, status
    summary, counters = status["summary"], status["counters"]
    assert is_balanced(summary) and summary["messages_in"] == published

    valid = Counter(m.stream for m in messages if m.valid)
    got = landed(stack.bigquery_client(), dataset)
    print("landed", dict(got.raw_rows and Counter(got.raw_rows.values())), "dead letters", got.dead_letters)
    assert got.raw_total == sum(valid.values()) and got.raw_duplicates == 0, "every event once"
    assert got.dead_letters == sum(1 for m in messages if not m.valid)
    for stream in STREAMS:
        assert len(table_rows(stack, dataset, stream, PARTITIONS)) == valid[stream]
    metrics = table_rows(stack, dataset, "realtime_event_metrics")
    assert metrics, "realtime_event_metrics is written"

    def counter(table: str, name: str) -> int:
        return sum(
            v for k, v in counters.items() if k.endswith(f"bigquery.{table}.{name}") or k == f"{table}.{name}"
        )

    print({k: v for k, v in counters.items() if "bigquery" in k})
    for table, rows in [*((s, valid[s]) for s in STREAMS), ("dead_letter", got.dead_letters)]:
        assert counter(table, "rows_inserted") == rows, (table, counters)
    assert counter("realtime_event_metrics", "rows_inserted") == len(metrics)
    assert sum(v for k, v in counters.items() if k.endswith(("rewrites_recognised", "rows_refused"))) == 0


def test_streaming_row_errors_become_load_rejected_dead_letters_with_the_message_as_received(
    stack, monkeypatch
):
    """The same path in a streaming run (the DirectRunner in this process, so the test double
    applies): the refused row's dead letter carries the Pub/Sub metadata as received."""
    real = AppendBatches.make_client
    monkeypatch.setattr(
        AppendBatches, "make_client", lambda self: RowErrorsClient(real(self), (b"evt-refused",))
    )
    dataset = stack.fresh_dataset("swstreamrej")
    topic = f"sw-rejected-{uuid.uuid4().hex[:8]}"
    subscription = create_subscription(stack.project, topic, f"{topic}-pipeline")
    options = PipelineOptions(
        pipeline_argv(
            [subscription],
            stack.project,
            dataset,
            stack.bigquery_endpoint,
            storage_endpoint=stack.bigquery_storage_endpoint,
        )
    )
    refused = stream_one_refused_order(stack, options, topic, dataset)
    assert "NUMERIC value out of range" in refused["error_message"]
