"""Files -> batch pipeline -> bqemulator + GCS emulator, then replay of the raw archive."""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from collections import Counter
from datetime import date

import pytest

from localdev.generator import GeneratorConfig, generate, write_files
from localdev.stack import storage_client
from tests.pipeline_runs import RAW_TABLES, run_batch, table_rows
from transforms.validation import derive_event_id

PARTITIONS = "event_date >= '2000-01-01'"
CONFIG = GeneratorConfig(
    seed=11, start=date(2026, 11, 1), days=2, customers=15, products=8, orders_per_day=12, sessions_per_day=10
)


def expected_event_ids(sample) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = {stream: set() for stream in RAW_TABLES}
    for message in sample.messages:
        if message.error_code is None:
            obj = json.loads(message.data)
            ids[message.stream].add(
                obj.get("event_id") or derive_event_id(json.loads(message.data, parse_float=str))
            )
    return ids


def comparable(rows: list[dict]) -> list[str]:
    """Rows without the processing time, as sorted canonical JSON."""
    return sorted(
        json.dumps({k: v for k, v in r.items() if k != "processed_timestamp"}, default=str) for r in rows
    )


@pytest.fixture(scope="module")
def first_run(stack, tmp_path_factory):
    sample = generate(CONFIG)
    folder = tmp_path_factory.mktemp("sample")
    write_files(sample, folder)
    dataset = stack.fresh_dataset()
    archive = f"gs://{stack.bucket}/raw-{uuid.uuid4().hex[:8]}"
    summary = run_batch(stack, str(folder / "events-*.jsonl"), dataset, archive_root=archive)
    return sample, dataset, archive, summary


def test_summary_reconciles_with_the_generated_truth(first_run):
    sample, _, _, summary = first_run
    manifest = sample.manifest
    assert summary["messages_in"] == manifest["messages"]
    assert summary["loaded"] == manifest["valid_unique"]
    assert summary["rejected"] == manifest["rejected"]
    assert summary["duplicates"] == manifest["duplicates"]


def test_every_raw_table_holds_exactly_the_valid_events_once(stack, first_run):
    sample, dataset, _, _ = first_run
    expected = expected_event_ids(sample)
    for stream in RAW_TABLES:
        rows = table_rows(stack, dataset, stream, PARTITIONS)
        ids = [r["event_id"] for r in rows]
        assert len(ids) == len(set(ids)), f"{stream} has duplicate event_ids"
        assert set(ids) == expected[stream], stream


def test_dead_letters_match_the_bad_lines(stack, first_run):
    sample, dataset, _, _ = first_run
    dead = table_rows(stack, dataset, "dead_letter")
    assert Counter(r["error_code"] for r in dead) == Counter(sample.manifest["rejected"])
    bad = [m for m in sample.messages if m.error_code]
    expected = Counter(
        (m.error_code, m.data.decode("utf-8", errors="replace")[:200]) for m in bad if m.data.isascii()
    )
    got = Counter((r["error_code"], r["payload"][:200]) for r in dead if r["payload_encoding"] == "utf-8")
    assert expected <= got
    for row in dead:
        assert row["error_message"] and row["stage"] in {"parse", "validate"}


def test_archive_holds_every_line_as_received(first_run):
    sample, _, archive, _ = first_run
    bucket, prefix = archive.removeprefix("gs://").split("/", 1)
    archived: list[bytes] = []
    for blob in storage_client().list_blobs(bucket, prefix=prefix + "/"):
        assert blob.name.endswith(".jsonl.gz") and "/dt=" in blob.name and "/hr=" in blob.name
        for line in gzip.decompress(blob.download_as_bytes()).splitlines():
            envelope = json.loads(line)
            data = envelope["data"]
            if envelope["data_encoding"] == "base64":
                archived.append(base64.b64decode(data))
            else:
                archived.append(data.encode("utf-8"))
    assert Counter(archived) == Counter(sample.lines())


def test_replaying_the_archive_reproduces_the_raw_tables(stack, first_run):
    _, dataset, archive, _ = first_run
    replay = stack.fresh_dataset("replay")
    summary = run_batch(stack, f"{archive}/*/dt=*/hr=*/*.jsonl.gz", replay)
    assert sum(summary["loaded"].values()) > 0
    for table in RAW_TABLES:
        assert comparable(table_rows(stack, replay, table, PARTITIONS)) == comparable(
            table_rows(stack, dataset, table, PARTITIONS)
        ), table
    original_dead = Counter(r["error_code"] for r in table_rows(stack, dataset, "dead_letter"))
    assert Counter(r["error_code"] for r in table_rows(stack, replay, "dead_letter")) == original_dead
