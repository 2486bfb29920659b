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
bundle-based runner), and the same input always gives the same files. The lines cross that
shuffle in chunks of up to ``CHUNK_LINES`` per folder, gathered per bundle (the runner's cost is
per element, not per byte).

A failed write (the store unreachable for longer than its client retries, ~2 minutes for
GCS) is tried again with exponential backoff for up to ``retry_for_s`` before the bundle fails:
a runner that gives up on a bundle after a few quick attempts, as the DirectRunner does, would
otherwise stop the pipeline during an outage. Content-addressed names make every retry replace
the same file.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
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
from apache_beam.transforms.window import FixedWindows, GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue

from transforms.counters import NAMESPACE
from transforms.messages import EventCopy, Failure, ValidEvent
from transforms.times import utc_now

logger = logging.getLogger(__name__)

MAX_LINES = 10_000
CHUNK_LINES = 1_000  # batch: lines of one folder that cross the shuffle as one element
# zlib's default level: level 9 (gzip's) cost ~3x the CPU for ~2% smaller files of JSON lines.
GZIP_LEVEL = 6
RETRY_FOR_S = 600.0
FIRST_RETRY_DELAY_S = 1.0
MAX_RETRY_DELAY_S = 60.0


def archive_key(stream: str, received_at: datetime) -> str:
    """The relative folder of a message: ``<stream>/dt=YYYY-MM-DD/hr=HH``."""
    return f"{stream}/dt={received_at.date().isoformat()}/hr={received_at.hour:02d}"


def to_archive_entry(item: ValidEvent | EventCopy | Failure) -> tuple[str, str]:
    """(folder, envelope line) for a validated event or a failure."""
    message = item.message
    received_at = message.publish_time or utc_now()
    return archive_key(item.stream, received_at), message.envelope_line()


class ChunkEntries(beam.DoFn):
    """Batch: messages -> (folder, up to ``chunk_lines`` envelope lines) chunks, per bundle.

    The lines meet the shuffle a chunk at a time instead of one element each, which costs the
    runner per element. Emitted when a folder's chunk is full and at the end of the bundle
    (in the global window, where batch input is).
    """

    def __init__(self, chunk_lines: int = CHUNK_LINES) -> None:
        self.chunk_lines = chunk_lines
        self.chunks: dict[str, list[str]] = {}

    def start_bundle(self) -> None:
        self.chunks = {}

    def process(self, item: ValidEvent | EventCopy | Failure) -> Iterator[tuple[str, list[str]]]:
        folder, line = to_archive_entry(item)
        chunk = self.chunks.get(folder)
        if chunk is None:
            chunk = self.chunks[folder] = []
        chunk.append(line)
        if len(chunk) >= self.chunk_lines:
            del self.chunks[folder]
            yield folder, chunk

    def finish_bundle(self) -> Iterator[WindowedValue]:
        for folder, chunk in self.chunks.items():
            yield GlobalWindows.windowed_value((folder, chunk))
        self.chunks = {}


def chunk_size(chunk: tuple[str, list[str]]) -> tuple[str, int]:
    folder, lines = chunk
    return folder, len(lines)


def shard_chunk(
    chunk: tuple[str, list[str]], lines_per_folder: dict[str, int], max_lines: int
) -> Iterator[tuple[tuple[str, int], list[str]]]:
    """(folder, lines) -> ((folder, shard), lines of that shard) for each shard the lines fall in
    (``text_shard`` among ``ceil(count / max_lines)``). The shard is a hash of the line, so shards
    hold about ``max_lines`` lines each (a worker never holds a whole folder) and the same lines
    always land in the same shard, whatever order a runner delivers them in."""
    folder, lines = chunk
    count = shard_count(lines_per_folder.get(folder, 1), max_lines)
    shards: dict[int, list[str]] = {}
    for line in lines:
        shards.setdefault(text_shard(line, count), []).append(line)
    for shard, shard_lines in shards.items():
        yield (folder, shard), shard_lines


def folder_of_chunks(group: tuple[tuple[str, int], Iterable[list[str]]]) -> tuple[str, Iterable[str]]:
    """((folder, shard), chunks of lines) -> (folder, lines), what ``WriteArchiveFile`` takes."""
    (folder, _), chunks = group
    return folder, itertools.chain.from_iterable(chunks)


def shard_count(count: int, per_shard: int) -> int:
    """``ceil(count / per_shard)``, at least one."""
    return max(1, math.ceil(count / per_shard))


def text_shard(text: str, shards: int) -> int:
    """Which of ``shards`` shards ``text`` belongs to, by its CRC-32: the same text, the same shard."""
    return zlib.crc32(text.encode("utf-8")) % shards


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
            self.write_with_retry(path, gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))
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
        if self.streaming:
            batches = (
                [
                    pcoll | f"ToEnvelope{index}" >> beam.Map(to_archive_entry)
                    for index, pcoll in enumerate(inputs)
                ]
                | "EveryMessage" >> beam.Flatten()
                | "ArchiveWindows" >> beam.WindowInto(FixedWindows(self.window_s))
                | "BatchPerFolder" >> beam.GroupIntoBatches(self.max_lines)
            )
        else:
            chunks = [
                pcoll | f"ToEnvelope{index}" >> beam.ParDo(ChunkEntries())
                for index, pcoll in enumerate(inputs)
            ] | "EveryMessage" >> beam.Flatten()
            lines_per_folder = (
                chunks | "ChunkSizes" >> beam.Map(chunk_size) | "LinesPerFolder" >> beam.CombinePerKey(sum)
            )
            batches = (
                chunks
                | "ShardPerFolder"
                >> beam.FlatMap(shard_chunk, beam.pvalue.AsDict(lines_per_folder), self.max_lines)
                | "GroupPerShard" >> beam.GroupByKey()
                | "ShardFolder" >> beam.Map(folder_of_chunks)
            )
        return batches | "WriteFiles" >> beam.ParDo(WriteArchiveFile(self.root, self.max_lines))
