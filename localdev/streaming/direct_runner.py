"""Every change the harness makes to Beam's bundle-based streaming DirectRunner, in the child
process only (:mod:`localdev.streaming.child`); nothing here runs on Dataflow.

The patches replace private DirectRunner internals of apache-beam :data:`BEAM_VERSION` (the
version ``setup.py`` pins), so :func:`adapt_direct_runner` refuses any other version
(:func:`check_beam_version`): on a new Beam, check each ``_patch_*`` function below against its
source, then update :data:`BEAM_VERSION`.

Measured on 2 cores, Beam 2.77, a backlog of 12,000 events: stock runner ~11 events/s and
falling as event_ids accumulate; adapted ~70 events/s.

One DirectRunner behaviour is worked around from outside instead: its Pub/Sub read acknowledges
messages as soon as it pulls them (see :mod:`localdev.streaming.checkpoints`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BEAM_VERSION = "2.77.0"


class UnsupportedBeamVersion(RuntimeError):
    """The installed apache-beam is not the one these patches were written for."""


def check_beam_version() -> None:
    """Raise :class:`UnsupportedBeamVersion` (one line: written for, found, what to do) unless
    ``apache_beam.__version__`` is :data:`BEAM_VERSION`."""
    import apache_beam

    found = apache_beam.__version__
    if found != BEAM_VERSION:
        raise UnsupportedBeamVersion(
            f"localdev/streaming/direct_runner.py patches DirectRunner internals of apache-beam "
            f"{BEAM_VERSION}, but apache-beam {found} is installed: install the version setup.py pins "
            f"(make install), or check each _patch_* function against Beam {found} and update BEAM_VERSION"
        )


@dataclass(frozen=True)
class RunnerAdaptation:
    """What the child changes in the DirectRunner (each patch below says why).

    - ``fix_counters``: each bundle gets a fresh state sampler (:func:`_patch_counters`).
    - ``forget_empty_keys``: a key whose state is empty is dropped (:func:`_patch_forget_empty_keys`).
    - ``timer_scan_every_s``: the scan of every key for timers runs at most this often, so
      event-time timers fire up to this late (:func:`_patch_timer_scan`).
    - ``pull_max_messages``: the Pub/Sub read asks for this many messages per bundle instead of
      10 (:class:`_SubscriberAdapter`).
    - ``idle_pull_s`` (0: stock): the pull returns at once and, when it got nothing, after
      sleeping this long, so the read's watermark keeps moving on an idle subscription.
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
        """The child's command-line options for this adaptation (:mod:`localdev.streaming.child`)."""
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


def adapt_direct_runner(adaptation: RunnerAdaptation) -> None:
    """Apply ``adaptation`` to Beam's DirectRunner in this process; each patch is applied once
    however often this is called. Raises :class:`UnsupportedBeamVersion` first, patching
    nothing, on another Beam version."""
    check_beam_version()
    if adaptation.fix_counters:
        _patch_counters()
    if adaptation.forget_empty_keys:
        _patch_forget_empty_keys()
    if adaptation.timer_scan_every_s > 0:
        _patch_timer_scan(adaptation.timer_scan_every_s)
    _patch_pubsub_read(adaptation)
    if adaptation.idle_pull_s > 0:
        warnings.filterwarnings("ignore", message="The return_immediately flag is deprecated")
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        # Not a runner patch: Beam otherwise spends ~30 s retrying to find Application Default
        # Credentials on the first archive write. On Dataflow the workers have their own.
        from localdev.stack import connect_beam_gcs_anonymously

        connect_beam_gcs_anonymously()


def _adapted(function: Callable) -> Callable:
    function._eventharbor_adapted = True  # type: ignore[attr-defined]
    return function


def _is_adapted(function: Any) -> bool:
    return getattr(function, "_eventharbor_adapted", False)


