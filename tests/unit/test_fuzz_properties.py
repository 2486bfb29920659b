"""Property-based tests (hypothesis): whatever the bytes, triage ends in exactly one outcome.

For every generated input (random bytes, random JSON, deep nesting, mutated valid events of the
three streams, archive-envelope lookalikes, Pub/Sub-style messages with any metadata) the checks
of ``localdev.fuzz.line_problems`` / ``outcome_problems`` must find nothing: no exception escapes
``line_to_message``, ``triage`` or ``dead_letter_row``; the outcome is one ValidEvent or one
Failure; a failure's code is published and never ``internal_error`` (that would be a bug of
ours); triaging again gives the same outcome; the dead-letter row or the raw-table row is
writable (valid Unicode, JSON-serialisable, within BigQuery's limits, attributes an object of
strings, the payload the message as received).

Bounded for ``make test``: a fixed, derandomised budget per property (tests/property_budgets.py:
``FUZZ_SCALE`` multiplies it). ``make fuzz`` runs the long seeded campaign.
"""

from __future__ import annotations

import base64
import copy
import json
import random
from datetime import timezone
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from localdev.fuzz import (
    EXTREMES,
    HOSTILE_KEYS,
    IP_KEY,
    IP_MODES,
    NOW,
    SPICE,
    TIMESTAMPS,
    VALID,
    HostileInputs,
    Pairs,
    Raw,
    dead_letter_problems,
    dump,
    known_inputs,
    line_problems,
    nested,
    outcome_problems,
    to_bytes,
)
from tests.events import INVENTORY, ORDER, USER_ACTIVITY, value_paths
from tests.property_budgets import budget
from transforms import errors
from transforms.messages import INVALID_ENVELOPE_ATTRIBUTE, Failure, Message, ValidEvent
from transforms.rows import MAX_ROW_JSON_BYTES, dead_letter_row
from transforms.triage import triage
from transforms.validation import MAX_NESTING, MAX_PAYLOAD_BYTES


def holds(line: bytes, ip_mode: str = "truncate") -> ValidEvent | Failure:
    outcome, problems = line_problems(line, NOW, ip_mode, IP_KEY)
    assert not problems, f"{line[:300]!r}: {problems}"
    return outcome


# --- strategies --------------------------------------------------------------------------------

chars = st.one_of(
    st.characters(),  # any code point but a surrogate
    st.characters(categories=["Cs"]),  # lone surrogates: JSON escapes, or invalid UTF-8 bytes
    st.characters(max_codepoint=0x1F),  # control characters
    st.sampled_from(SPICE),
)
texts = st.lists(chars, max_size=20).map("".join)  # SPICE holds multi-character pieces
keys = st.one_of(texts, st.sampled_from(HOSTILE_KEYS))
extremes = st.sampled_from(EXTREMES).map(copy.deepcopy)  # copied: mutations must not change EXTREMES
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),  # NaN and infinities become the NaN / Infinity tokens
    st.decimals(allow_nan=False, allow_infinity=False),
    extremes,
    st.sampled_from(TIMESTAMPS),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.lists(st.tuples(keys, children), max_size=5).map(Pairs)
    ),
    max_leaves=25,
)
ip_modes = st.sampled_from(IP_MODES)
BASES = {"orders": ORDER, "inventory": INVENTORY, "user_activity": USER_ACTIVITY}


def serialised(value: Any, ensure_ascii: bool) -> bytes:
    return to_bytes(dump(value, ensure_ascii))


