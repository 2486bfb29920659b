"""An emulator that exits while starting, or never answers, is named in one line with its log, and
is stopped by its pid (a stand-in emulator: a child python process)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from localdev import stack as localstack
from pipeline.commands import CommandError


def fake_emulator(tmp_path: Path, script: str) -> localstack.Emulator:
    """An "emulator" that runs ``script`` and whose health URL nothing answers."""
    return localstack.Emulator(
        name="Fake emulator",
        command=[sys.executable, "-c", script],
        health_url="http://127.0.0.1:1/",
        port=1,
        log_path=tmp_path / "fake.log",
    )


def test_an_emulator_that_exits_or_does_not_answer_is_named_with_its_log(tmp_path):
    crashing = fake_emulator(tmp_path, "import sys; print('no such flag --port'); sys.exit(3)")
    with pytest.raises(CommandError) as raised:
        crashing.start(timeout=30)
    assert str(raised.value) == (
        f"Fake emulator exited with code 3 while starting; see {crashing.log_path}: no such flag --port"
    )

    silent = fake_emulator(tmp_path, "import time; time.sleep(60)")
    with pytest.raises(
        CommandError, match=r"Fake emulator did not answer http://127.0.0.1:1/ within 1 s; see "
    ):
        silent.start(timeout=1)
    assert silent.process.poll() is not None, "stopped by its pid"
