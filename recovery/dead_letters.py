"""Dead-letter replay: run selected dead letters through today's validation and load those that pass.

After a producer fix or a contract change, a rejected message may now be valid. The replay
selects dead letters by error code, stream and day range, rebuilds each message as received
(payload, attributes, ids), runs it through ``transforms.triage`` with today's rules, inserts
the ones that pass into their raw table (``event_id`` as insertId) and records one row per
dead letter in ``dead_letter_replays``: loaded, still_rejected, already_loaded or
not_replayable. A dead letter an earlier replay loaded is never loaded again, so running the
same replay twice loads nothing twice. A dead letter is identified as the models identify
rejected messages: by ``message_id``, or by the SHA-256 of its payload bytes without one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pipeline.commands import CommandError
from schemas import load_schema
from transforms.messages import BASE64, Failure, Message
from transforms.rows import row_shaper
from transforms.times import utc_now
from transforms.triage import triage

REPLAY_TABLE = "dead_letter_replays"
LOADED, STILL_REJECTED, ALREADY_LOADED, NOT_REPLAYABLE = (
    "loaded",
    "still_rejected",
    "already_loaded",
    "not_replayable",
)
INSERT_BATCH = 500


@dataclass(frozen=True)
class DeadLetter:
    """One selected dead-letter row, with the message rebuilt as it was received."""

    key: str
    stream: str
    error_code: str
    message: Message | None  # None when the payload was truncated
    failed_at: datetime


def dead_letter_key(message_id: str | None, payload: bytes) -> str:
    """How the models and the replay identify a rejected message."""
    if message_id:
        return f"message_id:{message_id}"
    return f"payload_sha256:{hashlib.sha256(payload).hexdigest()}"


def _payload_bytes(row: dict[str, Any]) -> bytes:
    payload = row.get("payload") or ""
    if row.get("payload_encoding") == BASE64:
        return base64.b64decode(payload)
    return payload.encode("utf-8")


def _attributes(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    return {str(k): str(v) for k, v in dict(value).items()}


def to_dead_letter(row: dict[str, Any]) -> DeadLetter:
    """A ``dead_letter`` row -> the message it holds (``None`` when it holds only part of it)."""
    payload = _payload_bytes(row)
    message = None
    if not row.get("payload_truncated"):
        message = Message(
            data=payload,
            attributes=_attributes(row.get("attributes")),
            message_id=row.get("message_id"),
            publish_time=row.get("publish_time"),
        )
    return DeadLetter(
        key=dead_letter_key(row.get("message_id"), payload),
        stream=row["stream"],
        error_code=row["error_code"],
        message=message,
        failed_at=row["failed_at"],
    )


@dataclass(frozen=True)
class Selection:
    """Which dead letters to replay: failed on days ``start``..``end`` (UTC), optional filters."""

    start: date
    end: date
    codes: Sequence[str] = ()
    streams: Sequence[str] = ()

    def where(self) -> tuple[str, list]:
        """The WHERE clause (partition-pruned on DATE(failed_at)) and its query parameters."""
        from google.cloud import bigquery

        clauses = ["DATE(failed_at) BETWEEN @start_date AND @end_date"]
        parameters: list = [
            bigquery.ScalarQueryParameter("start_date", "DATE", self.start),
            bigquery.ScalarQueryParameter("end_date", "DATE", self.end),
        ]
        if self.codes:
            clauses.append("error_code IN UNNEST(@codes)")
            parameters.append(bigquery.ArrayQueryParameter("codes", "STRING", list(self.codes)))
        if self.streams:
            clauses.append("stream IN UNNEST(@streams)")
            parameters.append(bigquery.ArrayQueryParameter("streams", "STRING", list(self.streams)))
        return " AND ".join(clauses), parameters


def select_dead_letters(client, dataset: str, selection: Selection) -> list[DeadLetter]:
    """The selected dead letters, one per rejected message (copies of it are the same message)."""
    from google.cloud import bigquery

    where, parameters = selection.where()
    query = (
        "SELECT failed_at, stream, error_code, payload, payload_encoding, payload_truncated, "
        f"attributes, message_id, publish_time FROM `{client.project}.{dataset}.dead_letter` "
        f"WHERE {where} ORDER BY failed_at"
    )
    job = client.query(query, job_config=bigquery.QueryJobConfig(query_parameters=parameters))
    unique: dict[str, DeadLetter] = {}
    for row in job.result():
        letter = to_dead_letter(dict(row))
        unique.setdefault(letter.key, letter)
    return list(unique.values())


def already_loaded(client, dataset: str, keys: Iterable[str]) -> set[str]:
    """The keys an earlier replay loaded."""
    from google.cloud import bigquery

    keys = sorted(set(keys))
    if not keys:
        return set()
    query = (
        f"SELECT DISTINCT dead_letter_key FROM `{client.project}.{dataset}.{REPLAY_TABLE}` "
        "WHERE outcome = @loaded AND dead_letter_key IN UNNEST(@keys)"
    )
    config = bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter("loaded", "STRING", LOADED),
            bigquery.ArrayQueryParameter("keys", "STRING", keys),
        ]
    )
    return {row["dead_letter_key"] for row in client.query(query, job_config=config).result()}


def _insert(client, table: str, rows: list[dict[str, Any]], row_ids: list[str] | None = None) -> list[dict]:
    """Insert in batches; returns BigQuery's per-row errors with indexes into ``rows``."""
    errors: list[dict] = []
    for offset in range(0, len(rows), INSERT_BATCH):
        batch = rows[offset : offset + INSERT_BATCH]
        ids = row_ids[offset : offset + INSERT_BATCH] if row_ids else None
        for error in client.insert_rows_json(table, batch, row_ids=ids):
            errors.append({**error, "index": offset + error["index"]})
    return errors


