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
import time
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

RETRY_FOR_S = 600.0
FIRST_RETRY_DELAY_S = 1.0
MAX_RETRY_DELAY_S = 60.0


def archive_key(stream: str, received_at: datetime) -> str:
    """The relative folder of a message: ``<stream>/dt=YYYY-MM-DD/hr=HH``."""
    return f"{stream}/dt={received_at:%Y-%m-%d}/hr={received_at:%H}"


def to_archive_entry(item: ValidEvent | Failure) -> tuple[str, str]:
    """(folder, envelope line) for a validated event or a failure."""
    message = item.message
    received_at = message.publish_time or utc_now()
    return archive_key(item.stream, received_at), json.dumps(message.to_envelope(), sort_keys=True)


class WriteArchiveFile(beam.DoFn):
    """Write a batch of one folder's envelopes as a gzip JSON Lines file; yields the file path.

    A failed write is retried after 1, 2, 4 ... seconds (at most ``max_delay_s`` apart) while
    ``retry_for_s`` allows; then the error is raised and the bundle fails.
    """

    def __init__(
        self,
        root: str,
        retry_for_s: float = RETRY_FOR_S,
        first_delay_s: float = FIRST_RETRY_DELAY_S,
        max_delay_s: float = MAX_RETRY_DELAY_S,
        sleep=time.sleep,
    ) -> None:
        self.root = root.rstrip("/")
        self.retry_for_s = retry_for_s
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.sleep = sleep
        self.lines_written = Metrics.counter(NAMESPACE, "archived_messages")
        self.write_retries = Metrics.counter(NAMESPACE, "archive_write_retries")

    def process(self, group: tuple[str, Iterable[str]]) -> Iterator[str]:
        folder, lines = group
        body = "".join(f"{line}\n" for line in sorted(lines)).encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()[:20]
        path = FileSystems.join(self.root, folder, f"part-{digest}.jsonl.gz")
        self.write_with_retry(path, gzip.compress(body, mtime=0))
        self.lines_written.inc(body.count(b"\n"))
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
