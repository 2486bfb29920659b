"""``python -m localdev.stack --warehouse`` opens the warehouse and archive ``make run`` left in
.local/, prints commands that work as printed (the dead-letter replay here), and SIGTERM stops
every emulator it started."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from localdev.demo import run_demo
from localdev.generator import GeneratorConfig, generate, write_files
from tests.python_commands import python_env, run_python

ROOT = Path(__file__).resolve().parents[2]
CONFIG = GeneratorConfig(
    seed=5, start=date(2026, 11, 2), days=2, customers=10, products=6, orders_per_day=8, sessions_per_day=6
)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_last_runs_warehouse_opens_with_commands_that_work(tmp_path):
    sample = generate(CONFIG)
    write_files(sample, tmp_path / "input")
    summary = run_demo(str(tmp_path / "input" / "events-*.jsonl"), local=tmp_path / ".local")
    rejected = sum(summary["rejected"].values())
    assert rejected > 0

    stack = subprocess.Popen(
        [sys.executable, "-m", "localdev.stack", "--warehouse"],
        cwd=tmp_path,
        env=python_env(ROOT),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = stack.stdout.readline()
            assert line, f"the stack ended early: {''.join(lines)[-2000:]}"
            lines.append(line)
            if line.startswith("# Ctrl-C"):
                break
        printed = "".join(lines)
        first, last = min(sample.manifest["dates"]), max(sample.manifest["dates"])
        assert f"events {first} .. {last}" in printed, printed
        assert "archive files restored to gs://eventharbor-archive/raw/" in printed
        [replay] = [line.split(":", 1)[1] for line in lines if line.startswith("#   dead letters:")]
        done = run_python(shlex.split(replay)[1:], ROOT, cwd=tmp_path, timeout=180)
        assert json.loads(done.stdout)["selected"] == rejected
        pids = [int(line.rsplit(" ", 1)[1]) for line in lines if ": pid " in line]
        assert len(pids) == 3 and all(alive(pid) for pid in pids)
    finally:
        stack.send_signal(signal.SIGTERM)
        stack.wait(timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.5)
    assert not [pid for pid in pids if alive(pid)], "emulators left running after SIGTERM"
