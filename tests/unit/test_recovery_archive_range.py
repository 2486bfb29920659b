"""The archive replay refuses a range the raw tables no longer keep (their partition expiration)."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.commands import run_command
from recovery import archive, cli


def test_a_range_within_the_expiration_passes_and_one_before_it_is_refused_with_why():
    today = date(2026, 12, 6)
    archive.check_within_expiration(date(2026, 9, 8), today, 90)  # the oldest day kept
    with pytest.raises(archive.BeyondExpiration) as refused:
        archive.check_within_expiration(date(2026, 9, 7), today, 90)
    message = str(refused.value)
    assert "--start 2026-09-07 is before 2026-09-08" in message
    assert "keep 90 days of partitions" in message and "would delete" in message


def test_the_cli_refuses_before_running_anything(tmp_path, capsys):
    argv = ["replay-archive", "--root", str(tmp_path), "--start", "2000-01-01", "--end", "2000-01-02"]
    code = run_command(cli.main, "python -m recovery", argv)
    assert code == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("python -m recovery: error: --start 2000-01-01 is before ")
        and "partition expiration" in err
    )
