"""Faults on the emulators: at-least-once in, exactly-once out (issue 11, item 3).

Each test runs the streaming pipeline as a child process (the harness in ``localdev/streaming/``)
on a subscription of its own, publishes a steady feed of unique events (every tenth one invalid;
``tests/streaming_feed.py``), injects one fault, and then prints and checks:

- published: messages published (re-sends included) and distinct event_ids;
- loaded: distinct event_ids in the raw tables plus those in dead_letter;
- lost: published event_ids that are nowhere (must be 0), and every message in the raw archive;
- duplicates: rows beyond the first per event_id in the raw tables (reported: bqemulator does no
  insertId de-duplication and BigQuery's is best effort), and in the models (must be 0):
  ``fact_events_daily`` and ``inventory_daily_balance`` rebuilt over the feed's days must count
  each event_id, each rejected message and each stock movement once;
- reconciliation: the pipeline's counters, messages in = loaded + rejected + duplicates.
"""

from __future__ import annotations

import gzip
import json
import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from localdev import stack as localstack
from localdev.stack import Emulator, create_tables
from localdev.streaming.checkpoints import Checkpoints, create_subscription
from localdev.streaming.direct_runner import RunnerAdaptation
from localdev.streaming.harness import StreamingPipeline, pipeline_argv
from localdev.streaming.polls import Landed, landed, wait_until
from localdev.streaming.publishing import SteadyPublisher
from pipeline.reconciliation import is_balanced
from schemas import STREAMS
from tests.fault_proxy import FaultProxy
from tests.streaming_feed import FeedMessage, feed
from warehouse import runner as models

RATE = 30.0  # events/s published; the adapted DirectRunner sustains ~70 on 2 cores
INVALID_EVERY = 10
ARCHIVE_WINDOW_S = 5
MODELS = ["fact_events_daily", "inventory_daily_balance"]


# --------------------------------------------------------------------------------------------
# What a test needs: a subscription, datasets, the pipeline, a feed


@dataclass
class Run:
    """One fault test's subscription, datasets, archive and pipeline."""

    name: str
    project: str
    topic: str
    subscription: str
    datasets: dict[str, str]
    client: Any
    archive: Path
    pipeline: StreamingPipeline
    archive_bucket: str | None = None  # the archive is gs://<bucket>/raw, else the local directory
    published: list[FeedMessage] = field(default_factory=list)
    statuses: list[dict] = field(default_factory=list)

    @property
    def dataset(self) -> str:
        return self.datasets["events"]

    def publish(self, messages: list[FeedMessage], rate: float = RATE) -> None:
        SteadyPublisher(self.project, self.topic, rate).publish((m.event_id, m.data) for m in messages)
        self.published.extend(messages)

    def publish_in_background(self, messages: list[FeedMessage], rate: float = RATE) -> threading.Thread:
        thread = threading.Thread(target=self.publish, args=(messages, rate), daemon=True)
        thread.start()
        return thread

    def landed(self) -> Landed:
        return landed(self.client, self.dataset)

    def envelopes(self) -> list[dict]:
        if self.archive_bucket:
            return archived(bucket=self.archive_bucket)
        return archived(self.archive)

    def wait_landed(self, timeout_s: float = 120, raw_rows: int | None = None) -> Landed:
        """Until every published event_id is in the raw tables or dead_letter (and, with
        ``raw_rows``, the raw tables hold that many rows)."""
        wanted = {m.event_id for m in self.published}

        def done() -> Landed | None:
            now = self.landed()
            complete = wanted <= now.ids() and (raw_rows is None or now.raw_total >= raw_rows)
            return now if complete else None

        return wait_until(done, timeout_s, 3, f"{self.name}: everything published lands", self.pipeline.check)

    def settle(self, quiet_s: float = 6, timeout_s: float = 90) -> dict:
        """Until the pipeline's counters have not changed for ``quiet_s``; returns its status."""
        deadline, last, since = time.monotonic() + timeout_s, None, time.monotonic()
        while time.monotonic() < deadline:
            self.pipeline.check()
            summary = (self.pipeline.status() or {}).get("summary")
            if summary != last:
                last, since = summary, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return self.pipeline.status() or {}
            time.sleep(1)
        raise AssertionError(f"{self.name}: the pipeline's counters still change after {timeout_s:.0f}s")

    def stop(self) -> dict:
        """Stop the pipeline (SIGTERM: it writes its final counters); returns that status."""
        self.pipeline.stop()
        status = self.pipeline.status() or {}
        self.statuses.append(status)
        return status


