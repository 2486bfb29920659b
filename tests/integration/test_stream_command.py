"""``make stream`` (``python -m localdev.live_stream``) end to end on the real emulators, as a command.

Each test runs the command in a session of its own (as a terminal's foreground job), watches
the processes it starts, and checks what it leaves behind: exit code 0, a
``stream-summary.json`` in the shape of ``run-summary.json`` that reconciles with nothing lost,
counts equal to what BigQuery held and to what the generated feed must give, window counts in
``realtime_event_metrics`` (the feed is live: its events happen as they are sent), and no
process left running. One stops after ``--duration``; the other is stopped by SIGINT sent to its
process group, as Ctrl-C in a terminal does, and must drain all the same. A third, without
emulators, checks how the feed re-times the generated messages.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from localdev.live_feed import EVENT_TIME_FIELD, LATE_S, ON_TIME_DELAY, Feed
from pipeline.reconciliation import is_balanced, reconcile
from schemas import STREAMS
from tests.watched_commands import WatchedCommand
from transforms.messages import Failure, Message
from transforms.triage import triage
from warehouse.runner import model_names

ROOT = Path(__file__).resolve().parents[2]
RATE = 10
SEED = 5
# The shape of run-summary.json (README, "What `make run` does"): the reconciliation plus the models' rows.
RUN_SUMMARY_KEYS = [*reconcile({}), "models"]
# The pipeline's default sliding windows, 60 s every 10 s: each event is in 6 of them.
WINDOWS_PER_EVENT = 60 // 10


class StreamCommand(WatchedCommand):
    """``python -m localdev.live_stream`` as a child in its own session, its descendants recorded."""

    def __init__(self, local: Path, *options: str) -> None:
        self.local = local
        local.mkdir(parents=True, exist_ok=True)
        args = ["localdev.live_stream", "--local", str(local), "--seed", str(SEED), "--rate", str(RATE)]
        super().__init__(local / "stream", [*args, *options], ROOT)

    def finish(self, timeout_s: float) -> int:
        """Wait for the exit (recording descendants meanwhile); kills its group if it hangs."""
        deadline = time.monotonic() + timeout_s
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
                raise AssertionError(f"still running after {timeout_s:.0f}s:\n{self.output()}")
            self.watch()
            time.sleep(0.5)
        return self.process.returncode

    def summary(self) -> dict[str, Any]:
        return json.loads((self.local / "stream-summary.json").read_text())


def generated_outcome(published: int) -> dict[str, Any]:
    """What the pipeline must make of the first ``published`` messages of the feed."""
    feed = Feed(SEED, RATE)
    for key, _ in itertools.islice(feed.messages(), published):
        feed.published(key, 0.0)
    return feed.expected.summary()


def check_drained_and_reconciled(command: StreamCommand, code: int) -> dict[str, Any]:
    """What both tests require of a finished command; returns the summary."""
    assert code == 0, command.output()
    summary = command.summary()
    stream = summary["stream"]
    assert list(summary) == [*RUN_SUMMARY_KEYS, "stream"]
    assert list(summary["loaded"]) == list(STREAMS)
    assert all(isinstance(n, int) for n in [*summary["loaded"].values(), *summary["rejected"].values()])
    assert list(summary["models"]) == model_names()

    assert is_balanced(summary), summary
    assert stream["published"] > 0
    assert stream["published"] == stream["read"] == summary["messages_in"] == stream["archived"]
    assert stream["lost"] == 0 and stream["balanced"] and stream["checks"]["drained"]
    assert stream["bigquery"]["loaded"] == summary["loaded"]
    assert stream["bigquery"]["dead_letters"] == summary["rejected"]
    truth = generated_outcome(stream["published"])
    assert {k: summary[k] for k in ("loaded", "rejected", "duplicates")} == {
        k: truth[k] for k in ("loaded", "rejected", "duplicates")
    }
    assert summary["rejected"] and summary["duplicates"] > 0, "a feed with defects and re-sends"
    check_window_counts(summary)
    assert all(stream["checks"].values()), stream["checks"]

    reported = set(stream["pids"].values()) | set(stream["processes_stopped"])
    assert set(stream["pids"]) == {"pipeline", "pubsub", "bigquery", "storage"}
    assert reported <= set(command.seen), (reported, command.seen)
    assert not command.still_running(), f"left running: {command.still_running()}"
    assert f"stopped   pipeline pid {stream['pids']['pipeline']}" in command.output()
    return summary


def check_window_counts(summary: dict[str, Any]) -> None:
    """``realtime_event_metrics`` has rows; each window's latest pane counts exactly the loaded
    events of its stream and event type that fall in it (late ones included); summed over the
    windows of a stream, the counts are more than nothing and at most each loaded event counted
    in all its windows."""
    metrics = summary["stream"]["metrics"]
    loaded = summary["loaded"]
    assert metrics["rows"] > 0 and metrics["windows"] > 0, metrics
    assert metrics["windows"] <= metrics["rows"] == sum(metrics["panes"].values())
    assert metrics["windows_matching_loaded"] == metrics["windows"], metrics
    assert metrics["rows_per_loaded_event"] == round(metrics["rows"] / sum(loaded.values()), 3)
    assert list(metrics["occurrences"]) == list(STREAMS)
    for stream, occurrences in metrics["occurrences"].items():
        assert 0 < occurrences <= WINDOWS_PER_EVENT * loaded[stream], (stream, metrics, loaded)


def test_stream_for_a_duration_drains_reconciles_and_stops_everything(tmp_path):
    command = StreamCommand(tmp_path / "local", "--duration", "20")

    summary = check_drained_and_reconciled(command, command.finish(timeout_s=240))

    stream = summary["stream"]
    assert stream["stopped_by"] == "duration"
    assert abs(stream["published"] - 20 * RATE) <= RATE
    assert sum(summary["models"].values()) > 0
    # The drain ends at least 6 s after the last archive window (10 s) closed: by then the first
    # windows of all but the last few seconds' events have closed, and older events' later ones
    # too, so on average each loaded event is counted at least once (none was dropped as late).
    occurrences = stream["metrics"]["occurrences"]
    assert sum(occurrences.values()) >= sum(summary["loaded"].values()), stream["metrics"]


def test_ctrl_c_stops_the_feed_then_drains_reconciles_and_stops_everything(tmp_path):
    command = StreamCommand(tmp_path / "local")
    command.wait_for("publishing to topic", timeout_s=180)
    time.sleep(15)  # the feed's first re-send is its 86th message
    os.killpg(command.process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does

    summary = check_drained_and_reconciled(command, command.finish(timeout_s=240))

    assert summary["stream"]["stopped_by"] == "interrupt"
    assert "SIGINT: stopping the feed and draining" in command.output()


def test_the_feed_is_live_and_keeps_what_the_pipeline_must_make_of_each_message():
    """Without emulators: the first simulated days as the command sends them. A valid message has
    its event time moved to about when it is sent, written as before, every other field as
    generated; a re-send is byte-identical to its re-timed original; a malformed message is sent
    as generated; each one gets from the pipeline's own triage the outcome the tally expects.
    A late share is sent 30 s to 3 min (at the feed's rate) after its place, never one that has
    a re-send (the tally must not depend on which of the two arrives first)."""
    feed = Feed(SEED, RATE)
    count = 8 * 700  # 8 simulated days: past LATE_S[1] x RATE messages
    sent = []
    for key, data in itertools.islice(feed.messages(), count):
        sent.append((key, feed.in_flight[key], data))
        feed.published(key, 0.0)
    now = datetime.now(timezone.utc)
    as_sent: dict[bytes, bytes] = {}
    for key, message, data in sent:
        outcome = triage(Message(data), now)
        code = outcome.code if isinstance(outcome, Failure) else None
        assert code == message.pubsub_error_code, (key, code, message)
        if message.duplicate:
            assert data == as_sent[message.data], key
        elif code:
            assert data == message.data, key
        else:
            as_sent[message.data] = data
            assert abs(outcome.event_time - (now - ON_TIME_DELAY)).total_seconds() < 10, (key, outcome)
            generated = json.loads(message.data, parse_float=Decimal)
            live = json.loads(data, parse_float=Decimal)
            time_field = EVENT_TIME_FIELD[message.stream]
            before, after = generated.pop(time_field), live.pop(time_field)
            assert live == generated and list(live) == list(generated), key
            assert type(before) is type(after), (key, before, after)
            if isinstance(before, str):
                assert _zone(before) == _zone(after), (key, before, after)
    assert feed.expected.summary()["messages"] == count

    rank = {key: n for n, key in enumerate(sorted((k for k, _, _ in sent), key=_day_and_index))}
    resent = {message.data for _, message, _ in sent if message.duplicate}
    late = [(n, key, message) for n, (key, message, _) in enumerate(sent) if n > rank[key]]
    assert late, "a late share"
    assert len(late) < 0.03 * count
    for n, key, message in late:
        assert not (message.duplicate or message.pubsub_error_code or message.data in resent), key
        # Sent late by its delay in messages, give or take the few other late ones held meanwhile.
        assert LATE_S[0] * RATE - 50 <= n - rank[key] <= LATE_S[1] * RATE + 50, (key, n, rank[key])


def _day_and_index(key: str) -> tuple[int, int]:
    day, index = key.split(":")
    return int(day), int(index)


def _zone(rfc3339: str) -> str:
    """The zone an RFC 3339 time is written in: "Z" or its offset ("+05:30")."""
    return "Z" if rfc3339.endswith("Z") else rfc3339[-6:]
