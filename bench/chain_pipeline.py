"""The whole EventHarbor graph writing to local files: parse and validate, archive every message,
de-duplicate, shape rows, dead letters and the metric windows, with ``--output_dir`` in place of
BigQuery and a local ``--archive_root``: the transform chain without any service's cost."""

from __future__ import annotations

from pathlib import Path

from pipeline import main as pipeline_main


def run_chain(input_path: Path, output_dir: Path) -> dict:
    """Run the batch pipeline over ``input_path``; returns its reconciliation summary."""
    return pipeline_main.run(
        [
            "--source=files",
            f"--input={input_path}",
            "--project=eventharbor-bench",
            f"--output_dir={output_dir / 'tables'}",
            f"--archive_root={output_dir / 'archive'}",
        ]
    )
