"""The late-data healing at volume: a simulated schedule through the real pipeline, on the emulators.

A generated sample (``--days`` days, about ``--messages`` messages, ``--late-fraction`` of the
valid events arriving on a later day) is loaded as a schedule would see it: each day's arrivals
by the batch pipeline, then the scheduled query's own script for that day
(:func:`warehouse.runner.run_scheduled`). After every run, every model table is compared with a
from-scratch backfill of the same raw rows (copied into a second pair of datasets). A last run
with nothing new shows the cost of a day without late data.

``python -m bench.late_data_bench [--days 10] [--messages 100000]`` prints one line per day:
messages loaded, late ones among them, the build's mode and days, its late rows, its seconds, and
whether all 13 tables equal the from-scratch build.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from localdev.generator import GeneratorConfig, generate
from localdev.stack import create_tables, local_stack
from pipeline import main as pipeline_main
from pipeline.commands import ArgumentParser, run_command
from schemas import STREAMS
from warehouse import runner
from warehouse.graph import model_names

START = date(2026, 9, 1)
SCRATCH = {"events": "scratch_events", "analytics": "scratch_analytics"}


def _tables(client, analytics: str) -> dict[str, Counter]:
    """Every model table's rows as a multiset of JSON texts."""
    found = {}
    for model in model_names():
        sql = f"SELECT TO_JSON_STRING(t) AS row FROM `{analytics}.{model}` AS t"
        found[model] = Counter(row["row"] for row in client.query(sql).result())
    return found


def _from_scratch(client, project: str, through: date, first: date) -> dict[str, Counter]:
    """The model tables a backfill builds over ``first`` .. ``through`` from the raw rows loaded."""
    for dataset in SCRATCH.values():
        client.delete_dataset(f"{project}.{dataset}", delete_contents=True, not_found_ok=True)
    create_tables(client, project, SCRATCH)
    for table in (*STREAMS, "dead_letter"):
        where = "WHERE event_date >= '1970-01-01'" if table in STREAMS else ""
        client.query(
            f"INSERT INTO `{SCRATCH['events']}.{table}` SELECT * FROM `events.{table}` {where}"
        ).result()
    runner.backfill(client, first, through, "backfill", SCRATCH)
    return _tables(client, SCRATCH["analytics"])


def run(days: int, messages: int, late_fraction: float, seed: int, workdir: Path) -> list[dict[str, Any]]:
    per_day = max(1, round(messages / days / 26))  # ~26 messages per order and session a day
    config = GeneratorConfig(
        seed=seed,
        start=START,
        days=days,
        orders_per_day=per_day,
        sessions_per_day=per_day,
        late_fraction=late_fraction,
        max_oversized=0,
    )
    sample = generate(config)
    late_by_day = Counter(m.arrival.date() for m in sample.messages if m.late)
    arrivals = sample.by_day()
    results = []
    with local_stack(workdir / "stack") as stack:
        client = stack.bigquery_client()
        for day in sorted(arrivals):
            path = workdir / f"arrivals-{day}.jsonl"
            path.write_bytes(b"\n".join(arrivals[day]) + b"\n")
            pipeline_main.run(
                [
                    "--source=files",
                    f"--input={path}",
                    f"--project={stack.project}",
                    f"--bigquery_endpoint={stack.bigquery_endpoint}",
                ]
            )
            results.append(_scheduled(client, stack.project, day, len(arrivals[day]), late_by_day[day]))
            print(_line(results[-1]), flush=True)
        last = max(arrivals)
        results.append(_scheduled(client, stack.project, last, 0, 0))  # nothing new: one day
        print(_line(results[-1]), flush=True)
    return results


def _scheduled(client, project: str, day: date, loaded: int, late: int) -> dict[str, Any]:
    started = time.monotonic()
    build = runner.run_scheduled(client, day + timedelta(days=1))
    seconds = time.monotonic() - started
    built = _tables(client, "analytics")
    expected = _from_scratch(client, project, build["built_through"], START)
    unequal = sorted(m for m in model_names() if built[m] != expected[m])
    return {
        "day": day,
        "loaded": loaded,
        "late": late,
        "build": build,
        "seconds": seconds,
        "unequal": unequal,
    }


def _line(result: dict[str, Any]) -> str:
    build = result["build"]
    equal = (
        "all 13 tables equal a from-scratch build"
        if not result["unequal"]
        else f"UNEQUAL {result['unequal']}"
    )
    return (
        f"{result['day']}: {result['loaded']:>6} messages loaded, {result['late']:>4} late; "
        f"{build['mode']:>5} build {build['rebuilt_from']}..{build['built_through']}, "
        f"{build['late_rows']:>4} late rows, {result['seconds']:5.1f} s; {equal}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m bench.late_data_bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--days",
        type=int,
        default=10,
        help="days of the sample, one scheduled run each (default: %(default)s)",
    )
    parser.add_argument(
        "--messages", type=int, default=100_000, help="messages in all, about (default: %(default)s)"
    )
    parser.add_argument(
        "--late-fraction",
        type=float,
        default=0.046,
        help="share of the valid events arriving on a later day (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=20, help="the generator's seed (default: %(default)s)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="eventharbor-late-data-") as workdir:
        results = run(args.days, args.messages, args.late_fraction, args.seed, Path(workdir))
    return 0 if all(not r["unequal"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(run_command(main, "python -m bench.late_data_bench"))
