"""BigQuery sinks: raw tables, dead letters and metrics, by load jobs in batch
(:class:`pipeline.bigquery_loads.LoadRows`), by the Storage Write API in streaming
(:class:`pipeline.storage_writes.WriteStorageRows`: exactly once per batch, offsets in Beam
state) or by streaming inserts (:class:`pipeline.bigquery_writes.WriteRows`).

Streaming inserts are batched per request, with ``event_id`` as BigQuery's insertId; load jobs
append whole shards at once, under ids derived from their content. Either way a row BigQuery
refuses (a non-transient reason such as ``invalid``) is never retried but comes back on the
refused output and becomes a ``load_rejected`` dead letter; transient errors are retried with
backoff.

An event row bound for BigQuery carries its message as received (an archive envelope) under
``_received``; a file target refuses nothing, so its rows go without.
``WriteRows`` leaves that key out of what it sends, so a refused row's dead letter holds the
payload, attributes and ids as received, like every other dead letter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam

from pipeline.bigquery_loads import LoadRows
from pipeline.bigquery_writes import RECEIVED, BigQueryTarget, WriteRows
from pipeline.file_sink import FileTarget, WriteJsonLines
from pipeline.storage_writes import WriteStorageRows
from schemas import STREAMS, UNKNOWN_STREAM
from transforms import errors
from transforms.counters import count_rejection, stream_counter
from transforms.messages import EventCopy, Failure, InvalidEnvelope, Message, ValidEvent
from transforms.rows import dead_letter_row
from transforms.times import utc_now
from transforms.validation import readable_event_time


def write_rows(
    rows,
    table: str,
    target: BigQueryTarget | FileTarget,
    to_row: Callable[[Any], dict[str, Any]] | None = None,
    schema_table: str | None = None,
):
    """Append rows to the existing ``table`` (``project:dataset.table``) by the Storage Write API,
    streaming inserts or load jobs (``target.method``), or with a :class:`FileTarget`
    (``--output_dir``) to JSON Lines files; returns the refused rows. With ``to_row`` the elements
    are what it makes each row of: in the writing step itself for files and load jobs, in a
    ``Shape_<table>`` step before streaming inserts and the Storage Write API. ``schema_table``:
    the table's schema in ``schemas/events/`` for the Storage Write API's messages (default: the
    table's own name)."""
    short = table.rsplit(".", 1)[-1]
    name = f"Write_{short}"
    if isinstance(target, FileTarget):
        return rows | name >> WriteJsonLines(table, target, to_row)
    if target.load_jobs:
        return rows | name >> LoadRows(table, target, to_row=to_row)
    if to_row is not None:
        rows = rows | f"Shape_{short}" >> beam.Map(to_row)
    if target.storage_write_api:
        return rows | name >> WriteStorageRows(table, target, schema_table)
    return rows | name >> WriteRows(table, target)


def refusal_reasons(row_errors: list[dict[str, Any]]) -> str:
    """A refused row's errors (BigQuery's ``insertErrors`` of the row, or why it was not sent) as text."""
    return "; ".join(
        f"{e.get('location') or 'row'}: {e.get('message', '')} (reason {e.get('reason', 'unknown')})"
        for e in row_errors
    )


def received_message(row: dict[str, Any]) -> Message:
    """The message a row was made from (its ``_received`` envelope); the row itself if it has none."""
    try:
        return Message.from_envelope(row[RECEIVED])
    except (KeyError, TypeError, InvalidEnvelope):
        return Message(data=json.dumps(row, default=str, sort_keys=True).encode("utf-8", "backslashreplace"))


class RejectedRowToDeadLetter(beam.DoFn):
    """A row BigQuery refused (or that could not be sent) -> a ``load_rejected`` dead-letter row
    naming the reasons, dated by the event's time the row holds when no publish time does."""

    def process(self, failed: tuple[str, dict[str, Any], list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
        destination, row, row_errors = failed
        table = str(destination).rsplit(".", 1)[-1].rsplit(":", 1)[-1]
        stream = table if table in STREAMS else UNKNOWN_STREAM
        stream_counter(stream, "refused").inc()
        count_rejection(stream, errors.LOAD_REJECTED)
        failed_at = utc_now()
        failure = Failure(
            message=received_message(row),
            stream=stream,
            stage=errors.STAGE_LOAD,
            code=errors.LOAD_REJECTED,
            reason=f"BigQuery refused the row for table {table}: {refusal_reasons(row_errors)}",
            event_id=row.get("event_id") if isinstance(row.get("event_id"), str) else None,
            event_time=readable_event_time(stream, row, failed_at),
        )
        yield dead_letter_row(failure, failed_at)


class WriteEvents(beam.PTransform):
    """Unique events, a PCollection per stream (``{stream: events}``) -> the three raw tables;
    returns dead-letter rows for refused rows."""

    def __init__(self, project: str, dataset: str, target: BigQueryTarget | FileTarget) -> None:
        super().__init__()
        self.project = project
        self.dataset = dataset
        self.target = target

    def expand(self, events_by_stream: dict[str, Any]):
        # Files are never refused, so their rows need no message to dead-letter (no envelope).
        to_row = _file_row if isinstance(self.target, FileTarget) else _counted_row
        refused = []
        for stream in STREAMS:
            table = f"{self.project}:{self.dataset}.{stream}"
            rejected = write_rows(events_by_stream[stream], table, self.target, to_row)
            refused.append(rejected | f"Refused_{stream}" >> beam.ParDo(RejectedRowToDeadLetter()))
        return refused | "AllRefused" >> beam.Flatten()


def _counted_row(event: ValidEvent | EventCopy) -> dict[str, Any]:
    """The event's row, counted as sent, with its message as received (``_received``): a
    BigQuery target's refused row becomes a dead letter of that message."""
    stream_counter(event.stream, "sent").inc()
    return {**event.row, RECEIVED: event.message.to_envelope()}


def _file_row(event: ValidEvent | EventCopy) -> dict[str, Any]:
    """The event's row, counted as sent (a file target refuses nothing: no envelope)."""
    stream_counter(event.stream, "sent").inc()
    return event.row


def failure_to_row(failure: Failure) -> dict[str, Any]:
    return dead_letter_row(failure, utc_now())
