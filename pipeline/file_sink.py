"""``--output_dir``: the rows as JSON Lines files instead of BigQuery tables.

A dry run of the whole graph with no BigQuery at all: every table's rows go to
``<output_dir>/<table>/rows-*.jsonl`` (local or ``gs://``), as the insert requests would carry
them. Nothing is refused, so no ``load_rejected`` dead letter comes out. ``make bench`` times the
transform chain this way against a bare Beam pipeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import apache_beam as beam

from pipeline.bigquery_writes import RECEIVED


@dataclass(frozen=True)
class FileTarget:
    """Where :class:`WriteJsonLines` puts each table's rows."""

    directory: str


def row_line(row: dict[str, Any]) -> str:
    """One row as the JSON an insert request would carry (without the ``_received`` envelope)."""
    return json.dumps({k: v for k, v in row.items() if k != RECEIVED}, separators=(",", ":"))


class WriteJsonLines(beam.PTransform):
    """Rows -> ``<directory>/<table>/rows-*.jsonl``; returns the (always empty) refused rows."""

    def __init__(self, table: str, target: FileTarget) -> None:
        super().__init__()
        self.table = table.rsplit(".", 1)[-1]
        self.target = target

    def expand(self, rows):
        _ = (
            rows
            | "ToJson" >> beam.Map(row_line)
            | "WriteFiles"
            >> beam.io.WriteToText(
                f"{self.target.directory.rstrip('/')}/{self.table}/rows", file_name_suffix=".jsonl"
            )
        )
        return rows | "NothingRefused" >> beam.FlatMap(lambda _: ())
