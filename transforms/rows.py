"""Shape validated events and failures into BigQuery rows, driven by ``schemas/``."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from schemas import load_schema
from transforms.messages import BASE64, UTF8, Failure
from transforms.times import rfc3339
from transforms.validation import MAX_PAYLOAD_BYTES


def _cell(value: Any, field: dict[str, Any]) -> Any:
    if value is None:
        return None
    if field.get("mode") == "REPEATED":
        return [_scalar(v, field) for v in value]
    return _scalar(value, field)


def _scalar(value: Any, field: dict[str, Any]) -> Any:
    kind = field["type"]
    if kind == "RECORD":
        return {f["name"]: _cell(value.get(f["name"]), f) for f in field["fields"]}
    if kind == "TIMESTAMP":
        return rfc3339(value) if isinstance(value, datetime) else value
    if kind == "DATE":
        return value.isoformat() if isinstance(value, date) else value
    if kind == "NUMERIC":
        return str(value) if isinstance(value, Decimal) else value
    if kind == "JSON":
        return json.dumps(value, sort_keys=True)
    return value


def table_row(record: dict[str, Any], schema: list[dict[str, Any]]) -> dict[str, Any]:
    """A JSON-ready row holding exactly the schema's columns (extra keys are dropped)."""
    return {f["name"]: _cell(record.get(f["name"]), f) for f in schema}


def event_row(stream: str, event: dict[str, Any]) -> dict[str, Any]:
    """The row for ``events.<stream>``."""
    return table_row(event, load_schema("events", stream))


def dead_letter_row(failure: Failure, failed_at: datetime) -> dict[str, Any]:
    """The ``events.dead_letter`` row for one rejected message."""
    data = failure.message.data
    truncated = len(data) > MAX_PAYLOAD_BYTES
    try:
        payload, encoding = data.decode(UTF8), UTF8
        if truncated:
            payload = data[:MAX_PAYLOAD_BYTES].decode(UTF8, errors="ignore")
    except UnicodeDecodeError:
        payload, encoding = base64.b64encode(data[:MAX_PAYLOAD_BYTES]).decode("ascii"), BASE64
    record = {
        "failed_at": failed_at,
        "stream": failure.stream,
        "stage": failure.stage,
        "error_code": failure.code,
        "error_message": failure.reason,
        "payload": payload,
        "payload_encoding": encoding,
        "payload_truncated": truncated,
        "attributes": failure.message.attributes or {},
        "message_id": failure.message.message_id,
        "publish_time": failure.message.publish_time,
        "event_id": failure.event_id,
    }
    return table_row(record, load_schema("events", "dead_letter"))
