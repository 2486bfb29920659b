"""The properties one input's outcome must have (docs/contract.md), checked by ``line_problems``.

A file line goes through ``line_to_message`` and ``triage`` twice: nothing may raise, there is
exactly one outcome, a published code and never ``internal_error`` (a bug of ours), the same
outcome both times, and a row BigQuery can take (valid Unicode, JSON-serialisable, within the
size limit); a dead-letter row keeps the message as received. Every ``*_problems`` function
returns the broken properties as sentences (empty when there are none).
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone
from typing import Any

from pipeline.sources import MAX_ENVELOPE_BYTES, line_to_message
from schemas import STREAMS, load_schema
from transforms import errors
from transforms.messages import (
    INVALID_ENVELOPE_ATTRIBUTE,
    Failure,
    InvalidEnvelope,
    Message,
    ValidEvent,
    envelope_of,
)
from transforms.rows import MAX_ROW_JSON_BYTES, dead_letter_row, row_json_size
from transforms.times import parse_rfc3339_utc
from transforms.triage import triage
from transforms.validation import MAX_EVENT_ID_CHARS, MAX_PAYLOAD_BYTES

# The processing time every fuzzed input is judged at (the pipeline run is given the same clock).
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
IP_MODES = ("truncate", "hash", "raw")
IP_KEY = b"eventharbor-fuzz-key"
FILENAME = "fuzz/hostile.jsonl"
DEAD_LETTER_COLUMNS = tuple(f["name"] for f in load_schema("events", "dead_letter"))
REQUIRED_DEAD_LETTER_COLUMNS = tuple(
    f["name"] for f in load_schema("events", "dead_letter") if f.get("mode") == "REQUIRED"
)
PROCESSING = errors.STAGE_PARSE, errors.STAGE_VALIDATE, errors.STAGE_LOAD


def fingerprint(outcome: ValidEvent | Failure) -> tuple:
    """What must not change when the same input is triaged again."""
    if isinstance(outcome, ValidEvent):
        return ("valid", outcome.stream, outcome.event_id, json.dumps(outcome.row, sort_keys=True))
    return ("failure", outcome.code, outcome.stream, outcome.stage, outcome.reason, outcome.event_id)


def _strings(value: Any) -> list[str]:
    """Every string (keys included) in a JSON-like value, walked without recursion."""
    found, stack = [], [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            found.extend(k for k in node if isinstance(k, str))
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return found


def _unicode_problems(row: dict[str, Any], what: str) -> list[str]:
    problems = []
    for text in _strings(row):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            problems.append(f"{what} holds a string that is not valid Unicode: {text[:60]!r}")
            break
    try:
        json.dumps(row)
        json.dumps(row, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        problems.append(f"{what} is not JSON-serialisable: {type(exc).__name__}: {exc}")
    return problems


def event_row_problems(outcome: ValidEvent) -> list[str]:
    """Why a valid event's raw-table row could not be written (empty when it can)."""
    row = outcome.row
    if not isinstance(row, dict):
        return [f"valid event has no row: {row!r:.80}"]
    problems = _unicode_problems(row, "event row")
    if outcome.stream not in STREAMS:
        problems.append(f"valid event routed to {outcome.stream!r}")
    if not (isinstance(outcome.event_id, str) and 0 < len(outcome.event_id) <= MAX_EVENT_ID_CHARS):
        problems.append(f"valid event has event_id {outcome.event_id!r:.80}")
    elif row.get("event_id") != outcome.event_id:
        problems.append("event row's event_id differs from the event's")
    if not problems and row_json_size(row) > MAX_ROW_JSON_BYTES:
        problems.append(f"event row is {row_json_size(row)} bytes of JSON")
    if outcome.stream in STREAMS:
        odd = [v for v in _numeric_cells(row, load_schema("events", outcome.stream)) if not _plain_decimal(v)]
        if odd:
            problems.append(f"NUMERIC cells not in plain decimal notation: {odd[:3]}")
    return problems


def _numeric_cells(row: dict[str, Any], schema: list[dict[str, Any]]) -> list[Any]:
    cells = []
    for field in schema:
        values = row.get(field["name"])
        values = values if field.get("mode") == "REPEATED" and isinstance(values, list) else [values]
        for value in values:
            if field["type"] == "NUMERIC" and value is not None:
                cells.append(value)
            elif field["type"] == "RECORD" and isinstance(value, dict):
                cells += _numeric_cells(value, field["fields"])
    return cells


def _plain_decimal(value: Any) -> bool:
    """``-12.50``-style text, what BigQuery's NUMERIC takes (no exponent, at most 9 decimals)."""
    return isinstance(value, str) and re.fullmatch(r"-?\d{1,29}(\.\d{1,9})?", value) is not None


