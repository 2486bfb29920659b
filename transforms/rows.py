"""Shape validated events and failures into BigQuery rows, driven by ``schemas/``."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import cache
from typing import Any

import msgspec

from schemas import load_schema
from transforms.messages import BASE64, UTF8, Failure, Message
from transforms.times import rfc3339
from transforms.validation import MAX_PAYLOAD_BYTES

# One insertAll request carries at most 10 MB; leave room for its envelope and the insertId.
MAX_ROW_JSON_BYTES = 10_000_000 - 64 * 1024
MAX_ERROR_MESSAGE_CHARS = 4000
MAX_ATTRIBUTES = 100  # Pub/Sub's own limit per message
ATTRIBUTES_PROBLEM_KEY = "eventharbor_attributes_note"


_Shaper = Callable[[Any], Any]


def _timestamp_cell(value: Any) -> Any:
    return rfc3339(value) if isinstance(value, datetime) else value


def _date_cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _numeric_cell(value: Any) -> Any:
    # Fixed-point text: str() would give 1E+2 or 0E+1000000, which BigQuery may refuse.
    return format(value, "f") if isinstance(value, Decimal) else value


def _json_cell(value: Any) -> Any:
    return json.dumps(value, sort_keys=True)


_JSON_VALUE = msgspec.json.Encoder(decimal_format="number", order="sorted")


def event_json_text(value: Any) -> str:
    """JSON text of a value whose numbers may be ``Decimal``: written as JSON numbers, exactly as
    ``transforms.known_fields.json_safe`` kept them (``json.dumps`` would refuse a Decimal)."""
    return _JSON_VALUE.encode(value).decode("utf-8")


# Validated events hold plain ``datetime``s in UTC and plain ``date``s: msgspec writes those exactly
# as ``rfc3339`` and ``date.isoformat`` do, two to three times faster. Anything else (a subclass
# such as Pub/Sub's ``DatetimeWithNanoseconds``, another zone) goes to the cells above.
def _event_timestamp_cell(value: Any) -> Any:
    if type(value) is datetime and value.tzinfo is timezone.utc:
        return msgspec.to_builtins(value)
    return _timestamp_cell(value)


def _event_date_cell(value: Any) -> Any:
    return msgspec.to_builtins(value) if type(value) is date else _date_cell(value)


# column type -> how a non-null value becomes JSON-ready (other types are kept as they are)
_CELLS: dict[str, _Shaper] = {
    "TIMESTAMP": _timestamp_cell,
    "DATE": _date_cell,
    "NUMERIC": _numeric_cell,
    "JSON": _json_cell,
}
_EVENT_CELLS = {
    **_CELLS,
    "TIMESTAMP": _event_timestamp_cell,
    "DATE": _event_date_cell,
    "JSON": event_json_text,
}
# The columns every raw row ends with, in the schema's order: the message's lineage and the
# fields the contract does not know (``transforms.known_fields``).
LINEAGE_COLUMNS = ("message_id", "publish_time", "attributes", "extra_fields")


def _row_source(
    schema: list[dict[str, Any]], cells: dict[str, _Shaper], record: str, names: Iterator[str]
) -> str:
    """Python source of a dict display: the row of ``schema`` shaped from the variable ``record``.

    A NULL stays NULL; a RECORD is shaped by its own display, a REPEATED column element by
    element, a column of a type in ``cells`` by that cell function; other values are kept as
    they are. Column names only appear as ``repr`` literals; ``names`` gives fresh variables.
    """
    entries = []
    for field in schema:
        column = repr(field["name"])
        value = next(names)
        repeated = field.get("mode") == "REPEATED"
        element = next(names) if repeated else value
        if field["type"] == "RECORD":
            shaped = _row_source(field["fields"], cells, element, names)
        elif field["type"] in cells:
            shaped = f"{cells[field['type']].__name__}({element})"
        else:
            shaped = element
        if repeated:
            shaped = f"[{shaped} for {element} in {value}]"
        if shaped == value:
            entries.append(f"{column}: {record}.get({column})")
        else:
            entries.append(f"{column}: None if ({value} := {record}.get({column})) is None else {shaped}")
    return "{" + ", ".join(entries) + "}"


def _record_shaper(
    schema: list[dict[str, Any]], cells: dict[str, _Shaper]
) -> Callable[[Any], dict[str, Any]]:
    """The function shaping one record into exactly ``schema``'s columns, in its order (extra keys
    are dropped). The schema is walked once, here, into one function made of a single dict
    display (as ``dataclasses`` builds its methods): twice as fast as walking it for every row.
    """
    variables = (f"v{n}" for n in itertools.count())
    source = f"def shape(record):\n    return {_row_source(schema, cells, 'record', variables)}\n"
    namespace = {cell.__name__: cell for cell in cells.values()}
    exec(source, namespace)
    return namespace["shape"]


@cache
def event_shaper(stream: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The function ``event_row`` applies for ``stream`` (for callers that keep it at hand)."""
    return _record_shaper(load_schema("events", stream), _EVENT_CELLS)


