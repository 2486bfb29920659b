"""The model runner, the recovery tools, bench and the schema commands as a user types them:
``python -m ...`` in a process of its own (and ``make backfill``), without an emulator.

``--help`` prints the options and touches nothing (any network call would meet a dead proxy; the
files the commands write keep their times). An endpoint that does not answer (a closed port, or
a socket that accepts and never answers) ends the runner and a recovery tool within a minute,
with exit code 1 and one line naming the endpoint, with the real deadlines. ``make backfill``
without credentials says what to run, in one line.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ADVICE = "is the emulator running? `python -m localdev.stack --warehouse` opens the last run's warehouse"
DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens on it here

HELP = {
    ("warehouse.runner",): ["run", "backfill", "scheduled", "--debug"],
    ("warehouse.runner", "backfill"): [
        "--start",
        "--end",
        "--mode",
        "(default: backfill)",
        "--bigquery-endpoint",
    ],
    ("warehouse.render",): ["--check"],
    ("recovery",): ["replay-dead-letters", "replay-archive", "promote-field"],
    ("recovery", "promote-field"): ["--table", "--field", "--dry-run", "(default: events)"],
    ("bench",): ["--only", "storage_write", "--out"],
    ("schemas.ddl",): ["--check"],
    ("schemas.compat",): ["--release", "--accept-breaking"],
}
WRITTEN = [ROOT / "ddl", ROOT / "terraform" / "generated", ROOT / "bench" / "results.json"]


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    # As typed at a shell, not from inside `make test` (whose make would say `make[1]:`).
    for name in ("EVENTHARBOR_DEBUG", "MAKELEVEL", "MAKEFLAGS", "MFLAGS"):
        env.pop(name, None)
    return env


def _times() -> dict[Path, float]:
    return {p: p.stat().st_mtime for folder in WRITTEN for p in [folder, *folder.rglob("*")]}


def test_every_help_prints_its_options_and_touches_nothing():
    before = _times()
    dead_network = _env(HTTP_PROXY=DEAD, HTTPS_PROXY=DEAD, http_proxy=DEAD, https_proxy=DEAD)
    running = {
        argv: subprocess.Popen(
            [sys.executable, "-m", *argv, "--help"],
            cwd=ROOT,
            env=dead_network,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in HELP
    }
    for argv, process in running.items():
        out, err = process.communicate(timeout=120)
        assert (process.returncode, err) == (0, ""), argv
        assert out.startswith(f"usage: python -m {' '.join(argv)} "), out
        assert all(word in out for word in HELP[argv]), (argv, out)
    assert _times() == before


def _start(argv: list[str], endpoint: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", *argv, "--bigquery-endpoint", endpoint],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_an_endpoint_that_does_not_answer_ends_the_command_within_a_minute_naming_it():
    with socket.socket() as closed, socket.socket() as silent:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts (the kernel does), never answers
        refused_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        runs = {
            "refused": _start(["warehouse.runner", "run", "--date", "2026-11-03"], refused_url),
            "silent": _start(
                ["warehouse.runner", "backfill", "--start", "2026-09-05", "--end", "2026-11-03"], silent_url
            ),
            "recovery": _start(
                ["recovery", "replay-dead-letters", "--start=2026-11-01", "--end=2026-11-02"], silent_url
            ),
        }
        results = {name: (run.wait(timeout=90), *run.communicate()) for name, run in runs.items()}
        elapsed = time.monotonic() - started

    assert elapsed < 60
    for name, (code, out, err) in results.items():
        assert code == 1 and out == "" and "Traceback" not in err, (name, err)
    runner_says = "python -m warehouse.runner: error: "
    hint = " (--debug or EVENTHARBOR_DEBUG=1 shows the traceback)\n"
    *retries, last = results["refused"][2].splitlines(keepends=True)
    refused = f"BigQuery at {refused_url} did not accept a connection in 20 s (connection refused); "
    assert last == f"{runner_says}{refused}{ADVICE}{hint}"
    assert retries and all(
        f"BigQuery at {refused_url}: connection refused; trying again" in line for line in retries
    )
    silent_line = (
        f"BigQuery at {silent_url} accepted the connection but did not answer in 20 s; {ADVICE}{hint}"
    )
    assert results["silent"][2] == runner_says + silent_line
    assert results["recovery"][2] == "python -m recovery: error: " + silent_line


def test_make_backfill_without_credentials_says_what_to_run(tmp_path):
    env = _env(HOME=str(tmp_path), CLOUDSDK_CONFIG=str(tmp_path / "gcloud"))
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT"):
        env.pop(name, None)
    done = subprocess.run(
        # -o: never rebuild the virtualenv from here, whatever setup.py's time
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            "backfill",
            "START=2026-11-01",
            "END=2026-11-02",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    first, *rest = done.stderr.splitlines()
    assert first.startswith(
        "python -m warehouse.runner: error: no Google Cloud credentials: "
        "run `gcloud auth application-default login`"
    )
    assert len(rest) == 1 and re.fullmatch(r"make: \*\*\* \[Makefile:\d+: backfill\] Error 1", rest[0])
