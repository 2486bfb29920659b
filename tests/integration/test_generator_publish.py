"""The generator publishes its sample to the real Pub/Sub emulator: every message, as is, to the
mixed topic or per stream; a missing topic or an endpoint that does not answer ends it in one
line naming them, within the deadlines."""

from __future__ import annotations

import socket
import time
from collections import Counter
from dataclasses import replace

import pytest

from localdev import generator as gen
from localdev.generator.output import ANSWER_WITHIN_S
from localdev.stack import PROJECT
from pipeline.commands import CommandError
from tests.generator_spec import SMALL, TABLES


def _pull(subscription: str, expected: int, timeout: float = 60) -> list:
    from google.cloud import pubsub_v1

    received = []
    deadline = time.monotonic() + timeout
    with pubsub_v1.SubscriberClient() as subscriber:
        while len(received) < expected and time.monotonic() < deadline:
            response = subscriber.pull(subscription=subscription, max_messages=500, timeout=10)
            if response.received_messages:
                subscriber.acknowledge(
                    subscription=subscription, ack_ids=[m.ack_id for m in response.received_messages]
                )
            received += [m.message for m in response.received_messages]
    return received


def _topic_with_subscription(project: str, topic: str) -> str:
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    topic_path = publisher.topic_path(project, topic)
    publisher.create_topic(name=topic_path)
    with pubsub_v1.SubscriberClient() as subscriber:
        subscription = subscriber.subscription_path(project, f"{topic}-check")
        subscriber.create_subscription(name=subscription, topic=topic_path)
    return subscription


def test_publishes_the_same_messages_to_pubsub(pubsub_emulator):
    sample = gen.generate(SMALL)
    subscription = _topic_with_subscription(PROJECT, "generate-test-events")
    assert gen.publish(sample.messages, PROJECT, topic="generate-test-events") == len(sample.messages)
    received = _pull(subscription, len(sample.messages))
    assert Counter(m.data for m in received) == Counter(sample.lines())
    assert {m.attributes["source"] for m in received} == {"eventharbor-generate"}
    # Envelope lookalikes are published too, byte for byte, as plain message data.
    lookalikes = [m.data for m in sample.messages if m.error_code == "invalid_envelope"]
    assert lookalikes and all(data in {m.data for m in received} for data in lookalikes)


def test_publishes_per_stream_topics(pubsub_emulator):
    # A project of its own: the stream topic names are fixed and other tests create them in PROJECT.
    project = f"{PROJECT}-generate"
    sample = gen.generate(replace(SMALL, max_oversized=0))
    subscriptions = {name: _topic_with_subscription(project, name) for name in (*TABLES.values(), "events")}
    gen.publish(sample.messages, project, per_stream=True)
    for name, subscription in subscriptions.items():
        wanted = [m.data for m in sample.messages if (m.stream or "events") == name]
        assert Counter(m.data for m in _pull(subscription, len(wanted))) == Counter(wanted), name
    mixed = {m.error_code for m in sample.messages if m.stream is None}
    assert {"nesting_too_deep", "invalid_envelope", "invalid_json", "unknown_event_type"} <= mixed


def test_a_missing_topic_is_named_before_anything_is_published(pubsub_emulator):
    sample = gen.generate(SMALL)
    with pytest.raises(CommandError) as refused:
        gen.publish(sample.messages, PROJECT, topic="no-such-topic")
    assert str(refused.value).startswith(
        f"Pub/Sub topic projects/{PROJECT}/topics/no-such-topic does not exist at {pubsub_emulator.host}: "
    )


def test_an_endpoint_that_refuses_fails_within_the_deadline_naming_it(monkeypatch):
    sample = gen.generate(SMALL)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        endpoint = f"127.0.0.1:{closed.getsockname()[1]}"
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", endpoint)
        started = time.monotonic()
        with pytest.raises(CommandError, match=f"^Pub/Sub at {endpoint} does not answer for "):
            gen.publish(sample.messages, PROJECT)
    assert time.monotonic() - started < ANSWER_WITHIN_S + 10


def test_no_credentials_and_no_emulator_says_both_ways_out(tmp_path, monkeypatch):
    for name in ("PUBSUB_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    with pytest.raises(CommandError) as refused:
        gen.publish(gen.generate(SMALL).messages, "a-project")
    assert str(refused.value) == (
        "no Google Cloud credentials to publish to Pub/Sub in a-project: run `gcloud auth "
        "application-default login`, or set PUBSUB_EMULATOR_HOST to publish to the local emulator"
    )