def huge_value(size: int, unit: str) -> Any:
    return unit * (size // max(1, len(json.dumps(unit)) - 2))


mutation_values = st.one_of(
    json_values,
    extremes,
    st.sampled_from(TIMESTAMPS),
    st.integers(min_value=25, max_value=45).map(lambda depth: nested(random.Random(depth), depth, 1)),
    st.tuples(
        st.sampled_from((10_000, 300_000, MAX_PAYLOAD_BYTES + 1)),
        st.sampled_from(("x", "\u00e9", "\\", "\x01")),
    ).map(lambda args: huge_value(*args)),
    st.sampled_from((1_000, 20_000)).map(lambda n: [dict(ORDER["items"][0]) for _ in range(n)]),
)


@st.composite
def mutated_events(draw) -> bytes:
    """A valid event of one of the three streams with 1-3 mutations, then maybe broken bytes."""
    stream = draw(st.sampled_from(sorted(BASES)))
    obj: Any = copy.deepcopy(BASES[stream])
    for _ in range(draw(st.integers(1, 3))):
        paths = value_paths(obj, first=5)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = obj
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        op = draw(st.sampled_from(("drop", "set", "spice", "rekey", "retype")))
        if op == "drop":
            del parent[key]
        elif op == "set":
            parent[key] = draw(mutation_values)
        elif op == "spice":  # a surrogate / control character inside the string
            text = parent[key] if isinstance(parent[key], str) else draw(texts)
            at = draw(st.integers(0, len(text)))
            parent[key] = (
                text[:at] + draw(st.sampled_from(SPICE) | st.characters(categories=["Cs"])) + text[at:]
            )
        elif op == "rekey" and isinstance(parent, dict):
            parent[draw(keys)] = parent.pop(key)
        else:
            parent[key] = draw(scalars)
    if draw(st.booleans()) and isinstance(obj, dict) and obj:  # a duplicate key, first or last
        pairs = list(obj.items())
        extra = (draw(st.sampled_from(sorted(obj))), draw(scalars))
        obj = Pairs([extra, *pairs] if draw(st.booleans()) else [*pairs, extra])
    data = serialised(obj, draw(st.booleans()))
    return draw(broken(data))


def broken(data: bytes):
    """``data`` unchanged, or with a BOM, a bad byte, a cut, trailing bytes or another encoding."""
    at = st.integers(0, len(data))
    return st.one_of(
        st.just(data),
        st.just(data),
        st.sampled_from((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")).map(lambda bom: bom + data),
        st.tuples(
            at, st.sampled_from((b"\xff", b"\x80", b"\xc0\x80", b"\xed\xa0\x80", b"\xc3", b"\x00"))
        ).map(lambda a: data[: a[0]] + a[1] + data[a[0] :]),
        at.map(lambda a: data[:a]),
        st.sampled_from((b" {}", b"}", b",", b"\x00", b"]")).map(lambda tail: data + tail),
        st.sampled_from(("utf-16", "utf-32", "latin-1")).map(
            lambda enc: data.decode("utf-8", "replace").encode(enc, "replace")
        ),
    )


@st.composite
def envelope_lookalikes(draw) -> bytes:
    """The five envelope keys with good and bad values (bad base64, publish_time, attributes...)."""
    inner = draw(st.sampled_from((serialised(ORDER, True), b"\xff\xfe", b"", b"[" * 40, b"{}")))
    encoding = draw(st.sampled_from(("utf-8", "base64", None, "BASE64", "latin-1", 7, "", ["base64"])))
    if encoding == "base64":
        good = base64.b64encode(inner).decode("ascii")
        data = draw(
            st.sampled_from((good, good + "!", good[:-1], "\u00e9" + good, "\ud800", good + " ", "===="))
        )
    else:
        data = draw(
            st.one_of(
                st.just(inner.decode("utf-8", "surrogateescape")),
                texts,
                st.sampled_from((None, 5, [], {"a": 1})),
            )
        )
    envelope: list[tuple[str, Any]] = [("data", data), ("data_encoding", encoding)]
    attributes = st.one_of(
        st.dictionaries(texts, texts, max_size=4),
        st.dictionaries(texts, scalars, min_size=1, max_size=3),
        st.sampled_from((None, [], "k=v", {"k": {"n": "v"}}, {INVALID_ENVELOPE_ATTRIBUTE: "spoofed"})),
    )
    optional = {
        "attributes": attributes,
        "message_id": st.one_of(st.none(), texts, st.integers(), st.just(["m"])),
        "publish_time": st.one_of(
            st.none(),
            st.sampled_from(TIMESTAMPS),
            st.sampled_from(("2026-11-01T09:00:00Z", "yesterday", 17, Raw("1e999"), {"a": 1})),
            texts,
        ),
    }
    for name, values in optional.items():
        if draw(st.booleans()):
            envelope.append((name, draw(values)))
    if draw(st.integers(0, 9)) == 0:  # one key too many: a plain object, not an envelope
        envelope.append((draw(st.sampled_from(("event_type", "extra"))), "order"))
    if draw(st.integers(0, 9)) == 0:  # a duplicate key
        envelope.append((draw(st.sampled_from(("data", "attributes", "publish_time"))), draw(scalars)))
    return serialised(Pairs(envelope), draw(st.booleans()))


# --- properties --------------------------------------------------------------------------------


@budget(500)
@given(data=st.binary(max_size=3000), prefix=st.sampled_from((b"", b"{", b"[", b'{"data_encoding": ')))
@example(data=b"", prefix=b"")
@example(data=b"\xff\xfe\x00\x00", prefix=b"")
@example(data=b"\xef\xbb\xbf{}", prefix=b"")
def test_random_bytes(data, prefix):
    holds(prefix + data)


@budget(400)
@given(value=json_values, ensure_ascii=st.booleans(), ip_mode=ip_modes)
def test_random_json_values(value, ensure_ascii, ip_mode):
    holds(serialised(value, ensure_ascii), ip_mode)


@budget(100)
@given(
    depth=st.one_of(st.integers(1, 3000), st.sampled_from((MAX_NESTING - 1, MAX_NESTING, MAX_NESTING + 1))),
    unit=st.sampled_from((("[", "]"), ('{"a":', "}"))),
    closed=st.booleans(),
)
@example(depth=100_000, unit=("[", "]"), closed=False)
@example(depth=50_000, unit=('{"a":', "}"), closed=False)
def test_deep_nesting_is_rejected_past_32_levels_and_only_then(depth, unit, closed):
    opener, closer = unit
    core = "1" if opener == "[" else '{"event_type": "order"}'
    outcome = holds((opener * depth + core + (closer * depth if closed else "")).encode())
    levels = depth + (0 if opener == "[" else 1)
    if levels > MAX_NESTING:
        assert outcome.code == errors.NESTING_TOO_DEEP
    else:
        assert outcome.code != errors.NESTING_TOO_DEEP


@budget(700)
@given(line=mutated_events(), ip_mode=ip_modes)
@example(line=serialised({**ORDER, "total_amount": Raw("1e99999999999999999999")}, True), ip_mode="truncate")
@example(line=serialised({**USER_ACTIVITY, "ip_address": "fe80::1%\u00e9th0"}, True), ip_mode="hash")
def test_mutated_events_of_every_stream(line, ip_mode):
    holds(line, ip_mode)


@budget(150)
@given(stream=st.sampled_from(sorted(BASES)), data=st.data())
def test_a_lone_surrogate_in_any_string_is_invalid_encoding_naming_the_field(stream, data):
    obj = copy.deepcopy(BASES[stream])
    paths = [p for p in value_paths(obj, first=5) if isinstance(_at(obj, p), str)]
    path = data.draw(st.sampled_from(paths))
    parent = _at(obj, path[:-1])
    surrogate = data.draw(st.characters(categories=["Cs"]))
    parent[path[-1]] = parent[path[-1]] + surrogate
    outcome = holds(serialised(obj, ensure_ascii=True))
    assert outcome.code == errors.INVALID_ENCODING
    assert outcome.stage == errors.STAGE_VALIDATE
    named = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    assert f"field '{named}'" in outcome.reason


def _at(obj: Any, path: tuple) -> Any:
    for part in path:
        obj = obj[part]
    return obj


@budget(400)
@given(line=envelope_lookalikes())
@example(line=b'{"data": "not*base64!", "data_encoding": "base64"}')
@example(line=b'{"data": "{}", "data_encoding": "utf-8", "publish_time": "yesterday"}')
@example(line=b'{"data": "{}", "data_encoding": "utf-8", "attributes": {"k": 1}}')
@example(line=b'{"data": 5, "data_encoding": "utf-8"}')
def test_envelope_lookalikes(line):
    holds(line)


@budget(200)
@given(seed=st.integers(0, 2**32 - 1))
def test_the_make_fuzz_generator(seed):
    inputs = HostileInputs(seed, huge=0.0)
    for index in range(5):
        holds(inputs.line()[1], IP_MODES[index % len(IP_MODES)])


@pytest.mark.parametrize("case", known_inputs(), ids=lambda case: case.name)
def test_known_hostile_inputs_get_their_code(case):
    """The catalogue the end-to-end tests and ``make fuzz`` use, regressions included."""
    for ip_mode in IP_MODES:
        outcome = holds(case.line, ip_mode)
        assert (VALID if isinstance(outcome, ValidEvent) else outcome.code) == case.code


@budget(250)
@given(
    data=st.one_of(st.binary(max_size=500), mutated_events()),
    attributes=st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=5),
    flag=st.booleans(),
    message_id=st.one_of(st.none(), st.text(max_size=20)),
    publish_time=st.one_of(st.none(), st.datetimes(timezones=st.just(timezone.utc))),
    ip_mode=ip_modes,
)
def test_pubsub_messages_with_any_metadata(data, attributes, flag, message_id, publish_time, ip_mode):
    if flag:
        attributes[INVALID_ENVELOPE_ATTRIBUTE] = "replayed"
    message = Message(data=data, attributes=attributes, message_id=message_id, publish_time=publish_time)
    outcome, problems = outcome_problems(message, NOW, ip_mode, IP_KEY)
    assert not problems, problems
    if flag:
        assert outcome.code == errors.INVALID_ENVELOPE


hostile_or_any = st.one_of(texts, st.text(max_size=50), st.sampled_from(("", " ")))


@budget(400)
@given(
    data=st.one_of(
        st.binary(max_size=2000),
        texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.tuples(
            st.sampled_from((MAX_PAYLOAD_BYTES - 1, MAX_PAYLOAD_BYTES + 1)),
            st.sampled_from(("x", "é", "\x01")),
        ).map(lambda a: (a[1] * a[0]).encode()[: a[0] + 3]),
        st.sampled_from((b"\xff" * (MAX_PAYLOAD_BYTES + 10), b"\xc3" + b"\xa9" * 10)),
    ),
    attributes=st.one_of(
        st.dictionaries(keys, texts, max_size=5),
        st.dictionaries(st.text(max_size=300), st.text(max_size=2000), min_size=95, max_size=120),
        st.sampled_from((None, [], "k=v", {"k": 1}, {1: None})),
    ),
    message_id=st.one_of(st.none(), hostile_or_any, st.just("m" * 5000), st.integers()),
    publish_time=st.one_of(st.none(), st.datetimes(timezones=st.just(timezone.utc)), st.just("not a time")),
    stream=st.one_of(st.sampled_from(("orders", "inventory", "user_activity", "unknown")), hostile_or_any),
    stage=st.one_of(st.sampled_from(("parse", "validate", "load")), hostile_or_any),
    code=st.one_of(st.sampled_from(errors.ERROR_CODES), hostile_or_any),
    reason=st.one_of(hostile_or_any, st.just("\ud800\x00" * 30_000)),
    event_id=st.one_of(st.none(), hostile_or_any, st.integers()),
    max_row_bytes=st.sampled_from((MAX_ROW_JSON_BYTES, 2_000_000, 300_000, 40_000, 3_000)),
)
def test_dead_letter_rows_are_always_writable(
    data, attributes, message_id, publish_time, stream, stage, code, reason, event_id, max_row_bytes
):
    message = Message(data=data, attributes=attributes, message_id=message_id, publish_time=publish_time)
    failure = Failure(message, stream, stage, code, reason, event_id)
    row = dead_letter_row(failure, NOW, max_row_bytes)
    assert not dead_letter_problems(row, failure, max_row_bytes)


def test_triage_gives_the_same_outcome_for_the_same_message_object():
    """Triage never mutates what it is given (a retried bundle sees the same message)."""
    message = Message(data=serialised(ORDER, True), attributes={"a": "b"})
    before = copy.deepcopy(message)
    first, second = triage(message, NOW), triage(message, NOW)
    assert message == before
    assert isinstance(first, ValidEvent) and first.row == second.row