@pytest.fixture
def new_run(stack, tmp_path) -> Iterator:
    """``new_run(name, ...)`` -> a Run on the shared stack (or on the emulators given)."""
    runs: list[Run] = []
    proxies: list[FaultProxy] = []

    def make(
        name: str,
        ack_deadline_s: int = 60,
        extra: list[str] | None = None,
        adaptation: RunnerAdaptation | None = None,
        client=None,
        endpoint: str | None = None,
        env: dict[str, str] | None = None,
        archive_root: str | None = None,
        storage_endpoint: str | None = None,
    ) -> Run:
        client = client or stack.bigquery_client()
        suffix = uuid.uuid4().hex[:8]
        datasets = {"events": f"flt_ev_{suffix}", "analytics": f"flt_an_{suffix}"}
        create_tables(client, stack.project, datasets)
        topic = f"faults-{name}-{suffix}"
        subscription = create_subscription(stack.project, topic, f"{topic}-pipeline", ack_deadline_s)
        archive = tmp_path / f"archive-{name}"
        # Behind a fault proxy (REST endpoint given alone), rows go by streaming inserts, the path
        # the proxy sees; otherwise by the streaming default, the Storage Write API, on the
        # emulator's gRPC port (``storage_endpoint``, else the shared stack's).
        proxied = endpoint is not None and storage_endpoint is None
        method = ["--bigquery_write_method=streaming_inserts"] if proxied else []
        argv = pipeline_argv(
            [subscription],
            stack.project,
            datasets["events"],
            endpoint or stack.bigquery_endpoint,
            archive_root or str(archive),
            [f"--archive_window_s={ARCHIVE_WINDOW_S}", *method, *(extra or [])],
            storage_endpoint=None if proxied else storage_endpoint or stack.bigquery_storage_endpoint,
        )
        pipeline = StreamingPipeline(
            argv,
            tmp_path / f"pipeline-{name}",
            {**stack.env, **(env or {})},
            adaptation or RunnerAdaptation(),
        )
        run = Run(name, stack.project, topic, subscription, datasets, client, archive, pipeline)
        runs.append(run)
        return run

    make.proxies = proxies  # type: ignore[attr-defined]
    yield make
    for run in runs:
        run.pipeline.kill()
    for proxy in proxies:
        proxy.stop()


# --------------------------------------------------------------------------------------------
# The figures


def archived(root: Path | None = None, bucket: str | None = None, prefix: str = "") -> list[dict]:
    """Every envelope of an archive: a local directory, or gs://bucket/prefix on the emulator."""
    blobs: list[bytes] = []
    if root is not None:
        blobs = [path.read_bytes() for path in sorted(root.rglob("*.jsonl.gz"))]
    else:
        client = localstack.storage_client()
        blobs = [
            blob.download_as_bytes()
            for blob in client.list_blobs(bucket, prefix=prefix)
            if blob.name.endswith(".jsonl.gz")
        ]
    return [json.loads(line) for blob in blobs for line in gzip.decompress(blob).splitlines()]


def envelope_event_id(envelope: dict) -> str | None:
    try:
        return json.loads(envelope["data"]).get("event_id")
    except (ValueError, AttributeError, KeyError):
        return None


