"""Time constants and the one RFC 3339 formatter every row, export and message uses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def epoch_micros(moment: datetime) -> int:
    """An aware time as whole microseconds since the epoch (floored, as Beam's timestamps are)."""
    return (moment - EPOCH) // _MICROSECOND


def from_epoch_micros(micros: int) -> datetime:
    """The UTC time ``micros`` microseconds after the epoch (the inverse of ``epoch_micros``)."""
    return EPOCH + timedelta(microseconds=micros)


def rfc3339(moment: datetime) -> str:
    """UTC RFC 3339 with 'Z', microsecond precision when needed (what BigQuery returns)."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_rfc3339_utc(text: str) -> datetime:
    """RFC 3339 with a zone -> aware UTC datetime (Python 3.10's fromisoformat does not take 'Z').

    Raises ``ValueError`` for anything else, a time without a zone included.
    """
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no zone offset")
    return moment.astimezone(timezone.utc)


def utc_now() -> datetime:
    """The processing time; DoFns take a ``clock`` defaulting to this so tests can pin "now"."""
    return datetime.now(timezone.utc)
