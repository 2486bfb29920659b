"""A local command run as from a terminal, every process it starts recorded: for the tests that
check what a command leaves running once it has stopped (``make stream``, the no-orphans tests)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from localdev.streaming.processes import process_tree


def started_at(pid: int) -> str | None:
    """The start time of ``pid`` (field 22 of /proc/pid/stat), None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


class WatchedCommand:
    """``python -m <args>`` in ``cwd``, as a child in a session of its own, its output in
    ``<out_stem>.stdout`` and ``<out_stem>.stderr``; :meth:`watch` records its descendants."""

    def __init__(
        self,
        out_stem: Path,
        args: Sequence[str],
        cwd: Path,
        env: Mapping[str, str] | None = None,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self.stdout_path = out_stem.with_name(f"{out_stem.name}.stdout")
        self.stderr_path = out_stem.with_name(f"{out_stem.name}.stderr")
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", *args],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=preexec_fn,
            )
        self.seen: dict[int, str] = {}  # every descendant seen: pid -> start time

    def watch(self) -> None:
        """Record the descendants running now."""
        for pid in process_tree(self.process.pid)[1:]:
            started = started_at(pid)
            if started:
                self.seen.setdefault(pid, started)

    def wait_for(self, text: str, timeout_s: float = 240) -> None:
        """Until ``text`` is in its output (recording descendants meanwhile)."""
        deadline = time.monotonic() + timeout_s
        while text not in self.output():
            assert self.process.poll() is None, f"exited early:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout_s:.0f}s:\n{self.output()}"
            self.watch()
            time.sleep(0.5)
        self.watch()

    def still_running(self) -> list[int]:
        """The descendants seen that still run (the same process: same pid and start time)."""
        return sorted(pid for pid, started in self.seen.items() if started_at(pid) == started)

    def output(self) -> str:
        """Its stdout then its stderr, so far."""
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")
