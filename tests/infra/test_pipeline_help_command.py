"""``python -m pipeline.main --help`` as a user runs it: every EventHarbor option with its default,
nothing written, Beam's options only pointed at."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipeline.command_line import PROG, eventharbor_groups

ROOT = Path(__file__).resolve().parents[2]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_help_lists_every_eventharbor_option_with_its_default_and_runs_nothing(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.main", "--help"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == [], "--help must not write anything"
    text = flat(result.stdout)
    assert text.startswith(f"usage: {PROG}")
    for title, _ in eventharbor_groups():
        assert f"EventHarbor: {title}:" in text, title
    actions = [action for _, group in eventharbor_groups() for action in group]
    assert len(actions) >= 26
    names = [action.option_strings[0] for action in actions]
    for number, action in enumerate(actions):
        name = names[number]
        assert f" {name} " in text, name
        # The option's own entry: from its name to the next option's.
        entry = text.split(f" {name} ", 1)[1]
        if number + 1 < len(names):
            entry = entry.split(f" {names[number + 1]} ", 1)[0]
        if action.default is not None:
            assert f"(default: {action.default})" in entry, (name, entry)
    assert "--progress_every" in names and "--bigquery_write_method" in names
    # Where Beam's own options are, without listing them.
    assert "--help-all lists them" in text and "--runner" in text
    assert "--sdk_container_image" not in text and "Beam: GoogleCloudOptions" not in text
