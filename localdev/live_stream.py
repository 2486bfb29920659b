"""``make stream``: a steady generated feed through the Pub/Sub emulator into the streaming pipeline.

``python -m localdev.live_stream [--duration S] [--rate 30]`` starts the local emulators, creates
the tables, runs the streaming pipeline on the DirectRunner as a child process (the harness in
``localdev/streaming/``) on the mixed subscription with the raw archive on the GCS emulator,
and publishes ``make stream``'s feed (``localdev/live_feed.py``) at a steady rate: one simulated
day of the shop at a time (``localdev.generator``: three streams, a few percent malformed
messages and re-sends), each day with a seed and ids of its own, for ever unless ``--duration``
is given. The feed is live: each valid event's time is set to when it is published, less a
couple of seconds, and a late share (the generator's ``late_fraction``) is held back and
published 30 s to 3 min after its event time, well inside the pipeline's allowed lateness, so
``realtime_event_metrics`` fills as the run goes, late panes included. Live counts (tqdm, on
stderr) come from the pipeline's status file: published, read, loaded, rejected, duplicates, backlog.

Ctrl-C (SIGINT; SIGTERM and SIGHUP too) or the end of ``--duration`` stops the feed; then it
drains (waits until everything published has been read, written and archived and the counters
are quiet, at most ``--drain-timeout`` s), stops the pipeline, back-fills the models over the
streamed events' dates, stops every emulator by its pid, prints the reconciliation and writes
``.local/stream-summary.json`` in the shape of ``run-summary.json`` plus a ``stream`` key (which
also tells what ``realtime_event_metrics`` holds: see :func:`metric_figures`).
Ctrl-C before the feed has started, or once it has stopped (a second one, or one during the
drain after ``--duration``), stops at once (:mod:`localdev.interrupts`): the children are still
stopped by pid, no summary is written. The children run in sessions of their own, so the
terminal's Ctrl-C reaches this process only. Exit code 0 when the run reconciles with nothing
lost, 1 otherwise, 130 when stopped at once.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from localdev.demo import event_date_range
from localdev.interrupts import Interrupts, stop_on_signals
from localdev.live_feed import EVENT_TIME_FIELD, RATE, Feed
from localdev.stack import MIXED, local_stack
from localdev.streaming.direct_runner import RunnerAdaptation
from localdev.streaming.harness import Drain, StreamingPipeline, drain, pipeline_argv
from localdev.streaming.polls import held
from localdev.streaming.processes import process_tree
from localdev.streaming.publishing import SteadyPublisher
from pipeline.commands import ArgumentParser, run_command
from pipeline.reconciliation import format_summary, is_balanced
from schemas import STREAMS
from transforms.messages import EVENT_TYPE_FIELD
from warehouse import runner as models

LOCAL = Path(".local")
SOURCE = "eventharbor-stream"
# Archive files every 10 s instead of the job's 60, and an idle read that returns within 0.5 s
# (RunnerAdaptation.idle_pull_s): a drain waits for the last archive file to be written.
ARCHIVE_WINDOW_S = 10
IDLE_PULL_S = 0.5


class LiveCounts:
    """A tqdm bar on stderr: messages published (count, rate), and from the pipeline's status
    file the messages it has read, what became of them and the backlog (published, not read)."""

    def __init__(self, total: int | None) -> None:
        self.bar = tqdm(
            desc="published",
            total=total,
            unit="msg",
            file=sys.stderr,
            dynamic_ncols=True,
            smoothing=0.1,
            mininterval=1 if sys.stderr.isatty() else 15,
        )

    def show(self, published: int, status: dict[str, Any]) -> None:
        summary = status.get("summary") or {}
        read = summary.get("messages_in", 0)
        self.bar.set_postfix(
            read=read,
            loaded=sum(summary.get("loaded", {}).values()),
            rejected=sum(summary.get("rejected", {}).values()),
            duplicates=summary.get("duplicates", 0),
            backlog=published - read,
            refresh=False,
        )
        self.bar.update(published - self.bar.n)

    def feed_stopped(self, published: int) -> None:
        """The feed is over: ``published`` is the final count."""
        self.bar.total = published
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (and is not a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def run_stream(
    duration_s: float | None,
    rate: float,
    seed: int,
    local: Path,
    drain_timeout_s: float,
    interrupts: Interrupts,
    pipeline_options: list[str] | None = None,
) -> dict[str, Any]:
    """The whole ``make stream`` run; returns the summary (see the module docstring).
    ``pipeline_options`` go to the pipeline after the stream's own (``--window_size_s=120``)."""
    workdir = local / "stream"
    feed = Feed(seed, rate)
    processes: dict[str, list[int]] = {}
    with local_stack(workdir / "stack") as stack:
        for name, emulator in stack.emulators.items():
            print(f"started {name:<8} {emulator.host}  pid {emulator.pid}", flush=True)
        argv = pipeline_argv(
            [stack.subscriptions[MIXED]],
            stack.project,
            "events",
            stack.bigquery_endpoint,
            f"gs://{stack.bucket}/raw",
            [f"--archive_window_s={ARCHIVE_WINDOW_S}", *(pipeline_options or [])],
            storage_endpoint=stack.bigquery_storage_endpoint,
        )
        pipeline = StreamingPipeline(
            argv, workdir / "pipeline", stack.env, RunnerAdaptation(idle_pull_s=IDLE_PULL_S)
        ).start()
        print(f"started pipeline (DirectRunner)  pid {pipeline.pid}  log {pipeline.log_path}", flush=True)
        try:
            pipeline.wait_started()
            pids = {"pipeline": pipeline.pid} | {name: e.pid for name, e in stack.emulators.items()}
            processes = {name: process_tree(pid) for name, pid in pids.items() if pid is not None}
            feed_s, published, stopped_by, drained = _feed_and_drain(
                stack.project, pipeline, feed, rate, duration_s, drain_timeout_s, interrupts
            )
            pipeline.stop()
            final = pipeline.status() or drained.status
            client = stack.bigquery_client()
            in_bigquery = held(client, "events")
            metrics = metric_figures(client, "events", sum(in_bigquery["loaded"].values()))
            dates = event_date_range(client)
            if dates:
                print(f"back-filling the models over {dates[0]} .. {dates[1]}", flush=True)
            model_rows = models.backfill(client, dates[0], dates[1], progress=sys.stderr) if dates else {}
        finally:
            interrupts.shield()
            pipeline.kill()
        print("stopping the emulators", flush=True)
    left_running = sorted(pid for pids in processes.values() for pid in pids if alive(pid))
    summary = final["summary"]
    expected = feed.expected.summary()
    read = summary["messages_in"]
    lost = max(0, published - read)
    balanced = is_balanced(summary)
    checks = {
        "drained": drained.drained,
        "balanced": balanced,
        "nothing_lost": lost == 0,
        "bigquery_holds_the_counts": in_bigquery["loaded"] == summary["loaded"]
        and in_bigquery["dead_letters"] == summary["rejected"],
        "feed_without_errors": stopped_by != "error",
        "as_generated": {k: summary[k] for k in ("loaded", "rejected", "duplicates")}
        == {k: expected[k] for k in ("loaded", "rejected", "duplicates")},
        "all_stopped": not left_running,
    }
    return {
        **summary,
        "models": model_rows,
        "stream": {
            "published": published,
            "read": read,
            "lost": lost,
            "balanced": balanced,
            "archived": (final.get("counters") or {}).get("archived_messages", 0),
            "rate_target_per_s": rate,
            "rate_published_per_s": round(published / feed_s, 1) if feed_s else 0.0,
            "feed_seconds": round(feed_s, 1),
            "stopped_by": stopped_by,
            "drain_seconds": round(drained.seconds, 1),
            "simulated_days": feed.days,
            "event_dates": [d.isoformat() for d in dates] if dates else [],
            "expected": expected,
            "bigquery": in_bigquery,
            "metrics": metrics,
            "pids": {name: pids[0] for name, pids in processes.items()},
            "processes_stopped": sorted(pid for pids in processes.values() for pid in pids),
            "left_running": left_running,
            "checks": checks,
        },
    }


