"""A small local streaming harness: the streaming pipeline as a child process, a steady feed
to Pub/Sub, and polls of what has landed in BigQuery. Local tooling only (the fault tests,
``make soak`` and ``make stream``).

- :class:`StreamingPipeline` runs ``python -m localdev.streaming pipeline --status F -- ARGS``:
  the pipeline of ``pipeline.main`` on the DirectRunner in streaming mode, which every
  ``status_every_s`` writes its Beam counters (the reconciliation of
  ``pipeline.reconciliation``) to ``F``. It is started, stopped (SIGTERM, then SIGKILL) or
  killed by its pid, and can be started again on the same subscription. :func:`drain` waits
  until it has read, written and archived everything published and its counters are quiet.
- :func:`feed` makes unique events of the three streams (event time: now), a few of them
  invalid; :class:`SteadyPublisher` publishes them at a steady rate; :class:`Outcomes` tallies
  what the pipeline must make of generated messages (``localdev.generator``).
- :func:`landed` / :func:`held` / :func:`wait_until` poll BigQuery for what has arrived.
- :class:`Checkpoints`: Pub/Sub snapshots of the subscription, so a pipeline that was killed
  can be restarted from a point where everything it had read was already written.
- :class:`RunnerAdaptation`: what the child changes in Beam's bundle-based streaming
  DirectRunner so that it counts, keeps its memory bounded and keeps up (~11 -> ~70 events/s
  on 2 cores), plus an injectable fault (late acknowledgements).

Why checkpoints: on the DirectRunner, ``ReadFromPubSub`` acknowledges messages as soon as it
pulls them (Beam's own note in ``_PubSubReadEvaluator``: "Because of the AutoAck, we are not
able to reread messages"), while they are still on their way to BigQuery and the archive.
Dataflow acknowledges only after its checkpoint, so it loses nothing in a crash; a killed
DirectRunner pipeline would lose what was in flight. Restarting from a snapshot taken at
least the pipeline's in-flight time before the kill redelivers those messages; what was
already written is written again (BigQuery's insertId de-duplication is best effort, the
models count each event once).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.reconciliation import is_balanced
from schemas import STREAMS

if TYPE_CHECKING:
    from localdev.generator import SampleMessage

PARTITIONS = "event_date >= '1970-01-01'"
STATUS_EVERY_S = 2.0


# --------------------------------------------------------------------------------------------
# The pipeline, as a child process


def pipeline_argv(
    subscriptions: Sequence[str],
    project: str,
    dataset: str,
    bigquery_endpoint: str,
    archive_root: str | None = None,
    extra: Sequence[str] = (),
    storage_endpoint: str | None = None,
) -> list[str]:
    """``pipeline.main`` options for a local streaming run; ``storage_endpoint``: the emulator's
    gRPC ``host:port``, which the default write method (the Storage Write API) needs."""
    argv = [
        "--source=pubsub",
        "--streaming",
        f"--subscriptions={','.join(subscriptions)}",
        f"--project={project}",
        f"--dataset={dataset}",
        f"--bigquery_endpoint={bigquery_endpoint}",
    ]
    if archive_root:
        argv.append(f"--archive_root={archive_root}")
    if storage_endpoint:
        argv.append(f"--bigquery_storage_endpoint={storage_endpoint}")
    return argv + list(extra)


@dataclass
class StreamingPipeline:
    """The streaming pipeline in a child process, started, stopped and killed by its pid.

    Each start gets its own log (``workdir/pipeline-N.log``) and status file
    (``workdir/status-N.json``: ``{"state", "summary", "counters", "updated"}``).
    """

    argv: list[str]
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    adaptation: RunnerAdaptation = field(default_factory=lambda: RunnerAdaptation())
    status_every_s: float = STATUS_EVERY_S
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"pipeline-{self.starts}.log"

    @property
    def status_path(self) -> Path:
        return self.workdir / f"status-{self.starts}.json"

    def start(self) -> StreamingPipeline:
        if self.running():
            raise RuntimeError(f"the pipeline is already running (pid {self.pid})")
        self.starts += 1
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.status_path.unlink(missing_ok=True)  # a previous run's file in the same workdir
        command = [
            sys.executable,
            "-m",
            "localdev.streaming",
            "pipeline",
            "--status",
            str(self.status_path),
            "--every",
            str(self.status_every_s),
            *self.adaptation.arguments(),
            "--",
            *self.argv,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                start_new_session=True,
            )
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check(self) -> None:
        """Raise, with the log's tail, if the child has exited."""
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"the streaming pipeline exited with code {self.process.returncode}; "
                f"see {self.log_path}:\n{log_tail(self.log_path)}"
            )

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM (the child writes its final counters and exits), then SIGKILL after ``timeout_s``."""
        if not self.running():
            return
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: a crash. Nothing is flushed, nothing is drained."""
        if not self.running():
            return
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def status(self) -> dict[str, Any] | None:
        """The child's latest status file (this start's), or None before the first one."""
        try:
            return json.loads(self.status_path.read_text())
        except (OSError, ValueError):
            return None

    def wait_started(self, timeout_s: float = 300.0, every_s: float = 0.5) -> dict[str, Any]:
        """Wait for the first status: the child has built the graph and started reading.

        Raises (with the log's tail) if the child exits or ``timeout_s`` passes first.
        """
        deadline = time.monotonic() + timeout_s
        while (status := self.status()) is None:
            self.check()
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the streaming pipeline wrote no status in {timeout_s:.0f}s; "
                    f"see {self.log_path}:\n{log_tail(self.log_path)}"
                )
            time.sleep(every_s)
        return status

    def rss_mib(self) -> float:
        """Resident memory of the child process (and any children of it), MiB."""
        if not self.running():
            return 0.0
        assert self.process is not None
        return sum(rss_kib(pid) for pid in process_tree(self.process.pid)) / 1024