@cache
def lineage_shaper(stream: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``event_shaper(stream)`` restricted to ``LINEAGE_COLUMNS``: the cells a row built by
    ``msgspec.to_builtins`` from the contract's columns still needs (``transforms.fast_path``)."""
    schema = [f for f in load_schema("events", stream) if f["name"] in LINEAGE_COLUMNS]
    return _record_shaper(schema, _EVENT_CELLS)


def lineage(message: Message) -> dict[str, Any]:
    """The message's lineage columns: its ``message_id``, ``publish_time`` and ``attributes`` (an
    object of valid strings, as dead letters keep them; ``{}`` when a Pub/Sub message has none).

    All NULL for a plain file line, which has neither id nor publish time (its ``source_file``
    attribute is the archive's to keep), and so for the archive envelope of one: a replay gives
    the row its first load gave.
    """
    message_id = message.message_id
    publish_time = message.publish_time if isinstance(message.publish_time, datetime) else None
    if message_id is None and publish_time is None:
        return {"message_id": None, "publish_time": None, "attributes": None}
    return {
        "message_id": None if message_id is None else _text(message_id, 1024),
        "publish_time": publish_time,
        "attributes": _attributes(message.attributes),
    }


@cache
def _dead_letter_shaper() -> Callable[[Any], dict[str, Any]]:
    return _record_shaper(load_schema("events", "dead_letter"), _CELLS)


def row_shaper(schema: list[dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``table_row`` for ``schema``, built once: for shaping many records of one table."""
    return _record_shaper(schema, _CELLS)


def table_row(record: dict[str, Any], schema: list[dict[str, Any]]) -> dict[str, Any]:
    """A JSON-ready row holding exactly the schema's columns (extra keys are dropped)."""
    return row_shaper(schema)(record)


def event_row(stream: str, event: dict[str, Any]) -> dict[str, Any]:
    """The row for ``events.<stream>``."""
    return event_shaper(stream)(event)


def row_json_size(row: dict[str, Any]) -> int:
    """Bytes of ``row`` as the BigQuery client sends it (JSON, non-ASCII escaped)."""
    return len(json.dumps(row, separators=(",", ":")))


def _text(value: Any, limit: int) -> str:
    """Any value as valid Unicode text of at most ``limit`` characters (surrogates escaped)."""
    text = value if isinstance(value, str) else str(value)
    text = text.encode(UTF8, "backslashreplace").decode(UTF8)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _payload(data: bytes, limit: int) -> tuple[str, str, bool]:
    """(payload, payload_encoding, truncated): UTF-8 text when the bytes are, else base64."""
    truncated = len(data) > limit
    kept = data[:limit]
    try:
        text = data.decode(UTF8)
    except UnicodeDecodeError:
        return base64.b64encode(kept).decode("ascii"), BASE64, truncated
    if truncated:
        text = kept.decode(UTF8, errors="ignore")
    return text, UTF8, truncated


def _attributes(attributes: Any) -> dict[str, str]:
    """The attributes as an object of valid strings, at most ``MAX_ATTRIBUTES_JSON`` of JSON."""
    if not isinstance(attributes, dict):
        return {ATTRIBUTES_PROBLEM_KEY: _text(attributes, 1000)}
    clean = {_text(k, 256): _text(v, 1024) for k, v in list(attributes.items())[:MAX_ATTRIBUTES]}
    if len(clean) < len(attributes):
        clean[ATTRIBUTES_PROBLEM_KEY] = f"{len(attributes) - MAX_ATTRIBUTES} more attributes not kept"
    return clean


def message_time(publish_time: datetime | None, event_time: datetime | None, failed_at: datetime) -> datetime:
    """The time a rejected message is dated by: its publish time, else its event's own time (when
    it could be read and is not in the future), else when it failed. Copies of one Pub/Sub
    message share their publish time, and a replay of history dates each rejection in the past."""
    return publish_time or event_time or failed_at


def dead_letter_row(
    failure: Failure, failed_at: datetime, max_row_bytes: int = MAX_ROW_JSON_BYTES
) -> dict[str, Any]:
    """The ``events.dead_letter`` row for one rejected message, always writable.

    Every string is valid Unicode and bounded, attributes are an object of strings,
    ``message_id`` a string and ``publish_time`` a time (or NULL), ``message_time`` the time
    every count of rejections is dated by (:func:`message_time`), and the row's JSON fits one
    insert request: the payload is cut shorter (``payload_truncated``) when it must be. The
    full message is always in the raw archive.
    """
    message = failure.message
    publish_time = message.publish_time if isinstance(message.publish_time, datetime) else None
    record = {
        "failed_at": failed_at,
        "stream": _text(failure.stream, 64),
        "stage": _text(failure.stage, 64),
        "error_code": _text(failure.code, 64),
        "error_message": _text(failure.reason, MAX_ERROR_MESSAGE_CHARS),
        "attributes": _attributes(message.attributes),
        "message_id": None if message.message_id is None else _text(message.message_id, 1024),
        "publish_time": publish_time,
        "event_id": None if failure.event_id is None else _text(failure.event_id, 1024),
        "message_time": message_time(publish_time, failure.event_time, failed_at),
    }
    data = message.data if isinstance(message.data, bytes) else str(message.data).encode(UTF8, "replace")
    limit = MAX_PAYLOAD_BYTES
    while True:
        payload, encoding, truncated = _payload(data, limit)
        record.update(payload=payload, payload_encoding=encoding, payload_truncated=truncated)
        row = _dead_letter_shaper()(record)
        size = row_json_size(row)
        if size <= max_row_bytes or limit == 0:
            return row
        # Escapes can make text payloads up to 6x longer as JSON: cut in proportion, and retry.
        limit = max(0, limit * (max_row_bytes - 4096) // size)
