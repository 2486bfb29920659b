"""``make run INPUT=`` end to end, timed as a user would see it: emulators started, the batch
pipeline, the model backfill, the exports and the report, emulators stopped.

It runs ``python -m localdev.demo`` (what ``make run`` runs) in a child process with its own
``--local-dir``, so the user's ``.local/`` is left alone. If the bench stops first (a signal, an
error), the child gets SIGTERM, on which it stops its emulators by pid, and SIGKILL after
:data:`STOPS_WITHIN_S`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

STOPS_WITHIN_S = 60


def run_make_run(input_glob: str, local_dir: Path) -> dict[str, Any]:
    """Wall seconds of the whole demo over ``input_glob``, per step, and its run summary."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "localdev.demo", "--input", input_glob, "--local-dir", str(local_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    marks: list[tuple[str, float]] = []
    output = []
    try:
        for line in child.stdout:
            output.append(line)
            if line.startswith("["):
                marks.append((line.split("]", 1)[1].strip(), time.perf_counter()))
    except BaseException:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=STOPS_WITHIN_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        raise
    seconds = time.perf_counter() - started
    if child.wait() != 0:
        raise RuntimeError(f"make run INPUT={input_glob} failed:\n{''.join(output)[-4000:]}")
    ends = [at for _, at in marks[1:]] + [time.perf_counter()]
    steps = {name: round(end - at, 1) for (name, at), end in zip(marks, ends, strict=True)}
    summary = json.loads((local_dir / "run-summary.json").read_text())
    return {"seconds": round(seconds, 1), "steps_s": steps, "summary": summary}
