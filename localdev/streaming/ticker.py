"""A background thread that does one thing every few seconds until stopped (snapshots, polls)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Ticker:
    """Calls ``tick`` every ``every_s`` seconds on a daemon thread named ``name``, from
    :meth:`start` until :meth:`stop`."""

    tick: Callable[[], None]
    every_s: float
    name: str
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Ticker:
        def loop() -> None:
            while not self._stop.wait(self.every_s):
                self.tick()

        self._thread = threading.Thread(target=loop, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop ticking; waits up to 30 s for a tick under way."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
