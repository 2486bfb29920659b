"""One message -> exactly one outcome: a valid event (with its BigQuery row) or a failure.

Pure functions, no Beam, and total: whatever the bytes, they return and never raise.
Known problems become the ``Rejection`` codes of docs/contract.md ("Rejections"); anything unforeseen
(a bug of ours) becomes ``internal_error`` with the exception's type and message, and is
logged with its stage, so one bad message can never stop a batch run or stall a stream.
The Beam DoFns in ``transforms.parse`` wrap these; the fuzz tests call them directly.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from schemas import UNKNOWN_STREAM
from transforms import errors, fast_path, known_fields, utf8
from transforms.errors import Rejection
from transforms.messages import INVALID_ENVELOPE_ATTRIBUTE, Failure, Message, ValidEvent
from transforms.rows import MAX_ROW_JSON_BYTES, event_row, lineage, row_json_size
from transforms.validation import (
    check_unicode,
    parse_payload,
    readable_event_time,
    stream_of,
    validate_event,
)

logger = logging.getLogger(__name__)

# A row's JSON is at most a few times its payload: escapes (up to 6x), and extra_fields, JSON
# text inside the row's JSON, escaped once more (7x); rows from payloads under this size cannot
# reach BigQuery's limit, so only bigger ones are measured.
_ROW_SIZE_CHECK_FROM = MAX_ROW_JSON_BYTES // 16


def internal_failure(
    message: Message,
    stream: str,
    stage: str,
    exc: BaseException,
    event_id: str | None = None,
    event_time: datetime | None = None,
) -> Failure:
    """An unforeseen exception -> an ``internal_error`` failure naming it; logged with the stage."""
    logger.error(
        "internal_error at stage %s (stream %s, message_id %s): %s: %s",
        stage,
        stream,
        message.message_id,
        type(exc).__name__,
        exc,
        exc_info=exc,
    )
    text = f"{type(exc).__name__} at stage {stage}: {exc}"
    return _failure(message, stream, stage, errors.INTERNAL_ERROR, text[:2000], event_id, event_time)


def parse_message(message: Message) -> dict[str, Any] | Failure:
    """A message's bytes -> its JSON object, or the parse-stage failure."""
    try:
        envelope_problem = message.attributes.get(INVALID_ENVELOPE_ATTRIBUTE)
        if envelope_problem is not None:
            raise Rejection(
                errors.INVALID_ENVELOPE,
                f"line is shaped like a raw-archive envelope but cannot be unwrapped: {envelope_problem}",
            )
        return parse_payload(message.data)
    except Rejection as rejection:
        return _failure(message, UNKNOWN_STREAM, errors.STAGE_PARSE, rejection.code, rejection.message)
    except Exception as exc:  # noqa: BLE001 - any bug of ours dead-letters this message only
        return internal_failure(message, UNKNOWN_STREAM, errors.STAGE_PARSE, exc)


def _failure(
    message: Message,
    stream: str,
    stage: str,
    code: str,
    reason: str,
    event_id: Any = None,
    event_time: datetime | None = None,
) -> Failure:
    """A failure whose every string is valid Unicode (Beam's coders and BigQuery refuse others)."""
    kept_id = event_id if isinstance(event_id, str) and utf8.encodable(event_id) else None
    return Failure(message, stream, stage, code, utf8.escaped(reason), kept_id, event_time)


def validate_message(
    message: Message,
    obj: dict[str, Any],
    now: datetime,
    ip_mode: str = "truncate",
    ip_key: bytes | None = None,
    max_row_bytes: int = MAX_ROW_JSON_BYTES,
) -> ValidEvent | Failure:
    """A parsed object -> a valid event with its raw-table row, or the failure.

    Checks the stream's contract (validate stage), then shapes the row and checks it fits one
    BigQuery insert request (load stage: ``load_rejected`` without a retry it could never win).
    A failure carries the event's own time when it can be read: a rejection reads it best effort,
    an unforeseen error keeps it only once validation found it (reading it again could raise).
    """
    stream = stream_of(obj)
    event_id = obj.get("event_id")
    event_time = None
    stage = errors.STAGE_VALIDATE
    try:
        check_unicode(message.data, obj)
        stream, event_id, event_time, event = validate_event(obj, now, ip_mode, ip_key)
        event.update(lineage(message))
        event["extra_fields"] = known_fields.split(stream, obj, event)
        stage = errors.STAGE_LOAD
        row = event_row(stream, event)
        if len(message.data) >= _ROW_SIZE_CHECK_FROM or max_row_bytes < MAX_ROW_JSON_BYTES:
            size = row_json_size(row)
            if size > max_row_bytes:
                raise Rejection(
                    errors.LOAD_REJECTED,
                    f"the {stream} row is {size} bytes as JSON; one BigQuery insert request holds at "
                    f"most {max_row_bytes} bytes",
                )
        return ValidEvent(message, stream, event_id, event_time, event, row)
    except Rejection as rejection:
        event_time = readable_event_time(stream, obj, now)
        return _failure(message, stream, stage, rejection.code, rejection.message, event_id, event_time)
    except Exception as exc:  # noqa: BLE001 - any bug of ours dead-letters this message only
        return internal_failure(message, stream, stage, exc, event_id, event_time)


def triage(
    message: Message,
    now: datetime,
    ip_mode: str = "truncate",
    ip_key: bytes | None = None,
    fast: bool = True,
) -> ValidEvent | Failure:
    """Parse then validate one message: exactly one outcome, never an exception.

    The common valid event is accepted by ``transforms.fast_path`` (typed msgspec decoding);
    whatever it cannot prove valid takes the precise path below, which gives every failure its
    code and message. Both give a valid event the same ``ValidEvent``; ``fast=False`` takes the
    precise path alone (the tests compare the two).

    The parsed object never leaves this function: Beam only ever carries bytes, our normalised
    events and failures between stages, so no user value can break a coder.
    """
    if fast:
        accepted = fast_path.accept(message, now, ip_mode, ip_key)
        if accepted is not None:
            return accepted
    parsed = parse_message(message)
    if isinstance(parsed, Failure):
        return parsed
    return validate_message(message, parsed, now, ip_mode, ip_key)
