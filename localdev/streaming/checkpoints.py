"""Restarting a killed pipeline from a point where nothing it had read was still in flight:
:class:`Checkpoints` (Pub/Sub snapshots of its subscription), and :func:`create_subscription`
(one that retains acknowledged messages, so a seek can bring them back).

Why checkpoints: on the DirectRunner, ``ReadFromPubSub`` acknowledges messages as soon as it
pulls them (Beam's own note in ``_PubSubReadEvaluator``: "Because of the AutoAck, we are not
able to reread messages"), while they are still on their way to BigQuery and the archive.
Dataflow acknowledges only after its checkpoint, so it loses nothing in a crash; a killed
DirectRunner pipeline would lose what was in flight. Restarting from a snapshot taken at
least the pipeline's in-flight time before the kill redelivers those messages; what was
already written is written again (BigQuery's insertId de-duplication is best effort, the
models count each event once).
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from localdev.streaming.ticker import Ticker


@dataclass
class Checkpoints:
    """Pub/Sub snapshots of a subscription taken every ``every_s`` in a background thread.

    The subscription must retain acknowledged messages (``retain_acked_messages``), so a seek
    can bring them back. :meth:`rewind` seeks to the newest snapshot at least ``in_flight_s``
    older than now: every message the (killed) pipeline had pulled before that snapshot had
    reached BigQuery and the archive, and every later one is delivered again.
    """

    subscription: str
    in_flight_s: float
    every_s: float = 5.0
    taken: list[tuple[float, str]] = field(default_factory=list)
    _ticker: Ticker | None = None
    _client: Any = None

    def client(self):
        if self._client is None:
            from google.cloud import pubsub_v1

            self._client = pubsub_v1.SubscriberClient()
        return self._client

    def snapshot(self) -> str:
        project = self.subscription.split("/")[1]
        name = self.client().snapshot_path(project, f"ckpt-{uuid.uuid4().hex[:12]}")
        self.client().create_snapshot(name=name, subscription=self.subscription)
        self.taken.append((time.time(), name))
        horizon = time.time() - self.in_flight_s - 4 * self.every_s
        while len(self.taken) > 2 and self.taken[1][0] < horizon:
            _, old = self.taken.pop(0)
            self.client().delete_snapshot(snapshot=old)
        return name

    def start(self) -> Checkpoints:
        self.snapshot()
        self._ticker = Ticker(self._snapshot_or_warn, self.every_s, "checkpoints").start()
        return self

    def stop(self) -> None:
        if self._ticker:
            self._ticker.stop()

    def _snapshot_or_warn(self) -> None:
        """One snapshot of the ticker's; a failure is logged, not raised."""
        try:
            self.snapshot()
        except Exception as exc:  # a missed snapshot only makes a rewind go further back
            logging.warning("snapshot of %s failed: %s", self.subscription, exc)

    def rewind(self, crashed_at: float | None = None) -> float:
        """Seek the subscription to the newest snapshot taken ``in_flight_s`` before
        ``crashed_at`` (default: now); returns the snapshot's time."""
        crashed_at = crashed_at or time.time()
        usable = [(at, name) for at, name in self.taken if at <= crashed_at - self.in_flight_s]
        if not usable:
            usable = self.taken[:1]
        at, name = usable[-1]
        self.client().seek(request={"subscription": self.subscription, "snapshot": name})
        return at


def create_subscription(
    project: str, topic: str, subscription: str, ack_deadline_s: int = 60, retain_acked: bool = True
) -> str:
    """Create ``topic`` (if new) and a subscription to it; returns the subscription path."""
    from google.api_core.exceptions import AlreadyExists
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    topic_path = publisher.topic_path(project, topic)
    with contextlib.suppress(AlreadyExists):
        publisher.create_topic(name=topic_path)
    with pubsub_v1.SubscriberClient() as subscriber:
        path = subscriber.subscription_path(project, subscription)
        subscriber.create_subscription(
            request={
                "name": path,
                "topic": topic_path,
                "ack_deadline_seconds": ack_deadline_s,
                "retain_acked_messages": retain_acked,
            }
        )
    return path
