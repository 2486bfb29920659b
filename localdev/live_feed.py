"""``make stream``'s feed: an endless live feed of generated events, one simulated day of the
shop (``localdev.generator``) at a time, each event re-timed to about when it is sent, a late
share held back and sent 30 s to 3 min after its event time. Used by the command
(``localdev/live_stream.py``); the harness it runs on is ``localdev/streaming/``.
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from localdev.generator import GeneratorConfig, SampleMessage, generate
from localdev.generator.render import encode, epoch_millis, producer_rfc3339
from localdev.streaming.publishing import Outcomes

RATE = 30.0  # messages/s
# The generator numbers orders, stock movements, customers and products from 1 in every sample;
# each simulated day gets its own, so no two days share an order or a customer.
SEQUENTIAL_IDS = (b'"ord-', b'"inv-', b'"cust-', b'"prod-')
# A live shop: a valid event is published this long after its own time, ...
ON_TIME_DELAY = timedelta(seconds=2)
# ... or, for a late share of them, this many seconds after: past the end of some or all of its
# windows, well inside the pipeline's 600 s of allowed lateness, so it updates them (late panes).
LATE_S = (30, 180)
EVENT_TIME_FIELD = {"orders": "order_date", "inventory": "timestamp", "user_activity": "timestamp"}


def fresh_ids(data: bytes, day: int) -> bytes:
    """``data`` with the generator's sequential ids made unique to simulated ``day``
    (``ord-000001`` -> ``ord-0003-000001``); a re-send stays byte-identical to its original."""
    for prefix in SEQUENTIAL_IDS:
        data = data.replace(prefix, prefix + b"%04d-" % day)
    return data


def retimed(data: bytes, stream: str, moment: datetime) -> bytes:
    """A valid generated event with its own time (``order_date`` / ``timestamp``) set to
    ``moment``, written as the generator's producers write times: epoch milliseconds, or RFC 3339
    to the millisecond in the same zone offset ("Z" stays "Z"). Every other byte stays: the
    generator writes compact JSON with exact numbers (``to_json``), which parsing with Decimal
    and writing again gives back."""
    event = json.loads(data, parse_float=Decimal)
    field_name = EVENT_TIME_FIELD[stream]
    written = event[field_name]
    if isinstance(written, int):
        event[field_name] = epoch_millis(moment)
    else:
        offset = None if written.endswith("Z") else datetime.fromisoformat(written).utcoffset()
        event[field_name] = producer_rfc3339(moment, offset)
    return encode(event)


@dataclass
class EventClock:
    """Event times for a live feed: now less :data:`ON_TIME_DELAY`, in whole milliseconds (as
    they are written), each one after the one before (even if the wall clock steps back). Two
    events without an event_id that differ only in their time must not become one: the pipeline
    derives a missing event_id from the payload."""

    last: datetime = datetime.min.replace(tzinfo=timezone.utc)

    def next(self) -> datetime:
        now = datetime.now(timezone.utc) - ON_TIME_DELAY
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self.last = max(now, self.last + timedelta(milliseconds=1))
        return self.last


@dataclass
class Feed:
    """An endless live feed, one simulated day (a sample of ``localdev.generator``) at a time,
    and the tally of what the pipeline must make of the messages published so far.

    Day ``n`` has seed ``seed + n`` (fresh event_ids) and ids of its own (:func:`fresh_ids`).
    Each valid event gets about the time it is sent (:class:`EventClock`, :func:`retimed`), in
    the day's order; a re-send is byte-identical to its re-timed original; a malformed message is
    sent as generated, so it keeps its error code.

    A one-day sample has no late arrivals (the generator's arrive on a later day), so the feed
    makes its own: ``late_fraction`` of the valid messages that have no re-send, drawn from the
    day's seed, keep the time of their place in the day but are sent :data:`LATE_S` later,
    counted in messages at ``rate``. So what is sent, and in which order, does not depend on the
    wall clock: the same seed and rate always give the same messages. Memory is one simulated
    day and the late messages held, however long the feed runs.
    """

    seed: int
    rate: float = RATE
    days: int = 0
    expected: Outcomes = field(default_factory=Outcomes)
    clock: EventClock = field(default_factory=EventClock)
    # Handed to the publisher and not yet counted as published, by key.
    in_flight: dict[str, SampleMessage] = field(default_factory=dict)

    def config(self, number: int) -> GeneratorConfig:
        """Simulated day ``number``: the UTC day before the moment it is generated."""
        yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
        return GeneratorConfig(
            seed=self.seed + number, start=yesterday, days=1, max_oversized=1 if number == 0 else 0
        )

    def messages(self) -> Iterator[tuple[str, bytes]]:
        """(key, data) for :meth:`SteadyPublisher.publish`, day after day, for ever."""
        held: list[tuple[int, str, SampleMessage, bytes]] = []  # (send as message number, ...)
        sent = 0
        for key, message, data, late_by in self._live():
            if late_by:
                heapq.heappush(held, (sent + late_by, key, message, data))
                continue
            while held and held[0][0] <= sent:
                _, late_key, late_message, late_data = heapq.heappop(held)
                self.in_flight[late_key] = late_message
                yield late_key, late_data
                sent += 1
            self.in_flight[key] = message
            yield key, data
            sent += 1

    def _live(self) -> Iterator[tuple[str, SampleMessage, bytes, int]]:
        """Each day's messages in arrival order, re-timed as they come: (key, message, data to
        send, 0 or how many messages later a late one is to be sent)."""
        while True:
            number = self.days
            self.days += 1
            config = self.config(number)
            day = [replace(m, data=fresh_ids(m.data, number)) for m in generate(config).messages]
            resent = {m.data for m in day if m.duplicate}
            lone = [
                i for i, m in enumerate(day) if not (m.duplicate or m.pubsub_error_code or m.data in resent)
            ]
            rng = random.Random(f"{config.seed}:live-late")
            late = {
                i: round(rng.uniform(*LATE_S) * self.rate)
                for i in rng.sample(lone, round(config.late_fraction * len(lone)))
            }
            live: dict[bytes, bytes] = {}  # a valid message as generated -> as sent
            for i, message in enumerate(day):
                if message.duplicate:
                    data = live[message.data]
                elif message.pubsub_error_code:
                    data = message.data
                else:
                    data = retimed(message.data, message.stream, self.clock.next())
                    if message.data in resent:
                        live[message.data] = data
                yield f"{number}:{i}", message, data, late.get(i, 0)

    def published(self, key: str, _at: float) -> None:
        """``on_each`` of :meth:`SteadyPublisher.publish`: count the message as sent."""
        self.expected.add(self.in_flight.pop(key))
