"""``make fuzz``: generated hostile inputs through the triage core and through the real pipeline.

1. core: ``--core`` (default 100,000) inputs, each a file line, through ``line_to_message``
   and ``triage`` (rotating over the three ``--ip_mode`` values), and every outcome through its
   row: ``dead_letter_row`` for a failure, the raw-table row for a valid event. Each input is
   checked for the properties of docs/contract.md (``line_problems``): nothing raises, exactly one
   outcome, a published code and never ``internal_error`` (a bug of ours), the same outcome when
   repeated, and a row BigQuery can take (valid Unicode, JSON-serialisable, within the size limit).
2. pipeline: ``--pipeline`` (default 10,000) more inputs written to one file and run through
   ``pipeline.main.run`` on the local emulators; the run must finish, reconcile (messages in =
   loaded + rejected + duplicates), match the outcome predicted by ``triage`` line by line, and
   the tables must hold what the summary says.

Both runs start with the catalogue of ``localdev.fuzz.known``, then draw from
``localdev.fuzz.hostile.HostileInputs`` (seeded: same seed, same inputs). Exit status 1 on any
crash, property violation or unbalanced run. Inputs that broke a property are saved under
``--out`` for replay. Ctrl-C, SIGTERM or SIGHUP stops the emulators of the pipeline run by pid
(:mod:`localdev.interrupts`), exit code 130.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from localdev.fuzz.runs import fuzz_core, fuzz_pipeline
from pipeline.commands import ArgumentParser


def _print_counts(title: str, counts: dict[str, int]) -> None:
    print(title)
    for key, value in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {key:<24}{value:>9,}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="python -m localdev.fuzz",
        description="make fuzz: generated hostile inputs through the triage core (--core) and through "
        "the real batch pipeline on the local emulators (--pipeline); every input must keep the "
        "properties of docs/contract.md and the run must reconcile.",
        epilog="Exit code 1 on a crash, a broken property or an unbalanced run. Ctrl-C, SIGTERM or "
        "SIGHUP stops the emulators of the pipeline run by pid (exit code 130).",
    )
    parser.add_argument("--core", type=int, default=100_000, help="inputs through triage (default 100,000)")
    parser.add_argument(
        "--pipeline", type=int, default=10_000, help="inputs through the batch pipeline (0: skip)"
    )
    parser.add_argument("--seed", type=int, default=20261102)
    parser.add_argument(
        "--out", type=Path, default=Path(".local/fuzz"), help="where inputs that broke a property go"
    )
    args = parser.parse_args(argv)
    failed = False
    started = time.perf_counter()

    core = fuzz_core(args.core, args.seed, args.out / "failing")
    core_seconds = time.perf_counter() - started
    print(
        f"\n== core: {core['inputs']:,} inputs through line_to_message + triage + rows "
        f"in {core_seconds:.0f} s"
    )
    _print_counts("inputs by generator:", core["kinds"])
    _print_counts("outcomes:", core["results"])
    print(f"crashes (an exception escaped): {core['crashes']}")
    print(f"inputs breaking a property (crashes, internal_error, unwritable rows, ...): {core['violations']}")
    for kind, problems, path in core["bad"]:
        print(f"  [{kind}] {path}: {'; '.join(problems)[:300]}")
    failed |= bool(core["violations"])

    if args.pipeline:
        with tempfile.TemporaryDirectory(prefix="eventharbor-fuzz-") as folder:
            started_pipeline = time.perf_counter()
            report = fuzz_pipeline(args.pipeline, args.seed + 1, Path(folder))
            wall = time.perf_counter() - started_pipeline
        print(
            f"\n== pipeline: {report['inputs']:,} inputs ({report['file_bytes']:,} bytes) "
            "through the batch pipeline"
        )
        if "crashed" in report:
            print(f"THE RUN CRASHED: {report['crashed']}\n{report['traceback']}")
            failed = True
        else:
            summary = report["summary"]
            print(f"run {report['seconds']} s (with the emulators {wall:.0f} s)")
            print(f"messages_in {summary['messages_in']:,}   duplicates {summary['duplicates']:,}")
            _print_counts("loaded:", summary["loaded"])
            _print_counts("rejected:", summary["rejected"])
            print(f"predicted by triage: {json.dumps(report['predicted'], sort_keys=True)}")
            print(f"rows in the tables: {json.dumps(report['tables'])}")
            for reason in report["refusals"]:
                print(f"  refused by BigQuery: {reason}")
            balanced = (
                "reconciled: in = loaded + rejected + duplicates" if report["balanced"] else "NOT RECONCILED"
            )
            print(balanced)
            for problem in report["problems"]:
                print(f"PROBLEM: {problem}")
            failed |= bool(report["problems"])
    print(f"\nwall time {time.perf_counter() - started:.0f} s; {'FAILED' if failed else 'OK: 0 crashes'}")
    return 1 if failed else 0
