"""Write every message, exactly as received, to the replayable raw archive.

Layout: ``<root>/<stream|unknown>/dt=YYYY-MM-DD/hr=HH/part-<digest>.jsonl.gz``,
one envelope per line (``transforms.messages.Message.to_envelope``). ``dt``/``hr``
are the message's Pub/Sub publish time (UTC), or the time the pipeline read it
for file input. A file holds at most ``max_lines`` messages, so a folder that
receives millions (a big batch input all read in the same hour) is split into
many files instead of one group held in a worker's memory. File names are a
digest of their content, so a retried write replaces the same file instead of
adding a copy. In streaming the archive is cut into fixed windows
(``window_s``) so files appear while the job runs.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import datetime

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import FixedWindows

from transforms.counters import NAMESPACE
from transforms.messages import Failure, ValidEvent
from transforms.times import utc_now


def archive_key(stream: str, received_at: datetime) -> str:
    """The relative folder of a message: ``<stream>/dt=YYYY-MM-DD/hr=HH``."""
    return f"{stream}/dt={received_at:%Y-%m-%d}/hr={received_at:%H}"


def to_archive_entry(item: ValidEvent | Failure) -> tuple[str, str]:
    """(folder, envelope line) for a validated event or a failure."""
    message = item.message
    received_at = message.publish_time or utc_now()
    return archive_key(item.stream, received_at), json.dumps(message.to_envelope(), sort_keys=True)


class WriteArchiveFile(beam.DoFn):
    """Write a batch of one folder's envelopes as a gzip JSON Lines file; yields the file path."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.lines_written = Metrics.counter(NAMESPACE, "archived_messages")

    def process(self, group: tuple[str, Iterable[str]]) -> Iterator[str]:
        folder, lines = group
        body = "".join(f"{line}\n" for line in sorted(lines)).encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()[:20]
        path = FileSystems.join(self.root, folder, f"part-{digest}.jsonl.gz")
        with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            handle.write(gzip.compress(body, mtime=0))
        self.lines_written.inc(body.count(b"\n"))
        yield path


class ArchiveRawMessages(beam.PTransform):
    """ValidEvents and Failures (every message once) -> archive files; returns their paths."""

    def __init__(
        self, root: str, streaming: bool = False, window_s: int = 60, max_lines: int = 10_000
    ) -> None:
        super().__init__()
        self.root = root
        self.streaming = streaming
        self.window_s = window_s
        self.max_lines = max_lines

    def expand(self, items):
        entries = items | "ToEnvelope" >> beam.Map(to_archive_entry)
        if self.streaming:
            entries = entries | "ArchiveWindows" >> beam.WindowInto(FixedWindows(self.window_s))
        return (
            entries
            | "BatchPerFolder" >> beam.GroupIntoBatches(self.max_lines)
            | "WriteFiles" >> beam.ParDo(WriteArchiveFile(self.root))
        )