def model_counts(client, datasets: dict[str, str]) -> dict[str, Any]:
    """Rebuild the models over the raw tables' days; what they count, and what they should."""
    events, analytics = datasets["events"], datasets["analytics"]
    union = " UNION ALL ".join(
        f"SELECT '{s}' AS stream, event_date, event_id FROM `{events}.{s}` WHERE event_date >= '1970-01-01'"
        for s in STREAMS
    )
    [span] = list(
        client.query(
            f"SELECT MIN(d) AS lo, MAX(d) AS hi FROM (SELECT event_date AS d FROM ({union}) "
            f"UNION ALL SELECT DATE(failed_at) AS d FROM `{events}.dead_letter`)"
        ).result()
    )
    models.backfill(client, span["lo"], span["hi"], datasets=datasets, models=MODELS)
    distinct = {
        row["stream"]: row["n"]
        for row in client.query(
            "SELECT stream, COUNT(*) AS n FROM "
            f"(SELECT DISTINCT stream, event_date, event_id FROM ({union})) GROUP BY stream"
        ).result()
    }
    fact = list(
        client.query(
            f"SELECT stream, SUM(total_events) AS events, SUM(COALESCE(error_events, 0)) AS errors "
            f"FROM `{analytics}.fact_events_daily` WHERE event_type = '(all)' GROUP BY stream"
        ).result()
    )
    [rejected] = list(
        client.query(f"SELECT COUNT(DISTINCT message_id) AS n FROM `{events}.dead_letter`").result()
    )
    [stock] = list(
        client.query(
            "SELECT SUM(quantity_change) AS net FROM (SELECT event_id, ANY_VALUE(quantity_change) "
            f"AS quantity_change FROM `{events}.inventory` WHERE event_date >= '1970-01-01' "
            "GROUP BY event_id)"
        ).result()
    )
    [balance] = list(
        client.query(f"SELECT SUM(net_change) AS net FROM `{analytics}.inventory_daily_balance`").result()
    )
    model_events = {row["stream"]: row["events"] for row in fact}
    return {
        "events": {s: model_events.get(s, 0) for s in STREAMS},
        "distinct_events": {s: distinct.get(s, 0) for s in STREAMS},
        "errors": sum(row["errors"] for row in fact),
        "distinct_rejected_messages": rejected["n"],
        "stock_net": balance["net"] or 0,
        "distinct_stock_net": stock["net"] or 0,
    }


@dataclass
class Figures:
    name: str
    messages: int
    published: int
    loaded: int
    lost: int
    raw_duplicates: int
    model_duplicates: int
    dead_letter_rows: int
    reconciliation: str
    seconds: float
    notes: dict[str, Any]

    def line(self) -> str:
        notes = "  ".join(f"{k}={v}" for k, v in self.notes.items())
        return (
            f"\nFAULT {self.name}: published {self.published} event_ids ({self.messages} messages)"
            f" | loaded {self.loaded} | lost {self.lost} | duplicates raw {self.raw_duplicates}"
            f" models {self.model_duplicates} | dead-letter rows {self.dead_letter_rows}"
            f" | reconciliation {self.reconciliation} | {self.seconds:.0f}s\n      {notes}"
        )


def check(run: Run, started: float, **notes: Any) -> Figures:
    """Count, print and assert what every fault test must hold."""
    now = run.landed()
    published_ids = {m.event_id for m in run.published}
    valid_ids = {m.event_id for m in run.published if m.valid}
    lost = published_ids - now.ids()
    assert not lost, f"{run.name}: lost {len(lost)} event_ids, e.g. {sorted(lost)[:5]}"
    assert set(now.raw_rows) == valid_ids, f"{run.name}: the raw tables hold other ids than the valid ones"
    assert set(now.dead_letter_ids) == published_ids - valid_ids, f"{run.name}: unexpected dead letters"

    archive = run.envelopes()
    if archive is not None:
        in_archive = Counter(envelope_event_id(e) for e in archive)
        missing = published_ids - set(in_archive)
        assert not missing, f"{run.name}: {len(missing)} messages missing from the raw archive"
        assert all(
            {"data", "data_encoding", "attributes", "message_id", "publish_time"} <= set(e) for e in archive
        )
        notes["archive_lines"] = len(archive)

    counted = model_counts(run.client, run.datasets)
    event_excess = sum(counted["events"].values()) - sum(counted["distinct_events"].values())
    error_excess = counted["errors"] - counted["distinct_rejected_messages"]
    assert counted["events"] == counted["distinct_events"], (
        f"{run.name}: models count events twice: {counted}"
    )
    assert error_excess == 0, f"{run.name}: models count rejected messages twice: {counted}"
    assert counted["stock_net"] == counted["distinct_stock_net"], f"{run.name}: stock moved twice: {counted}"

    balanced = [is_balanced(status["summary"]) for status in run.statuses if status.get("summary")]
    reconciliation = ", ".join(
        f"in {s['summary']['messages_in']} = loaded {sum(s['summary']['loaded'].values())} + rejected "
        f"{sum(s['summary']['rejected'].values())} + duplicates {s['summary']['duplicates']}"
        for s in run.statuses
        if s.get("summary")
    )
    assert balanced and all(balanced), f"{run.name}: reconciliation does not hold: {reconciliation}"
    figures = Figures(
        name=run.name,
        messages=len(run.published),
        published=len(published_ids),
        loaded=len(now.ids() & published_ids),
        lost=len(lost),
        raw_duplicates=now.raw_duplicates,
        model_duplicates=event_excess + error_excess,
        dead_letter_rows=now.dead_letters,
        reconciliation=reconciliation,
        seconds=time.monotonic() - started,
        notes=notes,
    )
    print(figures.line())
    return figures