def _patch_counters() -> None:
    """``executor.TransformExecutor.call``: run each bundle with a fresh state sampler.

    Works around: the DirectRunner's worker keeps one state sampler for its life, which caches
    each step's scoped states with the metrics container of the step's *first* bundle; later
    bundles increment that container while the runner commits their own, empty ones, so user
    counters (the reconciliation) stop at the first bundle. Dataflow does not need it: its
    workers (the SDK harness) report each bundle's counters from that bundle's own container.
    """
    from apache_beam.runners.direct import executor
    from apache_beam.runners.worker import statesampler
    from apache_beam.utils import counters as beam_counters

    call = executor.TransformExecutor.call
    if _is_adapted(call):
        return

    @_adapted
    def call_with_fresh_sampler(self, state_sampler):
        fresh = statesampler.StateSampler("", beam_counters.CounterFactory())
        statesampler.set_current_tracker(fresh)
        try:
            return call(self, fresh)
        finally:
            statesampler.set_current_tracker(state_sampler)

    executor.TransformExecutor.call = call_with_fresh_sampler


def _empty_state(state: Any) -> bool:
    """A key's state that holds nothing: no timer set, no value in any window."""
    if state is None:
        return False
    if state.global_state or any(state.timers.values()):
        return False
    return not any(any(values for values in tags.values()) for tags in state.state.values())


def _patch_forget_empty_keys() -> None:
    """``evaluation_context.EvaluationContext.handle_result``: after a bundle is committed, drop
    the keys it touched whose state is now empty (no value, no timer: the de-duplication
    timer has fired).

    Works around: the DirectRunner keeps every key's state object for ever, even once the DoFn
    has cleared it, and scans all of them for timers between tasks, so memory and the cost of
    each step grow with every event_id ever seen. Dataflow does not need it: its streaming
    backend stores state per key and keeps nothing for a key whose state and timers are cleared.
    """
    from apache_beam.runners.direct import evaluation_context

    context = evaluation_context.EvaluationContext
    handle_result = context.handle_result
    if _is_adapted(handle_result):
        return

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


def _patch_timer_scan(every_s: float) -> None:
    """``watermark_manager.WatermarkManager.extract_all_timers``: scan at most every ``every_s``
    (in between: no timer fired, the last scan's answer to "any real-time timer set?").

    Works around: the executor calls it between every two tasks, and it visits every key of
    every stateful step, so with many keys the runner spends its time looking for timers.
    Dataflow does not need it: its backend delivers the timers that are due to the workers.
    """
    from apache_beam.runners.direct import watermark_manager

    manager = watermark_manager.WatermarkManager
    extract = manager.extract_all_timers
    if _is_adapted(extract):
        return

    @_adapted
    def extract_at_most_every(self):
        now = time.monotonic()
        last = getattr(self, "_eventharbor_last_scan", None)
        if last is not None and now - last[0] < every_s:
            return [], last[1]
        fired, any_realtime = extract(self)
        self._eventharbor_last_scan = (now, any_realtime)
        return fired, any_realtime

    manager.extract_all_timers = extract_at_most_every


def _patch_pubsub_read(adaptation: RunnerAdaptation) -> None:
    """``transform_evaluator._PubSubReadEvaluator._get_subscriber_client``: hand the read a
    :class:`_SubscriberAdapter` around its subscriber client.

    Works around: the DirectRunner's Pub/Sub read pulls 10 messages per bundle, and its pull
    waits up to 30 s for messages while the read's watermark (the time of its last pull) stands
    still, so on an idle subscription windows (the archive's files) close up to 30 s late.
    Dataflow does not need it: it reads Pub/Sub with its own streaming source, which pulls in
    bulk and takes its watermark from the subscription's backlog.
    """
    from apache_beam.runners.direct import transform_evaluator

    evaluator = transform_evaluator._PubSubReadEvaluator
    get_client = evaluator.__dict__["_get_subscriber_client"].__func__
    if _is_adapted(get_client):
        return
    adapters: dict[int, _SubscriberAdapter] = {}

    @_adapted
    def adapted_client(cls, transform):
        client = get_client(cls, transform)
        if id(client) not in adapters:
            adapters[id(client)] = _SubscriberAdapter(client, adaptation)
        return adapters[id(client)]

    evaluator._get_subscriber_client = classmethod(adapted_client)


class _SubscriberAdapter:
    """The DirectRunner's Pub/Sub subscriber client with bigger (and perhaps immediate) pulls
    and, as a fault, late acks; everything else goes to the client."""

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
