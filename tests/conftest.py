"""Every test is one of three kinds, given by its folder, which marks it (``pytest -m unit``).

- ``tests/unit/``: pure; runs inside the pytest process: no child process, no emulator, no network,
  no browser. ``make test-fast`` runs this folder alone.
- ``tests/infra/``: starts a tool: terraform, checkov, git, Chromium, a Python child process.
- ``tests/integration/``: talks to the local emulators (their fixtures: tests/integration/conftest.py).

A test module sits in one of these folders and never imports another test module: what tests share
lives in the helper modules beside this file (tests/*.py that are not test_*.py).
"""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import pytest

TESTS = Path(__file__).resolve().parent
KINDS = ("unit", "infra", "integration")


def kind_of(path: Path) -> str:
    """The kind of the test module at ``path``: the name of its folder under tests/."""
    try:
        folder = path.resolve().relative_to(TESTS).parts[0]
    except ValueError:
        folder = ""
    if folder not in KINDS:
        raise pytest.UsageError(
            f"{path}: a test module belongs in tests/unit/ (pure), tests/infra/ (starts a "
            "tool) or tests/integration/ (talks to the emulators); move it to the one it is"
        )
    return folder


class Terminated(KeyboardInterrupt):
    """SIGTERM to the pytest process (`timeout`, a cancelled CI job)."""


def _terminated(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signal.Signals(signum).name)


def pytest_configure(config: pytest.Config) -> None:
    # By default SIGTERM ends pytest at once and the session's emulators are left running; as a
    # KeyboardInterrupt it ends the session as Ctrl-C does, and their fixtures stop them by pid.
    signal.signal(signal.SIGTERM, _terminated)


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by these marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(kind_of(item.path))
