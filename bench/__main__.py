"""``make bench``: EventHarbor's figures, each a ratio to a baseline measured in the same run.

``python -m bench [--only validation,chain,make_run,models,streaming,storage_write]`` prints one
table and writes ``bench/results.json`` (a run of some sections keeps the others' figures there).
Sections:

- validation: the validation core against ``json.loads``, pydantic v2, jsonschema and msgspec
  models of the same contracts, on the same lines (:mod:`bench.validation_bench`);
- chain: the whole transform graph writing to local files against the bare Beam pipeline
  (read, ``json.loads``, ``json.dumps``, write) on the same ~100,000-line file, each in its own
  process, with its peak memory (:mod:`bench.child`);
- make_run: ``make run INPUT=`` on those lines end to end against the bare pipeline's wall time
  (:mod:`bench.end_to_end`);
- models: each model's daily step on day 60 against day 1 at constant daily volume, and the
  backfill against the same days replayed (:mod:`bench.model_bench`);
- streaming: publish to the Pub/Sub emulator -> row queryable in the BigQuery emulator, p50 and
  p95 at a steady rate (``localdev.soak``);
- storage_write: rows/s through the Storage Write API (the pipeline's ``AppendBatches``) against
  streaming inserts (``InsertRows``) into the BigQuery emulator, the same rows, alternating
  rounds, every round reconciled (:mod:`bench.write_bench`).
"""

from __future__ import annotations

import difflib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import model_bench, validation_bench, write_bench
from bench.child import measure
from bench.end_to_end import run_make_run
from bench.sample import bench_sample
from localdev.interrupts import stop_on_signals
from pipeline.commands import ArgumentParser, UsageError, run_command

RESULTS = Path(__file__).with_name("results.json")
SECTIONS = ("validation", "chain", "make_run", "models", "streaming", "storage_write")
STREAM_EVENTS, STREAM_RATE = 3_000, 50.0


def section_validation(_: dict[str, Any]) -> dict[str, Any]:
    return validation_bench.run()


def section_chain(context: dict[str, Any]) -> dict[str, Any]:
    sample, workdir = context["sample"], context["workdir"]
    bare = measure("bare", sample.single_file, workdir / "bare")
    chain = measure("chain", sample.single_file, workdir / "chain")
    context["bare_seconds"] = bare["seconds"]
    events = len(sample.lines)
    return {
        "events": events,
        "bare": {**bare, "events_per_s": round(events / bare["seconds"])},
        "chain": {**chain, "events_per_s": round(events / chain["seconds"])},
        "chain_over_bare_events_per_s": round(bare["seconds"] / chain["seconds"], 3),
        "target": ">= 0.5",
    }


def section_make_run(context: dict[str, Any]) -> dict[str, Any]:
    sample, workdir = context["sample"], context["workdir"]
    if "bare_seconds" not in context:
        context["bare_seconds"] = measure("bare", sample.single_file, workdir / "bare")["seconds"]
    result = run_make_run(sample.glob, workdir / "make-run")
    return {
        **result,
        "events": len(sample.lines),
        "bare_seconds": context["bare_seconds"],
        "over_bare_wall": round(result["seconds"] / context["bare_seconds"], 2),
        "target": "<= 8",
    }


def section_models(context: dict[str, Any]) -> dict[str, Any]:
    return model_bench.run(workdir=context["workdir"] / "models")


def section_streaming(context: dict[str, Any]) -> dict[str, Any]:
    from localdev.soak import run_soak

    result = run_soak(STREAM_EVENTS, STREAM_RATE, 600, 10, 7, context["workdir"] / "streaming")
    return {
        "events": result["events"],
        "rate_per_s": result["rate_published_per_s"],
        "latency_s": result["latency_s"],
        "checks": result["checks"],
    }


def section_storage_write(context: dict[str, Any]) -> dict[str, Any]:
    return write_bench.run(workdir=context["workdir"] / "storage-write")


RUNNERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "validation": section_validation,
    "chain": section_chain,
    "make_run": section_make_run,
    "models": section_models,
    "streaming": section_streaming,
    "storage_write": section_storage_write,
}


# The least speed-up of the validation core over each baseline that has a target.
VALIDATION_TARGETS = {"pydantic": 1, "jsonschema": 10}


