"""The unit that flows through the pipeline: a message as received, and what became of it."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from transforms import utf8
from transforms.times import epoch_micros, from_epoch_micros, parse_rfc3339_utc, rfc3339
from transforms.validation import nesting_depth_exceeds

UTF8 = "utf-8"
BASE64 = "base64"
ENVELOPE_KEYS = frozenset({"data", "data_encoding", "attributes", "message_id", "publish_time"})
ENVELOPE_DEPTH = 2  # the envelope object and its attributes object
# Set by the file source on a line shaped like an envelope that could not be unwrapped; the
# parse stage rejects such a message as invalid_envelope, also when it is replayed from the archive.
INVALID_ENVELOPE_ATTRIBUTE = "eventharbor_invalid_envelope"
_SORTED_JSON = json.JSONEncoder(sort_keys=True).encode  # json.dumps(..., sort_keys=True), built once
_json_text = json.encoder.encode_basestring_ascii  # json.dumps of a str (C)
_UTF8_JSON = _json_text(UTF8)
_BASE64_JSON = _json_text(BASE64)


# Messages, failures and valid events are made once per message and never changed: plain slotted
# dataclasses, not frozen ones, whose __init__ sets each field through object.__setattr__ (5x the cost).
@dataclass(slots=True)
class Message:
    """One message exactly as received: raw bytes plus its Pub/Sub (or file) metadata."""

    data: bytes
    attributes: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None
    publish_time: datetime | None = None

    def to_envelope(self) -> dict[str, Any]:
        """The raw-archive line: data as UTF-8 text when it is valid UTF-8, else base64."""
        try:
            data, encoding = self.data.decode(UTF8), UTF8
        except UnicodeDecodeError:
            data, encoding = base64.b64encode(self.data).decode("ascii"), BASE64
        return {
            "data": data,
            "data_encoding": encoding,
            "attributes": dict(self.attributes),
            "message_id": self.message_id,
            "publish_time": rfc3339(self.publish_time) if self.publish_time else None,
        }

    def envelope_line(self) -> str:
        """``json.dumps(self.to_envelope(), sort_keys=True)``, the archive's line, written directly
        (it is built for every message: the dict and the sorting walk cost more than the text)."""
        try:
            data, encoding = self.data.decode(UTF8), _UTF8_JSON
        except UnicodeDecodeError:
            data, encoding = base64.b64encode(self.data).decode("ascii"), _BASE64_JSON
        message_id, publish_time = self.message_id, self.publish_time
        return (
            f'{{"attributes": {_attributes_json(self.attributes)}, '
            f'"data": {_json_text(data)}, "data_encoding": {encoding}, '
            f'"message_id": {"null" if message_id is None else _SORTED_JSON(message_id)}, '
            f'"publish_time": {_json_text(rfc3339(publish_time)) if publish_time else "null"}}}'
        )

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> Message:
        """Rebuild a message from an archive envelope (the inverse of ``to_envelope``).

        Raises ``InvalidEnvelope`` naming the key at fault when the envelope cannot be unwrapped.
        """
        data, encoding = envelope.get("data"), envelope.get("data_encoding")
        if not isinstance(data, str):
            raise InvalidEnvelope(f"envelope 'data' must be a string, got {type(data).__name__}")
        if encoding == BASE64:
            try:
                raw = base64.b64decode(data, validate=True)
            except ValueError as exc:  # binascii.Error is a ValueError
                raise InvalidEnvelope(f"envelope 'data' is not valid base64 ({exc})") from None
        elif encoding in (UTF8, None):
            try:
                raw = data.encode(UTF8)
            except UnicodeEncodeError:
                raise InvalidEnvelope("envelope 'data' holds a lone surrogate: not UTF-8 text") from None
        else:
            shown = str(encoding)[:40]
            raise InvalidEnvelope(f"envelope 'data_encoding' must be utf-8 or base64, got {shown!r}")
        attributes = envelope.get("attributes")
        if attributes is None:
            attributes = {}
        if not isinstance(attributes, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and utf8.encodable(k) and utf8.encodable(v)
            for k, v in attributes.items()
        ):
            raise InvalidEnvelope("envelope 'attributes' must be an object of string values")
        message_id = envelope.get("message_id")
        if message_id is not None and not (isinstance(message_id, str) and utf8.encodable(message_id)):
            raise InvalidEnvelope("envelope 'message_id' must be a string or null")
        publish_time = envelope.get("publish_time")
        if publish_time is None:
            published = None
        else:
            try:
                published = parse_rfc3339_utc(publish_time)
            except (TypeError, ValueError, OverflowError, AttributeError):
                raise InvalidEnvelope(
                    f"envelope 'publish_time' must be an RFC 3339 time, got {str(publish_time)[:40]!r}"
                ) from None
        return cls(data=raw, attributes=dict(attributes), message_id=message_id, publish_time=published)


def _attributes_json(attributes: Any) -> str:
    """``json.dumps(dict(attributes), sort_keys=True)``; string items written directly."""
    if type(attributes) is not dict:
        attributes = dict(attributes)
    items = sorted(attributes.items()) if len(attributes) > 1 else attributes.items()
    if all(type(k) is str and type(v) is str for k, v in items):
        return "{" + ", ".join(f"{_json_text(k)}: {_json_text(v)}" for k, v in items) + "}"
    return _SORTED_JSON(attributes)


class InvalidEnvelope(ValueError):
    """A line shaped like an archive envelope that cannot be unwrapped."""


def envelope_of(line: bytes, max_bytes: int) -> dict[str, Any] | None:
    """The envelope dict when ``line`` is shaped like an archive envelope, else None.

    Envelope-shaped: a JSON object with ``data`` and ``data_encoding``, no key outside the
    envelope's five and no ``event_type``; plain events never have that shape. Lines over
    ``max_bytes`` or nested deeper than an envelope is are never envelopes: they stay data,
    for the parse stage to judge.
    """
    if not line.startswith(b"{") or b'"data_encoding"' not in line or len(line) > max_bytes:
        return None
    try:
        text = line.decode(UTF8)
    except UnicodeDecodeError:
        return None
    if nesting_depth_exceeds(text, ENVELOPE_DEPTH):
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if isinstance(obj, dict) and {"data", "data_encoding"} <= set(obj) <= ENVELOPE_KEYS:
        return obj
    return None


@dataclass(slots=True)
class Failure:
    """A message that was rejected, at which stage, and why; ``event_time`` is the event's own
    time when it could be read (``transforms.validation.readable_event_time``), else None."""

    message: Message
    stream: str
    stage: str
    code: str
    reason: str
    event_id: str | None = None
    event_time: datetime | None = None


# What ``realtime_event_metrics`` counts per stream: the column naming an event's type.
EVENT_TYPE_FIELD = {"orders": "status", "inventory": "reason", "user_activity": "activity_type"}


@dataclass(slots=True)
class ValidEvent:
    """A message that passed validation, with its normalised event (Python types) and its row."""

    message: Message
    stream: str
    event_id: str
    event_time: datetime
    event: dict[str, Any]
    row: dict[str, Any] | None = None  # the raw-table row, JSON-ready (``transforms.rows.event_row``)

    @property
    def event_micros(self) -> int:
        """The event time, microseconds since the epoch (as :class:`EventCopy` holds it)."""
        return epoch_micros(self.event_time)

    @property
    def metric_type(self) -> Any:
        """The value of the stream's ``EVENT_TYPE_FIELD``: what the metric windows count."""
        return self.event[EVENT_TYPE_FIELD[self.stream]]


@dataclass(slots=True)
class EventCopy:
    """A valid event as the stages after validation need it: its message (archive, dead letters,
    which copy de-duplication keeps), its row, and what the metric windows count.

    Smaller than a ``ValidEvent`` (no normalised event), with a coder of its own
    (``transforms.dedup.EventCopyCoder``), so the de-duplication shuffle carries it cheaply.
    """

    message: Message
    stream: str
    event_id: str
    event_micros: int  # the event time, microseconds since the epoch (UTC)
    metric_type: Any  # the value of the stream's ``EVENT_TYPE_FIELD``
    row: dict[str, Any] | None = None

    @classmethod
    def of(cls, event: ValidEvent) -> EventCopy:
        """The copy of a validated event."""
        return cls(
            event.message,
            event.stream,
            event.event_id,
            event.event_micros,
            event.metric_type,
            event.row,
        )

    @property
    def event_time(self) -> datetime:
        return from_epoch_micros(self.event_micros)
