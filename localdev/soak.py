"""``make soak``: a long steady feed through the Pub/Sub emulator into the streaming pipeline.

``python -m localdev.soak [--events 100000] [--rate 40]`` starts the local emulators, the
streaming pipeline on the DirectRunner (the harness in ``localdev/streaming/``) on the mixed
subscription, and publishes a generated sample (three streams, a few percent invalid messages
and re-sends) at a steady rate. It prints, and writes to ``.local/soak-summary.json``:

- events/s: the publish rate, and what the pipeline sustained end to end (messages read per
  second from the first publish until the last message was read), with the largest backlog;
- the pipeline process's RSS at start, middle and end (and peak): bounded, since only the
  de-duplication state grows with the rate and it expires after ``--dedup-window-s``;
- publish-to-queryable latency p50/p95 over a sample of events (polled every second, so the
  figures are upper bounds with 1 s resolution);
- the reconciliation from the pipeline's counters (messages in = loaded + rejected +
  duplicates), checked against what BigQuery holds and what was generated: lost must be 0.

Ctrl-C, SIGTERM or SIGHUP stops it at once: the pipeline and the emulators are stopped by pid
(:mod:`localdev.interrupts`), no summary is written, exit code 130.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions
from tqdm import tqdm

from localdev.generator import GeneratorConfig, SampleMessage, generate
from localdev.stack import MIXED, local_stack
from localdev.streaming.direct_runner import RunnerAdaptation
from localdev.streaming.harness import StreamingPipeline, drain, pipeline_argv
from localdev.streaming.polls import landed, visible_ids
from localdev.streaming.publishing import Outcomes, SteadyPublisher
from localdev.streaming.ticker import Ticker
from pipeline import options
from pipeline.commands import ArgumentParser, run_command
from pipeline.reconciliation import is_balanced

LOCAL = Path(".local")
SAMPLE_DAYS = 14
BASE_PER_DAY = 400  # orders and sessions per day; 14 days of it is ~98,000 messages


def soak_sample(events: int, seed: int, today: date | None = None) -> list[SampleMessage]:
    """Exactly ``events`` generated messages in arrival order, all before today (no future
    timestamps). A duplicate always comes after its original, so cutting the tail keeps both."""
    today = today or datetime.now(timezone.utc).date()
    per_day = max(10, math.ceil(BASE_PER_DAY * events / 98_000 * 1.05))
    while True:
        config = GeneratorConfig(
            seed=seed,
            start=today - timedelta(days=SAMPLE_DAYS),
            days=SAMPLE_DAYS,
            orders_per_day=per_day,
            sessions_per_day=per_day,
        )
        messages = generate(config).messages
        if len(messages) >= events:
            return messages[:events]
        per_day = math.ceil(per_day * 1.1)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` (0..1) percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[rank]


def expected(messages: list[SampleMessage]) -> dict[str, Any]:
    """What the pipeline must make of ``messages`` as Pub/Sub data."""
    outcomes = Outcomes()
    for message in messages:
        outcomes.add(message)
    return outcomes.summary()


def sample_event_id(message: SampleMessage) -> str | None:
    """The producer's event_id of a valid first copy (a derived id cannot be looked up cheaply)."""
    if message.duplicate or message.pubsub_error_code:
        return None
    try:
        value = json.loads(message.data).get("event_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


@dataclass
class LatencyProbe:
    """Polls BigQuery every ``every_s`` for sampled events published but not yet seen."""

    client: Any
    dataset: str
    every_s: float = 1.0
    pending: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ticker: Ticker | None = None

    def add(self, event_id: str, published_at: float) -> None:
        with self._lock:
            self.pending[event_id] = published_at

    def poll(self) -> None:
        with self._lock:
            wanted = sorted(self.pending, key=self.pending.get)[:300]
        if not wanted:
            return
        asked_at = time.time()
        try:
            seen = visible_ids(self.client, self.dataset, wanted)
        except Exception:  # the emulator busy: try again next poll
            self.errors += 1
            return
        with self._lock:
            for event_id in seen:
                self.latencies.append(asked_at - self.pending.pop(event_id))

    def start(self) -> LatencyProbe:
        self._ticker = Ticker(self.poll, self.every_s, "latency-probe").start()
        return self

    def stop(self) -> None:
        if self._ticker:
            self._ticker.stop()


def run_soak(
    events: int,
    rate: float,
    dedup_window_s: int,
    sample_every: int,
    seed: int,
    workdir: Path,
    write_method: str = "auto",
) -> dict[str, Any]:
    wall_started = time.monotonic()
    print(f"soak: generating {events:,} messages (seed {seed}) ...", flush=True)
    messages = soak_sample(events, seed)
    truth = expected(messages)

    with local_stack(workdir / "stack") as stack:
        for name, emulator in stack.emulators.items():
            print(f"soak: started {name:<8} {emulator.host}  pid {emulator.pid}", flush=True)
        client = stack.bigquery_client()
        archive_root = f"gs://{stack.bucket}/raw"
        argv = pipeline_argv(
            [stack.subscriptions[MIXED]],
            stack.project,
            "events",
            stack.bigquery_endpoint,
            archive_root,
            [f"--dedup_window_s={dedup_window_s}", f"--bigquery_write_method={write_method}"],
            storage_endpoint=stack.bigquery_storage_endpoint,
        )
        method = options.write_method(PipelineOptions(argv))
        print(f"soak: rows go to BigQuery by {method} (--bigquery_write_method {write_method})", flush=True)
        pipeline = StreamingPipeline(argv, workdir / "pipeline", stack.env, RunnerAdaptation())
        pipeline.start()
        print(
            f"soak: started pipeline (DirectRunner)  pid {pipeline.pid}  log {pipeline.log_path}", flush=True
        )
        try:
            result = _soak(stack, client, pipeline, messages, truth, rate, sample_every, wall_started)
            return {"write_method": method, **result}
        finally:
            pipeline.kill()


def _soak(stack, client, pipeline, messages, truth, rate, sample_every, wall_started) -> dict[str, Any]:
    events = len(messages)
    pipeline.wait_started()
    rss = {"start": pipeline.rss_mib()}
    series: list[tuple[float, int, int, float, float]] = []  # (s, published, read, rss MiB, load 1 min)
    probe = LatencyProbe(client, "events").start()
    publisher = SteadyPublisher(stack.project, MIXED, rate)
    published = [0]
    bar = tqdm(
        total=events,
        unit="ev",
        desc="published",
        smoothing=0.05,
        dynamic_ncols=True,
        file=sys.stderr,
        mininterval=1 if sys.stderr.isatty() else 30,
    )
    sampled = {index for index in range(0, events, sample_every)}
    ids = [sample_event_id(m) if i in sampled else None for i, m in enumerate(messages)]

    def on_each(key: str, at: float) -> None:
        index = int(key)
        published[0] = index + 1
        if ids[index]:
            probe.add(ids[index], at)
        bar.update(1)

    publish_done_at: list[float] = []

    def publish_all() -> None:
        publisher.publish(((str(i), m.data) for i, m in enumerate(messages)), on_each)
        publish_done_at.append(time.monotonic())

    started = time.monotonic()
    thread = threading.Thread(target=publish_all, name="publisher", daemon=True)
    thread.start()
    max_backlog, middle_taken, read_done_at = 0, False, None
    last_read, last_read_change = 0, time.monotonic()
    while True:
        time.sleep(2)
        pipeline.check()
        status = pipeline.status() or {}
        read = (status.get("summary") or {}).get("messages_in", 0)
        memory = pipeline.rss_mib()
        backlog = published[0] - read
        max_backlog = max(max_backlog, backlog)
        if not middle_taken and published[0] >= events // 2:
            rss["middle"], middle_taken = memory, True
        if not series or time.monotonic() - started - series[-1][0] >= 30:
            load = round(os.getloadavg()[0], 2)
            series.append((round(time.monotonic() - started), published[0], read, round(memory, 1), load))
        bar.set_postfix(read=read, backlog=backlog, rss_mib=round(memory), refresh=False)
        if read != last_read:
            last_read, last_read_change = read, time.monotonic()
        if read >= events and read_done_at is None:
            read_done_at = time.monotonic()
        if read_done_at is not None and not thread.is_alive() and not probe.pending:
            break
        if read_done_at is not None and time.monotonic() - read_done_at > 120:
            break  # sampled events still not visible two minutes after the last read
        if not thread.is_alive() and time.monotonic() - last_read_change > 180:
            break  # nothing read for 3 minutes after the last publish: the rest is lost
    bar.close()
    thread.join()
    publish_seconds = (publish_done_at[0] if publish_done_at else time.monotonic()) - started
    # Let the last inserts and the last archive window land, then take the final figures.
    drain(pipeline, events, quiet_s=10, timeout_s=180, every_s=2)
    rss["end"] = pipeline.rss_mib()
    rss["peak"] = max([rss["start"], rss["end"], *(s[3] for s in series)])
    probe.stop()
    pipeline.stop()
    final = pipeline.status() or {}
    summary = final.get("summary") or {}
    held = landed(client, "events")
    read_seconds = (read_done_at or time.monotonic()) - started
    loaded_rows = sum(summary.get("loaded", {}).values())
    lost = events - summary.get("messages_in", 0)
    result = {
        "events": events,
        "rate_target_per_s": rate,
        "rate_published_per_s": round(events / publish_seconds, 1),
        "sustained_events_per_s": round(events / read_seconds, 1),
        "seconds_first_publish_to_last_read": round(read_seconds, 1),
        "max_backlog_messages": max_backlog,
        "pipeline_rss_mib": {k: round(v, 1) for k, v in rss.items()},
        "series": [
            {"s": s, "published": p, "read": r, "rss_mib": m, "load_1min": la} for s, p, r, m, la in series
        ],
        "machine_load_1min_mean": round(sum(x[4] for x in series) / max(len(series), 1), 2),
        "latency_s": {
            "samples": len(probe.latencies),
            "p50": round(percentile(probe.latencies, 0.50), 2),
            "p95": round(percentile(probe.latencies, 0.95), 2),
            "max": round(max(probe.latencies), 2) if probe.latencies else None,
            "never_seen": len(probe.pending),
            "poll_resolution_s": probe.every_s,
        },
        "reconciliation": {
            **summary,
            "balanced": bool(summary) and is_balanced(summary),
            "lost": lost,
            "archived_messages": (final.get("counters") or {}).get("archived_messages", 0),
        },
        "expected": truth,
        "bigquery": {
            "raw_rows": held.raw_total,
            "raw_distinct_event_ids": len(held.raw_rows),
            "raw_duplicates": held.raw_duplicates,
            "dead_letters": held.dead_letters,
            "dead_letter_codes": held.dead_letter_codes,
        },
        "wall_seconds": round(time.monotonic() - wall_started, 1),
    }
    result["checks"] = {
        "lost_is_0": lost == 0,
        "balanced": result["reconciliation"]["balanced"],
        "counters_match_bigquery": loaded_rows == held.raw_total
        and sum(summary.get("rejected", {}).values()) == held.dead_letters,
        "as_generated": summary.get("loaded") == truth["loaded"]
        and summary.get("rejected") == truth["rejected"]
        and summary.get("duplicates") == truth["duplicates"],
    }
    return result


def format_result(result: dict[str, Any]) -> str:
    r, rss, lat = result["reconciliation"], result["pipeline_rss_mib"], result["latency_s"]
    held = result["bigquery"]
    loaded, rejected = sum(r.get("loaded", {}).values()), sum(r.get("rejected", {}).values())
    return "\n".join(
        [
            f"events            {result['events']:,} published at {result['rate_published_per_s']}/s "
            f"(target {result['rate_target_per_s']:g}/s)",
            f"sustained         {result['sustained_events_per_s']} events/s end to end "
            f"({result['seconds_first_publish_to_last_read']} s first publish -> last read; "
            f"max backlog {result['max_backlog_messages']} messages)",
            f"pipeline RSS MiB  start {rss['start']}  middle {rss.get('middle')}  end {rss['end']}"
            f"  (peak {rss['peak']})",
            f"latency           publish -> queryable p50 {lat['p50']} s  p95 {lat['p95']} s "
            f"(n={lat['samples']}, polled every {lat['poll_resolution_s']:g} s)",
            f"reconciliation    in {r.get('messages_in')} = loaded {loaded} + rejected {rejected} + "
            f"duplicates {r.get('duplicates')}  {'balanced' if r['balanced'] else 'NOT BALANCED'};"
            f" lost {r['lost']}; archived {r['archived_messages']}",
            f"bigquery          by {result['write_method']}: raw rows {held['raw_rows']} "
            f"(distinct {held['raw_distinct_event_ids']}), "
            f"dead letters {held['dead_letters']}",
            f"checks            {', '.join(f'{k}={v}' for k, v in result['checks'].items())}",
            f"machine           {os.cpu_count()} cores, mean 1-min load {result['machine_load_1min_mean']}",
            f"wall time         {result['wall_seconds']} s",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="python -m localdev.soak",
        description="make soak: start the local emulators and the streaming pipeline (DirectRunner), "
        "publish --events generated messages to the Pub/Sub emulator at --rate, and report events/s, "
        "the pipeline's memory, publish-to-queryable latency and the reconciliation (printed and "
        "written to --out). Exit code 1 when a check fails. Ctrl-C, SIGTERM or SIGHUP stops "
        "everything it started, by pid (exit code 130).",
    )
    parser.add_argument("--events", type=int, default=100_000, help="messages published (default 100,000)")
    parser.add_argument("--rate", type=float, default=40.0, help="events/s published (default 40)")
    parser.add_argument("--dedup-window-s", type=int, default=600, help="the pipeline's --dedup_window_s")
    parser.add_argument("--sample-every", type=int, default=100, help="latency sample: every N-th message")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated sample")
    parser.add_argument(
        "--write-method",
        choices=options.WRITE_METHODS,
        default="auto",
        help="the pipeline's --bigquery_write_method (default auto: the Storage Write API in streaming)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=LOCAL / "soak",
        help="emulator and pipeline logs (default .local/soak)",
    )
    parser.add_argument(
        "--out", type=Path, default=LOCAL / "soak-summary.json", help="the summary JSON to write"
    )
    args = parser.parse_args(argv)
    if args.events <= 0 or args.rate <= 0 or args.sample_every <= 0:
        parser.error("--events, --rate and --sample-every must be positive")
    result = run_soak(
        args.events,
        args.rate,
        args.dedup_window_s,
        args.sample_every,
        args.seed,
        args.workdir,
        args.write_method,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(format_result(result))
    print(f"(written to {args.out})")
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(run_command(main, "python -m localdev.soak"))
