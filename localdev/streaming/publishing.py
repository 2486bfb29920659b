"""What ``make stream`` and ``make soak`` publish with, and what they expect of it:
:class:`SteadyPublisher` publishes to one topic at a steady rate, :class:`Outcomes` tallies what
the pipeline must make of generated messages (``localdev.generator``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from schemas import STREAMS

if TYPE_CHECKING:
    from localdev.generator import SampleMessage


@dataclass
class SteadyPublisher:
    """Publish to one topic at a steady rate (holding nothing per message: feeds may be endless)."""

    project: str
    topic: str
    rate_per_s: float
    attributes: dict[str, str] = field(default_factory=lambda: {"source": "eventharbor-streaming"})
    _client: Any = None

    def client(self):
        if self._client is None:
            from google.cloud import pubsub_v1

            self._client = pubsub_v1.PublisherClient()
        return self._client

    def publish(
        self,
        messages: Iterable[tuple[str, bytes]],
        on_each: Callable[[str, float], None] | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """Publish (key, data) pairs, the i-th at start + i / rate; waits for every future.

        ``on_each(key, published_at)`` is called after each publish call. Returns the count.
        """
        client = self.client()
        path = client.topic_path(self.project, self.topic)
        started = time.monotonic()
        futures, count = [], 0
        for key, data in messages:
            if stop is not None and stop.is_set():
                break
            delay = started + count / self.rate_per_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(client.publish(path, data, **self.attributes))
            count += 1
            if on_each:
                on_each(key, time.time())
            if len(futures) >= 1000:
                for future in futures:
                    future.result(timeout=120)
                futures.clear()
        for future in futures:
            future.result(timeout=120)
        return count


@dataclass
class Outcomes:
    """What the pipeline must make of generated messages published as Pub/Sub data, tallied one
    message at a time: a re-send is a duplicate, a defect is rejected with its Pub/Sub code,
    anything else is loaded into its stream's table."""

    messages: int = 0
    loaded: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STREAMS, 0))
    rejected: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0

    def add(self, message: SampleMessage) -> None:
        self.messages += 1
        if message.duplicate:
            self.duplicates += 1
        elif message.pubsub_error_code:
            code = message.pubsub_error_code
            self.rejected[code] = self.rejected.get(code, 0) + 1
        else:
            stream = message.stream or "unknown"
            self.loaded[stream] = self.loaded.get(stream, 0) + 1

    def summary(self) -> dict[str, Any]:
        """``{"messages", "loaded", "rejected", "duplicates"}``, codes sorted."""
        return {
            "messages": self.messages,
            "loaded": dict(self.loaded),
            "rejected": dict(sorted(self.rejected.items())),
            "duplicates": self.duplicates,
        }
