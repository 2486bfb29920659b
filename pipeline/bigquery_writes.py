"""BigQuery streaming inserts (``tabledata.insertAll``), costed per request rather than per row.

:class:`WriteRows` appends a PCollection of JSON-ready rows to one existing table. Its DoFn,
:class:`InsertRows`, serialises each row once (``json.dumps``), counts the request's bytes from
that text, and posts requests of at most ``MAX_REQUEST_ROWS`` rows and ``MAX_REQUEST_BYTES``
bytes, flushing when the next row would not fit and at the end of each bundle. (Beam's
``WriteToBigQuery`` sized every row by walking its objects, which cost ~290 µs a row.)

- insertId: the row's ``event_id`` when it has one (events, and the dead letters of events whose
  id is known), so BigQuery's best-effort de-duplication also catches re-sends; otherwise the
  SHA-256 of the row's JSON, which stays the same when a request or a whole bundle is retried.
- ``_received`` (:data:`RECEIVED`), the message as received, is never sent, but stays on a
  refused row so that its dead letter holds the payload, attributes and ids as received.
- Refused rows go to the ``refused`` output as ``(table, row, errors)`` and are never retried:
  a row with a non-transient per-row error (``invalid`` ...), every row of a request answered
  HTTP 400, 401, 403, 404 or 501, and a row that is not JSON or too large for any request. The
  classification is Beam's ``RETRY_ON_TRANSIENT_ERROR`` (``RetryStrategy.should_retry``), except
  that a 403 ``rateLimitExceeded`` / ``quotaExceeded`` is retried, as BigQuery asks.
- Everything else is retried without limit, with exponential backoff and jitter: rows BigQuery
  reports as ``stopped`` (not written because another row of the request was invalid), per-row
  ``backendError`` / ``internalError`` / ``timeout``, HTTP 5xx and 429, connection errors and
  timeouts. Only the rows still pending are sent again, with the same insertIds.

Requests are sent from a small thread pool, at most ``max_in_flight`` (default 2) at a time,
while the DoFn goes on shaping the next batch: the wait for BigQuery (or the emulator, which
spends as much CPU on a row as the pipeline does) overlaps the pipeline's own work. A bundle
finishes only when every one of its requests has been answered, so a retried bundle re-sends
what may not have landed, and only that bundle. Metrics and the progress bar are updated on the
DoFn's own thread, where Beam's metrics container lives.

Refused rows keep the window and timestamp of the element they came from (its
``WindowedValue``), and all leave in ``finish_bundle``, so the output has the input's windowing
in batch and streaming alike.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import apache_beam as beam
from apache_beam.io.gcp.bigquery_tools import RetryStrategy
from apache_beam.metrics import Metrics
from apache_beam.utils.windowed_value import WindowedValue

from pipeline.bigquery_client import bigquery_client
from pipeline.progress import count_rows
from transforms.counters import NAMESPACE
from transforms.rows import MAX_ROW_JSON_BYTES

logger = logging.getLogger(__name__)

RECEIVED = "_received"
REFUSED = "refused"

MAX_REQUEST_BYTES = 10_000_000  # BigQuery's limit on one insertAll HTTP request
MAX_REQUEST_ROWS = 500  # BigQuery's recommended rows per insertAll request
REQUEST_TIMEOUT_S = 30.0
MAX_IN_FLIGHT = 2  # requests awaiting an answer while the DoFn shapes the next one
FIRST_BACKOFF_S = 0.2
MAX_BACKOFF_S = 30.0

# What streaming inserts and the Storage Write API both count, per table (see table_counters).
WRITE_COUNTERS = ("rows_inserted", "requests", "retries", "rows_refused")

# A 403 with these reasons is a quota or rate limit, not a permission: worth retrying.
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "quotaExceeded"})

_BODY_START = b'{"skipInvalidRows":true,"rows":['
_BODY_END = b"]}"
ENVELOPE_BYTES = len(_BODY_START) + len(_BODY_END)


@dataclass(frozen=True)
class BigQueryTarget:
    """Where the rows go: ``project`` (and ``endpoint``, a local emulator; None for BigQuery
    itself) for :func:`pipeline.bigquery_client.bigquery_client`; ``load_jobs``: by load jobs
    (batch, :mod:`pipeline.bigquery_loads`) instead of streaming inserts; ``storage_write_api``:
    by the Storage Write API (:mod:`pipeline.storage_writes`; ``storage_endpoint`` is an
    emulator's gRPC ``host:port``, None for BigQuery itself), each table's rows in
    ``write_shards`` shards, appended in batches of at most ``batch_rows`` rows gathered for at
    most ``batch_wait_s`` seconds; with ``report_every`` the rows written per table are counted
    on a progress bar."""

    project: str
    endpoint: str | None = None
    report_every: int = 0
    load_jobs: bool = False
    storage_write_api: bool = False
    storage_endpoint: str | None = None
    write_shards: int = 4
    batch_rows: int = 500
    batch_wait_s: float = 1.0

    @property
    def method(self) -> str:
        """The ``--bigquery_write_method`` these rows go by."""
        if self.load_jobs:
            return "file_loads"
        return "storage_write_api" if self.storage_write_api else "streaming_inserts"


def table_counters(table_id: str, *names: str) -> list[Any]:
    """Beam counters of one table, in namespace ``eventharbor.bigquery.<table_id>``, as named."""
    namespace = f"{NAMESPACE}.bigquery.{table_id}"
    return [Metrics.counter(namespace, name) for name in names]


def table_parts(table: str) -> tuple[str, str, str]:
    """(project, dataset, table id) of ``project:dataset.table``."""
    project, _, dataset_table = table.rpartition(":")
    dataset, table_id = dataset_table.split(".")
    return project, dataset, table_id


def reason_is_transient(reason: str) -> bool:
    """Beam's RETRY_ON_TRANSIENT_ERROR test of one error reason."""
    return RetryStrategy.should_retry(RetryStrategy.RETRY_ON_TRANSIENT_ERROR, reason)


def row_is_refused(row_errors: list[dict[str, Any]]) -> bool:
    """True when one of a row's ``insertErrors`` is for good (``invalid`` ...); a row that is only
    ``stopped``, ``backendError``, ``internalError`` or ``timeout`` is worth sending again."""
    return any(not reason_is_transient(str(error.get("reason", ""))) for error in row_errors)


def http_error_is_transient(code: int | None, reasons: list[str]) -> bool:
    """Whether a failed request as a whole (HTTP ``code``, the body's error ``reasons``) is worth
    sending again: Beam tests the status's reason phrase ("Bad Request" is for good, "Service
    Unavailable" is not); a rate or quota limit is retried whatever its status."""
    if RATE_LIMIT_REASONS.intersection(reasons):
        return True
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = str(code)
    return reason_is_transient(phrase)


def row_error(reason: str, message: str, location: str = "row") -> dict[str, str]:
    """One error, shaped as an entry of BigQuery's ``insertErrors``."""
    return {"reason": reason, "location": location, "message": message}


def request_errors(exc: Exception) -> tuple[bool, list[dict[str, str]]]:
    """(transient, per-row errors) for a request that failed as a whole, for every row it held."""
    from google.api_core.exceptions import GoogleAPICallError

    if isinstance(exc, GoogleAPICallError):
        reasons = [str(e.get("reason", "")) for e in exc.errors if isinstance(e, dict)]
        transient = http_error_is_transient(exc.code, reasons)
        reason = reasons[0] if reasons and reasons[0] else f"HTTP {exc.code}"
        return transient, [row_error(reason, f"HTTP {exc.code}: {exc.message}", "request")]
    return True, [row_error(type(exc).__name__, str(exc), "request")]


def request_failures() -> tuple[type[Exception], ...]:
    """What the client raises when a request fails as a whole: an HTTP error answer, or none at
    all (connection refused or reset, timed out, credentials not refreshed)."""
    import requests
    from google.api_core.exceptions import GoogleAPICallError
    from google.auth.exceptions import TransportError

    return (GoogleAPICallError, requests.exceptions.RequestException, TransportError)


def row_json(row: dict[str, Any]) -> str:
    """The row as BigQuery gets it: compact JSON (non-ASCII escaped), ``_received`` left out.

    Raises ValueError or TypeError when the row is not JSON (NaN, a value JSON has no type for).
    """
    sent = {k: v for k, v in row.items() if k != RECEIVED} if RECEIVED in row else row
    return json.dumps(sent, separators=(",", ":"), allow_nan=False)


def insert_id(row: dict[str, Any], text: str) -> str:
    """The row's ``event_id``, else the SHA-256 of its JSON ``text``."""
    event_id = row.get("event_id")
    if isinstance(event_id, str) and event_id:
        return event_id
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def insert_entry(row_id: str, text: str) -> bytes:
    """One row's entry in an insertAll request."""
    return f'{{"insertId":{json.dumps(row_id)},"json":{text}}}'.encode("ascii")


def request_body(entries: list[bytes]) -> bytes:
    """The insertAll request for these row entries (``skipInvalidRows``: the valid ones are written)."""
    return _BODY_START + b",".join(entries) + _BODY_END


def backoff_delays(first_s: float = FIRST_BACKOFF_S, max_s: float = MAX_BACKOFF_S) -> Iterator[float]:
    """Endless exponential delays (doubling up to ``max_s``), each cut by a random 0-50 %."""
    delay = first_s
    while True:
        yield delay * random.uniform(0.5, 1.0)
        delay = min(max_s, delay * 2)


@dataclass(slots=True)
class _Pending:
    entry: bytes
    row: dict[str, Any]
    windowed: WindowedValue


@dataclass(slots=True)
class _Delivery:
    """What sending one batch came to, until each row was written or refused."""

    requests: int = 0
    retries: int = 0
    written: int = 0
    refused: list[tuple[_Pending, list[dict[str, Any]]]] = field(default_factory=list)


class InsertRows(beam.DoFn):
    """Rows -> one BigQuery table (``project:dataset.table``) by streaming inserts, one request per
    batch; rows BigQuery refuses (or that cannot be sent) -> the ``refused`` output as
    ``(table, row, errors)``.

    Counts, in namespace ``eventharbor.bigquery.<table>``: ``rows_inserted``, ``requests``,
    ``retries`` (requests sent again) and ``rows_refused``.
    """

    def __init__(
        self,
        table: str,
        target: BigQueryTarget,
        max_rows: int = MAX_REQUEST_ROWS,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        max_row_bytes: int = MAX_ROW_JSON_BYTES,
        timeout_s: float = REQUEST_TIMEOUT_S,
        first_backoff_s: float = FIRST_BACKOFF_S,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self.table = table
        self.target = target
        self.max_rows = max_rows
        self.max_request_bytes = max_request_bytes
        self.max_row_bytes = max_row_bytes
        self.timeout_s = timeout_s
        self.first_backoff_s = first_backoff_s
        self.max_in_flight = max_in_flight
        self.project, self.dataset, self.table_id = table_parts(table)
        self.inserted, self.requests, self.retries, self.refused = table_counters(
            self.table_id, *WRITE_COUNTERS
        )

    def setup(self) -> None:
        self._bar = None
        self._client = bigquery_client(self.target.project, self.target.endpoint)
        self._path = f"/projects/{self.project}/datasets/{self.dataset}/tables/{self.table_id}/insertAll"
        self._request_failures = request_failures()
        self._senders = ThreadPoolExecutor(self.max_in_flight, thread_name_prefix=f"insert-{self.table_id}")

    def start_bundle(self) -> None:
        self._pending: list[_Pending] = []
        self._bytes = ENVELOPE_BYTES
        self._refusals: list[WindowedValue] = []
        self._in_flight: deque[Future[_Delivery]] = deque()

    def process(self, row: dict[str, Any], windowed: WindowedValue = beam.DoFn.WindowedValueParam) -> None:
        try:
            text = row_json(row)
        except (TypeError, ValueError) as exc:
            self._refuse(row, windowed, [row_error("notJson", f"the row cannot be sent as JSON: {exc}")])
            return
        if len(text) > self.max_row_bytes:
            message = (
                f"the row is {len(text)} bytes as JSON; one BigQuery insertAll request holds at most "
                f"{self.max_request_bytes} bytes, so a row at most {self.max_row_bytes} (MAX_ROW_JSON_BYTES)"
            )
            self._refuse(row, windowed, [row_error("tooLarge", message)])
            return
        entry = insert_entry(insert_id(row, text), text)
        # Each entry counts one byte for its comma (one too many in all: harmless).
        if self._pending and (
            len(self._pending) >= self.max_rows or self._bytes + len(entry) + 1 > self.max_request_bytes
        ):
            self._flush()
        self._pending.append(_Pending(entry, row, windowed))
        self._bytes += len(entry) + 1

    def finish_bundle(self) -> Iterator[beam.pvalue.TaggedOutput]:
        if self._pending:
            self._flush()
        while self._in_flight:
            self._account(self._in_flight.popleft())
        for refusal in self._refusals:
            yield beam.pvalue.TaggedOutput(REFUSED, refusal)

    def teardown(self) -> None:
        self._senders.shutdown(wait=True, cancel_futures=True)
        if self._bar is not None:
            self._bar.close()

    def _refuse(self, row: dict[str, Any], windowed: WindowedValue, errors: list[dict[str, Any]]) -> None:
        self._refusals.append(windowed.with_value((self.table, row, errors)))
        self.refused.inc()

    def _flush(self) -> None:
        """Hand the pending rows to a sender thread; wait for the oldest request when too many are out."""
        pending, self._pending, self._bytes = self._pending, [], ENVELOPE_BYTES
        self._in_flight.append(self._senders.submit(self._deliver, pending))
        while len(self._in_flight) > self.max_in_flight:
            self._account(self._in_flight.popleft())

    def _account(self, sent: Future[_Delivery]) -> None:
        """Count an answered batch on this thread (its errors raised here fail the bundle)."""
        delivery = sent.result()
        self.requests.inc(delivery.requests)
        if delivery.retries:
            self.retries.inc(delivery.retries)
        self.inserted.inc(delivery.written)
        self._report(delivery.written)
        for pending, errors in delivery.refused:
            self._refuse(pending.row, pending.windowed, errors)

    def _deliver(self, pending: list[_Pending]) -> _Delivery:
        """Send a batch until each row is written or refused (on a sender thread: no metrics here)."""
        delivery = _Delivery()
        delays = backoff_delays(self.first_backoff_s)
        while pending:
            retry, why = self._send(pending, delivery)
            if retry:
                delay = next(delays)
                logger.warning(
                    "BigQuery insertAll to %s: %d of %d rows sent again in %.1f s (%s)",
                    self.table_id,
                    len(retry),
                    len(pending),
                    delay,
                    why,
                )
                time.sleep(delay)
                delivery.retries += 1
            pending = retry
        return delivery

    def _send(self, pending: list[_Pending], delivery: _Delivery) -> tuple[list[_Pending], str]:
        """One insertAll request: adds the rows written and refused to ``delivery``; returns the
        rows to send again, and why."""
        delivery.requests += 1
        try:
            # The client's connection (its credentials, endpoint and error mapping) posts the bytes
            # counted; its public insert_rows_json would serialise every row a second time.
            answer = self._client._connection.api_request(
                method="POST",
                path=self._path,
                data=request_body([p.entry for p in pending]),
                content_type="application/json",
                timeout=self.timeout_s,
            )
        except self._request_failures as exc:
            transient, errors = request_errors(exc)
            if transient:
                return pending, errors[0]["message"]
            delivery.refused.extend((p, errors) for p in pending)
            return [], ""
        row_errors = {e["index"]: e.get("errors", []) for e in answer.get("insertErrors", [])}
        retry, reasons = [], set()
        for index, errors in sorted(row_errors.items()):
            if row_is_refused(errors):
                delivery.refused.append((pending[index], errors))
            else:
                retry.append(pending[index])
                reasons.update(str(e.get("reason")) for e in errors)
        delivery.written += len(pending) - len(row_errors)
        return retry, ", ".join(sorted(reasons))

    def _report(self, rows: int) -> None:
        """Count rows written on a tqdm bar ("wrote <dataset>.<table>"), when ``report_every`` is set."""
        self._bar = count_rows(
            self._bar, rows, f"wrote {self.dataset}.{self.table_id}", self.target.report_every
        )


class WriteRows(beam.PTransform):
    """Rows -> append to the existing ``table`` (``project:dataset.table``); returns the refused
    rows as ``(table, row, errors)``, in the windows of the rows they were."""

    def __init__(self, table: str, target: BigQueryTarget) -> None:
        super().__init__()
        self.table = table
        self.target = target

    def expand(self, rows):
        outputs = rows | "InsertRows" >> beam.ParDo(InsertRows(self.table, self.target)).with_outputs(REFUSED)
        return outputs[REFUSED]
