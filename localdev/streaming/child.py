"""The harness's child process: ``python -m localdev.streaming.child --status F [...] -- ARGS``.

It adapts the DirectRunner (:mod:`localdev.streaming.direct_runner`), runs the pipeline of
``pipeline.main`` with ``ARGS`` in streaming mode, and every ``--every`` seconds rewrites ``F``
with its Beam counters (the reconciliation of ``pipeline.reconciliation``):
``{"state", "summary", "counters", "updated"}``. SIGTERM or SIGINT: it writes its final
counters and exits 0; if the pipeline fails: exit 1; on another Beam version than the
adaptations were written for: one line on stderr, exit 2. Started by
:class:`localdev.streaming.harness.StreamingPipeline`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from localdev.streaming.direct_runner import RunnerAdaptation, UnsupportedBeamVersion, adapt_direct_runner

STATUS_EVERY_S = 2.0


def run_pipeline_child(
    status_path: Path, every_s: float, argv: list[str], adaptation: RunnerAdaptation
) -> int:
    """The child: run the streaming pipeline, rewrite ``status_path`` with its counters every
    ``every_s`` until SIGTERM (exit 0) or until the pipeline fails (exit 1)."""
    adapt_direct_runner(adaptation)
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.main import build_pipeline
    from pipeline.reconciliation import counters, reconcile

    logging.getLogger().setLevel(logging.WARNING)
    options = PipelineOptions(argv)
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, options)
    stopping, finished = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    result = pipeline.run()
    failure: list[BaseException] = []

    def watch() -> None:
        try:
            result.wait_until_finish()
        except BaseException as exc:
            failure.append(exc)
        finished.set()

    threading.Thread(target=watch, name="watch", daemon=True).start()

    def write_status(state: str) -> None:
        totals = counters(result)
        status = {"state": state, "summary": reconcile(totals), "counters": totals, "updated": time.time()}
        temporary = status_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(status))
        os.replace(temporary, status_path)

    code = 0
    while not stopping.wait(every_s):
        if finished.is_set():
            print(f"the streaming pipeline stopped: {failure[0] if failure else 'finished'}", flush=True)
            code = 1
            break
        write_status("RUNNING")
    write_status("FAILED" if code else "STOPPED")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the DirectRunner's threads do not stop on their own; nothing else to flush


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localdev.streaming.child", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--status", type=Path, required=True, help="status JSON, rewritten every --every s")
    parser.add_argument("--every", type=float, default=STATUS_EVERY_S)
    defaults = RunnerAdaptation()
    parser.add_argument("--timer-scan-every", type=float, default=defaults.timer_scan_every_s)
    parser.add_argument("--pull-max-messages", type=int, default=defaults.pull_max_messages)
    parser.add_argument("--idle-pull", type=float, default=defaults.idle_pull_s, help="see RunnerAdaptation")
    parser.add_argument("--ack-delay", type=float, default=0.0, help="fault: acknowledge this late (s)")
    parser.add_argument("--ack-delay-until", type=float, default=0.0, help="... until this epoch time")
    parser.add_argument("--stock-counters", action="store_true", help="do not fix Beam's counters")
    parser.add_argument("--keep-empty-keys", action="store_true", help="keep every key's state for ever")
    parser.add_argument("pipeline_args", nargs=argparse.REMAINDER, help="-- then pipeline.main options")
    args = parser.parse_args(argv)
    adaptation = RunnerAdaptation(
        fix_counters=not args.stock_counters,
        forget_empty_keys=not args.keep_empty_keys,
        timer_scan_every_s=args.timer_scan_every,
        pull_max_messages=args.pull_max_messages,
        idle_pull_s=args.idle_pull,
        ack_delay_s=args.ack_delay,
        ack_delay_until=args.ack_delay_until,
    )
    pipeline_args = args.pipeline_args[1:] if args.pipeline_args[:1] == ["--"] else args.pipeline_args
    try:
        return run_pipeline_child(args.status, args.every, pipeline_args, adaptation)
    except UnsupportedBeamVersion as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