def wait_archived(run: Run, timeout_s: float = 60) -> list[dict]:
    """Until every published message (each copy) is in the raw archive; returns its envelopes."""
    wanted = {m.event_id for m in run.published}

    def done() -> list[dict] | None:
        envelopes = run.envelopes()
        complete = len(envelopes) >= len(run.published) and wanted <= {
            envelope_event_id(e) for e in envelopes
        }
        return envelopes if complete else None

    return wait_until(done, timeout_s, 2, f"{run.name}: every message archived", run.pipeline.check)


# --------------------------------------------------------------------------------------------
# The faults


def test_resent_after_the_dedup_window_counts_once_in_the_models(new_run):
    """Re-sends within the de-duplication window are dropped; re-sends after it are loaded
    again (BigQuery's insertId de-duplication is best effort, bqemulator has none) and the
    models still count each event once."""
    started = time.monotonic()
    run = new_run("resend", extra=["--dedup_window_s=5"])
    run.pipeline.start()
    events = feed(150, invalid_every=INVALID_EVERY)
    copies = [m for m in events if m.valid][:15]
    first: list[FeedMessage] = []
    for message in events:
        first += [message, message] if message in copies else [message]  # 15 re-sent at once
    run.publish(first)
    run.wait_landed()
    time.sleep(12)  # the ids' state expires 5 s (event time) after their last copy
    run.publish(events)  # every message again, after the window
    valid = sum(m.valid for m in events)
    landed_now = run.wait_landed(raw_rows=2 * valid)
    wait_archived(run)
    run.settle()
    status = run.stop()

    figures = check(run, started, resent_within_window=len(copies), resent_after_window=len(events))
    assert status["summary"]["duplicates"] == len(copies), "re-sends within the window are dropped"
    assert landed_now.raw_duplicates == valid, "re-sends after the window are loaded again"
    assert figures.raw_duplicates == valid


def test_ack_deadlines_expire_while_the_sink_is_slow_and_pubsub_redelivers(stack, new_run):
    """A 10 s ack deadline, acknowledgements sent 12 s late for the first ~30 s (as a runner
    that acknowledges after a slow sink does) and every insertAll answer held back 0.5 s:
    Pub/Sub redelivers, the pipeline drops the copies, nothing is lost or counted twice.

    (The DirectRunner itself acknowledges as soon as it pulls, so a slow sink alone never makes
    a deadline expire: the late acknowledgements are injected in its subscriber client.)"""
    started = time.monotonic()
    proxy = FaultProxy(stack.bigquery_endpoint, "none", insert_delay_s=0.5).start()
    new_run.proxies.append(proxy)
    adaptation = RunnerAdaptation(ack_delay_s=12, ack_delay_until=time.time() + 40)
    run = new_run("redeliver", ack_deadline_s=10, adaptation=adaptation, endpoint=proxy.url)
    run.pipeline.start()
    run.publish(feed(450, invalid_every=INVALID_EVERY))
    run.wait_landed(timeout_s=150)
    wait_until(lambda: time.time() > adaptation.ack_delay_until + 15, 120, 2, "fault over")
    proxy.insert_delay_s = 0
    wait_archived(run)
    run.settle()
    status = run.stop()

    redelivered = status["summary"]["messages_in"] - len(run.published)
    figures = check(
        run,
        started,
        redelivered=redelivered,
        dropped_as_duplicates=status["summary"]["duplicates"],
        slow_insert_calls=proxy.insert_calls,
    )
    assert redelivered > 0 and status["summary"]["duplicates"] > 0, (
        "Pub/Sub redelivered, the copies were dropped"
    )
    assert figures.raw_duplicates == 0, "every redelivery came within the de-duplication window"


