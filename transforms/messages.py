"""The unit that flows through the pipeline: a message as received, and what became of it."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from transforms.times import parse_rfc3339_utc, rfc3339

UTF8 = "utf-8"
BASE64 = "base64"
ENVELOPE_KEYS = frozenset({"data", "data_encoding", "attributes", "message_id", "publish_time"})


@dataclass(frozen=True)
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

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> Message:
        """Rebuild a message from an archive envelope (the inverse of ``to_envelope``)."""
        if envelope.get("data_encoding") == BASE64:
            data = base64.b64decode(envelope["data"])
        else:
            data = envelope["data"].encode(UTF8)
        publish_time = envelope.get("publish_time")
        return cls(
            data=data,
            attributes=dict(envelope.get("attributes") or {}),
            message_id=envelope.get("message_id"),
            publish_time=parse_rfc3339_utc(publish_time) if publish_time else None,
        )


def is_envelope(line: bytes) -> dict[str, Any] | None:
    """The envelope dict when ``line`` is an archive envelope, else None.

    An envelope is a JSON object with exactly the envelope keys and no
    ``event_type``; plain events never have that shape.
    """
    if not line.startswith(b"{") or b'"data_encoding"' not in line:
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if isinstance(obj, dict) and set(obj) == ENVELOPE_KEYS and isinstance(obj.get("data"), str):
        return obj
    return None


@dataclass(frozen=True)
class Failure:
    """A message that was rejected, at which stage, and why."""

    message: Message
    stream: str
    stage: str
    code: str
    reason: str
    event_id: str | None = None


@dataclass(frozen=True)
class ValidEvent:
    """A message that passed validation, with its normalised event (Python types)."""

    message: Message
    stream: str
    event_id: str
    event_time: datetime
    event: dict[str, Any]
