"""The baseline every pipeline figure is a ratio to: a bare Beam DirectRunner pipeline over the same
file (read -> ``json.loads`` -> ``json.dumps`` -> write), the least any Beam job over it costs.

Lines that are not JSON pass through as they are, so the baseline reads and writes every line.
"""

from __future__ import annotations

import json
from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions


def reencode(line: bytes) -> bytes:
    """``json.dumps(json.loads(line))``, or the line itself when it is not JSON."""
    try:
        return json.dumps(json.loads(line)).encode("utf-8")
    except (ValueError, RecursionError):
        return line


def run_bare(input_path: Path, output_dir: Path) -> None:
    """Run the bare pipeline over ``input_path`` into files under ``output_dir``."""
    with beam.Pipeline(options=PipelineOptions(["--runner=DirectRunner"])) as pipeline:
        (
            pipeline
            | "Read" >> beam.io.ReadFromText(str(input_path), coder=beam.coders.BytesCoder())
            | "Reencode" >> beam.Map(reencode)
            | "Write" >> beam.io.WriteToText(str(output_dir / "bare"), coder=beam.coders.BytesCoder())
        )