def accounted(status: dict[str, Any], published: int) -> bool:
    """Whether a status shows ``published`` messages read, each one loaded, rejected or counted
    as a duplicate (balanced), and every one archived."""
    summary = status.get("summary")
    if not summary:
        return False
    archived = (status.get("counters") or {}).get("archived_messages", 0)
    read = summary["messages_in"]
    return read >= published and is_balanced(summary) and archived >= read


@dataclass(frozen=True)
class Drain:
    """How :func:`drain` ended: the last status, whether everything was accounted for, when."""

    status: dict[str, Any]
    drained: bool
    seconds: float


def drain(
    pipeline: StreamingPipeline,
    published: int,
    quiet_s: float = 6.0,
    stalled_s: float = 60.0,
    timeout_s: float = 180.0,
    every_s: float = 1.0,
    on_status: Callable[[dict[str, Any]], None] | None = None,
) -> Drain:
    """Wait until the pipeline has accounted for ``published`` messages (:func:`accounted`) and
    its counts have not changed for ``quiet_s`` (the last rows and archive files are written).

    Gives up when nothing has changed for ``stalled_s`` (the rest is lost) or after
    ``timeout_s``. ``on_status`` sees each status polled (every ``every_s``).
    """
    started = time.monotonic()
    last: tuple[Any, Any] | None = None
    changed_at = started
    while True:
        pipeline.check()
        status = pipeline.status() or {}
        if on_status:
            on_status(status)
        now = time.monotonic()
        counts = (status.get("summary"), (status.get("counters") or {}).get("archived_messages"))
        if counts != last:
            last, changed_at = counts, now
        if accounted(status, published) and now - changed_at >= quiet_s:
            return Drain(status, True, now - started)
        if now - changed_at >= stalled_s or now - started >= timeout_s:
            return Drain(status, False, now - started)
        time.sleep(every_s)


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` from /proc (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


@dataclass(frozen=True)
class RunnerAdaptation:
    """How the child adapts Beam's bundle-based streaming DirectRunner (local runs only).

    Measured on 2 cores, Beam 2.77, a backlog of 12,000 events: stock runner ~11 events/s
    and falling as event_ids accumulate; adapted ~70 events/s.

    - ``fix_counters``: the runner's worker keeps one state sampler for its life, which caches
      each step's scoped states with the metrics container of the step's *first* bundle; later
      bundles increment that container while the runner commits their own, empty ones, so user
      counters stop at the first bundle. Each bundle here gets a fresh sampler.
    - ``forget_empty_keys``: the runner keeps every key's state object for ever, even once the
      DoFn has cleared it, and scans all of them for timers between tasks, so memory and the
      cost of each step grow with every event_id ever seen. A key whose state is empty (no
      value, no timer: the de-duplication timer has fired) is dropped, as Dataflow does.
    - ``timer_scan_every_s``: that scan runs at most this often (event-time timers fire up to
      this late).
    - ``pull_max_messages``: its Pub/Sub read asks for 10 messages per bundle; this many here.
    - ``idle_pull_s`` (0: stock): its read's pull waits up to 30 s for messages, and the read's
      watermark (the time of its last pull) stands still meanwhile, so on an idle subscription
      windows (the archive's files) close up to 30 s late. With ``idle_pull_s`` the pull returns
      at once and, when it got nothing, after sleeping this long: the watermark keeps moving.
    - anonymous GCS credentials at once when ``STORAGE_EMULATOR_HOST`` is set (Beam otherwise
      spends ~30 s retrying to find Application Default Credentials on the first archive write).
    - ``ack_delay_s`` (fault injection, 0: off): the read's acknowledgements are sent this late,
      until ``ack_delay_until`` (epoch seconds), as by a runner that acknowledges after a slow
      sink; past the subscription's ack deadline Pub/Sub redelivers those messages.
    """

    fix_counters: bool = True
    forget_empty_keys: bool = True
    timer_scan_every_s: float = 0.5
    pull_max_messages: int = 100
    idle_pull_s: float = 0.0
    ack_delay_s: float = 0.0
    ack_delay_until: float = 0.0

    def arguments(self) -> list[str]:
        return (
            [
                f"--timer-scan-every={self.timer_scan_every_s}",
                f"--pull-max-messages={self.pull_max_messages}",
                f"--idle-pull={self.idle_pull_s}",
                f"--ack-delay={self.ack_delay_s}",
                f"--ack-delay-until={self.ack_delay_until}",
            ]
            + ([] if self.fix_counters else ["--stock-counters"])
            + ([] if self.forget_empty_keys else ["--keep-empty-keys"])
        )


class _SubscriberAdapter:
    """The DirectRunner's Pub/Sub subscriber client with bigger (and perhaps immediate) pulls
    and, as a fault, late acks."""

    def __init__(self, client: Any, adaptation: RunnerAdaptation) -> None:
        self._client = client
        self._adaptation = adaptation
        self.delayed_acks = 0

    def pull(self, subscription: str, max_messages: int, timeout: float) -> Any:
        wanted = max(max_messages, self._adaptation.pull_max_messages)
        idle_s = self._adaptation.idle_pull_s
        if idle_s <= 0:
            return self._client.pull(subscription=subscription, max_messages=wanted, timeout=timeout)
        response = self._client.pull(
            subscription=subscription, max_messages=wanted, return_immediately=True, timeout=timeout
        )
        if not response.received_messages:
            time.sleep(idle_s)
        return response

    def acknowledge(self, subscription: str, ack_ids: list[str]) -> Any:
        adaptation = self._adaptation
        if adaptation.ack_delay_s > 0 and time.time() < adaptation.ack_delay_until:
            self.delayed_acks += len(ack_ids)
            timer = threading.Timer(
                adaptation.ack_delay_s,
                self._late_ack,
                kwargs={"subscription": subscription, "ack_ids": ack_ids},
            )
            timer.daemon = True
            timer.start()
            return None
        return self._client.acknowledge(subscription=subscription, ack_ids=ack_ids)

    def _late_ack(self, subscription: str, ack_ids: list[str]) -> None:
        try:
            self._client.acknowledge(subscription=subscription, ack_ids=ack_ids)
        except Exception as exc:  # an expired ack id: the message has been redelivered
            logging.warning("late acknowledgement refused: %s", exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _empty_state(state: Any) -> bool:
    """A key's state that holds nothing: no timer set, no value in any window."""
    if state is None:
        return False
    if state.global_state or any(state.timers.values()):
        return False
    return not any(any(values for values in tags.values()) for tags in state.state.values())


def _adapted(function: Callable) -> Callable:
    function._eventharbor_adapted = True  # type: ignore[attr-defined]
    return function


def _is_adapted(function: Any) -> bool:
    return getattr(function, "_eventharbor_adapted", False)


def adapt_direct_runner(adaptation: RunnerAdaptation) -> None:
    """Apply ``adaptation`` to Beam's DirectRunner in this process (see :class:`RunnerAdaptation`)."""
    from apache_beam.runners.direct import (
        evaluation_context,
        executor,
        transform_evaluator,
        watermark_manager,
    )
    from apache_beam.runners.worker import statesampler
    from apache_beam.utils import counters as beam_counters

    call = executor.TransformExecutor.call
    if adaptation.fix_counters and not _is_adapted(call):

        @_adapted
        def call_with_fresh_sampler(self, state_sampler):
            fresh = statesampler.StateSampler("", beam_counters.CounterFactory())
            statesampler.set_current_tracker(fresh)
            try:
                return call(self, fresh)
            finally:
                statesampler.set_current_tracker(state_sampler)

        executor.TransformExecutor.call = call_with_fresh_sampler

    context = evaluation_context.EvaluationContext
    handle_result = context.handle_result
    if adaptation.forget_empty_keys and not _is_adapted(handle_result):

        @_adapted
        def handle_result_and_forget(self, completed_bundle, completed_timers, result):
            committed = handle_result(self, completed_bundle, completed_timers, result)
            keyed = self._transform_keyed_states.get(result.transform)
            if keyed is not None and result.partial_keyed_state:
                with self._lock:
                    for key in result.partial_keyed_state:
                        if _empty_state(keyed.get(key)):
                            keyed.pop(key, None)
            return committed

        context.handle_result = handle_result_and_forget

    manager = watermark_manager.WatermarkManager
    extract = manager.extract_all_timers
    if adaptation.timer_scan_every_s > 0 and not _is_adapted(extract):

        @_adapted
        def extract_at_most_every(self):
            now = time.monotonic()
            last = getattr(self, "_eventharbor_last_scan", None)
            if last is not None and now - last[0] < adaptation.timer_scan_every_s:
                return [], last[1]
            fired, any_realtime = extract(self)
            self._eventharbor_last_scan = (now, any_realtime)
            return fired, any_realtime

        manager.extract_all_timers = extract_at_most_every

    evaluator = transform_evaluator._PubSubReadEvaluator
    get_client = evaluator.__dict__["_get_subscriber_client"].__func__
    if not _is_adapted(get_client):
        adapters: dict[int, _SubscriberAdapter] = {}

        @_adapted
        def adapted_client(cls, transform):
            client = get_client(cls, transform)
            if id(client) not in adapters:
                adapters[id(client)] = _SubscriberAdapter(client, adaptation)
            return adapters[id(client)]

        evaluator._get_subscriber_client = classmethod(adapted_client)

    if adaptation.idle_pull_s > 0:
        warnings.filterwarnings("ignore", message="The return_immediately flag is deprecated")
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from localdev.stack import connect_beam_gcs_anonymously

        connect_beam_gcs_anonymously()


def run_pipeline_child(
    status_path: Path, every_s: float, argv: list[str], adaptation: RunnerAdaptation
) -> int:
    """The child: run the streaming pipeline, rewrite ``status_path`` with its counters every
    ``every_s`` until SIGTERM (exit 0) or until the pipeline fails (exit 1)."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.main import build_pipeline
    from pipeline.reconciliation import counters, reconcile

    logging.getLogger().setLevel(logging.WARNING)
    adapt_direct_runner(adaptation)
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


# --------------------------------------------------------------------------------------------
# The feed


@dataclass(frozen=True)
class FeedMessage:
    """One message of a feed and what the pipeline must make of it."""

    data: bytes
    event_id: str
    stream: str
    valid: bool


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def feed_event(n: int, run_id: str, now: datetime, invalid: bool = False) -> FeedMessage:
    """The ``n``-th event of a feed: orders, inventory and user activity in turn, each with its
    own ``event_id`` (``<run_id>-<n>``) and an event time a little before ``now``. An invalid
    one is an order whose status is not a known one (``invalid_value``, event_id kept)."""
    event_id = f"{run_id}-{n}"
    at = now - timedelta(milliseconds=n % 1000)
    stream = "orders" if invalid else STREAMS[n % len(STREAMS)]
    if stream == "orders":
        quantity = 1 + n % 5
        event: dict[str, Any] = {
            "event_type": "order",
            "event_id": event_id,
            "order_id": f"ord-{event_id}",
            "customer_id": f"cust-{n % 97}",
            "order_date": _rfc3339(at),
            "status": "lost" if invalid else "pending",
            "items": [
                {"product_id": f"p-{n % 13}", "product_name": "Mug", "quantity": quantity, "price": "4.10"},
                {"product_id": "p-tea", "product_name": "Tea", "quantity": 1, "price": "7.25"},
            ],
            "shipping_address": {"street": "1 Karl Johans gate", "city": "Oslo", "country": "no"},
            "total_amount": f"{quantity * 4.10 + 7.25:.2f}",
        }
    elif stream == "inventory":
        change = 1 + n % 7
        event = {
            "event_type": "inventory",
            "event_id": event_id,
            "inventory_id": f"inv-{event_id}",
            "product_id": f"p-{n % 13}",
            "warehouse_id": f"wh-{n % 3}",
            "quantity_change": -change if n % 2 else change,
            "reason": "sale" if n % 2 else "restock",
            "timestamp": int(at.timestamp() * 1000),
        }
    else:
        event = {
            "event_type": "user_activity",
            "event_id": event_id,
            "user_id": f"cust-{n % 97}",
            "activity_type": ("page_view", "add_to_cart", "login")[n % 3],
            "ip_address": f"203.0.113.{n % 250}",
            "user_agent": "Mozilla/5.0",
            "timestamp": _rfc3339(at),
            "metadata": {"session_id": f"sess-{n // 20}", "platform": "web"},
        }
    return FeedMessage(json.dumps(event).encode("utf-8"), event_id, stream, not invalid)


def feed(count: int, run_id: str | None = None, invalid_every: int = 0) -> list[FeedMessage]:
    """``count`` unique events (every ``invalid_every``-th one invalid; 0: none)."""
    run_id = run_id or uuid.uuid4().hex[:8]
    now = datetime.now(timezone.utc)
    return [
        feed_event(n, run_id, now, invalid=bool(invalid_every) and n % invalid_every == invalid_every - 1)
        for n in range(count)
    ]


@dataclass
class SteadyPublisher:
    """Publish to one topic at a steady rate (holding nothing per message: feeds may be endless)."""

    project: str
    topic: str
    rate_per_s: float
    attributes: dict[str, str] = field(default_factory=lambda: {"source": "eventharbor-streaming"})
    _client: Any = None

    def client(self):
        if self._client is None:
            from google.cloud import pubsub_v1

            self._client = pubsub_v1.PublisherClient()
        return self._client

    def publish(
        self,
        messages: Iterable[tuple[str, bytes]],
        on_each: Callable[[str, float], None] | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """Publish (key, data) pairs, the i-th at start + i / rate; waits for every future.

        ``on_each(key, published_at)`` is called after each publish call. Returns the count.
        """
        client = self.client()
        path = client.topic_path(self.project, self.topic)
        started = time.monotonic()
        futures, count = [], 0
        for key, data in messages:
            if stop is not None and stop.is_set():
                break
            delay = started + count / self.rate_per_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(client.publish(path, data, **self.attributes))
            count += 1
            if on_each:
                on_each(key, time.time())
            if len(futures) >= 1000:
                for future in futures:
                    future.result(timeout=120)
                futures.clear()
        for future in futures:
            future.result(timeout=120)
        return count


@dataclass
class Outcomes:
    """What the pipeline must make of generated messages published as Pub/Sub data, tallied one
    message at a time: a re-send is a duplicate, a defect is rejected with its Pub/Sub code,
    anything else is loaded into its stream's table."""

    messages: int = 0
    loaded: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STREAMS, 0))
    rejected: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0

    def add(self, message: SampleMessage) -> None:
        self.messages += 1
        if message.duplicate:
            self.duplicates += 1
        elif message.pubsub_error_code:
            code = message.pubsub_error_code
            self.rejected[code] = self.rejected.get(code, 0) + 1
        else:
            stream = message.stream or "unknown"
            self.loaded[stream] = self.loaded.get(stream, 0) + 1

    def summary(self) -> dict[str, Any]:
        """``{"messages", "loaded", "rejected", "duplicates"}``, codes sorted."""
        return {
            "messages": self.messages,
            "loaded": dict(self.loaded),
            "rejected": dict(sorted(self.rejected.items())),
            "duplicates": self.duplicates,
        }


# --------------------------------------------------------------------------------------------
# What has landed


@dataclass(frozen=True)
class Landed:
    """What a dataset holds: rows and event_ids of the raw tables, dead letters."""

    raw_rows: dict[str, int]  # event_id -> rows in the raw tables
    dead_letter_ids: dict[str, int]  # event_id (or message_id) -> dead-letter rows
    dead_letter_codes: dict[str, int]

    @property
    def raw_total(self) -> int:
        return sum(self.raw_rows.values())

    @property
    def raw_duplicates(self) -> int:
        return self.raw_total - len(self.raw_rows)

    @property
    def dead_letters(self) -> int:
        return sum(self.dead_letter_ids.values())

    def ids(self) -> set[str]:
        return set(self.raw_rows) | set(self.dead_letter_ids)


def landed(client, dataset: str) -> Landed:
    """Count what the raw tables and dead_letter of ``dataset`` hold, per event_id."""
    union = " UNION ALL ".join(
        f"SELECT event_id FROM `{dataset}.{table}` WHERE {PARTITIONS}" for table in STREAMS
    )
    raw = {
        row["event_id"]: row["n"]
        for row in client.query(f"SELECT event_id, COUNT(*) AS n FROM ({union}) GROUP BY event_id").result()
    }
    dead: dict[str, int] = {}
    codes: dict[str, int] = {}
    query = f"SELECT COALESCE(event_id, message_id) AS id, error_code FROM `{dataset}.dead_letter`"
    for row in client.query(query).result():
        dead[row["id"]] = dead.get(row["id"], 0) + 1
        codes[row["error_code"]] = codes.get(row["error_code"], 0) + 1
    return Landed(raw, dead, dict(sorted(codes.items())))


def held(client, dataset: str) -> dict[str, dict[str, int]]:
    """Row counts only (cheap however long a run): ``{"loaded": {stream: rows in its raw table},
    "dead_letters": {error_code: rows}}``."""
    union = " UNION ALL ".join(
        f"SELECT '{table}' AS stream, COUNT(*) AS n FROM `{dataset}.{table}` WHERE {PARTITIONS}"
        for table in STREAMS
    )
    loaded = {row["stream"]: row["n"] for row in client.query(union).result()}
    query = f"SELECT error_code, COUNT(*) AS n FROM `{dataset}.dead_letter` GROUP BY error_code"
    codes = {row["error_code"]: row["n"] for row in client.query(query).result()}
    return {"loaded": {s: loaded.get(s, 0) for s in STREAMS}, "dead_letters": dict(sorted(codes.items()))}


def visible_ids(client, dataset: str, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` can be queried in the raw tables now."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    listed = ", ".join("'" + i.replace("\\", "\\\\").replace("'", "\\'") + "'" for i in wanted)
    union = " UNION ALL ".join(
        f"SELECT event_id FROM `{dataset}.{table}` WHERE {PARTITIONS} AND event_id IN ({listed})"
        for table in STREAMS
    )
    return {row["event_id"] for row in client.query(union).result()}