def metric_figures(client, dataset: str, loaded: int) -> dict[str, Any]:
    """What ``realtime_event_metrics`` of ``dataset`` holds once the pipeline has stopped.

    ``rows`` (one per window pane), ``rows_per_loaded_event`` (``loaded``: rows in the raw
    tables), ``panes`` per pane_timing; ``windows`` (stream x event type x window), of them
    ``windows_matching_loaded``: those whose latest pane counts exactly the loaded events of its
    stream and event type whose time falls in the window; and per stream ``occurrences``, the
    latest panes' counts summed. An event is in window_size_s / window_period_s windows (6 by
    default), so that sum is at most 6 x the stream's loaded events, and less only by the
    windows the watermark had not yet closed.

    With no early firing, the rows beyond one per window are updates by late events; the
    DirectRunner labels many of those EARLY rather than LATE (when its output watermark is held
    behind the window's end), so ``panes`` tells how the runner labelled them, nothing more.
    """
    table = f"`{dataset}.realtime_event_metrics`"
    partitions = "DATE(window_start) >= '1970-01-01'"
    query = f"SELECT pane_timing, COUNT(*) AS n FROM {table} WHERE {partitions} GROUP BY pane_timing"
    panes = {row["pane_timing"]: row["n"] for row in client.query(query).result()}
    events = " UNION ALL ".join(
        f"SELECT '{stream}' AS stream, {EVENT_TYPE_FIELD[stream]} AS event_type, "
        f"`{EVENT_TIME_FIELD[stream]}` AS event_time FROM `{dataset}.{stream}` "
        "WHERE event_date >= '1970-01-01'"
        for stream in STREAMS
    )
    latest = (
        "SELECT stream, event_type, window_start, window_end, occurrences FROM ("
        "SELECT *, ROW_NUMBER() OVER (PARTITION BY stream, event_type, window_start, window_end "
        f"ORDER BY pane_index DESC) AS newest FROM {table} WHERE {partitions}) WHERE newest = 1"
    )
    windows = (
        f"WITH events AS ({events}), latest AS ({latest}), counted AS ("
        "SELECT w.stream, w.occurrences, COUNT(e.event_time) AS loaded FROM latest AS w "
        "LEFT JOIN events AS e ON e.stream = w.stream AND e.event_type = w.event_type "
        "AND e.event_time >= w.window_start AND e.event_time < w.window_end "
        "GROUP BY w.stream, w.event_type, w.window_start, w.window_end, w.occurrences) "
        "SELECT stream, COUNT(*) AS windows, COUNTIF(occurrences = loaded) AS matching, "
        "SUM(occurrences) AS occurrences FROM counted GROUP BY stream"
    )
    per_stream = {row["stream"]: row for row in client.query(windows).result()}
    rows = sum(panes.values())
    return {
        "rows": rows,
        "rows_per_loaded_event": round(rows / loaded, 3) if loaded else 0.0,
        "panes": dict(sorted(panes.items())),
        "windows": sum(row["windows"] for row in per_stream.values()),
        "windows_matching_loaded": sum(row["matching"] for row in per_stream.values()),
        "occurrences": {s: per_stream[s]["occurrences"] if s in per_stream else 0 for s in STREAMS},
    }


