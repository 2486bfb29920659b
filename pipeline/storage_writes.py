"""BigQuery Storage Write API (``AppendRows``), exactly once per batch, in pure Python.

:class:`WriteStorageRows` appends a PCollection of JSON-ready rows (as :mod:`transforms.rows`
shapes them) to one existing table through ``google.cloud.bigquery_storage_v1``: rows become
protocol-buffer messages of a type built once per table from ``schemas/``
(:mod:`pipeline.write_protos`). The design is that of Beam Java's exactly-once
``STORAGE_WRITE_API`` sink:

1. **Shards.** Each row is keyed by a shard, a stable hash (CRC-32) of its insert id (its
   ``event_id``, else the SHA-256 of its JSON, :func:`pipeline.bigquery_writes.insert_id`) modulo
   ``shards`` (``--storage_write_shards``), after the rows are put in the global window.
2. **Batches.** In streaming, ``beam.GroupIntoBatches`` gathers each shard's rows, at most
   ``batch_rows`` per batch and at most ``batch_wait_s`` seconds (processing time); in batch
   (where the method is chosen explicitly), a ``GroupByKey`` per shard cut into slices of
   ``batch_rows``. A batch is the committed output of its step: a retried bundle of the next
   step replays exactly the same batches.
3. **Streams and offsets in state.** :class:`AppendBatches`, a stateful DoFn, holds per shard in
   Beam user state the name of a COMMITTED write stream of the table and the offset of its next
   row. It appends each batch at that offset (cut into requests of at most ``max_request_bytes``
   of serialized rows, under AppendRows' 10 MB limit) and, once every request is answered,
   writes the new offset to state. The state commits with the bundle; a bundle that fails is
   retried from the state as it was, so it sends the same rows at the same offsets again:
   - ``ALREADY_EXISTS`` for an offset: a previous attempt wrote those rows (its bundle failed
     later, so its state was rolled back). They are counted as written, never written twice
     (``rewrites_recognised``, in rows). That attempt may have had rows refused, whose dead
     letters went with its failed bundle: the rows are sent once more to a PENDING stream that
     is never committed (``refusals_probed``), and the rows refused there are refused again
     (deterministically: same rows, same schema) and the offset moves by the rows it took.
   - ``NOT_FOUND`` for the stream (an emulator forgets streams when it restarts; a real stream
     expires after days idle): a new stream is created and the batch sent again from offset 0
     (``streams_recreated``). Rows a batch wrote to the lost stream before a bundle failure are
     then written a second time: the window this design leaves, counted and logged.
   - ``OUT_OF_RANGE`` (an offset beyond the stream's end: the state is ahead of the stream, which
     the probe above prevents, unless a refusal is not deterministic) is handled like a lost
     stream: nothing at that offset was written, so nothing is duplicated.

Schema changes. Rows are encoded with the job's ``schemas/``; a write stream keeps the table
schema of its creation, and a column added to the table reaches BigQuery's write path within
minutes. A request refused because it has "more fields than BigQuery schema" (a job deployed
with a new column before the table, or a stream older than the column) waits with backoff and
goes to a new stream until the table takes it (``schema_waits``): held, never dropped or
refused, and logged with what to do. The new stream is counted in ``streams_recreated`` and
leaves the same window as a lost one.

Failures. An answer with ``row_errors`` (BigQuery rejects the whole request and names the bad
rows by index): those rows go to the ``refused`` output as ``(table, row, errors)``, exactly as
:class:`pipeline.bigquery_writes.InsertRows` refuses them (they become ``load_rejected`` dead
letters with the reason), and the other rows are sent again at the same offset. A row that cannot
be encoded (a value that does not fit its column) or is larger than a request is refused without
being sent. A request refused as a whole without ``row_errors`` for a reason that is not transient
(``INVALID_ARGUMENT``, ``UNKNOWN``: what bqemulator answers for a bad value) is cut in halves until
the row at fault is alone, and that row is refused with the answer's message. ``UNAVAILABLE``,
``RESOURCE_EXHAUSTED``, ``ABORTED``, ``INTERNAL``, ``DEADLINE_EXCEEDED``, ``CANCELLED`` and a lost
connection are retried without limit with exponential backoff and jitter
(:func:`pipeline.bigquery_writes.backoff_delays`), sending only the requests not yet acknowledged.

The write client (a gRPC channel) is opened in ``setup`` on each worker and closed in
``teardown``: to real BigQuery with Application Default Credentials, or in plaintext to an
emulator's gRPC port (``BigQueryTarget.storage_endpoint``). Counters, in namespace
``eventharbor.bigquery.<table>`` as for streaming inserts: ``rows_inserted``, ``requests``,
``retries``, ``rows_refused``, ``rewrites_recognised``, ``refusals_probed``, ``streams_recreated``
and ``schema_waits``.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
from apache_beam.coders import StrUtf8Coder, VarIntCoder
from apache_beam.options.pipeline_options import StandardOptions
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.transforms.window import GlobalWindows

from pipeline.batching import bounded_runs
from pipeline.bigquery_writes import (
    FIRST_BACKOFF_S,
    REFUSED,
    WRITE_COUNTERS,
    BigQueryTarget,
    backoff_delays,
    insert_id,
    row_error,
    row_json,
    table_counters,
    table_parts,
)
from pipeline.progress import count_rows
from pipeline.write_protos import RowEncoder, row_encoder
from schemas import load_schema

logger = logging.getLogger(__name__)

MAX_APPEND_BYTES = 10 * 1024 * 1024  # AppendRows' limit on one request
MAX_REQUEST_BYTES = 9_000_000  # serialized rows per request: room for the descriptor and framing
DEFAULT_SHARDS = 4
DEFAULT_BATCH_ROWS = 500
DEFAULT_BATCH_WAIT_S = 1.0
REQUEST_TIMEOUT_S = 60.0

# gRPC status codes (google.rpc.Code) as AppendRows answers them, in a response or raised.
OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, ALREADY_EXISTS = 0, 1, 2, 3, 4, 5, 6
RESOURCE_EXHAUSTED, ABORTED, OUT_OF_RANGE, INTERNAL, UNAVAILABLE = 8, 10, 11, 13, 14
# An error known by its HTTP status only (google.api_core maps some so) -> its gRPC code.
_HTTP_CODES = {
    404: NOT_FOUND,
    409: ABORTED,
    429: RESOURCE_EXHAUSTED,
    500: INTERNAL,
    503: UNAVAILABLE,
    504: DEADLINE_EXCEEDED,
}
# How AppendRows refuses rows with a field the stream's schema lacks (an INVALID_ARGUMENT).
SCHEMA_AHEAD = "Input schema has more fields than BigQuery schema"
TRANSIENT_CODES = frozenset(
    {CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE}
)


def shard_of(row: dict[str, Any], shards: int) -> int:
    """The row's shard: CRC-32 of its insert id (``event_id``, else the SHA-256 of its JSON)
    modulo ``shards``; the same for a row whatever the worker or the attempt."""
    try:
        key = insert_id(row, row_json(row))
    except (TypeError, ValueError):  # not JSON: refused when encoded; any shard will do
        key = str(row.get("event_id", ""))
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % shards


def slices(group: tuple[int, Any], size: int) -> Iterator[tuple[int, list[Any]]]:
    """``(shard, rows)`` cut into ``(shard, at most size rows)`` batches, in order."""
    shard, rows = group
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield shard, batch
            batch = []
    if batch:
        yield shard, batch


def table_path(table: str) -> str:
    """``projects/P/datasets/D/tables/T`` of ``P:D.T``."""
    project, dataset, table_id = table_parts(table)
    return f"projects/{project}/datasets/{dataset}/tables/{table_id}"


def write_client(endpoint: str | None):
    """A BigQueryWriteClient: real BigQuery (Application Default Credentials, TLS), or a
    plaintext channel to an emulator's gRPC port ``host:port`` without credentials."""
    from google.cloud.bigquery_storage_v1 import BigQueryWriteClient

    if not endpoint:
        return BigQueryWriteClient()
    import grpc
    from google.cloud.bigquery_storage_v1.services.big_query_write.transports import (
        BigQueryWriteGrpcTransport,
    )

    channel = grpc.insecure_channel(
        endpoint,
        options=[("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)],
    )
    return BigQueryWriteClient(transport=BigQueryWriteGrpcTransport(channel=channel))


@dataclass(slots=True)
class Answer:
    """What one AppendRows request came to: a gRPC status code and message, and any row errors
    as ``{index: (code name, message)}``."""

    code: int
    message: str = ""
    row_errors: dict[int, tuple[str, str]] = field(default_factory=dict)


def exception_answer(exc: Exception) -> Answer:
    """The answer a raised error stands for (a lost connection is UNAVAILABLE)."""
    from google.api_core.exceptions import GoogleAPICallError

    if isinstance(exc, GoogleAPICallError):
        grpc_code = exc.grpc_status_code
        code = grpc_code.value[0] if grpc_code is not None else _HTTP_CODES.get(exc.code or 0, UNKNOWN)
        return Answer(code, str(exc.message or exc))
    return Answer(UNAVAILABLE, f"{type(exc).__name__}: {exc}")


def response_answer(response: Any) -> Answer:
    """The :class:`Answer` of an ``AppendRowsResponse``."""
    errors = {int(e.index): (e.code.name, e.message) for e in response.row_errors}
    if errors:
        return Answer(INVALID_ARGUMENT, response.error.message or "row errors", errors)
    if response.error.code:
        return Answer(int(response.error.code), response.error.message)
    return Answer(OK)


@dataclass(slots=True)
class _Row:
    data: bytes
    row: dict[str, Any]


class AppendBatches(beam.DoFn):
    """``(shard, rows)`` batches -> appended to ``table``'s COMMITTED stream of that shard at the
    offset held in state; refused rows -> the ``refused`` output as ``(table, row, errors)``.
    See the module's docstring."""

    STREAM = ReadModifyWriteStateSpec("stream", StrUtf8Coder())
    OFFSET = ReadModifyWriteStateSpec("offset", VarIntCoder())

    def __init__(
        self,
        table: str,
        target: BigQueryTarget,
        schema: list[dict[str, Any]],
        max_request_bytes: int = MAX_REQUEST_BYTES,
        first_backoff_s: float = FIRST_BACKOFF_S,
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self.table = table
        self.target = target
        self.schema = schema
        self.max_request_bytes = max_request_bytes
        self.first_backoff_s = first_backoff_s
        self.timeout_s = timeout_s
        _, self.dataset, self.table_id = table_parts(table)
        self.parent = table_path(table)
        self.inserted, self.requests, self.retries, self.refused = table_counters(
            self.table_id, *WRITE_COUNTERS
        )
        self.recognised, self.probed, self.recreated, self.schema_waits = table_counters(
            self.table_id, "rewrites_recognised", "refusals_probed", "streams_recreated", "schema_waits"
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def setup(self) -> None:
        from google.cloud.bigquery_storage_v1 import types

        self._types = types
        self._encoder: RowEncoder = row_encoder(self.schema, name=f"{self.table_id}_row")
        self._client = self.make_client()
        self._bar = None
        self._probing = False

    def make_client(self):
        """The write client (a seam for tests that inject faults at the client boundary)."""
        return write_client(self.target.storage_endpoint)

    def teardown(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            transport = getattr(client, "transport", None)
            if transport is not None:
                transport.close()
        if getattr(self, "_bar", None) is not None:
            self._bar.close()

    # -- one batch ------------------------------------------------------------------------------

    def process(
        self,
        batch: tuple[int, list[dict[str, Any]]],
        stream_state=beam.DoFn.StateParam(STREAM),
        offset_state=beam.DoFn.StateParam(OFFSET),
    ) -> Iterator[beam.pvalue.TaggedOutput]:
        _, rows = batch
        encoded: list[_Row] = []
        for row in rows:
            try:
                data = self._encoder.encode(row)
            except (TypeError, ValueError, OverflowError, AttributeError) as exc:
                yield self._refuse(row, [row_error("invalid", f"the row does not fit its columns: {exc}")])
                continue
            if len(data) > self.max_request_bytes:
                message = (
                    f"the row is {len(data)} bytes as a protocol buffer; one AppendRows request holds "
                    f"at most {MAX_APPEND_BYTES} bytes, rows at most {self.max_request_bytes}"
                )
                yield self._refuse(row, [row_error("tooLarge", message)])
                continue
            encoded.append(_Row(data, row))
        if not encoded:
            return
        self._stream = stream_state.read()
        self._offset = offset_state.read() or 0
        if self._stream is None:
            self._stream, self._offset = self._create_stream(), 0
        for request in self._requests(encoded):
            yield from self._append(request)
        stream_state.write(self._stream)
        offset_state.write(self._offset)

    def _requests(self, rows: list[_Row]) -> Iterator[list[_Row]]:
        """The batch cut into requests of at most ``max_request_bytes`` (the same cut every time)."""
        return bounded_runs(rows, None, self.max_request_bytes, lambda row: len(row.data))

    def _append(self, rows: list[_Row]) -> Iterator[beam.pvalue.TaggedOutput]:
        """Send ``rows`` at the current offset until every one is written or refused."""
        delays = backoff_delays(self.first_backoff_s)
        while rows:
            answer = self._send(rows)
            if answer.code == OK:
                self._written(len(rows))
                return
            if answer.row_errors:
                kept = []
                for index, row in enumerate(rows):
                    if index in answer.row_errors:
                        reason, message = answer.row_errors[index]
                        yield self._refuse(row.row, [row_error(reason.lower() or "invalid", message)])
                    else:
                        kept.append(row)
                rows = kept
                continue
            if answer.code == ALREADY_EXISTS and self._probing:  # its own send, answer lost
                self._offset += len(rows)
                return
            if answer.code == ALREADY_EXISTS:
                written = yield from self._probe_refusals(rows)
                logger.warning(
                    "BigQuery %s: %d rows at offset %d of %s were written before (a retried bundle); "
                    "%d refused then, refused again",
                    self.table_id,
                    written,
                    self._offset,
                    self._stream,
                    len(rows) - written,
                )
                self.recognised.inc(written)
                self._offset += written
                return
            if answer.code in (NOT_FOUND, OUT_OF_RANGE):
                logger.warning(
                    "BigQuery %s: write stream %s at offset %d answered %s (%s): a new stream; rows the "
                    "lost one held from a failed bundle may be written twice",
                    self.table_id,
                    self._stream,
                    self._offset,
                    answer.code,
                    answer.message,
                )
                self._stream, self._offset = self._create_stream(), 0
                self.recreated.inc()
                continue
            if answer.code == INVALID_ARGUMENT and SCHEMA_AHEAD in answer.message:
                # The rows carry a column the stream does not know: a stream keeps the table's
                # schema of its creation, and BigQuery takes minutes to show a new column (or
                # Terraform has not added it yet). A new stream, after a pause, until it knows it.
                delay = next(delays)
                logger.warning(
                    "BigQuery %s: the table (or stream %s) lacks a column of schemas/ (%s); a new "
                    "stream in %.1f s. If this lasts, apply Terraform (make deploy-infra): schema "
                    "changes reach the table before the job",
                    self.table_id,
                    self._stream,
                    answer.message,
                    delay,
                )
                self.schema_waits.inc()
                time.sleep(delay)
                self._stream, self._offset = self._create_stream(), 0
                self.recreated.inc()
                continue
            if answer.code in TRANSIENT_CODES:
                delay = next(delays)
                logger.warning(
                    "BigQuery %s: %d rows at offset %d sent again in %.1f s (code %d: %s)",
                    self.table_id,
                    len(rows),
                    self._offset,
                    delay,
                    answer.code,
                    answer.message,
                )
                self.retries.inc()
                time.sleep(delay)
                continue
            # Refused as a whole, no row named: find the rows at fault by halves.
            if len(rows) == 1:
                yield self._refuse(
                    rows[0].row, [row_error("invalid", f"code {answer.code}: {answer.message}")]
                )
                return
            half = len(rows) // 2
            yield from self._append(rows[:half])
            rows = rows[half:]

    def _probe_refusals(self, rows: list[_Row]) -> Generator[beam.pvalue.TaggedOutput, None, int]:
        """Refuse again the rows of ``rows`` an earlier attempt had refused (their dead letters
        went with its bundle) by appending them to a PENDING stream never committed, whose rows
        are never visible; returns how many it took (the earlier attempt wrote as many)."""
        saved = self._stream, self._offset
        self._probing = True
        try:
            self._stream, self._offset = self._create_stream(), 0
            yield from self._append(rows)
            self.probed.inc()
            return self._offset
        finally:
            self._probing = False
            self._stream, self._offset = saved

    def _written(self, count: int) -> None:
        self._offset += count
        if not self._probing:
            self.inserted.inc(count)
            self._report(count)

    def _send(self, rows: list[_Row]) -> Answer:
        """One AppendRows request of ``rows`` at the current offset, on a call of its own (the
        stream's name on the request, as bqemulator needs; the routing header, as BigQuery does)."""
        types = self._types
        self.requests.inc()
        request = types.AppendRowsRequest(write_stream=self._stream, offset=self._offset)
        request.proto_rows = types.AppendRowsRequest.ProtoData(
            writer_schema=types.ProtoSchema(proto_descriptor=self._encoder.proto),
            rows=types.ProtoRows(serialized_rows=[row.data for row in rows]),
        )
        try:
            # retry=None: the library's default retry would re-open the call with a request
            # iterator already consumed, and hide the retries from the counters and the log.
            responses = self._client.append_rows(
                iter([request]),
                retry=None,
                timeout=self.timeout_s,
                metadata=(("x-goog-request-params", f"write_stream={self._stream}"),),
            )
            for response in responses:
                return response_answer(response)
        except Exception as exc:  # every failure of the call is classified by its code
            return exception_answer(exc)
        return Answer(UNAVAILABLE, "the call ended without an answer")

    def _create_stream(self) -> str:
        """A new COMMITTED write stream of the table, PENDING while probing (retried while the
        service is unavailable)."""
        types = self._types
        kind = types.WriteStream.Type.PENDING if self._probing else types.WriteStream.Type.COMMITTED
        delays = backoff_delays(self.first_backoff_s)
        while True:
            try:
                stream = self._client.create_write_stream(
                    parent=self.parent,
                    write_stream=types.WriteStream(type_=kind),
                    retry=None,
                    timeout=self.timeout_s,
                )
                return stream.name
            except Exception as exc:
                answer = exception_answer(exc)
                if answer.code not in TRANSIENT_CODES:
                    raise
                delay = next(delays)
                logger.warning(
                    "BigQuery %s: creating a write stream failed (%s); again in %.1f s",
                    self.table_id,
                    answer.message,
                    delay,
                )
                self.retries.inc()
                time.sleep(delay)

    def _refuse(self, row: dict[str, Any], errors: list[dict[str, Any]]) -> beam.pvalue.TaggedOutput:
        self.refused.inc()
        return beam.pvalue.TaggedOutput(REFUSED, (self.table, row, errors))

    def _report(self, rows: int) -> None:
        """Count rows written on a tqdm bar ("wrote <dataset>.<table>"), when ``report_every`` is set."""
        self._bar = count_rows(
            self._bar, rows, f"wrote {self.dataset}.{self.table_id}", self.target.report_every
        )


class WriteStorageRows(beam.PTransform):
    """Rows -> append to the existing ``table`` (``project:dataset.table``) by the Storage Write
    API; returns the refused rows as ``(table, row, errors)`` (in the global window).

    ``schema_table`` names the table's schema in ``schemas/events/`` (default: the table's own
    name; the dead-letter and metrics tables may be renamed by options)."""

    def __init__(self, table: str, target: BigQueryTarget, schema_table: str | None = None) -> None:
        super().__init__()
        self.table = table
        self.target = target
        self.schema = load_schema("events", schema_table or table_parts(table)[2])

    def expand(self, rows):
        shards, batch_rows = self.target.write_shards, self.target.batch_rows
        keyed = (
            rows
            | "GlobalWindow" >> beam.WindowInto(GlobalWindows())
            | "KeyByShard"
            >> beam.Map(lambda row: (shard_of(row, shards), row)).with_output_types(tuple[int, Any])
        )
        if rows.pipeline.options.view_as(StandardOptions).streaming:
            batches = keyed | "Batch" >> beam.GroupIntoBatches(batch_rows, self.target.batch_wait_s)
        else:
            # Batch: a shuffle, then fixed slices. (Beam 2.77's local batch runner drops the
            # counters of bundles that GroupIntoBatches' end-of-window timer emits, and with them
            # the reconciliation's counts of refused rows; a GroupByKey's output is counted.)
            batches = (
                keyed
                | "GroupByShard" >> beam.GroupByKey()
                | "Batch" >> beam.FlatMap(lambda group: slices(group, batch_rows))
            )
        outputs = batches | "AppendRows" >> beam.ParDo(
            AppendBatches(self.table, self.target, self.schema)
        ).with_outputs(REFUSED)
        return outputs[REFUSED]