def wait_until(
    condition: Callable[[], Any],
    timeout_s: float,
    every_s: float = 2.0,
    what: str = "condition",
    check: Callable[[], None] | None = None,
) -> Any:
    """Poll ``condition`` until it is truthy (returned) or ``timeout_s`` passes (AssertionError).
    ``check`` runs before each poll (e.g. :meth:`StreamingPipeline.check`)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if check:
            check()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not met within {timeout_s:.0f}s")
        time.sleep(every_s)


# --------------------------------------------------------------------------------------------
# Restarting from a point where nothing read was still in flight


@dataclass
class Checkpoints:
    """Pub/Sub snapshots of a subscription taken every ``every_s`` in a background thread.

    The subscription must retain acknowledged messages (``retain_acked_messages``), so a seek
    can bring them back. :meth:`rewind` seeks to the newest snapshot at least ``in_flight_s``
    older than now: every message the (killed) pipeline had pulled before that snapshot had
    reached BigQuery and the archive, and every later one is delivered again.
    """

    subscription: str
    in_flight_s: float
    every_s: float = 5.0
    taken: list[tuple[float, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _client: Any = None

    def client(self):
        if self._client is None:
            from google.cloud import pubsub_v1

            self._client = pubsub_v1.SubscriberClient()
        return self._client

    def snapshot(self) -> str:
        project = self.subscription.split("/")[1]
        name = self.client().snapshot_path(project, f"ckpt-{uuid.uuid4().hex[:12]}")
        self.client().create_snapshot(name=name, subscription=self.subscription)
        self.taken.append((time.time(), name))
        horizon = time.time() - self.in_flight_s - 4 * self.every_s
        while len(self.taken) > 2 and self.taken[1][0] < horizon:
            _, old = self.taken.pop(0)
            self.client().delete_snapshot(snapshot=old)
        return name

    def start(self) -> Checkpoints:
        self.snapshot()

        def loop() -> None:
            while not self._stop.wait(self.every_s):
                try:
                    self.snapshot()
                except Exception as exc:  # a missed snapshot only makes a rewind go further back
                    logging.warning("snapshot of %s failed: %s", self.subscription, exc)

        self._thread = threading.Thread(target=loop, name="checkpoints", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)

    def rewind(self, crashed_at: float | None = None) -> float:
        """Seek the subscription to the newest snapshot taken ``in_flight_s`` before
        ``crashed_at`` (default: now); returns the snapshot's time."""
        crashed_at = crashed_at or time.time()
        usable = [(at, name) for at, name in self.taken if at <= crashed_at - self.in_flight_s]
        if not usable:
            usable = self.taken[:1]
        at, name = usable[-1]
        self.client().seek(request={"subscription": self.subscription, "snapshot": name})
        return at