def test_pipeline_killed_mid_run_and_restarted_on_the_same_subscription(new_run):
    """kill -9 while events stream in; the subscription is rewound to a snapshot taken before
    anything then in flight was read, and a new pipeline resumes on it: nothing is lost, what
    is read twice the models count once.

    (The DirectRunner acknowledges messages as soon as it pulls them, so what it held in memory
    when killed would be lost without the rewind: Dataflow acknowledges after its checkpoint.)"""
    started = time.monotonic()
    run = new_run("restart")
    in_flight_s = ARCHIVE_WINDOW_S + 10
    checkpoints = Checkpoints(run.subscription, in_flight_s=in_flight_s, every_s=3).start()
    try:
        run.pipeline.start()
        first_pull = time.time()
        publishing = run.publish_in_background(feed(1200, invalid_every=INVALID_EVERY))
        wait_until(lambda: len(run.landed().ids()) >= 700, 120, 2, "events landed", run.pipeline.check)
        before_kill = len(run.landed().ids())
        run.statuses.append({})  # a killed pipeline leaves no final counters
        killed_at = time.time()
        run.pipeline.kill()
        rewound_to = checkpoints.rewind(killed_at)
        run.pipeline.start()
        publishing.join(timeout=120)
        run.wait_landed(timeout_s=150)
        wait_archived(run)
        run.settle()
        run.stop()
    finally:
        checkpoints.stop()

    figures = check(
        run,
        started,
        landed_before_kill=before_kill,
        rewound_s_before_kill=round(killed_at - rewound_to, 1),
        restarts=run.pipeline.starts - 1,
    )
    assert first_pull < rewound_to <= killed_at - in_flight_s, "resumed from a checkpoint taken mid-run"
    assert figures.raw_duplicates < before_kill, "only what was read after the checkpoint is read again"


def _restartable(tmp_path_factory, folder: str, make: Callable[..., Emulator]) -> Iterator[Emulator]:
    """An emulator of its own (``make(log_dir, data_dir=...)``), its data on disk, so it can be
    stopped and started again on the same port."""
    root = tmp_path_factory.mktemp(folder)
    emulator = make(root / "logs", data_dir=root / "data")
    emulator.start()
    yield emulator
    emulator.stop()
    shutil.rmtree(root / "data", ignore_errors=True)


@pytest.fixture(scope="module")
def restartable_bigquery(tmp_path_factory) -> Iterator[Emulator]:
    """A bqemulator of its own, persistent, so it can be stopped and started on the same port."""
    yield from _restartable(tmp_path_factory, "bq-restart", localstack.bigquery_emulator)


def _bigquery_outage(run, emulator: Emulator) -> tuple[float, int, dict]:
    """Start ``run``'s pipeline and publish 900 messages; once 150 rows are in, stop ``emulator``
    for 15 s and start it again; wait until everything landed and was archived, and stop the
    pipeline. Returns the outage's seconds, the raw rows at the restart and the final status."""
    run.pipeline.start()
    publishing = run.publish_in_background(feed(900, invalid_every=INVALID_EVERY))
    wait_until(lambda: len(run.landed().raw_rows) >= 150, 120, 2, "first rows", run.pipeline.check)
    emulator.stop()
    stopped = time.monotonic()
    time.sleep(15)
    run.pipeline.check()
    emulator.start()
    outage_s = time.monotonic() - stopped
    rows_at_restart = run.landed().raw_total
    publishing.join(timeout=120)
    run.wait_landed(timeout_s=150)
    wait_archived(run)
    run.settle()
    return outage_s, rows_at_restart, run.stop()


