"""The BigQuery write path against the emulator, through the fault-injecting proxy: requests are
batched by rows and bytes, refused rows come out once and are never sent again, stopped and
transient rows and failed requests are sent again until they are written."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import window
from apache_beam.transforms.util import Reify
from apache_beam.utils.windowed_value import WindowedValue

from localdev.stack import free_port
from pipeline.bigquery_writes import RECEIVED, REFUSED, BigQueryTarget, InsertRows, WriteRows
from tests.dead_letters import dead_letter, event_ids
from tests.fault_proxy import FaultProxy, reply_json


class RecordingProxy(FaultProxy):
    """The fault proxy, also recording each insertAll request's size and rows for its table, and
    answering the held-back rows of ``stopped_event_ids`` with reason ``stopped``, as BigQuery
    does for the valid rows of a request it did not write because another row was invalid."""

    def __init__(
        self, *args, stopped_event_ids: frozenset[str] = frozenset(), port: int = 0, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.port = port
        if port:  # listen on ``port`` only once started: until then connections are refused
            self.server.server_close()
        self.stopped_event_ids = stopped_event_ids
        self.request_bytes: list[int] = []
        self.request_rows: list[int] = []

    def start(self) -> RecordingProxy:
        if self.port:
            self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
            self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        super().start()
        return self

    def _insert_all(self, body: bytes) -> tuple[bytes, list[dict]]:
        rows = json.loads(body)["rows"]
        self.request_bytes.append(len(body))
        self.request_rows.append(len(rows))
        forwarded, errors = super()._insert_all(body)
        for error in errors:
            if rows[error["index"]]["json"].get("event_id") in self.stopped_event_ids:
                error["errors"] = [{"reason": "stopped", "location": "", "message": ""}]
        return forwarded, errors


def run_bundles(dofn: InsertRows, bundles: list[list[dict]]) -> list[tuple]:
    """Drive the DoFn as a runner does, one bundle per list; returns its refused outputs."""
    refused = []
    dofn.setup()
    for rows in bundles:
        dofn.start_bundle()
        for row in rows:
            dofn.process(row, window.GlobalWindows.windowed_value(row))
        for output in dofn.finish_bundle():
            assert output.tag == REFUSED and isinstance(output.value, WindowedValue)
            refused.append(output.value.value)
    dofn.teardown()
    return refused


def test_requests_hold_at_most_max_rows(stack):
    dataset = stack.fresh_dataset()
    proxy = RecordingProxy(stack.bigquery_endpoint, "dead_letter").start()
    try:
        rows = [dead_letter(f"evt-{i:04d}") for i in range(1201)]
        dofn = InsertRows(f"{stack.project}:{dataset}.dead_letter", BigQueryTarget(stack.project, proxy.url))
        assert run_bundles(dofn, [rows[:700], rows[700:]]) == []
    finally:
        proxy.stop()
    # Requests of one bundle may land in any order (two are in flight); bundles do not overlap.
    assert sorted(proxy.request_rows[:2]) == [200, 500], "flushed at 500 rows and at the bundle's end"
    assert sorted(proxy.request_rows[2:]) == [1, 500]
    assert sorted(proxy.insert_ids) == [r["event_id"] for r in rows], "event_id is the insertId"
    assert event_ids(stack, dataset) == [r["event_id"] for r in rows]


def test_requests_stay_under_the_byte_limit_counted_from_the_rows_json(stack):
    dataset = stack.fresh_dataset()
    proxy = RecordingProxy(stack.bigquery_endpoint, "dead_letter").start()
    limit = 20_000
    try:
        rows = [dead_letter(f"evt-{i:03d}", payload_bytes=1500 + 37 * i) for i in range(60)]
        dofn = InsertRows(
            f"{stack.project}:{dataset}.dead_letter",
            BigQueryTarget(stack.project, proxy.url),
            max_request_bytes=limit,
            max_row_bytes=limit - 2000,
        )
        assert run_bundles(dofn, [rows]) == []
    finally:
        proxy.stop()
    assert max(proxy.request_bytes) <= limit
    assert sum(proxy.request_rows) == 60 and len(proxy.request_rows) > 5
    assert min(proxy.request_bytes[:-1]) > limit - 6000, "each request is filled before it is sent"
    assert event_ids(stack, dataset) == [r["event_id"] for r in rows]


def test_an_oversized_row_is_refused_unsent_and_the_others_load(stack):
    dataset = stack.fresh_dataset()
    proxy = RecordingProxy(stack.bigquery_endpoint, "dead_letter").start()
    try:
        rows = [dead_letter("evt-small-1"), dead_letter("evt-big", 5000), dead_letter("evt-small-2")]
        dofn = InsertRows(
            f"{stack.project}:{dataset}.dead_letter",
            BigQueryTarget(stack.project, proxy.url),
            max_row_bytes=4000,
        )
        [(table, row, [error])] = run_bundles(dofn, [rows])
    finally:
        proxy.stop()
    assert (table, row["event_id"], error["reason"]) == (
        f"{stack.project}:{dataset}.dead_letter",
        "evt-big",
        "tooLarge",
    )
    assert "at most 4000 (MAX_ROW_JSON_BYTES)" in error["message"]
    assert sorted(proxy.insert_ids) == ["evt-small-1", "evt-small-2"], "never sent"
    assert event_ids(stack, dataset) == ["evt-small-1", "evt-small-2"]


def test_refused_rows_are_not_sent_again_stopped_and_transient_rows_are(stack):
    dataset = stack.fresh_dataset()
    proxy = RecordingProxy(
        stack.bigquery_endpoint,
        "dead_letter",
        reject_event_ids={"evt-refused"},
        transient_event_ids={"evt-stopped": 1, "evt-backend": 3},
        stopped_event_ids=frozenset({"evt-stopped"}),
        unavailable_requests=2,
    ).start()
    names = ["evt-ok", "evt-refused", "evt-stopped", "evt-backend"]
    try:
        rows = [{**dead_letter(name), RECEIVED: {"data": name}} for name in names]
        dofn = InsertRows(
            f"{stack.project}:{dataset}.dead_letter",
            BigQueryTarget(stack.project, proxy.url),
            first_backoff_s=0.01,
        )
        [(_, row, errors)] = run_bundles(dofn, [rows])
    finally:
        proxy.stop()
    assert row == rows[1] and row[RECEIVED] == {"data": "evt-refused"}, "the refused row keeps its envelope"
    assert errors[0]["reason"] == "invalid" and "Invalid NUMERIC value" in errors[0]["message"]
    assert proxy.unavailable_answers == 2, "two requests answered HTTP 503 as a whole, then sent again"
    assert proxy.attempts == {"evt-ok": 1, "evt-refused": 1, "evt-stopped": 2, "evt-backend": 4}
    assert proxy.request_rows == [4, 2, 1, 1], "only the rows still pending are sent again"
    assert all("_received" not in r for r in proxy.rows_seen)
    assert event_ids(stack, dataset) == ["evt-backend", "evt-ok", "evt-stopped"]


def test_a_request_refused_as_a_whole_refuses_its_rows_once(stack):
    dataset = stack.fresh_dataset()
    proxy = RecordingProxy(stack.bigquery_endpoint, "no_such_table").start()
    try:
        rows = [dead_letter("evt-1"), dead_letter("evt-2")]
        dofn = InsertRows(
            f"{stack.project}:{dataset}.no_such_table", BigQueryTarget(stack.project, proxy.url)
        )
        refused = run_bundles(dofn, [rows])
    finally:
        proxy.stop()
    assert [row["event_id"] for _, row, _ in refused] == ["evt-1", "evt-2"]
    [error] = refused[0][2]
    assert error["location"] == "request" and error["message"].startswith("HTTP 404"), error
    assert proxy.insert_calls == 1, "not sent again"


def test_a_refused_connection_is_retried_until_bigquery_answers(stack):
    dataset = stack.fresh_dataset()
    port = free_port()
    proxy = RecordingProxy(stack.bigquery_endpoint, "dead_letter", port=port)
    starter = threading.Timer(2.0, proxy.start)
    starter.start()
    started = time.monotonic()
    try:
        dofn = InsertRows(
            f"{stack.project}:{dataset}.dead_letter",
            BigQueryTarget(stack.project, f"http://127.0.0.1:{port}"),
            first_backoff_s=0.05,
        )
        assert run_bundles(dofn, [[dead_letter("evt-late")]]) == []
    finally:
        starter.join()
        proxy.stop()
    assert time.monotonic() - started >= 2.0
    assert proxy.request_rows == [1], "the connection was refused until the proxy listened"
    assert event_ids(stack, dataset) == ["evt-late"]


def test_refused_rows_keep_their_window_and_timestamp_and_the_counters_count(stack):
    dataset = stack.fresh_dataset()
    table = f"{stack.project}:{dataset}.dead_letter"
    proxy = RecordingProxy(
        stack.bigquery_endpoint, "dead_letter", reject_event_ids={"evt-2"}, transient_event_ids={"evt-3": 1}
    ).start()
    try:
        pipeline = TestPipeline()
        refused = (
            pipeline
            | beam.Create([(dead_letter(f"evt-{i}"), 100 * i) for i in range(5)])
            | beam.Map(lambda kv: window.TimestampedValue(kv[0], kv[1]))
            | beam.WindowInto(window.FixedWindows(60))
            | WriteRows(table, BigQueryTarget(stack.project, proxy.url))
            | Reify.Window()
            | beam.Map(lambda rtw: (rtw[0][1]["event_id"], rtw[1], rtw[2]))
        )
        assert_that(refused, equal_to([("evt-2", 200, window.IntervalWindow(180, 240))]))
        result = pipeline.run()
        result.wait_until_finish()
    finally:
        proxy.stop()
    counters = {
        c.key.metric.name: c.committed
        for c in result.metrics().query(MetricsFilter().with_namespace("eventharbor.bigquery.dead_letter"))[
            "counters"
        ]
    }
    assert (counters["rows_inserted"], counters["rows_refused"]) == (4, 1)
    assert counters["requests"] == proxy.insert_calls and counters["retries"] >= 1, counters
    assert event_ids(stack, dataset) == ["evt-0", "evt-1", "evt-3", "evt-4"]


class HoldingEndpoint:
    """An insertAll endpoint that answers only once two requests are waiting (a barrier), and
    records how many it held at once: requests sent one after the other would time out."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=20)
        self.lock = threading.Lock()
        self.active = self.most_active = self.rows = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with endpoint.lock:
                    endpoint.active += 1
                    endpoint.most_active = max(endpoint.most_active, endpoint.active)
                try:
                    endpoint.barrier.wait()
                    status, answer = 200, {"kind": "bigquery#tableDataInsertAllResponse"}
                    with endpoint.lock:
                        endpoint.rows += len(body["rows"])
                except threading.BrokenBarrierError:
                    status, answer = 400, {"error": {"code": 400, "message": "sent one at a time"}}
                with endpoint.lock:
                    endpoint.active -= 1
                reply_json(self, status, answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"


def test_two_requests_are_in_flight_at_once_and_a_bundle_ends_when_all_are_answered():
    endpoint = HoldingEndpoint()
    try:
        dofn = InsertRows("p:d.dead_letter", BigQueryTarget("p", endpoint.url), max_rows=1)
        rows = [dead_letter(f"evt-{i}") for i in range(4)]
        assert run_bundles(dofn, [rows]) == [], "every request answered 200: none refused"
        assert endpoint.rows == 4, "finish_bundle returned only after every request was answered"
        assert endpoint.most_active == 2, "at most max_in_flight (2) requests at once"
    finally:
        endpoint.server.shutdown()