def dead_letter_problems(
    row: dict[str, Any], failure: Failure, max_row_bytes: int = MAX_ROW_JSON_BYTES
) -> list[str]:
    """Why a dead-letter row could not be written, or does not keep the message (empty when fine)."""
    problems = _unicode_problems(row, "dead-letter row")
    if problems:
        return problems
    if tuple(row) != DEAD_LETTER_COLUMNS:
        problems.append(f"dead-letter columns are {sorted(row)}")
    problems += [
        f"dead-letter column {c} is NULL" for c in REQUIRED_DEAD_LETTER_COLUMNS if row.get(c) is None
    ]
    try:
        attributes = json.loads(row["attributes"])
        if not (
            isinstance(attributes, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in attributes.items())
        ):
            problems.append(f"dead-letter attributes are not an object of strings: {row['attributes']:.80}")
    except (TypeError, ValueError):
        problems.append(f"dead-letter attributes are not JSON: {row.get('attributes')!r:.80}")
    if row.get("message_time") is None:
        problems.append("dead-letter message_time is NULL: every rejection must be dated")
    for column in ("failed_at", "publish_time", "message_time"):
        if row.get(column) is not None:
            try:
                parse_rfc3339_utc(row[column])
            except (TypeError, ValueError, AttributeError):
                problems.append(f"dead-letter {column} is not a timestamp: {row[column]!r:.80}")
    if not all(isinstance(row.get(c), str) for c in ("stream", "stage", "error_code", "error_message")):
        problems.append("dead-letter stream/stage/error_code/error_message are not all strings")
    for column in ("message_id", "event_id"):
        if row.get(column) is not None and not isinstance(row[column], str):
            problems.append(f"dead-letter {column} is not a string: {row[column]!r:.80}")
    problems += _payload_problems(row, failure.message.data, max_row_bytes)
    size = row_json_size(row)
    if size > max_row_bytes and row.get("payload") != "":
        problems.append(f"dead-letter row is {size} bytes of JSON (limit {max_row_bytes}) with a payload")
    return problems


def _payload_problems(row: dict[str, Any], data: Any, max_row_bytes: int) -> list[str]:
    """The payload must be the message as received: all of it, or a prefix flagged as truncated."""
    payload, encoding, truncated = (
        row.get("payload"),
        row.get("payload_encoding"),
        row.get("payload_truncated"),
    )
    if not isinstance(data, bytes) or not isinstance(payload, str):
        return []
    if encoding == "base64":
        try:
            kept = base64.b64decode(payload, validate=True)
        except ValueError:
            return ["dead-letter payload is not valid base64"]
    elif encoding == "utf-8":
        kept = payload.encode("utf-8")
    else:
        return [f"dead-letter payload_encoding is {encoding!r}"]
    if truncated is not True and kept != data:
        return ["dead-letter payload is not the message as received"]
    if truncated is True and not (data.startswith(kept) and len(kept) < len(data)):
        return ["truncated dead-letter payload is not a prefix of the message"]
    if max_row_bytes >= MAX_ROW_JSON_BYTES and truncated != (len(data) > MAX_PAYLOAD_BYTES):
        return [f"payload_truncated is {truncated} for a {len(data)}-byte message"]
    return []


def outcome_problems(
    message: Message, now: datetime = NOW, ip_mode: str = "truncate", ip_key: bytes | None = IP_KEY
) -> tuple[ValidEvent | Failure | None, list[str]]:
    """Triage ``message`` twice and check every property of its outcome and its row."""
    try:
        first = triage(message, now, ip_mode, ip_key)
        second = triage(message, now, ip_mode, ip_key)
    except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
        return None, [f"triage raised {type(exc).__name__}: {exc}"]
    kinds = isinstance(first, ValidEvent) + isinstance(first, Failure)
    if kinds != 1:
        return None, [f"triage returned {type(first).__name__}, not one ValidEvent or one Failure"]
    problems = []
    if fingerprint(first) != fingerprint(second):
        problems.append("a second triage of the same input gave another outcome")
    if isinstance(first, ValidEvent):
        return first, problems + event_row_problems(first)
    if first.code not in errors.ERROR_CODES:
        problems.append(f"unpublished error code {first.code!r}")
    if first.code == errors.INTERNAL_ERROR:
        problems.append(f"internal_error (a bug of ours): {first.reason[:300]}")
    if first.stage not in PROCESSING:
        problems.append(f"unknown stage {first.stage!r}")
    if not (isinstance(first.reason, str) and first.reason.strip()):
        problems.append("failure without a reason")
    try:
        row = dead_letter_row(first, now)
    except Exception as exc:  # noqa: BLE001
        return first, problems + [f"dead_letter_row raised {type(exc).__name__}: {exc}"]
    return first, problems + dead_letter_problems(row, first)


def line_problems(
    line: bytes, now: datetime = NOW, ip_mode: str = "truncate", ip_key: bytes | None = IP_KEY
) -> tuple[ValidEvent | Failure | None, list[str]]:
    """A file line through ``line_to_message`` (the batch pipeline's file source), then
    ``outcome_problems``."""
    try:
        message = line_to_message(FILENAME, line)
        again = line_to_message(FILENAME, line)
    except Exception as exc:  # noqa: BLE001
        return None, [f"line_to_message raised {type(exc).__name__}: {exc}"]
    problems = [] if message == again else ["line_to_message gave another message the second time"]
    outcome, more = outcome_problems(message, now, ip_mode, ip_key)
    problems += more
    if _unwrap_fails(line) and message.data != line:
        problems.append("an envelope that cannot be unwrapped does not keep the line as read")
    if INVALID_ENVELOPE_ATTRIBUTE in message.attributes:  # set by the source, or replayed from the archive
        if isinstance(outcome, Failure) and outcome.code != errors.INVALID_ENVELOPE:
            problems.append(f"an invalid envelope was rejected as {outcome.code}, not invalid_envelope")
        if isinstance(outcome, ValidEvent):
            problems.append("an invalid envelope was loaded")
    return outcome, problems


def _unwrap_fails(line: bytes) -> bool:
    envelope = envelope_of(line, MAX_ENVELOPE_BYTES)
    if envelope is None:
        return False
    try:
        Message.from_envelope(envelope)
    except InvalidEnvelope:
        return True
    return False
