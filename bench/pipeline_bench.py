"""``make bench``: throughput and memory of EventHarbor, printed as numbers.

1. validation: parse + validate + shape rows in plain Python (no Beam), messages/s;
2. batch pipeline: the whole Beam graph on the DirectRunner against the local
   emulators (BigQuery inserts, GCS archive included), messages/s and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

from localdev.generator import GeneratorConfig, generate, write_files
from localdev.stack import local_stack
from pipeline import main as pipeline_main
from transforms.errors import Rejection
from transforms.rows import event_row
from transforms.validation import parse_payload, validate_event


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_validation(lines: list[bytes], repeat: int) -> dict:
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    valid = 0
    for _ in range(repeat):
        for line in lines:
            try:
                stream, _, _, event = validate_event(parse_payload(line), now)
                event_row(stream, event)
                valid += 1
            except Rejection:
                pass
    seconds = time.perf_counter() - started
    total = len(lines) * repeat
    return {"messages": total, "seconds": round(seconds, 2), "messages_per_s": round(total / seconds)}


def bench_pipeline(config: GeneratorConfig) -> dict:
    sample = generate(config)
    with tempfile.TemporaryDirectory() as folder, local_stack(Path(folder) / "stack") as stack:
        write_files(sample, Path(folder))
        started = time.perf_counter()
        summary = pipeline_main.run(
            [
                f"--input={folder}/events-*.jsonl",
                f"--project={stack.project}",
                f"--bigquery_endpoint={stack.bigquery_endpoint}",
                f"--archive_root=gs://{stack.bucket}/raw",
            ]
        )
        seconds = time.perf_counter() - started
    return {
        "messages": summary["messages_in"],
        "loaded": sum(summary["loaded"].values()),
        "seconds": round(seconds, 1),
        "messages_per_s": round(summary["messages_in"] / seconds),
        "peak_rss_mib": round(peak_rss_mib()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7, help="days of generated events for the pipeline run")
    parser.add_argument(
        "--repeat", type=int, default=5, help="passes over the sample for the validation bench"
    )
    args = parser.parse_args(argv)
    config = GeneratorConfig(seed=42, start=date(2026, 10, 1), days=args.days, max_oversized=0)
    lines = generate(config).lines()
    results = {
        "machine": f"{platform.processor() or platform.machine()}, Python {platform.python_version()}",
        "validation": bench_validation(lines, args.repeat),
        "batch_pipeline_direct_runner": bench_pipeline(config),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
