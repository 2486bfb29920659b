"""The benchmarks' deterministic input: a generated sample of about 100,000 messages.

Fourteen fixed past days (so no event is in the future whatever the date), three streams, the
generator's few percent invalid, duplicate and late messages, one oversized payload. Equal
arguments give byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from localdev.generator import GeneratorConfig, generate, write_files

START = date(2026, 3, 2)
DAYS = 14
MESSAGES_PER_ORDER = 17.0  # messages the generator writes per order per day (orders, sessions, inventory)


@dataclass(frozen=True)
class BenchSample:
    """The sample's files (one per arrival day), one file holding every line, and the lines."""

    directory: Path
    glob: str
    single_file: Path
    lines: list[bytes]
    manifest: dict


def bench_sample(directory: Path, messages: int = 100_000, seed: int = 2026) -> BenchSample:
    """Write (once; equal arguments give the same bytes) and return the benchmark sample."""
    per_day = max(10, round(messages / DAYS / MESSAGES_PER_ORDER))
    config = GeneratorConfig(
        seed=seed, start=START, days=DAYS, orders_per_day=per_day, sessions_per_day=per_day
    )
    sample = generate(config)
    write_files(sample, directory / "days")
    single = directory / "all.jsonl"
    lines = sample.lines()
    single.write_bytes(b"".join(line + b"\n" for line in lines))
    return BenchSample(directory, str(directory / "days" / "events-*.jsonl"), single, lines, sample.manifest)
