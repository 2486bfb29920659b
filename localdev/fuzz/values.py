"""The hostile values inputs are built from, and random text and JSON drawn from them.

``SPICE`` (awkward characters), ``TIMESTAMPS`` (edge-of-range and malformed times), ``EXTREMES``
(numbers past every limit, wrong types, near-miss enum values) and ``HOSTILE_KEYS``; the
``rand_*``, ``big_text``, ``random_json`` and ``nested`` helpers draw from a ``random.Random``.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from localdev.fuzz.jsontext import Pairs, Raw
from transforms.validation import MAX_PAYLOAD_BYTES

SPICE = (
    "\x00", "\x01", "\x08", "\x1f", "\x7f", "\x85", "\u00a0", "\u200b", "\u2028", "\u2029", "\u202e",
    "\ufeff", "\ufffd", "\ufffe", "\uffff", "\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00",
    "\U0001f600", "\U0010ffff", "e\u0301", "\u00e9", "\u4e2d", "\\", '"', "/", "\n", "\r", "\t", " ",
    "'", "<script>", "%s%n", "{", "[", "]", "}", "\\u0000", "\\ud800", "NaN", "null",
)  # fmt: skip
TIMESTAMPS = (
    "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "0001-01-01T00:59:59+01:00",
    "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59.9999999Z",
    "2026-02-30T00:00:00Z", "2026-11-01T10:15:00+24:00", "2026-11-01T10:15:00+23:59", "2026-11-01T10:15:00",
    "2026-11-01 10:15:00z", "2026-11-01t10:15:00.1z", "2026-11-01T10:15:00.1234567891234Z",
    "2026-11-01T24:00:00Z", "2026-11-01T23:59:60Z", "+2026-11-01T10:15:00Z",
    "\u0662\u0660\u0662\u0666-11-01T00:00:00Z",
    " 2026-11-01T10:15:00Z ", "2026-11-03T12:00:01Z", "2026-11-03T12:00:00Z", "1970-01-01T00:00:00Z", "",
)  # fmt: skip
EXTREMES = (
    2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**100, -(10**4000), 0, -1, 1, 101, -101,
    -62_135_596_800_000, -62_135_596_800_001, 253_402_300_799_999, 253_402_300_800_000, 10**19, -(10**19),
    Raw("1" * 4301), Raw("-" + "9" * 5000), Raw("1e99999999999999999999"), Raw("-1e-99999999999999999999"),
    Raw("1E+999999999999999999"), Raw("1e-999999999999999999"), Raw("NaN"), Raw("-Infinity"), Raw("Infinity"),
    Raw("1.0e309"), Raw("-0"), Raw("-0.0"), Raw("0.0000000001"), Raw("1e29"), Raw("2.0"), Raw("2e0"),
    Raw("99999999999999999999999999999.999999999"), Raw("1" + "0" * 5000 + ".5"),
    Raw("0." + "0" * 3000 + "1"), "NaN", "nan", "Infinity", "-inf", "sNaN", "-0", "1e29", "1e-10", " 1.5 ",
    "1_000", "\u0664.10", "0x10", "1,5",
    "", " ", "\t", "\u3000", True, False, None, 1.5, -0.0, 1e308, [], {}, [None], {"": ""}, [[]], [{}],
    "fe80::1%\u00e9", "fe80::1%eth0", "::ffff:1.2.3.4", "256.1.1.1", "1.2.3.4/24", "::", "0.0.0.0", "1.2.3",
    "pending", "order", "inventory", "user_activity", "restock", "web", "XX", "\ufb01", "no",
)  # fmt: skip
HOSTILE_KEYS = (
    "", " ", "event_type", "event_id", "items", "\x00", "\ud800", "\udfff", "a\ud83d", "\U0001f600",
    "__proto__", "k" * 300, "\\", '"', "data", "data_encoding",
)  # fmt: skip


def extreme(rng: random.Random) -> Any:
    """One of ``EXTREMES``, copied: a later mutation must not change the catalogue itself."""
    return copy.deepcopy(rng.choice(EXTREMES))


def rand_char(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        return chr(rng.randrange(0x20, 0x7F))
    if roll < 0.85:
        return rng.choice(SPICE)
    return chr(rng.randrange(0x110000))


def rand_text(rng: random.Random, max_len: int = 12) -> str:
    return "".join(rand_char(rng) for _ in range(rng.randrange(max_len + 1)))


def big_text(rng: random.Random, huge: bool) -> str:
    """A long string: up to 20,000 characters, or past 1 MiB when ``huge``."""
    size = rng.choice((1_000_000, MAX_PAYLOAD_BYTES, 1_100_000, 400_000)) if huge else rng.randrange(20_000)
    unit = rng.choice(("x", "\u00e9", "\U0001f600", "\x00", "\\", '"', "ab", rand_text(rng, 3) or "y"))
    per_unit = max(1, len(json.dumps(unit)) - 2)  # its JSON length, escapes included
    return unit * (size // per_unit + 1)


def random_json(rng: random.Random, depth: int = 0, max_depth: int = 5) -> Any:
    roll = rng.random()
    if depth >= max_depth or roll < 0.55:
        kind = rng.randrange(7)
        if kind == 0:
            return rng.choice((None, True, False))
        if kind == 1:
            return rng.randrange(-(2 ** rng.randrange(70)), 2 ** rng.randrange(70))
        if kind == 2:
            return rng.choice((rng.uniform(-1e6, 1e6), float("nan"), float("inf"), -float("inf"), 5e-324))
        if kind == 3:
            return extreme(rng)
        return rand_text(rng)
    width = rng.randrange(6)
    if roll < 0.8:
        return [random_json(rng, depth + 1, max_depth) for _ in range(width)]
    keys = [rng.choice(HOSTILE_KEYS) if rng.random() < 0.2 else rand_text(rng, 6) for _ in range(width)]
    return Pairs((k, random_json(rng, depth + 1, max_depth)) for k in keys)


def nested(rng: random.Random, depth: int, core: Any = None) -> Any:
    """``core`` inside ``depth`` arrays/objects (built iteratively: depth may be large)."""
    value = rng.choice((1, "x", [], {}, None)) if core is None else core
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"a": value}
    return value
