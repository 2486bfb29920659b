"""How producers write events: compact JSON, money as text or numbers, mixed timestamp styles."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from schemas import EVENT_TYPE_BY_STREAM
from transforms.times import EPOCH

OMIT_EVENT_ID_RATE = 1 / 3
EXTRA_FIELD_RATE = 0.01
# Zone offsets producers write their local times in; +00:00 is written as such, unlike "Z".
OFFSETS = tuple(
    timedelta(hours=h, minutes=m) for h, m in ((0, 0), (1, 0), (2, 0), (-5, 0), (-8, 0), (5, 30), (9, 0))
)


def to_json(value: object) -> str:
    """Compact JSON, UTF-8 text as is; a Decimal becomes a JSON number written exactly."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{to_json(str(k))}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return format(value, "f")
    return json.dumps(value, ensure_ascii=False)


def encode(payload: dict) -> bytes:
    return to_json(payload).encode()


def producer_rfc3339(when: datetime, offset: timedelta | None = None) -> str:
    """``when`` as a producer writes it: RFC 3339 to the millisecond in its zone ``offset``
    (``+05:30``, ``+00:00``), or in UTC with "Z" when ``offset`` is None.

    Not ``transforms.times.rfc3339``, which is UTC-only with microsecond precision (what
    BigQuery returns): producers write milliseconds, so ``.123Z`` rather than ``.123000Z``.
    For whole seconds in UTC the two agree, and the defects use ``rfc3339``.
    """
    local = when.astimezone(timezone(offset or timedelta()))
    text = local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")
    return text.replace("+00:00", "Z") if offset is None else text


def epoch_millis(when: datetime) -> int:
    return (when - EPOCH) // timedelta(milliseconds=1)


class Renderer:
    """Turns field values into a payload the way varied producers would write it."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def payload(self, stream: str, fields: dict) -> dict:
        """The event object: event_type, usually an event_id, the fields, rarely an extra field."""
        payload: dict = {"event_type": EVENT_TYPE_BY_STREAM[stream]}
        if self.rng.random() >= OMIT_EVENT_ID_RATE:
            payload["event_id"] = self.uuid()
        money_as_text = self.rng.random() < 0.5
        payload.update({key: self._value(value, money_as_text) for key, value in fields.items()})
        if self.rng.random() < EXTRA_FIELD_RATE:
            payload["client_version"] = f"{self.rng.randint(3, 6)}.{self.rng.randint(0, 12)}.0"
        return payload

    def timestamp(self, when: datetime) -> str | int:
        """RFC 3339 with "Z" or another offset, or epoch milliseconds."""
        style = self.rng.random()
        if style < 0.15:
            return epoch_millis(when)
        if style < 0.55:
            return producer_rfc3339(when)
        return producer_rfc3339(when, self.rng.choice(OFFSETS))

    def _value(self, value: object, money_as_text: bool) -> object:
        if isinstance(value, datetime):
            return self.timestamp(value)
        if isinstance(value, Decimal):
            return f"{value:.2f}" if money_as_text else value
        if isinstance(value, dict):
            return {key: self._value(item, money_as_text) for key, item in value.items()}
        if isinstance(value, list):
            return [self._value(item, money_as_text) for item in value]
        return value
