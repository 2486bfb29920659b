"""The raw archive's files: folders by stream and arrival hour, bounded size, content-named."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline

from transforms.archive import ArchiveRawMessages
from transforms.messages import Failure, Message

NINE = datetime(2026, 11, 3, 9, 15, tzinfo=timezone.utc)
TEN = datetime(2026, 11, 3, 10, 0, 1, tzinfo=timezone.utc)


def failure(n: int, stream: str, published: datetime) -> Failure:
    message = Message(
        data=b'{"n": %d}' % n, attributes={"k": "v"}, message_id=f"m{n}", publish_time=published
    )
    return Failure(message=message, stream=stream, stage="validate", code="invalid_value", reason="test")


def archive(items: list[Failure], root: Path) -> dict[str, list[dict]]:
    with TestPipeline() as p:
        _ = p | beam.Create(items) | ArchiveRawMessages(str(root), max_lines=2)
    return {
        str(path.relative_to(root)): [
            json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()
        ]
        for path in sorted(root.rglob("*.jsonl.gz"))
    }


def test_folders_split_into_files_of_at_most_max_lines_named_by_content(tmp_path):
    items = [failure(n, "orders", NINE) for n in range(5)] + [failure(5, "unknown", TEN)]
    files = archive(items, tmp_path / "first")

    per_folder: dict[str, list[int]] = {}
    for name, envelopes in files.items():
        assert len(envelopes) <= 2, name
        per_folder.setdefault(name.rsplit("/", 1)[0], []).extend(
            json.loads(e["data"])["n"] for e in envelopes
        )
    assert {folder: sorted(ns) for folder, ns in per_folder.items()} == {
        "orders/dt=2026-11-03/hr=09": [0, 1, 2, 3, 4],
        "unknown/dt=2026-11-03/hr=10": [5],
    }
    [(_, [envelope])] = [(n, e) for n, e in files.items() if n.startswith("unknown/")]
    assert envelope == {
        "data": '{"n": 5}',
        "data_encoding": "utf-8",
        "attributes": {"k": "v"},
        "message_id": "m5",
        "publish_time": "2026-11-03T10:00:01Z",
    }

    for path in (tmp_path / "first").rglob("*.jsonl.gz"):
        digest = hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()[:20]
        assert path.name == f"part-{digest}.jsonl.gz", "a retried write of a batch replaces its file"
