"""What a sample is: the config that shapes it, its messages and the manifest describing them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from transforms.errors import INVALID_ENVELOPE, MISSING_FIELD

# The attribute every published message carries (source=...), and the envelope lookalikes too.
SOURCE = "eventharbor-generate"


def default_start() -> date:
    """Seven days before today (UTC), so the default sample ends yesterday."""
    return datetime.now(timezone.utc).date() - timedelta(days=7)


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that shapes a sample; equal configs give byte-identical samples."""

    seed: int = 42
    start: date = field(default_factory=default_start)
    days: int = 7
    customers: int = 60
    products: int = 25
    warehouses: int = 3
    orders_per_day: int = 40
    sessions_per_day: int = 40
    bad_fraction: float = 0.03
    duplicate_fraction: float = 0.02
    late_fraction: float = 0.02
    max_oversized: int = 1

    @property
    def begin(self) -> datetime:
        return datetime.combine(self.start, time(), timezone.utc)

    @property
    def end(self) -> datetime:
        """First instant after the range; no event time reaches it."""
        return self.begin + timedelta(days=self.days)


@dataclass(frozen=True)
class SampleMessage:
    """One generated line of output / Pub/Sub message, with the truth about it.

    Not the pipeline's ``transforms.messages.Message`` (a message as received, with its
    Pub/Sub metadata): this one records what the pipeline must make of the data.
    """

    data: bytes
    arrival: datetime
    stream: str | None  # the stream the pipeline attributes it to; None when it cannot tell ("unknown")
    error_code: str | None = None  # the dead-letter code it must get as a file line; None when valid
    duplicate: bool = False
    late: bool = False

    @property
    def pubsub_error_code(self) -> str | None:
        """The code the same bytes get as Pub/Sub message data.

        Only a file line can be an archive envelope: published, an envelope lookalike is a plain
        JSON object without ``event_type``, so ``missing_field`` instead of ``invalid_envelope``.
        """
        return MISSING_FIELD if self.error_code == INVALID_ENVELOPE else self.error_code


@dataclass(frozen=True)
class Sample:
    """The generated messages in arrival order, and the manifest describing them."""

    messages: list[SampleMessage]
    manifest: dict

    def lines(self) -> list[bytes]:
        return [m.data for m in self.messages]

    def by_day(self) -> dict[date, list[bytes]]:
        """Message data grouped by arrival day (UTC), each day in arrival order."""
        days: dict[date, list[bytes]] = {}
        for message in self.messages:
            days.setdefault(message.arrival.date(), []).append(message.data)
        return days