def table(results: dict[str, Any]) -> str:
    """One row per figure: value, its baseline in this run, the ratio, the target and whether it holds."""
    rows: list[tuple[str, str, str, str, str, str]] = []
    if v := results.get("validation"):
        core = v["validators"]["triage"]
        for name in ("pydantic", "jsonschema", "msgspec", "json.loads"):
            if name in v["validators"]:
                base = v["validators"][name]
                rows.append(
                    (
                        f"validation core vs {name}",
                        f"{core['events_per_s']:,}/s",
                        f"{base['events_per_s']:,}/s",
                        *_ratio(
                            core["events_per_s"] / base["events_per_s"],
                            at_least=VALIDATION_TARGETS.get(name),
                        ),
                    )
                )
        if unknown := v["validators"].get("triage, unknown keys"):
            rows.append(
                (
                    "  events with an unknown key (extra_fields)",
                    f"{unknown['events_per_s']:,}/s",
                    f"{core['events_per_s']:,}/s",
                    *_ratio(unknown["events_per_s"] / core["events_per_s"], at_least=0.5),
                )
            )
    if c := results.get("chain"):
        rows.append(
            (
                f"transform chain to files, {c['events']:,} events",
                f"{c['chain']['events_per_s']:,}/s ({c['chain']['seconds']} s)",
                f"bare {c['bare']['events_per_s']:,}/s ({c['bare']['seconds']} s)",
                *_ratio(c["chain_over_bare_events_per_s"], at_least=0.5),
            )
        )
        rows.append(
            (
                "  peak memory (RSS)",
                f"{c['chain']['peak_rss_mib']} MiB",
                f"bare {c['bare']['peak_rss_mib']} MiB",
                *_ratio(c["chain"]["peak_rss_mib"] / c["bare"]["peak_rss_mib"]),
            )
        )
    if m := results.get("make_run"):
        rows.append(
            (
                f"make run INPUT= ({m['events']:,} events) wall",
                f"{m['seconds']} s",
                f"bare {m['bare_seconds']} s",
                *_ratio(m["over_bare_wall"], at_most=8),
            )
        )
    if d := results.get("models"):
        worst = max(d["models"], key=lambda name: d["models"][name]["ratio"] or 0)
        rows.append(
            (
                f"model step day {d['days']} vs day 1 (worst: {worst})",
                f"{d['models'][worst]['day_n_s']} s",
                f"{d['models'][worst]['day_1_s']} s",
                *_ratio(d["worst_day_ratio"], at_most=1.5),
            )
        )
        rows.append(
            (
                f"backfill {d['days']} days vs day-by-day replay",
                f"{d['backfill_s']} s",
                f"{d['replay_s']} s",
                f"{d['backfill_over_replay']:.3f}",
                "equal tables",
                _holds(d["row_counts_equal"]),
            )
        )
    if s := results.get("streaming"):
        lat = s["latency_s"]
        rows.append(
            (
                f"streaming publish -> queryable, {s['events']:,} at {s['rate_per_s']}/s",
                f"p50 {lat['p50']} s, p95 {lat['p95']} s",
                f"{lat['samples']} samples",
                "-",
                "-",
                _holds(all(s["checks"].values())),
            )
        )
    if w := results.get("storage_write"):
        rows.append(
            (
                f"Storage Write API vs insertAll, {w['rows']:,} rows (emulator)",
                f"{w['storage_write']['rows_per_s']:,}/s ({w['storage_write']['seconds']} s)",
                f"insertAll {w['insert_all']['rows_per_s']:,}/s ({w['insert_all']['seconds']} s)",
                f"{w['ratio']:.2f}",
                "none: the emulator's cost a row is not BigQuery's",
                _holds(w["reconciled"]),
            )
        )
        rows.append(
            (
                "  bytes a row: protocol buffer vs JSON",
                f"{w['proto_bytes_per_row']} B",
                f"{w['json_bytes_per_row']} B",
                *_ratio(w["proto_bytes_per_row"] / w["json_bytes_per_row"]),
            )
        )
    header = ("figure", "value", "baseline (same run)", "ratio", "target", "holds")
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def merged(path: Path, results: dict[str, Any], chosen: list[str]) -> dict[str, Any]:
    """What to write to ``path``: a run of every section as it is; a run of some sections
    (``--only``) over the figures already there, so the others keep theirs. The file's
    ``started``, ``machine`` and ``wall_seconds`` stay those of the run that wrote most of it;
    each section run now carries its own ``started`` and ``machine``."""
    if set(SECTIONS) <= set(chosen) or not path.exists():
        return results
    try:
        previous = json.loads(path.read_text())
    except (OSError, ValueError):
        return results
    if not isinstance(previous, dict):
        return results
    for name in chosen:
        previous[name] = {**results[name], "started": results["started"], "machine": results["machine"]}
    return previous


def _holds(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "NO")


def _ratio(ratio: float, at_least: float | None = None, at_most: float | None = None) -> tuple[str, str, str]:
    """A figure's ratio, target and whether it holds: at least ``at_least``, at most ``at_most``,
    or with no target ("-")."""
    if at_least is not None:
        return f"{ratio:.2f}", f">= {at_least:g}", _holds(ratio >= at_least)
    if at_most is not None:
        return f"{ratio:.2f}", f"<= {at_most:g}", _holds(ratio <= at_most)
    return f"{ratio:.2f}", "-", ""


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module's docstring); errors raise, :func:`run_command` ends them."""
    parser = ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run, of {', '.join(SECTIONS)} (default: all)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS,
        help=f"the results file; a run of some sections keeps the others' (default: bench/{RESULTS.name})",
    )
    parser.add_argument(
        "--messages",
        type=int,
        default=100_000,
        help="messages in the deterministic sample of the chain and make_run sections (default: 100000)",
    )
    args = parser.parse_args(argv)
    if args.messages < 1_000:
        raise UsageError(f"--messages {args.messages}: give at least 1000")
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        nearest = difflib.get_close_matches(unknown[0], SECTIONS, n=len(SECTIONS), cutoff=0)
        raise UsageError(
            f"--only: unknown section {unknown[0]!r}; the sections, nearest first: {', '.join(nearest)}"
        )
    workdir = Path(tempfile.mkdtemp(prefix="eventharbor-bench-"))
    context: dict[str, Any] = {"workdir": workdir}
    if {"chain", "make_run"} & set(chosen):
        print("bench: writing the deterministic sample ...", file=sys.stderr, flush=True)
        context["sample"] = bench_sample(workdir / "sample", args.messages)
    results: dict[str, Any] = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
    }
    started = time.perf_counter()
    # SIGTERM and SIGHUP, like Ctrl-C, raise Stopped: each section's children are stopped by pid.
    with stop_on_signals():
        for name in chosen:
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            section_started = time.perf_counter()
            results[name] = RUNNERS[name](context)
            results[name]["section_seconds"] = round(time.perf_counter() - section_started, 1)
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(merged(args.out, results, chosen), indent=2, default=str) + "\n")
    print(table(results))
    print(f"(wall {results['wall_seconds']} s; figures in {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, "python -m bench"))
