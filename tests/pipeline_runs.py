"""Helpers for integration tests that run the real pipeline against the emulators."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.runner import PipelineResult

from localdev.stack import LocalStack
from localdev.streaming.harness import pipeline_argv
from pipeline import main
from schemas import STREAMS
from transforms.times import utc_now

RAW_TABLES = STREAMS


def run_batch(
    stack: LocalStack,
    inputs: str,
    dataset: str,
    archive_root: str | None = None,
    endpoint: str | None = None,
    extra: list[str] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> dict[str, Any]:
    """Run the batch pipeline over ``inputs`` into ``dataset`` (validating against ``clock``);
    returns the reconciliation summary."""
    argv = [
        "--source=files",
        f"--input={inputs}",
        f"--project={stack.project}",
        f"--dataset={dataset}",
        f"--bigquery_endpoint={endpoint or stack.bigquery_endpoint}",
    ]
    if archive_root:
        argv.append(f"--archive_root={archive_root}")
    return main.run(argv + (extra or []), clock=clock)


def streaming_options(
    stack: LocalStack, subscriptions: list[str], dataset: str, archive_root: Path
) -> PipelineOptions:
    """The options of a streaming run on the stack by its default write method (the Storage Write
    API), archiving to ``archive_root`` in windows of 5 s."""
    argv = pipeline_argv(
        subscriptions,
        stack.project,
        dataset,
        stack.bigquery_endpoint,
        archive_root=str(archive_root),
        extra=["--archive_window_s=5"],
        storage_endpoint=stack.bigquery_storage_endpoint,
    )
    return PipelineOptions(argv)


def start_streaming(options: PipelineOptions, clock: Callable[[], datetime] = utc_now) -> PipelineResult:
    """Start the streaming pipeline of ``options`` in this process; the caller cancels the result."""
    pipeline = beam.Pipeline(options=options)
    main.build_pipeline(pipeline, options, clock)
    return pipeline.run()


def table_rows(stack: LocalStack, dataset: str, table: str, where: str = "TRUE") -> list[dict[str, Any]]:
    query = f"SELECT * FROM `{dataset}.{table}` WHERE {where}"
    return [dict(row) for row in stack.bigquery_client().query(query).result()]


def write_lines(path: Path, payloads: list[bytes]) -> Path:
    path.write_bytes(b"".join(p + b"\n" for p in payloads))
    return path