def test_bigquery_emulator_restarted_on_its_data_dir_while_the_pipeline_runs(new_run, restartable_bigquery):
    """bqemulator stopped for 15 s mid-stream and started again on the same data directory and
    port, behind a proxy that answers HTTP 503 while it is down: the pipeline retries with
    backoff, rows loaded before the stop are still there, nothing is lost."""
    started = time.monotonic()
    emulator = restartable_bigquery
    proxy = FaultProxy(f"http://{emulator.host}", "none").start()
    new_run.proxies.append(proxy)
    client = localstack.bigquery_client(f"http://{emulator.host}")
    run = new_run("bq-restart", client=client, endpoint=proxy.url)
    outage_s, rows_at_restart, status = _bigquery_outage(run, emulator)

    figures = check(
        run,
        started,
        outage_s=round(outage_s, 1),
        answered_503=proxy.unreachable_answers,
        rows_kept_over_restart=rows_at_restart,
    )
    assert proxy.unreachable_answers > 0, "the pipeline met the outage"
    assert rows_at_restart >= 150, "what was loaded before the stop survived the restart"
    assert status["summary"]["messages_in"] == len(run.published), "each message read once"
    assert sum(status["summary"]["loaded"].values()) == len({m.event_id for m in run.published if m.valid})
    assert figures.lost == 0


def test_bigquery_emulator_restarted_while_the_storage_write_api_appends(new_run, restartable_bigquery):
    """The streaming default (the Storage Write API, straight to the emulator's gRPC port) while
    bqemulator is stopped for 15 s and started again on its data directory and ports: appends
    fail UNAVAILABLE and are retried with backoff; the restarted emulator no longer knows the
    write streams (NOT_FOUND), so each shard opens a new one from offset 0; nothing is lost."""
    started = time.monotonic()
    emulator = restartable_bigquery
    client = localstack.bigquery_client(f"http://{emulator.host}")
    run = new_run(
        "bq-restart-swa",
        client=client,
        endpoint=f"http://{emulator.host}",
        storage_endpoint=emulator.grpc_host,
    )
    outage_s, rows_at_restart, status = _bigquery_outage(run, emulator)

    counters = status["counters"]

    def total(name: str) -> int:
        return sum(v for k, v in counters.items() if k.startswith("bigquery.") and k.endswith(f".{name}"))

    figures = check(
        run,
        started,
        outage_s=round(outage_s, 1),
        retries=total("retries"),
        streams_recreated=total("streams_recreated"),
        rewrites_recognised=total("rewrites_recognised"),
        rows_kept_over_restart=rows_at_restart,
    )
    assert total("retries") > 0, "the pipeline met the outage"
    assert total("streams_recreated") > 0, "the restarted emulator forgot the streams"
    assert rows_at_restart >= 150, "what was loaded before the stop survived the restart"
    assert status["summary"]["messages_in"] == len(run.published), "each message read once"
    assert sum(status["summary"]["loaded"].values()) == len({m.event_id for m in run.published if m.valid})
    assert figures.lost == 0


@pytest.fixture(scope="module")
def restartable_storage(tmp_path_factory) -> Iterator[Emulator]:
    """A GCS emulator of its own, on disk, so it can be stopped and started on the same port."""
    yield from _restartable(tmp_path_factory, "gcs-restart", localstack.storage_emulator)


def test_gcs_unavailable_for_a_while_archive_writes_retry(stack, new_run, restartable_storage, monkeypatch):
    """The GCS emulator stopped for 20 s while the archive is written to gs://: archive writes
    retry until it is back, every message is in the archive once it is, nothing is lost."""
    started = time.monotonic()
    emulator = restartable_storage
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://{emulator.host}")
    bucket = f"faults-{uuid.uuid4().hex[:8]}"
    localstack.storage_client(stack.project).create_bucket(bucket)
    run = new_run(
        "gcs-outage",
        env={"STORAGE_EMULATOR_HOST": f"http://{emulator.host}"},
        archive_root=f"gs://{bucket}/raw",
    )
    run.archive_bucket = bucket
    run.pipeline.start()
    publishing = run.publish_in_background(feed(600, invalid_every=INVALID_EVERY))
    wait_until(lambda: archived(bucket=bucket), 120, 2, "first archive files", run.pipeline.check)
    archived_before = len(archived(bucket=bucket))
    emulator.stop()
    time.sleep(20)
    run.pipeline.check()
    emulator.start()
    publishing.join(timeout=120)
    run.wait_landed(timeout_s=150)
    archive = wait_archived(run, timeout_s=90)
    run.settle()
    run.stop()

    check(run, started, outage_s=20, archived_before_outage=archived_before)
    by_id = Counter(envelope_event_id(e) for e in archive)
    assert set(by_id.values()) == {1}, "a retried archive write replaces its file, never adds a copy"
