"""``make stream`` (``python -m localdev.stream``) end to end on the real emulators, as a command.

Each test runs the command in a session of its own (as a terminal's foreground job), watches
the processes it starts, and checks what it leaves behind: exit code 0, a
``stream-summary.json`` in the shape of ``run-summary.json`` that reconciles with nothing lost,
counts equal to what BigQuery held and to what the generated feed must give, and no process
left running. One stops after ``--duration``; the other is stopped by SIGINT sent to its
process group, as Ctrl-C in a terminal does, and must drain all the same.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from localdev.stream import Feed
from localdev.streaming import process_tree
from pipeline.reconciliation import is_balanced, reconcile
from schemas import STREAMS
from warehouse.runner import model_names

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RATE = 10
SEED = 5
# The shape of run-summary.json (SPEC section 8): the reconciliation plus the models' rows.
RUN_SUMMARY_KEYS = [*reconcile({}), "models"]


def _started_at(pid: int) -> str | None:
    """The start time of ``pid`` (field 22 of /proc/pid/stat), None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


class StreamCommand:
    """``python -m localdev.stream`` as a child in its own session, its descendants recorded."""

    def __init__(self, local: Path, *options: str) -> None:
        self.local = local
        self.stderr_path = local / "stream.stderr"
        self.stdout_path = local / "stream.stdout"
        local.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "localdev.stream", "--local", str(local), "--seed", str(SEED)]
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [*command, "--rate", str(RATE), *options],
                cwd=ROOT,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.seen: dict[int, str] = {}  # every descendant seen: pid -> start time

    def watch(self) -> None:
        for pid in process_tree(self.process.pid)[1:]:
            started = _started_at(pid)
            if started:
                self.seen.setdefault(pid, started)

    def wait_for(self, text: str, timeout_s: float) -> None:
        """Until ``text`` is on stderr (recording descendants meanwhile)."""
        deadline = time.monotonic() + timeout_s
        while text not in self.stderr_path.read_text(errors="replace"):
            assert self.process.poll() is None, f"exited early:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout_s:.0f}s:\n{self.output()}"
            self.watch()
            time.sleep(0.5)

    def finish(self, timeout_s: float) -> int:
        """Wait for the exit (recording descendants meanwhile); kills its group if it hangs."""
        deadline = time.monotonic() + timeout_s
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
                raise AssertionError(f"still running after {timeout_s:.0f}s:\n{self.output()}")
            self.watch()
            time.sleep(0.5)
        return self.process.returncode

    def still_running(self) -> list[int]:
        """The descendants seen that still run (the same process: same pid and start time)."""
        return sorted(pid for pid, started in self.seen.items() if _started_at(pid) == started)

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")

    def summary(self) -> dict[str, Any]:
        return json.loads((self.local / "stream-summary.json").read_text())


def generated_outcome(published: int) -> dict[str, Any]:
    """What the pipeline must make of the first ``published`` messages of the feed."""
    feed = Feed(SEED)
    for key, _ in itertools.islice(feed.messages(), published):
        feed.published(key, 0.0)
    return feed.expected.summary()


def check_drained_and_reconciled(command: StreamCommand, code: int) -> dict[str, Any]:
    """What both tests require of a finished command; returns the summary."""
    assert code == 0, command.output()
    summary = command.summary()
    stream = summary["stream"]
    assert list(summary) == [*RUN_SUMMARY_KEYS, "stream"]
    assert list(summary["loaded"]) == list(STREAMS)
    assert all(isinstance(n, int) for n in [*summary["loaded"].values(), *summary["rejected"].values()])
    assert list(summary["models"]) == model_names()

    assert is_balanced(summary), summary
    assert stream["published"] > 0
    assert stream["published"] == stream["read"] == summary["messages_in"] == stream["archived"]
    assert stream["lost"] == 0 and stream["balanced"] and stream["checks"]["drained"]
    assert stream["bigquery"]["loaded"] == summary["loaded"]
    assert stream["bigquery"]["dead_letters"] == summary["rejected"]
    truth = generated_outcome(stream["published"])
    assert {k: summary[k] for k in ("loaded", "rejected", "duplicates")} == {
        k: truth[k] for k in ("loaded", "rejected", "duplicates")
    }
    assert summary["rejected"] and summary["duplicates"] > 0, "a feed with defects and re-sends"
    assert all(stream["checks"].values()), stream["checks"]

    reported = set(stream["pids"].values()) | set(stream["processes_stopped"])
    assert set(stream["pids"]) == {"pipeline", "pubsub", "bigquery", "storage"}
    assert reported <= set(command.seen), (reported, command.seen)
    assert not command.still_running(), f"left running: {command.still_running()}"
    assert f"stopped   pipeline pid {stream['pids']['pipeline']}" in command.output()
    return summary


def test_stream_for_a_duration_drains_reconciles_and_stops_everything(tmp_path):
    command = StreamCommand(tmp_path / "local", "--duration", "20")

    summary = check_drained_and_reconciled(command, command.finish(timeout_s=240))

    stream = summary["stream"]
    assert stream["stopped_by"] == "duration"
    assert abs(stream["published"] - 20 * RATE) <= RATE
    assert sum(summary["models"].values()) > 0


def test_ctrl_c_stops_the_feed_then_drains_reconciles_and_stops_everything(tmp_path):
    command = StreamCommand(tmp_path / "local")
    command.wait_for("publishing to topic", timeout_s=180)
    time.sleep(15)  # the feed's first re-send is its 86th message
    os.killpg(command.process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does

    summary = check_drained_and_reconciled(command, command.finish(timeout_s=240))

    assert summary["stream"]["stopped_by"] == "interrupt"
    assert "SIGINT: stopping the feed and draining" in command.output()
