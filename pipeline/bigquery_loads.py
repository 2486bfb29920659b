"""BigQuery load jobs for batch runs (``--bigquery_write_method file_loads``, the batch default).

A load job appends a whole file of rows at once and atomically: free of the streaming-insert
charge, no per-row request overhead (the emulator takes ~200,000 rows/s this way against
~3,000/s through ``insertAll``), and exactly once by construction. :class:`LoadRows`:

1. serialises each row once (``_received`` left out, kept beside it for a dead letter); a row
   that is not JSON is refused at once. The lines are gathered per bundle into chunks of up to
   ``CHUNK_LINES``: the steps and the shuffle below cost the runner per element, not per byte;
2. spreads the rows over ``ceil(rows / max_rows)`` shards by a hash of their JSON and groups
   them (a ``GroupByKey``, so a shard's rows are fixed before any job starts and a worker
   holds at most about ``max_rows`` of them). The shard is the line's, whatever chunk it came
   in, so the same rows always make the same shards;
3. sorts each shard's lines and loads them as newline-delimited JSON in jobs of at most
   ``max_rows`` rows and ``max_bytes`` bytes. The job id is a digest of the table and the
   lines (and the attempt), so a bundle the runner retries finds the job it already ran
   instead of loading the rows twice: a job already run under that id is looked up first,
   and BigQuery refuses a second job with an id it holds. (The emulator ignores the ids its
   clients choose, so locally this guard does nothing; the tests' fault proxy gives the
   emulator BigQuery's job ids.)

A job BigQuery fails for a transient reason (``backendError``, a rate limit ...) is run again as
the next attempt after a backoff; a request that got no answer is sent again with the same id.
A job failed for good (``invalid``: a row the table refuses) tells no row apart, so its rows
are sent again by streaming inserts (:class:`pipeline.bigquery_writes.WriteRows`), which write
the good ones with their ``event_id`` as insertId and return each refused row with BigQuery's
reason, to become a ``load_rejected`` dead letter like any other.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue

from pipeline.batching import bounded_runs
from pipeline.bigquery_client import bigquery_client
from pipeline.bigquery_writes import (
    RECEIVED,
    REFUSED,
    BigQueryTarget,
    WriteRows,
    backoff_delays,
    reason_is_transient,
    request_errors,
    request_failures,
    row_error,
    row_json,
    table_counters,
    table_parts,
)
from pipeline.progress import count_rows
from transforms.archive import shard_count, text_shard

logger = logging.getLogger(__name__)

RESEND = "resend"
MAX_LOAD_ROWS = 200_000  # rows per load job, and about per shard a worker holds
CHUNK_LINES = 1_000  # lines that cross the shuffle as one element
MAX_LOAD_BYTES = 256 * 1024 * 1024  # bytes of JSON per load job
LOAD_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class LoadLine:
    """A row as a load job sends it (``text``) and, for a dead letter, its ``_received`` envelope."""

    text: str
    received: str | None


def load_job_id(table: str, body: bytes, attempt: int) -> str:
    """The job id of one attempt at loading ``body`` into ``table``: the same bytes always give
    the same id (BigQuery job ids: letters, digits, ``_`` and ``-``, at most 1,024)."""
    digest = hashlib.sha256(table.encode("utf-8") + b"\n" + body).hexdigest()[:40]
    name = table.rpartition(".")[2]
    return f"eventharbor_load_{name}_{digest}_{attempt}"


def chunks(lines: list[LoadLine], max_rows: int, max_bytes: int) -> Iterator[list[LoadLine]]:
    """Consecutive runs of ``lines`` with at most ``max_rows`` lines and ``max_bytes`` bytes of
    JSON (a line longer than ``max_bytes`` goes alone)."""
    return bounded_runs(lines, max_rows, max_bytes, lambda line: len(line.text) + 1)


def resent_row(line: LoadLine) -> dict[str, Any]:
    """The row of a line, with its envelope, for streaming inserts."""
    row = json.loads(line.text)
    if line.received is not None:
        row[RECEIVED] = json.loads(line.received)
    return row


def load_line(row: dict[str, Any]) -> LoadLine:
    """A row -> its :class:`LoadLine`; ValueError or TypeError when the row is not JSON."""
    received = row.get(RECEIVED)
    return LoadLine(row_json(row), None if received is None else json.dumps(received, separators=(",", ":")))


class ToLoadLine(beam.DoFn):
    """Rows (or what ``to_row`` makes each one of) -> lists of up to ``chunk_lines``
    :class:`LoadLine`, per bundle; a row that is not JSON -> ``refused`` as ``(table, row, errors)``.

    A chunk is emitted when full and at the end of the bundle (in the global window, where batch
    input is).
    """

    def __init__(
        self,
        table: str,
        to_row: Callable[[Any], dict[str, Any]] | None = None,
        chunk_lines: int = CHUNK_LINES,
    ) -> None:
        self.table = table
        self.to_row = to_row
        self.chunk_lines = chunk_lines
        self.chunk: list[LoadLine] = []

    def start_bundle(self) -> None:
        self.chunk = []

    def process(self, element: Any) -> Iterator[Any]:
        row = element if self.to_row is None else self.to_row(element)
        try:
            self.chunk.append(load_line(row))
        except (TypeError, ValueError) as exc:
            errors = [row_error("notJson", f"the row cannot be sent as JSON: {exc}")]
            yield beam.pvalue.TaggedOutput(REFUSED, (self.table, row, errors))
            return
        if len(self.chunk) >= self.chunk_lines:
            chunk, self.chunk = self.chunk, []
            yield chunk

    def finish_bundle(self) -> Iterator[WindowedValue]:
        if self.chunk:
            yield GlobalWindows.windowed_value(self.chunk)
        self.chunk = []


def shard_lines(chunk: list[LoadLine], rows: int, max_rows: int) -> Iterator[tuple[int, list[LoadLine]]]:
    """(shard, the chunk's lines of that shard) for each shard its lines fall in: the archive's
    rule (:func:`transforms.archive.text_shard`) on each line's JSON, among
    ``ceil(rows / max_rows)``, so the same rows always make the same shards of about ``max_rows``."""
    count = shard_count(rows, max_rows)
    if count == 1:
        yield 0, chunk
        return
    shards: dict[int, list[LoadLine]] = {}
    for line in chunk:
        shards.setdefault(text_shard(line.text, count), []).append(line)
    yield from shards.items()


class RunLoadJobs(beam.DoFn):
    """(shard, chunks of lines) -> load jobs appending the lines to ``table`` (``project:dataset.table``);
    the lines of a job failed for good -> ``resend`` as rows, for streaming inserts.

    Counts, in namespace ``eventharbor.bigquery.<table>``: ``rows_loaded``, ``load_jobs``,
    ``load_retries`` (attempts after a transient failure or an unanswered request) and
    ``rows_resent``.
    """

    def __init__(
        self,
        table: str,
        target: BigQueryTarget,
        max_rows: int = MAX_LOAD_ROWS,
        max_bytes: int = MAX_LOAD_BYTES,
        timeout_s: float = LOAD_TIMEOUT_S,
        first_backoff_s: float = 1.0,
    ) -> None:
        self.table = table
        self.target = target
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.first_backoff_s = first_backoff_s
        project, self.dataset, self.table_id = table_parts(table)
        self.table_ref = f"{project}.{self.dataset}.{self.table_id}"
        self.loaded, self.jobs, self.retries, self.resent = table_counters(
            self.table_id, "rows_loaded", "load_jobs", "load_retries", "rows_resent"
        )

    def setup(self) -> None:
        from google.cloud import bigquery

        self._bar = None
        self._client = bigquery_client(self.target.project, self.target.endpoint)
        table = self._client.get_table(self.table_ref)
        # Jobs run where the table's dataset is; looking a job up needs that location.
        self._location = table.location
        self._json_columns = tuple(f.name for f in table.schema if f.field_type == "JSON")
        self._config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
            create_disposition=bigquery.CreateDisposition.CREATE_NEVER,
            max_bad_records=0,
        )
        self._request_failures = request_failures()

    def process(self, shard: tuple[int, Iterable[list[LoadLine]]]) -> Iterator[Any]:
        lines = itertools.chain.from_iterable(shard[1])
        self._report(0)  # the bar shows from the first shard on
        for chunk in chunks(sorted(lines, key=lambda line: line.text), self.max_rows, self.max_bytes):
            body = "".join(f"{self._job_text(line)}\n" for line in chunk).encode("utf-8")
            errors = self._load(body)
            if errors is None:
                self.loaded.inc(len(chunk))
                self._report(len(chunk))
                continue
            logger.warning(
                "BigQuery load job into %s failed for good (%s); its %d rows go again by streaming "
                "inserts, which name each row refused",
                self.table_id,
                "; ".join(str(e.get("message", e)) for e in errors)[:500],
                len(chunk),
            )
            self.resent.inc(len(chunk))
            for line in chunk:
                yield beam.pvalue.TaggedOutput(RESEND, resent_row(line))

    def teardown(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def _job_text(self, line: LoadLine) -> str:
        """The line as a load job takes it. A streaming insert takes a JSON column as a string of
        JSON text, and rows carry it so; a load job would keep that as a JSON string, so the
        table's (top-level) JSON columns go as the JSON values themselves."""
        if not self._json_columns:
            return line.text
        row = json.loads(line.text)
        for column in self._json_columns:
            if isinstance(row.get(column), str):
                row[column] = json.loads(row[column])
        return json.dumps(row, separators=(",", ":"))

    def _load(self, body: bytes) -> list[dict[str, Any]] | None:
        """Load ``body`` until it is in the table (None) or BigQuery fails the job for good (its errors)."""
        delays = backoff_delays(self.first_backoff_s)
        attempt = 0
        while True:
            job_id = load_job_id(self.table_ref, body, attempt)
            try:
                job = self._finished_job(job_id, body)
            except (*self._request_failures, TimeoutError) as exc:  # TimeoutError: still running
                transient, errors = request_errors(exc)
                if not transient:
                    return errors
                self._wait(next(delays), f"no answer for job {job_id}: {errors[0]['message']}")
                continue
            if job.error_result is None:
                return None
            if not reason_is_transient(str(job.error_result.get("reason", ""))):
                return job.errors or [job.error_result]
            self._wait(next(delays), f"job {job_id} failed: {job.error_result.get('message')}")
            attempt += 1

    def _finished_job(self, job_id: str, body: bytes):
        """The job ``job_id``, done: the one that already ran under that id, else a new one."""
        from google.api_core.exceptions import Conflict, GoogleAPICallError, NotFound

        try:
            job = self._client.get_job(job_id, location=self._location)
        except NotFound:
            try:
                # No size given: a resumable upload (the emulator refuses the "*/*" media part
                # of the client's one-request multipart upload).
                job = self._client.load_table_from_file(
                    io.BytesIO(body),
                    self.table_ref,
                    job_id=job_id,
                    location=self._location,
                    job_config=self._config,
                    timeout=self.timeout_s,
                )
                self.jobs.inc()
            except Conflict:  # an earlier request created it but its answer was lost
                job = self._client.get_job(job_id, location=self._location)
        try:
            job.result(timeout=self.timeout_s)
        except GoogleAPICallError:
            if job.error_result is None:  # the job's state, not its outcome, could not be read
                raise
        return job

    def _wait(self, delay: float, why: str) -> None:
        logger.warning("BigQuery load into %s: trying again in %.1f s (%s)", self.table_id, delay, why)
        self.retries.inc()
        time.sleep(delay)

    def _report(self, rows: int) -> None:
        """Count rows loaded on a tqdm bar ("loaded <dataset>.<table>"), when ``report_every`` is set."""
        self._bar = count_rows(
            self._bar, rows, f"loaded {self.dataset}.{self.table_id}", self.target.report_every
        )


class LoadRows(beam.PTransform):
    """Rows (or what ``to_row`` makes each one of) -> append to the existing ``table``
    (``project:dataset.table``) by load jobs; returns the refused rows as ``(table, row, errors)``,
    as :class:`pipeline.bigquery_writes.WriteRows` does.

    For batch pipelines (every row in the global window): a load job waits for its whole shard.
    """

    def __init__(
        self,
        table: str,
        target: BigQueryTarget,
        max_rows: int = MAX_LOAD_ROWS,
        to_row: Callable[[Any], dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.table = table
        self.target = target
        self.max_rows = max_rows
        self.to_row = to_row

    def expand(self, rows):
        chunks = rows | "ToLoadLine" >> beam.ParDo(ToLoadLine(self.table, self.to_row)).with_outputs(
            REFUSED, main="chunks"
        )
        count = chunks.chunks | "ChunkRows" >> beam.Map(len) | "CountRows" >> beam.CombineGlobally(sum)
        outcomes = (
            chunks.chunks
            | "Shard" >> beam.FlatMap(shard_lines, beam.pvalue.AsSingleton(count), self.max_rows)
            | "GroupShard" >> beam.GroupByKey()
            | "RunLoadJobs"
            >> beam.ParDo(RunLoadJobs(self.table, self.target, self.max_rows)).with_outputs(
                RESEND, main="done"
            )
        )
        refused_on_resend = outcomes[RESEND] | "Resend" >> WriteRows(self.table, self.target)
        return (chunks[REFUSED], refused_on_resend) | "Refused" >> beam.Flatten()