def create_subscription(
    project: str, topic: str, subscription: str, ack_deadline_s: int = 60, retain_acked: bool = True
) -> str:
    """Create ``topic`` (if new) and a subscription to it; returns the subscription path."""
    from google.api_core.exceptions import AlreadyExists
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    topic_path = publisher.topic_path(project, topic)
    with contextlib.suppress(AlreadyExists):
        publisher.create_topic(name=topic_path)
    with pubsub_v1.SubscriberClient() as subscriber:
        path = subscriber.subscription_path(project, subscription)
        subscriber.create_subscription(
            request={
                "name": path,
                "topic": topic_path,
                "ack_deadline_seconds": ack_deadline_s,
                "retain_acked_messages": retain_acked,
            }
        )
    return path


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` (0..1) percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[rank]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.streaming", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    child = commands.add_parser("pipeline", help="run the streaming pipeline, writing its counters")
    child.add_argument("--status", type=Path, required=True, help="status JSON, rewritten every --every s")
    child.add_argument("--every", type=float, default=STATUS_EVERY_S)
    defaults = RunnerAdaptation()
    child.add_argument("--timer-scan-every", type=float, default=defaults.timer_scan_every_s)
    child.add_argument("--pull-max-messages", type=int, default=defaults.pull_max_messages)
    child.add_argument("--idle-pull", type=float, default=defaults.idle_pull_s, help="see RunnerAdaptation")
    child.add_argument("--ack-delay", type=float, default=0.0, help="fault: acknowledge this late (s)")
    child.add_argument("--ack-delay-until", type=float, default=0.0, help="... until this epoch time")
    child.add_argument("--stock-counters", action="store_true", help="do not fix Beam's counters")
    child.add_argument("--keep-empty-keys", action="store_true", help="keep every key's state for ever")
    child.add_argument("pipeline_args", nargs=argparse.REMAINDER, help="-- then pipeline.main options")
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
    return run_pipeline_child(args.status, args.every, pipeline_args, adaptation)


if __name__ == "__main__":
    sys.exit(main())
