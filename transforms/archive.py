"""Write every message, exactly as received, to the replayable raw archive.

Layout: ``<root>/<stream|unknown>/dt=YYYY-MM-DD/hr=HH/part-<digest>.jsonl.gz``,
one envelope per line (``transforms.messages.Message.to_envelope``). ``dt``/``hr``
are the message's Pub/Sub publish time (UTC), or the time the pipeline read it
for file input. A file holds at most ``max_lines`` messages, so a folder that
receives millions (a big batch input all read in the same hour) is split into
many files instead of one group held in a worker's memory. File names are a
digest of their content, so a retried write replaces the same file instead of
adding a copy. In streaming the archive is cut into fixed windows
(``window_s``) so files appear while the job runs, and batched per folder with
``GroupIntoBatches``. A batch run counts each folder's lines first and spreads them
over ``ceil(count / max_lines)`` shards by a hash of the line: a plain ``GroupByKey``,
so the DirectRunner keeps its fast FnApiRunner (``GroupIntoBatches`` declares a
processing-time timer, which sends the whole batch job to the much slower
bundle-based runner), and the same input always gives the same files.

A failed write (the store unreachable for longer than its client retries, ~2 minutes for
GCS) is tried again with exponential backoff for up to ``retry_for_s`` before the bundle fails:
a runner that gives up on a bundle after a few quick attempts, as the DirectRunner does, would
otherwise stop the pipeline during an outage. Content-addressed names make every retry replace
the same file.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import time
import zlib
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

logger = logging.getLogger(__name__)

MAX_LINES = 10_000
RETRY_FOR_S = 600.0
FIRST_RETRY_DELAY_S = 1.0
MAX_RETRY_DELAY_S = 60.0


def archive_key(stream: str, received_at: datetime) -> str:
    """The relative folder of a message: ``<stream>/dt=YYYY-MM-DD/hr=HH``."""
    return f"{stream}/dt={received_at.date().isoformat()}/hr={received_at.hour:02d}"


def to_archive_entry(item: ValidEvent | Failure) -> tuple[str, str]:
    """(folder, envelope line) for a validated event or a failure."""
    message = item.message
    received_at = message.publish_time or utc_now()
    return archive_key(item.stream, received_at), json.dumps(message.to_envelope(), sort_keys=True)


def shard_of(entry: tuple[str, str], lines_per_folder: dict[str, int], max_lines: int) -> tuple:
    """((folder, shard), line): the line's shard among ``ceil(count / max_lines)`` of its folder.

    The shard is a hash of the line, so shards hold about ``max_lines`` lines each (a worker
    never holds a whole folder) and the same lines always land in the same shard, whatever
    order a runner delivers them in.
    """
    folder, line = entry
    return (folder, hash_shard(line, lines_per_folder.get(folder, 1), max_lines)), line


def hash_shard(text: str, count: int, per_shard: int) -> int:
    """Which of ``ceil(count / per_shard)`` shards ``text`` belongs to, by its CRC-32."""
    return zlib.crc32(text.encode("utf-8")) % max(1, math.ceil(count / per_shard))


def folder_of_shard(group: tuple[tuple[str, int], Iterable[str]]) -> tuple[str, Iterable[str]]:
    """((folder, shard), lines) -> (folder, lines), what ``WriteArchiveFile`` takes."""
    (folder, _), lines = group
    return folder, lines


class WriteArchiveFile(beam.DoFn):
    """Write a batch of one folder's envelopes as gzip JSON Lines files; yields their paths.

    The lines are sorted and cut into files of at most ``max_lines``, so the same lines always
    give the same files.

    A failed write is retried after 1, 2, 4 ... seconds (at most ``max_delay_s`` apart) while
    ``retry_for_s`` allows; then the error is raised and the bundle fails.
    """

    def __init__(
        self,
        root: str,
        max_lines: int = MAX_LINES,
        retry_for_s: float = RETRY_FOR_S,
        first_delay_s: float = FIRST_RETRY_DELAY_S,
        max_delay_s: float = MAX_RETRY_DELAY_S,
        sleep=time.sleep,
    ) -> None:
        self.root = root.rstrip("/")
        self.max_lines = max_lines
        self.retry_for_s = retry_for_s
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.sleep = sleep
        self.lines_written = Metrics.counter(NAMESPACE, "archived_messages")
        self.write_retries = Metrics.counter(NAMESPACE, "archive_write_retries")

    def process(self, group: tuple[str, Iterable[str]]) -> Iterator[str]:
        folder, lines = group
        ordered = sorted(lines)
        for start in range(0, len(ordered), self.max_lines):
            chunk = ordered[start : start + self.max_lines]
            body = "".join(f"{line}\n" for line in chunk).encode("utf-8")
            digest = hashlib.sha256(body).hexdigest()[:20]
            path = FileSystems.join(self.root, folder, f"part-{digest}.jsonl.gz")
            self.write_with_retry(path, gzip.compress(body, mtime=0))
            self.lines_written.inc(len(chunk))
            yield path

    def write_with_retry(self, path: str, data: bytes) -> None:
        deadline = time.monotonic() + self.retry_for_s
        delay, attempt = self.first_delay_s, 1
        while True:
            try:
                with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
                    handle.write(data)
                return
            except Exception as exc:  # any failure: the store may be down; bounded by retry_for_s
                if time.monotonic() + delay > deadline:
                    raise
                logger.warning(
                    "archive write %s failed (attempt %d: %s: %s); retrying in %.0f s",
                    path,
                    attempt,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                self.write_retries.inc()
                self.sleep(delay)
                delay, attempt = min(delay * 2, self.max_delay_s), attempt + 1


class ArchiveRawMessages(beam.PTransform):
    """ValidEvents and Failures (every message once; one PCollection or several) -> archive
    files; returns their paths."""

    def __init__(
        self, root: str, streaming: bool = False, window_s: int = 60, max_lines: int = MAX_LINES
    ) -> None:
        super().__init__()
        self.root = root
        self.streaming = streaming
        self.window_s = window_s
        self.max_lines = max_lines

    def expand(self, items):
        # Each input is turned into (folder, line) strings before they meet: a Flatten of the
        # events themselves would make the runner encode every event once more (with pickle).
        inputs = (items,) if isinstance(items, beam.PCollection) else tuple(items)
        entries = [
            pcoll | f"ToEnvelope{index}" >> beam.Map(to_archive_entry) for index, pcoll in enumerate(inputs)
        ] | "EveryMessage" >> beam.Flatten()
        if self.streaming:
            batches = (
                entries
                | "ArchiveWindows" >> beam.WindowInto(FixedWindows(self.window_s))
                | "BatchPerFolder" >> beam.GroupIntoBatches(self.max_lines)
            )
        else:
            lines_per_folder = entries | "LinesPerFolder" >> beam.combiners.Count.PerKey()
            batches = (
                entries
                | "ShardPerFolder" >> beam.Map(shard_of, beam.pvalue.AsDict(lines_per_folder), self.max_lines)
                | "GroupPerShard" >> beam.GroupByKey()
                | "ShardFolder" >> beam.Map(folder_of_shard)
            )
        return batches | "WriteFiles" >> beam.ParDo(WriteArchiveFile(self.root, self.max_lines))
