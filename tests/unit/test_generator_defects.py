"""The malformed messages: one defect each, every input code, and the code the generator records
is the one the contract checker (tests/generator_spec.py) gives, as a file line and as Pub/Sub data."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from dataclasses import replace
from datetime import datetime

import pytest

from localdev.generator import generate
from localdev.generator.defects import DEFECT_CYCLE, DEFECTS, NESTING_LEVELS, nested, undecodable_base64
from localdev.generator.output import topic_for
from tests.generator_spec import (
    ALL_CODES,
    CONFIG,
    ENVELOPE_KEYS,
    MAX_DEPTH,
    SMALL,
    TABLES,
    check,
    depth,
    generated,
    has_lone_surrogate,
    strings,
    verdict,
)
from transforms.errors import INPUT_ERROR_CODES

LONE_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


@pytest.fixture(scope="module")
def sample():
    return generated(CONFIG)


def bad(sample, code: str) -> list:
    return [m for m in sample.messages if m.error_code == code]


def only_nesting(value: object) -> bool:
    """True for arrays/objects of one element each, nested down to an empty one: ``[[[]]]``."""
    while isinstance(value, dict | list) and len(value) == 1:
        value = next(iter(value.values())) if isinstance(value, dict) else value[0]
    return value in ([], {})


def deep_entry(event: dict) -> tuple[dict | list, str | int, str]:
    """(container, key, path) of the entry holding nothing but nesting deeper than the limit."""
    queue = [(event, "")]
    while queue:
        node, path = queue.pop(0)
        entries = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in entries:
            child_path = f"{path}[{key}]" if isinstance(node, list) else f"{path}.{key}".lstrip(".")
            if depth(child) > MAX_DEPTH and only_nesting(child):
                return node, key, child_path
            if isinstance(child, dict | list):
                queue.append((child, child_path))
    raise AssertionError("nothing nests deeper than the limit")


# --- the cycle ----------------------------------------------------------------------------------


def test_the_cycle_holds_every_input_code_once_and_each_has_variants():
    assert sorted(DEFECT_CYCLE) == sorted(INPUT_ERROR_CODES)
    assert set(DEFECT_CYCLE) == ALL_CODES
    assert DEFECT_CYCLE[0] == "payload_too_large"
    assert set(DEFECTS) == set(DEFECT_CYCLE) and all(DEFECTS.values())


@pytest.mark.parametrize("config", [CONFIG, SMALL], ids=["default-size", "small"])
def test_every_error_code_appears(config):
    rejected = generated(config).manifest["rejected"]
    assert set(rejected) == ALL_CODES
    assert rejected["payload_too_large"] == 1


@pytest.mark.parametrize("cap", [0, 3])
def test_payload_too_large_is_capped_by_max_oversized(cap):
    sample = generate(replace(SMALL, bad_fraction=0.5, max_oversized=cap))
    assert sample.manifest["rejected"].get("payload_too_large", 0) == cap
    assert sum(len(m.data) > 1024 * 1024 for m in sample.messages) == cap


def test_each_message_gets_the_code_and_stream_the_generator_intended(sample):
    for message in sample.messages:
        assert verdict(message.data) == (message.error_code, message.stream), message.data[:300]


def test_on_pubsub_the_same_bytes_get_the_pubsub_code(sample):
    for message in sample.messages:
        assert verdict(message.data, as_file_line=False)[0] == message.pubsub_error_code
    envelopes = bad(sample, "invalid_envelope")
    assert envelopes and {m.pubsub_error_code for m in envelopes} == {"missing_field"}
    others = [m for m in sample.messages if m.error_code != "invalid_envelope"]
    assert all(m.pubsub_error_code == m.error_code for m in others)


def test_manifest_counts_the_codes_per_transport(sample):
    manifest = sample.manifest
    assert manifest["rejected"] == dict(Counter(verdict(m.data)[0] for m in sample.messages if m.error_code))
    on_pubsub = Counter(verdict(m.data, as_file_line=False)[0] for m in sample.messages if m.error_code)
    assert manifest["rejected_on_pubsub"] == dict(on_pubsub)
    assert manifest["rejected_on_pubsub"]["missing_field"] == (
        manifest["rejected"]["missing_field"] + manifest["rejected"]["invalid_envelope"]
    )
    assert "invalid_envelope" not in manifest["rejected_on_pubsub"]


def test_bad_messages_are_never_resent(sample):
    seen = Counter(sample.lines())
    assert all(seen[m.data] == 1 for m in sample.messages if m.error_code)


def test_defects_cover_nested_fields_and_the_listed_values(sample):
    broken = b"\n".join(m.data for m in sample.messages if m.error_code not in (None, "payload_too_large"))
    for needle in (
        b'"event_type":"refund"',
        b'"quantity":"three"',
        b'"platform":"desktop"',
        b'"ip_address":"999.1.1.1"',
        b'"country":"XX"',
        b'"quantity_change":150',
        b"-13-45T00:00:00Z",
        b"2099-",
        b"\xff\xfe",
    ):
        assert needle in broken, needle
    missing = [json.loads(m.data) for m in bad(sample, "missing_field")]
    assert any("city" not in e.get("shipping_address", {"city": 1}) for e in missing)
    assert any("platform" not in e.get("metadata", {"platform": 1}) for e in missing)


# --- the new defects ----------------------------------------------------------------------------


def test_nesting_defects_nest_past_the_limit_inside_an_otherwise_valid_event(sample):
    places, streams = set(), set()
    for message in bad(sample, "nesting_too_deep"):
        event = json.loads(message.data)
        assert isinstance(event, dict) and depth(event) > MAX_DEPTH + 5
        container, key, path = deep_entry(event)
        places.add(path)
        streams.add(TABLES[event["event_type"]])
        del container[key]  # the one defect: without it the event is valid
        assert check(json.dumps(event).encode())
        assert message.stream is None
    assert places == {"metadata.trail", "items[0].options", "trace"}
    assert streams == set(TABLES.values())


def test_nested_builds_the_requested_depth():
    assert depth(nested(NESTING_LEVELS)) == NESTING_LEVELS
    assert depth(nested(NESTING_LEVELS, objects=True)) == NESTING_LEVELS
    assert NESTING_LEVELS > MAX_DEPTH


@pytest.mark.parametrize("size", range(8))
def test_undecodable_base64_defeats_strict_and_lenient_decoders(size):
    text = undecodable_base64({"k": "x" * size})
    assert text.startswith("@@@")
    for strict in (True, False):
        with pytest.raises(binascii.Error):
            base64.b64decode(text, validate=strict)


def test_envelope_lookalikes_have_the_envelope_keys_and_exactly_one_broken_part(sample):
    broken_parts = Counter()
    for message in bad(sample, "invalid_envelope"):
        envelope = json.loads(message.data)
        assert set(envelope) == ENVELOPE_KEYS
        assert isinstance(envelope["data"], str) and isinstance(envelope["message_id"], str)
        problems = []
        if envelope["data_encoding"] == "base64":
            for strict in (True, False):
                with pytest.raises(binascii.Error):
                    base64.b64decode(envelope["data"], validate=strict)
            problems.append("base64")
        else:
            assert envelope["data_encoding"] == "utf-8"
            assert check(envelope["data"].encode(), as_file_line=False)  # the wrapped event is valid
        attributes = envelope["attributes"]
        if not (isinstance(attributes, dict) and all(isinstance(v, str) for v in attributes.values())):
            problems.append("attributes")
        try:
            datetime.fromisoformat(envelope["publish_time"].replace("Z", "+00:00"))
        except ValueError:
            problems.append("publish_time")
        assert len(problems) == 1, (problems, envelope)
        broken_parts[problems[0]] += 1
        assert message.stream is None
    assert set(broken_parts) == {"base64", "attributes", "publish_time"}


def test_surrogate_defects_hold_one_lone_surrogate_escape_in_an_otherwise_valid_event(sample):
    fields, streams = set(), set()
    for message in bad(sample, "invalid_encoding"):
        try:
            message.data.decode("utf-8")
        except UnicodeDecodeError:
            assert message.stream is None  # raw bytes: rejected before the event is read
            continue
        escapes = LONE_SURROGATE_ESCAPE.findall(message.data)
        assert len(escapes) == 1
        event = json.loads(message.data)
        lone = [path for path, text in strings(event) if has_lone_surrogate(text)]
        assert len(lone) == 1 and not lone[0].endswith("(key)")
        fields.add(lone[0])
        assert check(message.data.replace(escapes[0], b""))["event_type"]  # valid without it
        assert message.stream == TABLES[event["event_type"]]
        streams.add(message.stream)
    assert fields == {"warehouse_id", "items[0].product_name", "metadata.session_id"}
    assert streams == {"orders", "inventory", "user_activity"}


# --- routing ------------------------------------------------------------------------------------


def test_per_stream_routing_sends_what_the_pipeline_cannot_place_to_the_mixed_topic(sample):
    routed = Counter()
    for message in sample.messages:
        topic = topic_for(message, "events", per_stream=True)
        assert topic == (message.stream or "events")
        assert topic_for(message, "events") == "events"
        routed[message.error_code, topic] += 1
    for code in ("payload_too_large", "invalid_json", "nesting_too_deep", "not_an_object"):
        assert {t for c, t in routed if c == code} == {"events"}, code
    for code in ("invalid_envelope", "unknown_event_type"):
        assert {t for c, t in routed if c == code} == {"events"}, code
    assert {t for c, t in routed if c == "invalid_encoding"} == {"events", *TABLES.values()}
    assert {t for c, t in routed if c == "missing_field"} == set(TABLES.values())
