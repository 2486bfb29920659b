"""``--output_dir``: the rows as JSON Lines files instead of BigQuery tables.

A dry run of the whole graph with no BigQuery at all: every table's rows go to
``<output_dir>/<table>/rows-<digest>.jsonl`` (local or ``gs://``), as the insert requests would
carry them. Nothing is refused, so no ``load_rejected`` dead letter comes out. ``make bench``
times the transform chain this way against a bare Beam pipeline.

Each bundle writes its rows itself, in files of at most ``MAX_FILE_ROWS`` rows named by a digest
of their content (a retried bundle replaces its files rather than adding copies); Beam's
``WriteToText`` costs several steps per row and a finalising stage per table for the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
import msgspec
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue

from pipeline.bigquery_writes import RECEIVED

MAX_FILE_ROWS = 50_000
REFUSED = "refused"

_ROW_JSON = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class FileTarget:
    """Where :class:`WriteJsonLines` puts each table's rows."""

    directory: str


def row_line(row: dict[str, Any]) -> bytes:
    """One row as the JSON an insert request would carry (without the ``_received`` envelope),
    UTF-8 encoded.

    msgspec writes it five times faster than ``json.dumps``, the same JSON values (characters
    beyond ASCII as UTF-8 rather than ``\\u`` escapes); a value msgspec refuses (a string with a
    lone surrogate) goes through ``json.dumps``.
    """
    if RECEIVED in row:
        row = {k: v for k, v in row.items() if k != RECEIVED}
    try:
        return _ROW_JSON(row)
    except (TypeError, ValueError):
        return json.dumps(row, separators=(",", ":")).encode("utf-8")


class WriteRowFiles(beam.DoFn):
    """Rows -> ``<folder>/rows-<digest>.jsonl`` files, one per bundle (or per ``max_rows`` rows);
    yields their paths. Its ``refused`` output stays empty: a file takes every row."""

    def __init__(
        self,
        folder: str,
        max_rows: int = MAX_FILE_ROWS,
        to_row: Callable[[Any], dict[str, Any]] | None = None,
    ) -> None:
        self.folder = folder
        self.max_rows = max_rows
        self.to_row = to_row
        self.lines: list[bytes] = []

    def start_bundle(self) -> None:
        self.lines = []

    def process(self, element: Any) -> Iterator[str]:
        self.lines.append(row_line(element if self.to_row is None else self.to_row(element)))
        if len(self.lines) >= self.max_rows:
            yield self._write()

    def finish_bundle(self) -> Iterator[WindowedValue]:
        if self.lines:
            yield GlobalWindows.windowed_value(self._write())

    def _write(self) -> str:
        self.lines.append(b"")
        body = b"\n".join(self.lines)
        self.lines = []
        path = FileSystems.join(self.folder, f"rows-{hashlib.sha256(body).hexdigest()[:20]}.jsonl")
        with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            handle.write(body)
        return path


class WriteJsonLines(beam.PTransform):
    """Rows -> ``<directory>/<table>/rows-*.jsonl``; returns the (always empty) refused rows.

    With ``to_row``, the elements are what it makes each row of (in the writing step itself).
    """

    def __init__(
        self, table: str, target: FileTarget, to_row: Callable[[Any], dict[str, Any]] | None = None
    ) -> None:
        super().__init__()
        self.table = table.rsplit(".", 1)[-1]
        self.target = target
        self.to_row = to_row

    def expand(self, rows):
        folder = f"{self.target.directory.rstrip('/')}/{self.table}"
        writer = WriteRowFiles(folder, to_row=self.to_row)
        written = rows | "WriteFiles" >> beam.ParDo(writer).with_outputs(REFUSED, main="paths")
        return written[REFUSED]
