"""BigQuery sinks: raw tables, dead letters and metrics through Beam's ``WriteToBigQuery``.

Rows go through streaming inserts with ``event_id`` as BigQuery's insertId, and
``RETRY_ON_TRANSIENT_ERROR``: a row BigQuery refuses (reason ``invalid``) is
never retried but comes back on ``failed_rows_with_errors`` and becomes a
``load_rejected`` dead letter; transient errors are retried with backoff.

An event row carries its message as received (an archive envelope) under
``_received``. ``InsertClient`` leaves that key out of what it sends, so a
refused row's dead letter holds the payload, attributes and ids as received,
like every other dead letter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.io.gcp.bigquery import BigQueryDisposition, WriteToBigQuery
from apache_beam.io.gcp.bigquery_tools import RetryStrategy

from pipeline.bigquery_client import bigquery_client
from pipeline.progress import counting_bar
from schemas import STREAMS, UNKNOWN_STREAM
from transforms import errors
from transforms.counters import count_rejection, stream_counter
from transforms.messages import Failure, InvalidEnvelope, Message, ValidEvent
from transforms.rows import dead_letter_row
from transforms.times import utc_now

RECEIVED = "_received"


class InsertClient:
    """The client Beam's streaming inserts call: google-cloud-bigquery, with ``event_id`` as insertId.

    Beam would invent a random insertId per row; using the event's own id lets
    BigQuery's best-effort de-duplication also catch re-sends across retries and
    restarts. Built lazily so the DoFn that holds it pickles; ``endpoint`` points
    it at a local emulator (anonymous credentials), else Application Default
    Credentials reach real BigQuery. With ``report_every`` it counts the rows written
    per table on a progress bar (per worker) for long local runs.
    """

    def __init__(self, project: str, endpoint: str | None = None, report_every: int = 0) -> None:
        self.project = project
        self.endpoint = endpoint
        self.report_every = report_every
        self.bars: dict[str, Any] = {}
        self._client = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "bars": {}, "_client": None}

    def client(self):
        if self._client is None:
            self._client = bigquery_client(self.project, self.endpoint)
        return self._client

    def insert_rows_json(self, table, json_rows, row_ids=None, **kwargs):
        beam_ids = row_ids or [None] * len(json_rows)
        ids = [row.get("event_id") or beam_id for row, beam_id in zip(json_rows, beam_ids, strict=True)]
        sent = [{k: v for k, v in row.items() if k != RECEIVED} for row in json_rows]
        refused = self.client().insert_rows_json(table, sent, row_ids=ids, **kwargs)
        self._report(str(table).split(".", 1)[-1], len(json_rows) - len(refused))
        return refused

    def _report(self, table: str, rows: int) -> None:
        """Count rows written per table on a tqdm bar ("wrote <table>"), when ``report_every`` is set."""
        if not self.report_every:
            return
        if table not in self.bars:
            self.bars[table] = counting_bar(f"wrote {table}", " rows", self.report_every)
        self.bars[table].update(rows)


def write_rows(rows, table: str, client: InsertClient):
    """Append rows to an existing table; returns Beam's WriteResult."""
    return rows | f"Write_{table.rsplit('.', 1)[-1]}" >> WriteToBigQuery(
        table=table,
        method=WriteToBigQuery.Method.STREAMING_INSERTS,
        create_disposition=BigQueryDisposition.CREATE_NEVER,
        write_disposition=BigQueryDisposition.WRITE_APPEND,
        insert_retry_strategy=RetryStrategy.RETRY_ON_TRANSIENT_ERROR,
        test_client=client,
    )


def refusal_reasons(row_errors: Any) -> str:
    """BigQuery's per-row errors as text; Beam passes its own size refusal as a plain string."""
    if isinstance(row_errors, str):
        return row_errors
    return "; ".join(
        f"{e.get('location') or 'row'}: {e.get('message', '')} (reason {e.get('reason', 'unknown')})"
        if isinstance(e, dict)
        else str(e)
        for e in row_errors or ()
    )


def received_message(row: dict[str, Any]) -> Message:
    """The message a row was made from (its ``_received`` envelope); the row itself if it has none."""
    try:
        return Message.from_envelope(row[RECEIVED])
    except (KeyError, TypeError, InvalidEnvelope):
        return Message(data=json.dumps(row, default=str, sort_keys=True).encode("utf-8", "backslashreplace"))


class RejectedRowToDeadLetter(beam.DoFn):
    """A row BigQuery refused -> a ``load_rejected`` dead-letter row naming BigQuery's reasons."""

    def process(self, failed: tuple[Any, dict[str, Any], Any]) -> Iterator[dict[str, Any]]:
        destination, row, row_errors = failed
        table = str(destination).rsplit(".", 1)[-1].rsplit(":", 1)[-1]
        stream = table if table in STREAMS else UNKNOWN_STREAM
        stream_counter(stream, "refused").inc()
        count_rejection(stream, errors.LOAD_REJECTED)
        failure = Failure(
            message=received_message(row),
            stream=stream,
            stage=errors.STAGE_LOAD,
            code=errors.LOAD_REJECTED,
            reason=f"BigQuery refused the row for table {table}: {refusal_reasons(row_errors)}",
            event_id=row.get("event_id") if isinstance(row.get("event_id"), str) else None,
        )
        yield dead_letter_row(failure, utc_now())


class WriteEvents(beam.PTransform):
    """Unique ValidEvents -> the three raw tables; returns dead-letter rows for refused rows."""

    def __init__(self, project: str, dataset: str, client: InsertClient) -> None:
        super().__init__()
        self.project = project
        self.dataset = dataset
        self.client = client

    def expand(self, events):
        by_stream = events | "ByStream" >> beam.Partition(lambda e, _: STREAMS.index(e.stream), len(STREAMS))
        refused = []
        for stream, stream_events in zip(STREAMS, by_stream, strict=True):
            rows = stream_events | f"Shape_{stream}" >> beam.Map(_counted_row)
            result = write_rows(rows, f"{self.project}:{self.dataset}.{stream}", self.client)
            refused.append(
                result.failed_rows_with_errors | f"Refused_{stream}" >> beam.ParDo(RejectedRowToDeadLetter())
            )
        return refused | "AllRefused" >> beam.Flatten()


def _counted_row(event: ValidEvent) -> dict[str, Any]:
    stream_counter(event.stream, "sent").inc()
    return {**event.row, RECEIVED: event.message.to_envelope()}


def failure_to_row(failure: Failure) -> dict[str, Any]:
    return dead_letter_row(failure, utc_now())