def replay(
    client,
    dataset: str,
    selection: Selection,
    ip_mode: str = "truncate",
    ip_key: bytes | None = None,
    clock: Callable[[], datetime] = utc_now,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Replay the selected dead letters; returns ``{"replay_id", "selected", "outcomes", "loaded"}``."""
    now = clock()
    replay_id = f"replay-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    letters = select_dead_letters(client, dataset, selection)
    done = already_loaded(client, dataset, (letter.key for letter in letters))
    log: list[dict[str, Any]] = []
    by_table: dict[str, list[tuple[int, dict[str, Any], str]]] = {}
    for letter in letters:
        entry = {
            "replay_id": replay_id,
            "replayed_at": now,
            "dead_letter_key": letter.key,
            "stream": letter.stream,
            "original_error_code": letter.error_code,
        }
        if letter.key in done:
            entry["outcome"] = ALREADY_LOADED
        elif letter.message is None:
            entry.update(
                outcome=NOT_REPLAYABLE,
                error_message="the dead letter holds a truncated payload; replay it from the raw archive",
            )
        else:
            outcome = triage(letter.message, now, ip_mode, ip_key)
            if isinstance(outcome, Failure):
                entry.update(outcome=STILL_REJECTED, error_code=outcome.code, error_message=outcome.reason)
            else:
                entry.update(outcome=LOADED, stream=outcome.stream, event_id=outcome.event_id)
                by_table.setdefault(outcome.stream, []).append((len(log), outcome.row, outcome.event_id))
        log.append(entry)

    if not dry_run:
        for stream, pending in by_table.items():
            table = f"{client.project}.{dataset}.{stream}"
            refused = _insert(client, table, [row for _, row, _ in pending], [eid for _, _, eid in pending])
            for error in refused:
                position = pending[error["index"]][0]
                reasons = "; ".join(e.get("message", "") for e in error.get("errors", []))
                log[position].update(
                    outcome=STILL_REJECTED, error_code="load_rejected", error_message=reasons, event_id=None
                )
        shape = row_shaper(load_schema("events", REPLAY_TABLE))
        replay_table = f"{client.project}.{dataset}.{REPLAY_TABLE}"
        log_ids = [f"{replay_id}/{entry['dead_letter_key']}" for entry in log]
        refused_log = _insert(client, replay_table, [shape(entry) for entry in log], log_ids)
        if refused_log:
            raise CommandError(
                f"{REPLAY_TABLE}: BigQuery refused {len(refused_log)} log rows: {refused_log[:3]}"
            )

    outcomes = Counter(entry["outcome"] for entry in log)
    return {
        "replay_id": replay_id,
        "selected": len(letters),
        "outcomes": dict(sorted(outcomes.items())),
        "still_rejected_codes": dict(
            sorted(Counter(e["error_code"] for e in log if e["outcome"] == STILL_REJECTED).items())
        ),
        "dry_run": dry_run,
    }
