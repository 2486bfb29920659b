"""The streaming pipeline as a child process of the harness, and waiting for it to drain.

- :func:`pipeline_argv`: the ``pipeline.main`` options of a local streaming run.
- :class:`StreamingPipeline` runs :mod:`localdev.streaming.child` (the pipeline of
  ``pipeline.main`` on the adapted DirectRunner in streaming mode, which every
  ``status_every_s`` writes its Beam counters to a status file). It is started, stopped
  (SIGTERM, then SIGKILL) or killed by its pid, and can be started again on the same
  subscription.
- :func:`drain` waits until it has read, written and archived everything published
  (:func:`accounted`) and its counters are quiet.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localdev.stack import last_line
from localdev.streaming import child
from localdev.streaming.direct_runner import RunnerAdaptation
from localdev.streaming.processes import process_tree, rss_kib
from pipeline.commands import CommandError
from pipeline.reconciliation import is_balanced


def pipeline_argv(
    subscriptions: Sequence[str],
    project: str,
    dataset: str,
    bigquery_endpoint: str,
    archive_root: str | None = None,
    extra: Sequence[str] = (),
    storage_endpoint: str | None = None,
) -> list[str]:
    """``pipeline.main`` options for a local streaming run; ``storage_endpoint``: the emulator's
    gRPC ``host:port``, which the default write method (the Storage Write API) needs."""
    argv = [
        "--source=pubsub",
        "--streaming",
        f"--subscriptions={','.join(subscriptions)}",
        f"--project={project}",
        f"--dataset={dataset}",
        f"--bigquery_endpoint={bigquery_endpoint}",
    ]
    if archive_root:
        argv.append(f"--archive_root={archive_root}")
    if storage_endpoint:
        argv.append(f"--bigquery_storage_endpoint={storage_endpoint}")
    return argv + list(extra)


@dataclass
class StreamingPipeline:
    """The streaming pipeline in a child process, started, stopped and killed by its pid.

    Each start gets its own log (``workdir/pipeline-N.log``) and status file
    (``workdir/status-N.json``: ``{"state", "summary", "counters", "updated"}``).
    """

    argv: list[str]
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    adaptation: RunnerAdaptation = field(default_factory=lambda: RunnerAdaptation())
    status_every_s: float = child.STATUS_EVERY_S
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"pipeline-{self.starts}.log"

    @property
    def status_path(self) -> Path:
        return self.workdir / f"status-{self.starts}.json"

    def start(self) -> StreamingPipeline:
        if self.running():
            raise RuntimeError(f"the pipeline is already running (pid {self.pid})")
        self.starts += 1
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.status_path.unlink(missing_ok=True)  # a previous run's file in the same workdir
        command = [
            sys.executable,
            "-m",
            child.__name__,
            "--status",
            str(self.status_path),
            "--every",
            str(self.status_every_s),
            *self.adaptation.arguments(),
            "--",
            *self.argv,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                start_new_session=True,
            )
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check(self) -> None:
        """Raise CommandError (naming the log, with its last line) if the child has exited."""
        if self.process is not None and self.process.poll() is not None:
            raise CommandError(
                f"the streaming pipeline (pid {self.process.pid}) exited with code "
                f"{self.process.returncode}; see {self.log_path}: {last_line(self.log_path)}"
            )

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM (the child writes its final counters and exits), then SIGKILL after ``timeout_s``."""
        if not self.running():
            return
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL to the child's process group (it leads a session of its own): a crash.
        Nothing is flushed, nothing is drained."""
        if not self.running():
            return
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def status(self) -> dict[str, Any] | None:
        """The child's latest status file (this start's), or None before the first one."""
        try:
            return json.loads(self.status_path.read_text())
        except (OSError, ValueError):
            return None

    def wait_started(self, timeout_s: float = 300.0, every_s: float = 0.5) -> dict[str, Any]:
        """Wait for the first status: the child has built the graph and started reading.

        Raises CommandError (naming the log) if the child exits or ``timeout_s`` passes first.
        """
        deadline = time.monotonic() + timeout_s
        while (status := self.status()) is None:
            self.check()
            if time.monotonic() > deadline:
                raise CommandError(
                    f"the streaming pipeline (pid {self.pid}) wrote no status in {timeout_s:.0f} s; "
                    f"see {self.log_path}: {last_line(self.log_path)}"
                )
            time.sleep(every_s)
        return status

    def rss_mib(self) -> float:
        """Resident memory of the child process (and any children of it), MiB."""
        if not self.running():
            return 0.0
        assert self.process is not None
        return sum(rss_kib(pid) for pid in process_tree(self.process.pid)) / 1024


def accounted(status: dict[str, Any], published: int) -> bool:
    """Whether a status shows ``published`` messages read, each one loaded, rejected or counted
    as a duplicate (balanced), and every one archived."""
    summary = status.get("summary")
    if not summary:
        return False
    archived = (status.get("counters") or {}).get("archived_messages", 0)
    read = summary["messages_in"]
    return read >= published and is_balanced(summary) and archived >= read


@dataclass(frozen=True)
class Drain:
    """How :func:`drain` ended: the last status, whether everything was accounted for, when."""

    status: dict[str, Any]
    drained: bool
    seconds: float


def drain(
    pipeline: StreamingPipeline,
    published: int,
    quiet_s: float = 6.0,
    stalled_s: float = 60.0,
    timeout_s: float = 180.0,
    every_s: float = 1.0,
    on_status: Callable[[dict[str, Any]], None] | None = None,
) -> Drain:
    """Wait until the pipeline has accounted for ``published`` messages (:func:`accounted`) and
    its counts have not changed for ``quiet_s`` (the last rows and archive files are written).

    Gives up when nothing has changed for ``stalled_s`` (the rest is lost) or after
    ``timeout_s``. ``on_status`` sees each status polled (every ``every_s``).
    """
    started = time.monotonic()
    last: tuple[Any, Any] | None = None
    changed_at = started
    while True:
        pipeline.check()
        status = pipeline.status() or {}
        if on_status:
            on_status(status)
        now = time.monotonic()
        counts = (status.get("summary"), (status.get("counters") or {}).get("archived_messages"))
        if counts != last:
            last, changed_at = counts, now
        if accounted(status, published) and now - changed_at >= quiet_s:
            return Drain(status, True, now - started)
        if now - changed_at >= stalled_s or now - started >= timeout_s:
            return Drain(status, False, now - started)
        time.sleep(every_s)