def _feed_and_drain(
    project: str,
    pipeline: StreamingPipeline,
    feed: Feed,
    rate: float,
    duration_s: float | None,
    drain_timeout_s: float,
    interrupts: Interrupts,
) -> tuple[float, int, str, Drain]:
    """Publish until ``duration_s`` or a stop request, then drain; returns (seconds fed,
    messages published, what stopped the feed, the drain)."""
    publisher = SteadyPublisher(project, MIXED, rate, attributes={"source": SOURCE})
    stop = threading.Event()
    outcome: dict[str, Any] = {}

    def publish() -> None:
        try:
            outcome["published"] = publisher.publish(feed.messages(), feed.published, stop)
        except Exception as exc:  # reported below; the feed stops, the drain still runs
            outcome["error"] = exc

    print(
        f"publishing to topic {MIXED!r} at {rate:g}/s "
        + (f"for {duration_s:g} s" if duration_s else "until Ctrl-C"),
        file=sys.stderr,
        flush=True,
    )
    live = LiveCounts(round(duration_s * rate) if duration_s else None)
    started = time.monotonic()
    thread = threading.Thread(target=publish, name="publisher", daemon=True)
    interrupts.graceful("stopping the feed and draining")
    thread.start()
    try:
        while thread.is_alive() and not interrupts.requested.wait(1.0):
            pipeline.check()
            live.show(feed.expected.messages, pipeline.status() or {})
            if duration_s is not None and time.monotonic() - started >= duration_s:
                break
        if interrupts.requested.is_set():
            stopped_by = "interrupt"
        else:
            stopped_by = "duration" if thread.is_alive() else "error"
        stop.set()
        thread.join()
        feed_s = time.monotonic() - started
        if "error" in outcome:
            tqdm.write(f"publishing failed: {outcome['error']}", file=sys.stderr)
        published = outcome.get("published", feed.expected.messages)
        live.feed_stopped(published)
        interrupts.at_once()
        tqdm.write(
            f"feed stopped ({stopped_by}) after {published:,} messages; draining (Ctrl-C: stop at once) ...",
            file=sys.stderr,
        )
        drained = drain(
            pipeline,
            published,
            timeout_s=drain_timeout_s,
            on_status=lambda status: live.show(published, status),
        )
    finally:
        stop.set()
        live.close()
    return feed_s, published, stopped_by, drained


