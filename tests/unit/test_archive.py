"""The raw archive's files: folders by stream and arrival hour, bounded size, content-named;
a failed write is retried with backoff, into the same file, for a bounded time."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.pipeline import PipelineVisitor
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain

from pipeline.main import build_pipeline
from transforms.archive import ArchiveRawMessages, WriteArchiveFile
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


def test_the_same_messages_give_the_same_files_whatever_their_order(tmp_path):
    items = [failure(n, "orders", NINE) for n in range(40)]
    forward = archive(items, tmp_path / "forward")
    backward = archive(items[::-1], tmp_path / "backward")

    assert forward == backward
    assert sorted(json.loads(e["data"])["n"] for f in forward.values() for e in f) == list(range(40))
    assert all(len(envelopes) <= 2 for envelopes in forward.values())


def test_a_big_batch_folder_is_spread_over_bounded_files(tmp_path):
    items = [failure(n, "orders", NINE) for n in range(2_500)]
    root = tmp_path / "big"
    with TestPipeline() as p:
        _ = p | beam.Create(items) | ArchiveRawMessages(str(root), max_lines=1_000)

    sizes = sorted(len(gzip.decompress(f.read_bytes()).splitlines()) for f in root.rglob("*.jsonl.gz"))
    assert sum(sizes) == 2_500
    assert max(sizes) <= 1_000
    assert len(sizes) <= 6, f"three hash shards, each cut at 1,000 lines at most twice: {sizes}"


def batch_pipeline(tmp_path: Path) -> beam.Pipeline:
    (tmp_path / "in.jsonl").write_text("{}\n")
    options = PipelineOptions(
        [
            "--source=files",
            f"--input={tmp_path / 'in.jsonl'}",
            "--project=p",
            f"--output_dir={tmp_path / 'tables'}",
            f"--archive_root={tmp_path / 'archive'}",
        ]
    )
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, options)
    return pipeline


def test_the_batch_graph_has_no_processing_time_timer_so_the_direct_runner_keeps_fnapi(tmp_path):
    class Timers(PipelineVisitor):
        def __init__(self) -> None:
            self.real_time: list[str] = []

        def visit_transform(self, applied) -> None:
            if isinstance(applied.transform, beam.ParDo) and userstate.is_stateful_dofn(
                applied.transform.dofn
            ):
                _, timers = userstate.get_dofn_specs(applied.transform.dofn)
                if any(t.time_domain == TimeDomain.REAL_TIME for t in timers):
                    self.real_time.append(applied.full_label)

    found = Timers()
    batch_pipeline(tmp_path).visit(found)
    assert found.real_time == [], "a processing-time timer sends a batch job to the bundle-based runner"


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


class FlakyStore:
    """FileSystems.create that fails ``failures`` times (as an unreachable store does), then works."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0
        self.create = FileSystems.create

    def __call__(self, path, *args, **kwargs):
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ConnectionError(f"store unreachable (attempt {self.attempts})")
        return self.create(path, *args, **kwargs)


def test_a_failed_archive_write_is_retried_with_backoff_into_the_same_file(tmp_path, monkeypatch):
    store = FlakyStore(failures=3)
    monkeypatch.setattr(FileSystems, "create", store)
    sleeps: list[float] = []
    write = WriteArchiveFile(str(tmp_path), first_delay_s=1, max_delay_s=3, sleep=sleeps.append)
    lines = ['{"n": 2}', '{"n": 1}']

    [path] = list(write.process(("orders/dt=2026-11-03/hr=09", lines)))

    assert store.attempts == 4
    assert sleeps == [1, 2, 3], "exponential backoff, capped"
    assert [p.name for p in tmp_path.rglob("*.jsonl.gz")] == [Path(path).name], "one file, however many tries"
    body = gzip.decompress(Path(path).read_bytes())
    assert body == b'{"n": 1}\n{"n": 2}\n'
    assert Path(path).name == f"part-{hashlib.sha256(body).hexdigest()[:20]}.jsonl.gz"


def test_an_archive_write_that_keeps_failing_gives_up_after_the_bound(tmp_path, monkeypatch):
    store = FlakyStore(failures=1_000)
    monkeypatch.setattr(FileSystems, "create", store)
    clock = [0.0]
    monkeypatch.setattr("transforms.archive.time.monotonic", lambda: clock[0])

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    write = WriteArchiveFile(str(tmp_path), retry_for_s=20, first_delay_s=1, max_delay_s=60, sleep=sleep)
    with pytest.raises(ConnectionError):
        list(write.process(("orders/dt=2026-11-03/hr=09", ['{"n": 1}'])))
    assert store.attempts == 5, "tried at 0, 1, 3, 7 and 15 s; the next wait would pass 20 s"
    assert not list(tmp_path.rglob("*.jsonl.gz"))
