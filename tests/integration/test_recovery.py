"""Recovery tools on the emulators: dead-letter replay and archive replay into existing tables."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from pipeline.commands import run_command
from recovery import archive, cli, dead_letters
from tests.events import INVENTORY, ORDER, changed, encode
from tests.pipeline_runs import run_batch, table_rows, write_lines

LOADED_AT = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)  # the validation clock of the load
FAILED_ON = datetime.now(timezone.utc).date()  # dead letters are stamped with the wall clock
PARTITIONS = "event_date >= '2000-01-01'"


def _pinned(moment: datetime):
    return lambda: moment


def _load(stack, tmp_path, payloads: list[bytes], archive_root: str | None = None) -> str:
    dataset = stack.fresh_dataset("rc")
    path = write_lines(tmp_path / "in.jsonl", payloads)
    run_batch(stack, str(path), dataset, archive_root, clock=_pinned(LOADED_AT))
    return dataset


def test_dead_letter_replay_loads_what_passes_today_once_and_records_every_outcome(stack, tmp_path):
    # Two days ahead of the load: future_timestamp then, valid once that day has come.
    ahead = changed(INVENTORY, "timestamp", "2026-11-04T09:00:00Z")
    still_bad = b'{"event_type": "inventory", "inventory_id": '
    dataset = _load(stack, tmp_path, [encode(ORDER), ahead, still_bad])
    client = stack.bigquery_client()
    selection = dead_letters.Selection(FAILED_ON, FAILED_ON)
    later = _pinned(LOADED_AT + timedelta(days=3))

    first = dead_letters.replay(client, dataset, selection, clock=later)
    second = dead_letters.replay(client, dataset, selection, clock=later)

    assert first["selected"] == 2
    assert first["outcomes"] == {"loaded": 1, "still_rejected": 1}
    assert first["still_rejected_codes"] == {"invalid_json": 1}
    assert second["outcomes"] == {"already_loaded": 1, "still_rejected": 1}
    inventory = table_rows(stack, dataset, "inventory", PARTITIONS)
    assert [(r["inventory_id"], r["timestamp"].isoformat()) for r in inventory] == [
        ("inv-1", "2026-11-04T09:00:00+00:00")
    ]
    log = table_rows(stack, dataset, "dead_letter_replays")
    assert sorted(
        (r["replay_id"] == first["replay_id"], r["outcome"], r["original_error_code"]) for r in log
    ) == [
        (False, "already_loaded", "future_timestamp"),
        (False, "still_rejected", "invalid_json"),
        (True, "loaded", "future_timestamp"),
        (True, "still_rejected", "invalid_json"),
    ]
    [loaded] = [r for r in log if r["outcome"] == "loaded"]
    assert loaded["event_id"] == inventory[0]["event_id"]
    assert loaded["dead_letter_key"].startswith("payload_sha256:")  # file input has no message_id


def test_dead_letter_replay_selects_by_code_and_stream_and_dry_run_changes_nothing(stack, tmp_path):
    ahead = changed(INVENTORY, "timestamp", "2026-11-04T09:00:00Z")
    dataset = _load(stack, tmp_path, [ahead, b"[1]", changed(ORDER, "status", "lost")])
    client = stack.bigquery_client()
    day = FAILED_ON

    only_orders = dead_letters.replay(client, dataset, dead_letters.Selection(day, day, streams=("orders",)))
    dry = dead_letters.replay(
        client, dataset, dead_letters.Selection(day, day, codes=("future_timestamp",)), dry_run=True
    )

    assert only_orders["selected"] == 1 and only_orders["still_rejected_codes"] == {"invalid_value": 1}
    assert dry["selected"] == 1 and dry["dry_run"] is True
    assert table_rows(stack, dataset, "inventory", PARTITIONS) == []
    assert {r["stream"] for r in table_rows(stack, dataset, "dead_letter_replays")} == {"orders"}


def test_the_command_line_runs_a_replay_and_prints_its_summary(stack, tmp_path, capsys):
    dataset = _load(stack, tmp_path, [b"not json"])
    capsys.readouterr()  # the load's own summary
    day = FAILED_ON.isoformat()
    status = cli.main(
        [
            "replay-dead-letters",
            f"--project={stack.project}",
            f"--dataset={dataset}",
            f"--bigquery-endpoint={stack.bigquery_endpoint}",
            f"--start={day}",
            f"--end={day}",
            "--code=invalid_json",
        ]
    )
    assert status == 0
    assert json.loads(capsys.readouterr().out)["outcomes"] == {"still_rejected": 1}
    assert (
        run_command(cli.main, "recovery", ["replay-dead-letters", "--start=2026-11-03", "--end=2026-11-01"])
        == 2
    )
    assert capsys.readouterr().err == "recovery: error: --end 2026-11-01 is before --start 2026-11-03\n"


def test_archive_replay_reruns_the_archived_days_into_the_existing_tables(stack, tmp_path):
    root = str(tmp_path / "archive")
    payloads = [encode(ORDER), encode(INVENTORY), b"not json"]
    dataset = stack.fresh_dataset("ar")
    first = run_batch(stack, str(write_lines(tmp_path / "in.jsonl", payloads)), dataset, archive_root=root)
    today = datetime.now(timezone.utc).date()  # file input is archived under the day it was read

    again = archive.replay_archive(
        root,
        today - timedelta(days=1),
        today,
        [
            f"--project={stack.project}",
            f"--dataset={dataset}",
            f"--bigquery_endpoint={stack.bigquery_endpoint}",
        ],
    )

    assert (again["messages_in"], again["loaded"], again["rejected"]) == (
        first["messages_in"],
        first["loaded"],
        first["rejected"],
    )
    orders = table_rows(stack, dataset, "orders", PARTITIONS)
    assert len(orders) == 2 and len({r["event_id"] for r in orders}) == 1  # the models count it once
    assert archive.pipeline_argv(root, today, today, [])[1].count("dt=") == 1


def test_archive_replay_names_missing_days_and_refuses_to_archive_again(tmp_path):
    import pytest

    with pytest.raises(archive.NothingToReplay, match="no archive files under"):
        archive.archive_globs(str(tmp_path), datetime(2026, 1, 1).date(), datetime(2026, 1, 2).date())
    with pytest.raises(ValueError, match="must not archive again"):
        archive.pipeline_argv(
            str(tmp_path), datetime(2026, 1, 1).date(), datetime(2026, 1, 1).date(), ["--archive_root=x"]
        )
