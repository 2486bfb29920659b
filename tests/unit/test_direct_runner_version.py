"""The harness's DirectRunner patches run only on the Beam version they were written for."""

from __future__ import annotations

import re
from pathlib import Path

import apache_beam
import pytest
from apache_beam.runners.direct import executor

from localdev.streaming import child
from localdev.streaming.direct_runner import (
    BEAM_VERSION,
    RunnerAdaptation,
    UnsupportedBeamVersion,
    adapt_direct_runner,
    check_beam_version,
)

ROOT = Path(__file__).resolve().parents[2]
OTHER = "2.99.0"


def test_written_for_the_beam_setup_py_pins():
    pin = re.search(r'"apache-beam\[gcp\]==([^"]+)"', (ROOT / "setup.py").read_text())
    assert pin is not None, "setup.py no longer pins apache-beam[gcp]==..."
    assert pin.group(1) == BEAM_VERSION


def test_the_installed_beam_is_accepted():
    check_beam_version()


def test_another_beam_is_refused_in_one_line_before_anything_is_patched(monkeypatch):
    monkeypatch.setattr(apache_beam, "__version__", OTHER)
    call = executor.TransformExecutor.call
    with pytest.raises(UnsupportedBeamVersion) as refused:
        adapt_direct_runner(RunnerAdaptation())
    message = str(refused.value)
    assert "\n" not in message
    assert f"apache-beam {BEAM_VERSION}, but apache-beam {OTHER} is installed" in message
    assert "make install" in message and "update BEAM_VERSION" in message
    assert executor.TransformExecutor.call is call


def test_the_child_exits_2_with_that_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(apache_beam, "__version__", OTHER)
    status = tmp_path / "status.json"
    assert child.main(["--status", str(status), "--", "--streaming"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: localdev/streaming/direct_runner.py patches") and err.count("\n") == 1
    assert not status.exists()
