"""``python -m schemas.compat``, the command ``make lint`` runs, on a copy of schemas/: its output and
exit codes. The rules themselves: tests/unit/test_schema_compat.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from schemas import compat
from tests.schema_copies import copy_schemas, edit_json, field_named

ROOT = Path(__file__).resolve().parents[2]


def compat_command(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m schemas.compat *args``, run from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "schemas.compat", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_line_exit_codes(tmp_path):
    schemas_copy = copy_schemas(tmp_path)
    baseline = schemas_copy / compat.BASELINE_NAME
    where = ("--schemas-dir", schemas_copy, "--baseline", baseline)

    ok = compat_command("--check", *where)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("schemas/ is compatible with the released contract (")
    assert len(ok.stdout.splitlines()) == 1

    edit_json(
        schemas_copy / "events" / "orders.json",
        lambda fields: field_named(fields, "total_amount").update(type="FLOAT"),
    )
    broken = compat_command(*where)  # --check is the default
    assert broken.returncode == 1, broken.stdout + broken.stderr
    lines = broken.stdout.splitlines()
    assert lines[0].startswith("events.orders: field total_amount: type changed NUMERIC -> FLOAT")
    assert "docs/schema-evolution.md" in lines[-1]
    assert len(lines) == 2

    released = compat_command("--release", *where)
    assert released.returncode == 1, released.stdout + released.stderr
    assert compat_command("--release", "--accept-breaking", *where).returncode == 0
    assert compat_command("--check", *where).returncode == 0

    baseline.unlink()
    missing = compat_command("--check", *where)
    assert missing.returncode == 1
    assert "--release" in missing.stderr
    assert compat_command("--accept-breaking", *where).returncode == 2  # only with --release
