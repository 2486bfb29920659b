"""The two runs of ``make fuzz``: ``fuzz_core`` (inputs through ``line_problems``) and
``fuzz_pipeline`` (inputs in one file through ``pipeline.main.run`` on the local emulators)."""

from __future__ import annotations

import hashlib
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from localdev.fuzz.checks import IP_MODES, NOW, line_problems
from localdev.fuzz.hostile import HostileInputs, for_file
from localdev.fuzz.known import known_inputs
from pipeline.sources import line_to_message
from schemas import STREAMS
from transforms import errors
from transforms.messages import ValidEvent
from transforms.triage import triage


def _save(out: Path, line: bytes, problems: list[str]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"input-{hashlib.sha256(line).hexdigest()[:16]}.bin"
    path.write_bytes(line)
    path.with_suffix(".txt").write_text("\n".join(problems) + "\n")
    return path


def fuzz_core(count: int, seed: int, out: Path, huge: float = 0.005) -> dict[str, Any]:
    """``count`` inputs through line_to_message + triage + rows; counts per kind and per code."""
    from tqdm import tqdm

    inputs = HostileInputs(seed, huge)
    known = [("known", case.line) for case in known_inputs()]
    results: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    bad: list[tuple[str, list[str], Path]] = []
    crashes = violations = 0
    for index in tqdm(range(count), desc="core", unit="input", mininterval=1.0, file=sys.stderr):
        kind, line = known[index] if index < len(known) else inputs.line()
        kinds[kind] += 1
        outcome, problems = line_problems(line, NOW, IP_MODES[index % len(IP_MODES)])
        if outcome is None:
            results["(crash)"] += 1
        else:
            results["valid " + outcome.stream if isinstance(outcome, ValidEvent) else outcome.code] += 1
        if problems:
            crashes += outcome is None or any(" raised " in p for p in problems)
            violations += 1
            if len(bad) < 20:
                bad.append((kind, problems, _save(out, line, problems)))
    return {
        "inputs": count,
        "kinds": kinds,
        "results": results,
        "crashes": crashes,
        "violations": violations,
        "bad": bad,
    }


@dataclass(frozen=True)
class FixedClock:
    """The pipeline's clock pinned to ``moment`` (picklable), so its outcomes match ``triage``'s."""

    moment: datetime

    def __call__(self) -> datetime:
        return self.moment


def fuzz_pipeline(count: int, seed: int, root: Path, huge: float = 0.001) -> dict[str, Any]:
    """``count`` inputs in one file through the real batch pipeline on the emulators."""
    from localdev.stack import local_stack
    from pipeline import main as pipeline_main
    from pipeline.reconciliation import is_balanced

    inputs = HostileInputs(seed, huge)
    lines = [case.line for case in known_inputs()][:count]
    while len(lines) < count:
        if inputs.rng.random() < 0.03:  # an exact re-send of an earlier line
            lines.append(inputs.rng.choice(lines))
            continue
        line = for_file(inputs.line()[1])
        if line is not None:
            lines.append(line)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "hostile.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))

    predicted: Counter[str] = Counter()
    valid_ids: dict[str, str] = {}
    valid = 0
    for line in lines:
        outcome = triage(line_to_message(str(path), line), NOW)
        if isinstance(outcome, ValidEvent):
            valid += 1
            valid_ids.setdefault(outcome.event_id, outcome.stream)
        else:
            predicted[outcome.code] += 1
    report: dict[str, Any] = {
        "inputs": count,
        "file_bytes": path.stat().st_size,
        "predicted": {"valid": valid, "unique": len(valid_ids), "rejected": dict(sorted(predicted.items()))},
    }
    with local_stack(root / "stack") as stack:
        argv = [
            "--source=files",
            f"--input={path}",
            f"--project={stack.project}",
            f"--bigquery_endpoint={stack.bigquery_endpoint}",
            f"--archive_root={root / 'archive'}",
        ]
        started = time.perf_counter()
        try:
            summary = pipeline_main.run(argv, clock=FixedClock(NOW))
        except KeyboardInterrupt:  # Ctrl-C or a signal (localdev.interrupts): stop, not a finding
            raise
        except BaseException as exc:  # noqa: BLE001 - a crash of the run is the finding
            report.update(crashed=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
            return report
        report["seconds"] = round(time.perf_counter() - started, 1)
        report["summary"] = summary
        report["balanced"] = is_balanced(summary)
        client = stack.bigquery_client()

        def count_rows(table: str, where: str) -> int:
            query = f"SELECT COUNT(*) AS n FROM `events.{table}` WHERE {where}"
            return next(iter(client.query(query).result()))["n"]

        report["tables"] = {s: count_rows(s, "event_date >= '0001-01-01'") for s in STREAMS}
        report["tables"]["dead_letter"] = count_rows("dead_letter", "TRUE")
        codes = client.query("SELECT error_code, COUNT(*) AS n FROM `events.dead_letter` GROUP BY error_code")
        report["dead_letter_codes"] = {r["error_code"]: r["n"] for r in codes.result()}
        refusals = client.query(
            "SELECT error_message FROM `events.dead_letter` WHERE error_code = 'load_rejected' LIMIT 5"
        )
        report["refusals"] = [r["error_message"][:300] for r in refusals.result()]
    report["problems"] = _pipeline_problems(report, count)
    return report


def _pipeline_problems(report: dict[str, Any], count: int) -> list[str]:
    summary, predicted = report["summary"], report["predicted"]
    problems = []
    if summary["messages_in"] != count:
        problems.append(f"messages_in is {summary['messages_in']}, the file has {count} lines")
    if not report["balanced"]:
        problems.append("the run does not reconcile: in != loaded + rejected + duplicates")
    loaded = sum(summary["loaded"].values())
    refused = summary["rejected"].get(errors.LOAD_REJECTED, 0) - predicted["rejected"].get(
        errors.LOAD_REJECTED, 0
    )
    if (
        loaded + refused != predicted["unique"]
        or summary["duplicates"] != predicted["valid"] - predicted["unique"]
    ):
        problems.append(
            f"loaded {loaded} + refused {refused} / duplicates {summary['duplicates']}: triage predicted "
            f"{predicted['unique']} unique valid events and "
            f"{predicted['valid'] - predicted['unique']} duplicates"
        )
    others = {c: n for c, n in summary["rejected"].items() if c != errors.LOAD_REJECTED}
    expected = {c: n for c, n in predicted["rejected"].items() if c != errors.LOAD_REJECTED}
    if others != expected:
        problems.append(f"rejected per code {others}, triage predicted {expected}")
    if report["tables"]["dead_letter"] != sum(summary["rejected"].values()):
        problems.append(
            f"dead_letter holds {report['tables']['dead_letter']} rows, the summary says rejected"
        )
    if report["dead_letter_codes"] != summary["rejected"]:
        problems.append(f"dead_letter codes {report['dead_letter_codes']} != summary {summary['rejected']}")
    for stream in STREAMS:
        if report["tables"][stream] != summary["loaded"][stream]:
            problems.append(f"{stream} holds {report['tables'][stream]} rows, the summary says loaded")
    if summary["rejected"].get(errors.INTERNAL_ERROR):
        problems.append(f"{summary['rejected'][errors.INTERNAL_ERROR]} internal_error dead letters")
    return problems
