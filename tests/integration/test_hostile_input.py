"""Hostile input through the real pipeline on the emulators: nothing stops a run, nothing is lost.

Every input class of ``localdev.fuzz.known_inputs`` (100,000-deep arrays, lone surrogates,
broken envelopes, non-UTF-8 bytes, NaN, BOMs, numbers beyond INT64 / Decimal / NUMERIC, payloads
over 1 MiB, huge but valid events, ...) goes through a batch run over one file and through a
streaming run from the Pub/Sub emulator. Each must-reject input must be one dead letter with its
code and its payload as received; each valid one must be in its table.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections import Counter

import pytest
from google.cloud import pubsub_v1

from localdev.fuzz import NOW, VALID, FixedClock, KnownInput, for_file, known_inputs, line_of, sample
from localdev.streaming.polls import wait_until
from pipeline.reconciliation import is_balanced
from tests.pipeline_runs import (
    run_batch,
    start_streaming,
    streaming_options,
    table_rows,
    write_lines,
)
from transforms.validation import MAX_PAYLOAD_BYTES

PARTITIONS = "event_date >= '0001-01-01'"
STREAMS = ("orders", "inventory", "user_activity")
CASES = known_inputs()


def event_id_and_stream(case: KnownInput) -> tuple[str, str]:
    """The event_id and stream of a valid input (its envelope's data for an archive envelope)."""
    obj = json.loads(received_data(case))
    stream = {"order": "orders", "inventory": "inventory", "user_activity": "user_activity"}[
        obj["event_type"]
    ]
    return obj["event_id"], stream


def received_data(case: KnownInput, via_pubsub: bool = False) -> bytes:
    """The message data the pipeline receives for a line: a valid archive envelope is unwrapped."""
    if via_pubsub or not case.name.startswith("valid envelope"):
        return case.line
    envelope = json.loads(case.line)
    if envelope["data_encoding"] == "base64":
        return base64.b64decode(envelope["data"])
    return envelope["data"].encode("utf-8")


def expected_payload(data: bytes) -> tuple[str, str, bool]:
    """(payload, payload_encoding, payload_truncated) a dead letter must hold for ``data``."""
    kept = data[:MAX_PAYLOAD_BYTES]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(kept).decode("ascii"), "base64", len(data) > MAX_PAYLOAD_BYTES
    return kept.decode("utf-8", "ignore"), "utf-8", len(data) > MAX_PAYLOAD_BYTES


def digest(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def dead_letter_keys(rows: list[dict]) -> Counter:
    return Counter(
        (r["error_code"], digest(r["payload"]), r["payload_encoding"], r["payload_truncated"]) for r in rows
    )


def expected_dead_letters(cases: list[KnownInput], via_pubsub: bool = False) -> tuple[Counter, dict]:
    """The dead-letter keys the cases must produce, and which case each key stands for."""
    keys: Counter = Counter()
    names = {}
    for case in cases:
        code = case.via_pubsub if via_pubsub else case.code
        if code == VALID:
            continue
        payload, encoding, truncated = expected_payload(received_data(case, via_pubsub))
        key = (code, digest(payload), encoding, truncated)
        keys[key] += 1
        names[key] = case.name
    return keys, names


def explain(expected: Counter, actual: Counter, names: dict) -> str:
    missing = [f"{names.get(k, '?')} ({k[0]})" for k in expected - actual]
    unexpected = [f"{k[0]} payload {k[1]}" for k in actual - expected]
    return f"missing dead letters: {missing}; unexpected: {unexpected}"


def test_every_known_input_is_one_file_line():
    assert all(for_file(case.line) == case.line for case in CASES), "a case holds a line break"
    assert {case.code for case in CASES} >= {
        "nesting_too_deep",
        "invalid_encoding",
        "invalid_json",
        "invalid_envelope",
        "payload_too_large",
        "not_an_object",
        VALID,
    }


def run_file(stack, path, dataset: str) -> dict:
    """The real batch pipeline over one file, its clock pinned to ``NOW`` (the cases' reference)."""
    return run_batch(
        stack, str(path), dataset, archive_root=str(path.parent / "archive"), clock=FixedClock(NOW)
    )


@pytest.fixture(scope="module")
def hostile_run(stack, tmp_path_factory):
    path = write_lines(tmp_path_factory.mktemp("hostile") / "hostile.jsonl", [case.line for case in CASES])
    dataset = stack.fresh_dataset("hostile")
    started = time.monotonic()
    summary = run_file(stack, path, dataset)  # returns normally: no input stops the run
    return dataset, summary, time.monotonic() - started


def test_the_batch_run_finishes_and_reconciles_exactly(hostile_run):
    _, summary, _ = hostile_run
    valid = [event_id_and_stream(c) for c in CASES if c.code == VALID]
    unique = set(valid)
    assert summary["messages_in"] == len(CASES)
    assert is_balanced(summary), summary
    assert summary["loaded"] == {s: sum(1 for _, stream in unique if stream == s) for s in STREAMS}
    assert summary["duplicates"] == len(valid) - len(unique) == 1
    assert summary["rejected"] == dict(sorted(Counter(c.code for c in CASES if c.code != VALID).items()))


def test_every_must_reject_line_is_a_dead_letter_with_its_code_and_payload(stack, hostile_run):
    dataset, _, _ = hostile_run
    rows = table_rows(stack, dataset, "dead_letter")
    expected, names = expected_dead_letters(CASES)
    actual = dead_letter_keys(rows)
    assert actual == expected, explain(expected, actual, names)
    for row in rows:
        assert row["error_message"], row["error_code"]
        if row["error_code"] == "invalid_envelope":
            assert "eventharbor_invalid_envelope" in row["attributes"]
    unwrapped = [r for r in rows if r["message_id"] == "m-2"]
    assert [r["error_code"] for r in unwrapped] == ["invalid_encoding"], "an envelope's message id is kept"


def test_every_valid_line_is_in_its_table(stack, hostile_run):
    dataset, _, _ = hostile_run
    expected = {s: set() for s in STREAMS}
    for case in CASES:
        if case.code == VALID:
            event_id, stream = event_id_and_stream(case)
            expected[stream].add(event_id)
    for stream in STREAMS:
        ids = [r["event_id"] for r in table_rows(stack, dataset, stream, PARTITIONS)]
        assert sorted(ids) == sorted(expected[stream]), stream
    (long_ua,) = table_rows(stack, dataset, "user_activity", "event_id = 'known-ua-long'")
    assert long_ua["user_agent"] == "\u00e9" * 450_000
    (odd,) = table_rows(stack, dataset, "user_activity", "event_id = 'known-ua-unicode'")
    assert odd["user_agent"] == "a\x00b \U0001f600 \u2028 \u202e"


def test_an_event_in_the_first_minute_of_year_1_does_not_stop_the_run(stack, tmp_path):
    first_instant = line_of(sample("inventory", "year-1-first-minute", timestamp=-62_135_596_800_000))
    path = write_lines(tmp_path / "year-1.jsonl", [first_instant, line_of(sample("orders", "after-year-1"))])
    summary = run_file(stack, path, stack.fresh_dataset("year1"))
    assert summary["loaded"] == {"orders": 1, "inventory": 1, "user_activity": 0}
    assert is_balanced(summary)


def good_events(prefix: str) -> list[bytes]:
    return [line_of(sample(stream, f"{prefix}-{stream}")) for stream in STREAMS]


def test_poison_messages_among_good_ones_do_not_stall_the_stream(stack, tmp_path):
    """Every poison message is dead-lettered and every good one loaded, also those sent after it."""
    dataset = stack.fresh_dataset("poison")
    name = f"poison-{uuid.uuid4().hex[:8]}"
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.create_topic(name=publisher.topic_path(stack.project, name)).name
    subscription = subscriber.create_subscription(
        name=subscriber.subscription_path(stack.project, name), topic=topic, ack_deadline_seconds=60
    ).name
    options = streaming_options(stack, [subscription], dataset, tmp_path / "archive")
    result = start_streaming(options, clock=FixedClock(NOW))
    before, after = good_events("stream-before"), good_events("stream-after")
    extra_poison = [(b"", "invalid_json")]  # data-less message (attributes only)
    try:
        for data in before:
            publisher.publish(topic, data, origin="poison-test").result(timeout=30)
        for case in CASES:
            publisher.publish(topic, case.line, origin="poison-test").result(timeout=60)
        for data, _ in extra_poison:
            publisher.publish(topic, data, origin="poison-test").result(timeout=30)
        for data in after:  # sent after every poison message: the stream must still reach them
            publisher.publish(topic, data, origin="poison-test").result(timeout=30)

        expected, names = expected_dead_letters(CASES, via_pubsub=True)
        for data, code in extra_poison:
            payload, encoding, truncated = expected_payload(data)
            expected[(code, digest(payload), encoding, truncated)] += 1
        wanted = {s: set() for s in STREAMS}
        for data in before + after + [c.line for c in CASES if c.via_pubsub == VALID]:
            obj = json.loads(data)
            wanted[{"order": "orders"}.get(obj["event_type"], obj["event_type"])].add(obj["event_id"])

        def loaded() -> dict[str, set[str]]:
            return {s: {r["event_id"] for r in table_rows(stack, dataset, s, PARTITIONS)} for s in STREAMS}

        wait_until(lambda: len(table_rows(stack, dataset, "dead_letter")) >= sum(expected.values()), 240)
        wait_until(lambda: all(loaded()[s] >= wanted[s] for s in STREAMS), 240)
        time.sleep(5)  # let anything extra (a duplicate, a second dead letter) land before counting
    finally:
        result.cancel()
        subscriber.delete_subscription(subscription=subscription)
        publisher.delete_topic(topic=topic)

    rows = table_rows(stack, dataset, "dead_letter")
    actual = dead_letter_keys(rows)
    assert actual == expected, explain(expected, actual, names)
    for row in rows:
        assert row["message_id"] and row["publish_time"], "Pub/Sub metadata is kept"
        assert row["attributes"] == {"origin": "poison-test"}
    for stream in STREAMS:
        ids = [r["event_id"] for r in table_rows(stack, dataset, stream, PARTITIONS)]
        assert sorted(ids) == sorted(wanted[stream]), f"{stream}: every good event once, duplicates dropped"
