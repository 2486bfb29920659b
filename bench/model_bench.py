"""Model cost as history grows: each model's daily step on day 60 against day 1, and backfill
against the same days replayed one by one, on the local BigQuery emulator.

A deterministic sample of ``days`` days at constant daily volume is loaded by the batch
pipeline. Then every day's daily steps run in order (replay), each step timed; a model's day-1
and day-``days`` figures are the medians of its first and last ``edge`` days (one query on the
emulator varies by tens of percent from run to run); the ratio to days 31-35 shows the cost after
the longest lookback a rule has (30 days) is full. Then each model's backfill runs once over
the whole range into a second analytics dataset, and the row counts of both are compared.

``python -m bench.model_bench [--days 60]`` prints the table; :func:`run` returns the figures.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from localdev.generator import GeneratorConfig, generate, write_files
from localdev.stack import create_tables, local_stack
from pipeline import main as pipeline_main
from pipeline.commands import ArgumentParser, run_command
from warehouse import runner

START = date(2026, 6, 1)
TARGET_DAY_RATIO = 1.5
# The longest window a daily step reads by its rule (is_active: 30 days of orders; retention: 30
# days of cohorts): from day 31 on, a step reads as much as it ever will.
LOOKBACK_DAYS = 30


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def run(days: int = 60, edge: int = 5, seed: int = 11, workdir: Path | None = None) -> dict[str, Any]:
    """Load ``days`` days, replay them day by day, back-fill them once; the figures as a dict."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="eventharbor-model-bench-"))
    config = GeneratorConfig(seed=seed, start=START, days=days)
    sample = generate(config)
    write_files(sample, workdir / "input")
    end = START + timedelta(days=days - 1)
    with local_stack(workdir / "stack") as stack:
        client = stack.bigquery_client()
        pipeline_main.run(
            [
                "--source=files",
                f"--input={workdir / 'input'}/events-*.jsonl",
                f"--project={stack.project}",
                f"--bigquery_endpoint={stack.bigquery_endpoint}",
            ]
        )
        step_seconds: dict[str, list[float]] = defaultdict(list)
        replay_started = time.perf_counter()
        for day in runner.days(START, end):
            for step in runner.plan_day(day):
                started = time.perf_counter()
                runner.execute(client, [step])
                step_seconds[step.model].append(time.perf_counter() - started)
            print(f"  replayed {day} ({(day - START).days + 1}/{days})", file=sys.stderr, flush=True)
        replay_s = time.perf_counter() - replay_started
        replayed = runner.row_counts(client)

        backfilled_into = {"events": "events", "analytics": "analytics_backfill"}
        create_tables(client, stack.project, {"analytics": backfilled_into["analytics"]})
        backfill_started = time.perf_counter()
        backfilled = runner.backfill(client, START, end, "backfill", backfilled_into)
        backfill_s = time.perf_counter() - backfill_started

    models = {}
    for model, seconds in step_seconds.items():
        first, last = _median(seconds[:edge]), _median(seconds[-edge:])
        window_full = _median(seconds[LOOKBACK_DAYS : LOOKBACK_DAYS + edge])
        models[model] = {
            "day_1_s": round(first, 3),
            "day_n_s": round(last, 3),
            "ratio": round(last / first, 2) if first else None,
            f"ratio_to_day_{LOOKBACK_DAYS + 1}": round(last / window_full, 2) if window_full else None,
            "first_day_s": round(seconds[0], 3),
            "last_day_s": round(seconds[-1], 3),
        }
    return {
        "days": days,
        "messages": sample.manifest["messages"],
        "messages_per_day": round(sample.manifest["messages"] / days),
        "edge_days_median": edge,
        "models": models,
        "worst_day_ratio": max((m["ratio"] or 0) for m in models.values()),
        "target_day_ratio": TARGET_DAY_RATIO,
        "replay_s": round(replay_s, 1),
        "backfill_s": round(backfill_s, 1),
        "backfill_over_replay": round(backfill_s / replay_s, 3),
        "row_counts_equal": replayed == backfilled,
        "row_counts": backfilled,
    }


def format_result(result: dict[str, Any]) -> str:
    days = result["days"]
    lines = [
        f"models: {days} days x {result['messages_per_day']} messages/day; medians of the first and last "
        f"{result['edge_days_median']} days",
        f"{'model':<26}{'day 1 s':>9}{f'day {days} s':>10}{'ratio':>7}{f'vs day {LOOKBACK_DAYS + 1}':>12}",
    ]
    for model, m in result["models"].items():
        lines.append(
            f"{model:<26}{m['day_1_s']:>9.3f}{m['day_n_s']:>10.3f}{m['ratio']:>7.2f}"
            f"{m[f'ratio_to_day_{LOOKBACK_DAYS + 1}']:>12.2f}"
        )
    lines.append(
        f"backfill {result['backfill_s']} s vs day-by-day replay {result['replay_s']} s "
        f"(x{result['backfill_over_replay']}); row counts equal: {result['row_counts_equal']}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m bench.model_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60, help="days of constant volume (default: %(default)s)")
    parser.add_argument(
        "--edge",
        type=int,
        default=5,
        help="days in the median of day 1 and of the last day (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    result = run(args.days, args.edge)
    print(format_result(result))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, "python -m bench.model_bench"))
