"""No orphans: each local command that starts processes, stopped by a signal mid-run, exits within
a deadline and leaves none of the processes it started running (``localdev/interrupts.py``).

Each command runs as a child in a session of its own, as from a terminal; every descendant it
has while it runs is recorded (pid and start time, from /proc: the emulators and the streaming
pipeline run in sessions of their own, but are still its children). Once its children are up, it
gets SIGTERM (``kill``, ``timeout``), SIGHUP (the terminal closed) or SIGINT (``kill -INT``) at
its own pid only, then it must exit and no recorded process may still run.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import date
from pathlib import Path

import pytest

from localdev.generator import GeneratorConfig, generate, write_files
from localdev.streaming.processes import process_tree
from tests.watched_commands import WatchedCommand

ROOT = Path(__file__).resolve().parents[2]
STOPS_WITHIN_S = 60  # each stop by pid waits at most 15 s before SIGKILL; they run at once


def _as_from_a_terminal(sigint_ignored: bool) -> None:
    """In the child before exec: SIGHUP as a terminal leaves it (CI may run the suite under
    ``nohup``, and an ignored SIGHUP stays ignored), SIGINT ignored for a background job of a
    script (``make soak &``)."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    if sigint_ignored:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class Command(WatchedCommand):
    """``python -m <module> ...`` in ``cwd``, in its own session, its descendants recorded."""

    def __init__(self, cwd: Path, *args: str, sigint_ignored: bool = False) -> None:
        cwd.mkdir(parents=True, exist_ok=True)
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        super().__init__(
            cwd / "command",
            args,
            cwd,
            env={**os.environ, "PYTHONPATH": path},
            preexec_fn=lambda: _as_from_a_terminal(sigint_ignored),
        )

    def wait_for_descendants(self, count: int, timeout_s: float = 240) -> None:
        """Until ``count`` descendants have been seen running at once."""
        deadline = time.monotonic() + timeout_s
        while len(process_tree(self.process.pid)) <= count:
            assert self.process.poll() is None, f"exited early:\n{self.output()}"
            assert time.monotonic() < deadline, f"not {count} processes within {timeout_s:.0f}s"
            self.watch()
            time.sleep(0.5)
        self.watch()

    def stop_with(self, signum: signal.Signals) -> int:
        """Send ``signum`` to the command's pid; its exit code, once it has exited (within
        :data:`STOPS_WITHIN_S`, else its group and every process seen are killed, and it fails)."""
        os.kill(self.process.pid, signum)
        deadline = time.monotonic() + STOPS_WITHIN_S
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                os.killpg(self.process.pid, signal.SIGKILL)
                for pid in self.still_running():
                    os.kill(pid, signal.SIGKILL)
                self.process.wait()
                raise AssertionError(
                    f"still running {STOPS_WITHIN_S} s after {signum.name}:\n{self.output()}"
                )
            self.watch()
            time.sleep(0.2)
        return self.process.returncode


def check_stopped(command: Command, code: int, children: int) -> None:
    """At least ``children`` processes were started, and none of them is left."""
    assert len(command.seen) >= children, (command.seen, command.output())
    left = command.still_running()
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert not left, f"left running: {left}\n{command.output()}"
    assert "Traceback" not in command.output(), command.output()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_the_stack_stops_every_emulator_on_sigterm_and_sighup(tmp_path, signum):
    command = Command(tmp_path, "localdev.stack")
    command.wait_for("stops the stack")

    code = command.stop_with(signum)

    check_stopped(command, code, children=3)
    assert code == 0 and "# stopped every emulator" in command.output()


def test_make_run_stopped_by_sigterm_mid_pipeline_stops_the_emulators(tmp_path):
    config = GeneratorConfig(seed=3, start=date(2026, 11, 2), days=2, customers=10, products=6)
    write_files(generate(config), tmp_path / "input")
    command = Command(
        tmp_path, "localdev.demo", "--input", str(tmp_path / "input" / "*.jsonl"), "--local-dir", "local"
    )
    command.wait_for("[3/6] running the Beam pipeline")

    code = command.stop_with(signal.SIGTERM)

    check_stopped(command, code, children=3)
    assert code == 130 and "python -m localdev.demo: interrupted" in command.output()


def test_make_stream_stopped_by_sigterm_stops_the_pipeline_and_the_emulators(tmp_path):
    command = Command(tmp_path, "localdev.live_stream", "--local", "local", "--rate", "10")
    command.wait_for("started pipeline (DirectRunner)")

    code = command.stop_with(signal.SIGTERM)

    check_stopped(command, code, children=4)
    assert code in (0, 130), command.output()


def test_make_soak_stopped_by_kill_int_while_publishing_even_started_with_sigint_ignored(tmp_path):
    command = Command(
        tmp_path,
        "localdev.soak",
        "--events",
        "2000",
        "--rate",
        "20",
        "--workdir",
        "soak",
        "--out",
        "soak.json",
        sigint_ignored=True,
    )
    command.wait_for("soak: started pipeline")
    command.wait_for("published:")  # the publisher thread and its progress bar have started
    time.sleep(5)  # publishing

    code = command.stop_with(signal.SIGINT)

    check_stopped(command, code, children=4)
    assert code == 130 and "python -m localdev.soak: interrupted" in command.output()
    assert not (tmp_path / "soak.json").exists()


def test_bench_stopped_by_sigterm_during_make_run_stops_the_demo_and_its_emulators(tmp_path):
    command = Command(tmp_path, "bench", "--only", "make_run", "--messages", "2000", "--out", "bench.json")
    command.wait_for("bench: make_run")
    command.wait_for_descendants(4)  # python -m localdev.demo and its three emulators

    code = command.stop_with(signal.SIGTERM)

    check_stopped(command, code, children=4)
    assert code == 130 and "python -m bench: interrupted" in command.output()
    assert not (tmp_path / "bench.json").exists()