# Why a local run shows EARLY panes without --early_firing_s (docs: README, realtime_event_metrics).
PANES_NOTE = (
    "          (EARLY panes: updates by late events, which the DirectRunner labels EARLY while its "
    "output watermark is held behind the window's end; Dataflow labels them LATE. Speculative early "
    "panes come only with --early_firing_s)"
)


def format_stream(result: dict[str, Any]) -> str:
    """The printed reconciliation: the pipeline's summary, published vs read, BigQuery, pids."""
    stream = result["stream"]
    in_bigquery = stream["bigquery"]
    metrics = stream["metrics"]
    checks = stream["checks"]
    return "\n".join(
        [
            format_summary(result),
            f"published {stream['published']:,} in {stream['feed_seconds']} s "
            f"({stream['rate_published_per_s']}/s, target {stream['rate_target_per_s']:g}/s; stopped by "
            f"{stream['stopped_by']}); read {stream['read']:,}; lost {stream['lost']}; "
            f"archived {stream['archived']:,}; "
            + (f"drained in {stream['drain_seconds']} s" if checks["drained"] else "NOT DRAINED"),
            f"bigquery  raw rows {sum(in_bigquery['loaded'].values()):,}, "
            f"dead letters {sum(in_bigquery['dead_letters'].values()):,}"
            + ("  (= the pipeline's counts)" if checks["bigquery_holds_the_counts"] else "  (!= the counts)"),
            f"metrics   {metrics['rows']:,} realtime_event_metrics rows "
            f"({metrics['rows_per_loaded_event']} per loaded event; panes "
            + ", ".join(f"{timing} {n:,}" for timing, n in metrics["panes"].items())
            + f") in {metrics['windows']:,} windows ({metrics['windows_matching_loaded']:,} "
            "count exactly the loaded events in them); latest panes count "
            + ", ".join(f"{stream} {n:,}" for stream, n in metrics["occurrences"].items()),
            *([PANES_NOTE] if metrics["panes"].get("EARLY") else []),
            f"models    {sum(result['models'].values()):,} rows in {len(result['models'])} tables "
            f"over {' .. '.join(stream['event_dates']) or 'no dates'}",
            "stopped   "
            + ", ".join(f"{name} pid {pid}" for name, pid in stream["pids"].items())
            + (f"; STILL RUNNING: {stream['left_running']}" if stream["left_running"] else ""),
            "checks    " + ", ".join(f"{name}={ok}" for name, ok in checks.items()),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="python -m localdev.live_stream",
        description="make stream: start the local emulators and the streaming pipeline (DirectRunner), "
        "and publish a live generated feed to the Pub/Sub emulator at --rate until Ctrl-C (or for "
        "--duration); then drain, back-fill the models, print the reconciliation and write "
        "stream-summary.json under --local. Ctrl-C, SIGTERM or SIGHUP during the feed drains; a second "
        "one, or one before the feed starts, stops at once. Either way the pipeline and the emulators "
        "are stopped by pid.",
    )
    parser.add_argument("--duration", type=float, help="seconds to publish (default: until Ctrl-C)")
    parser.add_argument("--rate", type=float, default=RATE, help=f"messages/s published (default {RATE:g})")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first simulated day")
    parser.add_argument("--drain-timeout", type=float, default=180.0, help="longest drain, seconds")
    parser.add_argument("--local", type=Path, default=LOCAL, help="working directory (default .local)")
    parser.add_argument(
        "pipeline_options", nargs="*", help="pipeline options after --, e.g. -- --early_firing_s=10"
    )
    args = parser.parse_args(argv)
    if args.rate <= 0 or (args.duration is not None and args.duration <= 0):
        parser.error("--rate and --duration must be positive")
    with stop_on_signals() as interrupts:
        try:
            result = run_stream(
                args.duration,
                args.rate,
                args.seed,
                args.local,
                args.drain_timeout,
                interrupts,
                args.pipeline_options,
            )
        except KeyboardInterrupt as exc:
            print(
                f"{exc}: stopped at once without draining, children stopped by pid, no summary",
                file=sys.stderr,
            )
            return 130
    out = args.local / "stream-summary.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(format_stream(result))
    print(f"(written to {out})")
    return 0 if all(result["stream"]["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(run_command(main, "python -m localdev.live_stream"))
