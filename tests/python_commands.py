"""Python commands the tests run as child processes: this interpreter, importing from a checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def python_env(checkout: Path) -> dict[str, str]:
    """This process's environment, with ``checkout`` as the place a child imports from."""
    return {**os.environ, "PYTHONPATH": str(checkout)}


def run_python(
    args: list[str], checkout: Path, cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in ``cwd``, importing from ``checkout``, run to its end: it must exit 0, else
    the end of its stderr is the failure."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=python_env(checkout),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done
