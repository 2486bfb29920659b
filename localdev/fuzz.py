"""``make fuzz``: generated hostile inputs through the triage core and through the real pipeline.

1. core: ``--core`` (default 100,000) inputs, each a file line, through ``line_to_message``
   and ``triage`` (rotating over the three ``--ip_mode`` values), and every outcome through its
   row: ``dead_letter_row`` for a failure, the raw-table row for a valid event. Each input is
   checked for the properties of docs/contract.md (``line_problems``): nothing raises, exactly one
   outcome, a published code and never ``internal_error`` (a bug of ours), the same outcome when
   repeated, and a row BigQuery can take (valid Unicode, JSON-serialisable, within the size limit).
2. pipeline: ``--pipeline`` (default 10,000) more inputs written to one file and run through
   ``pipeline.main.run`` on the local emulators; the run must finish, reconcile (messages in =
   loaded + rejected + duplicates), match the outcome predicted by ``triage`` line by line, and
   the tables must hold what the summary says.

The inputs come from a seeded ``random.Random`` (``HostileInputs``): random bytes, random JSON,
deep nesting, valid events of the three streams, mutations of them (fields dropped, retyped,
set to extreme values, nested deep, huge arrays and strings, lone surrogates and control
characters, duplicate keys, BOMs, broken bytes) and archive-envelope lookalikes. Same seed, same
inputs. Exit status 1 on any crash, property violation or unbalanced run. Inputs that broke a
property are saved under ``--out`` for replay.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import random
import re
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.sources import MAX_ENVELOPE_BYTES, line_to_message
from schemas import STREAMS, load_schema
from transforms import errors
from transforms.messages import (
    INVALID_ENVELOPE_ATTRIBUTE,
    Failure,
    InvalidEnvelope,
    Message,
    ValidEvent,
    envelope_of,
)
from transforms.rows import MAX_ROW_JSON_BYTES, dead_letter_row, row_json_size
from transforms.times import parse_rfc3339_utc
from transforms.triage import triage
from transforms.validation import MAX_EVENT_ID_CHARS, MAX_PAYLOAD_BYTES

# The processing time every fuzzed input is judged at (the pipeline run is given the same clock).
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
IP_MODES = ("truncate", "hash", "raw")
IP_KEY = b"eventharbor-fuzz-key"
FILENAME = "fuzz/hostile.jsonl"
DEAD_LETTER_COLUMNS = tuple(f["name"] for f in load_schema("events", "dead_letter"))
REQUIRED_DEAD_LETTER_COLUMNS = tuple(
    f["name"] for f in load_schema("events", "dead_letter") if f.get("mode") == "REQUIRED"
)
PROCESSING = errors.STAGE_PARSE, errors.STAGE_VALIDATE, errors.STAGE_LOAD


# --- checking one input ------------------------------------------------------------------------


def fingerprint(outcome: ValidEvent | Failure) -> tuple:
    """What must not change when the same input is triaged again."""
    if isinstance(outcome, ValidEvent):
        return ("valid", outcome.stream, outcome.event_id, json.dumps(outcome.row, sort_keys=True))
    return ("failure", outcome.code, outcome.stream, outcome.stage, outcome.reason, outcome.event_id)


def _strings(value: Any) -> list[str]:
    """Every string (keys included) in a JSON-like value, walked without recursion."""
    found, stack = [], [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            found.extend(k for k in node if isinstance(k, str))
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return found


def _unicode_problems(row: dict[str, Any], what: str) -> list[str]:
    problems = []
    for text in _strings(row):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            problems.append(f"{what} holds a string that is not valid Unicode: {text[:60]!r}")
            break
    try:
        json.dumps(row)
        json.dumps(row, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        problems.append(f"{what} is not JSON-serialisable: {type(exc).__name__}: {exc}")
    return problems


def event_row_problems(outcome: ValidEvent) -> list[str]:
    """Why a valid event's raw-table row could not be written (empty when it can)."""
    row = outcome.row
    if not isinstance(row, dict):
        return [f"valid event has no row: {row!r:.80}"]
    problems = _unicode_problems(row, "event row")
    if outcome.stream not in STREAMS:
        problems.append(f"valid event routed to {outcome.stream!r}")
    if not (isinstance(outcome.event_id, str) and 0 < len(outcome.event_id) <= MAX_EVENT_ID_CHARS):
        problems.append(f"valid event has event_id {outcome.event_id!r:.80}")
    elif row.get("event_id") != outcome.event_id:
        problems.append("event row's event_id differs from the event's")
    if not problems and row_json_size(row) > MAX_ROW_JSON_BYTES:
        problems.append(f"event row is {row_json_size(row)} bytes of JSON")
    if outcome.stream in STREAMS:
        odd = [v for v in _numeric_cells(row, load_schema("events", outcome.stream)) if not _plain_decimal(v)]
        if odd:
            problems.append(f"NUMERIC cells not in plain decimal notation: {odd[:3]}")
    return problems


def _numeric_cells(row: dict[str, Any], schema: list[dict[str, Any]]) -> list[Any]:
    cells = []
    for field in schema:
        values = row.get(field["name"])
        values = values if field.get("mode") == "REPEATED" and isinstance(values, list) else [values]
        for value in values:
            if field["type"] == "NUMERIC" and value is not None:
                cells.append(value)
            elif field["type"] == "RECORD" and isinstance(value, dict):
                cells += _numeric_cells(value, field["fields"])
    return cells


def _plain_decimal(value: Any) -> bool:
    """``-12.50``-style text, what BigQuery's NUMERIC takes (no exponent, at most 9 decimals)."""
    return isinstance(value, str) and re.fullmatch(r"-?\d{1,29}(\.\d{1,9})?", value) is not None


def dead_letter_problems(
    row: dict[str, Any], failure: Failure, max_row_bytes: int = MAX_ROW_JSON_BYTES
) -> list[str]:
    """Why a dead-letter row could not be written, or does not keep the message (empty when fine)."""
    problems = _unicode_problems(row, "dead-letter row")
    if problems:
        return problems
    if tuple(row) != DEAD_LETTER_COLUMNS:
        problems.append(f"dead-letter columns are {sorted(row)}")
    problems += [
        f"dead-letter column {c} is NULL" for c in REQUIRED_DEAD_LETTER_COLUMNS if row.get(c) is None
    ]
    try:
        attributes = json.loads(row["attributes"])
        if not (
            isinstance(attributes, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in attributes.items())
        ):
            problems.append(f"dead-letter attributes are not an object of strings: {row['attributes']:.80}")
    except (TypeError, ValueError):
        problems.append(f"dead-letter attributes are not JSON: {row.get('attributes')!r:.80}")
    if row.get("message_time") is None:
        problems.append("dead-letter message_time is NULL: every rejection must be dated")
    for column in ("failed_at", "publish_time", "message_time"):
        if row.get(column) is not None:
            try:
                parse_rfc3339_utc(row[column])
            except (TypeError, ValueError, AttributeError):
                problems.append(f"dead-letter {column} is not a timestamp: {row[column]!r:.80}")
    if not all(isinstance(row.get(c), str) for c in ("stream", "stage", "error_code", "error_message")):
        problems.append("dead-letter stream/stage/error_code/error_message are not all strings")
    for column in ("message_id", "event_id"):
        if row.get(column) is not None and not isinstance(row[column], str):
            problems.append(f"dead-letter {column} is not a string: {row[column]!r:.80}")
    problems += _payload_problems(row, failure.message.data, max_row_bytes)
    size = row_json_size(row)
    if size > max_row_bytes and row.get("payload") != "":
        problems.append(f"dead-letter row is {size} bytes of JSON (limit {max_row_bytes}) with a payload")
    return problems


def _payload_problems(row: dict[str, Any], data: Any, max_row_bytes: int) -> list[str]:
    """The payload must be the message as received: all of it, or a prefix flagged as truncated."""
    payload, encoding, truncated = (
        row.get("payload"),
        row.get("payload_encoding"),
        row.get("payload_truncated"),
    )
    if not isinstance(data, bytes) or not isinstance(payload, str):
        return []
    if encoding == "base64":
        try:
            kept = base64.b64decode(payload, validate=True)
        except ValueError:
            return ["dead-letter payload is not valid base64"]
    elif encoding == "utf-8":
        kept = payload.encode("utf-8")
    else:
        return [f"dead-letter payload_encoding is {encoding!r}"]
    if truncated is not True and kept != data:
        return ["dead-letter payload is not the message as received"]
    if truncated is True and not (data.startswith(kept) and len(kept) < len(data)):
        return ["truncated dead-letter payload is not a prefix of the message"]
    if max_row_bytes >= MAX_ROW_JSON_BYTES and truncated != (len(data) > MAX_PAYLOAD_BYTES):
        return [f"payload_truncated is {truncated} for a {len(data)}-byte message"]
    return []


def outcome_problems(
    message: Message, now: datetime = NOW, ip_mode: str = "truncate", ip_key: bytes | None = IP_KEY
) -> tuple[ValidEvent | Failure | None, list[str]]:
    """Triage ``message`` twice and check every property of its outcome and its row."""
    try:
        first = triage(message, now, ip_mode, ip_key)
        second = triage(message, now, ip_mode, ip_key)
    except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
        return None, [f"triage raised {type(exc).__name__}: {exc}"]
    kinds = isinstance(first, ValidEvent) + isinstance(first, Failure)
    if kinds != 1:
        return None, [f"triage returned {type(first).__name__}, not one ValidEvent or one Failure"]
    problems = []
    if fingerprint(first) != fingerprint(second):
        problems.append("a second triage of the same input gave another outcome")
    if isinstance(first, ValidEvent):
        return first, problems + event_row_problems(first)
    if first.code not in errors.ERROR_CODES:
        problems.append(f"unpublished error code {first.code!r}")
    if first.code == errors.INTERNAL_ERROR:
        problems.append(f"internal_error (a bug of ours): {first.reason[:300]}")
    if first.stage not in PROCESSING:
        problems.append(f"unknown stage {first.stage!r}")
    if not (isinstance(first.reason, str) and first.reason.strip()):
        problems.append("failure without a reason")
    try:
        row = dead_letter_row(first, now)
    except Exception as exc:  # noqa: BLE001
        return first, problems + [f"dead_letter_row raised {type(exc).__name__}: {exc}"]
    return first, problems + dead_letter_problems(row, first)


def line_problems(
    line: bytes, now: datetime = NOW, ip_mode: str = "truncate", ip_key: bytes | None = IP_KEY
) -> tuple[ValidEvent | Failure | None, list[str]]:
    """A file line through ``line_to_message`` (the batch pipeline's file source), then
    ``outcome_problems``."""
    try:
        message = line_to_message(FILENAME, line)
        again = line_to_message(FILENAME, line)
    except Exception as exc:  # noqa: BLE001
        return None, [f"line_to_message raised {type(exc).__name__}: {exc}"]
    problems = [] if message == again else ["line_to_message gave another message the second time"]
    outcome, more = outcome_problems(message, now, ip_mode, ip_key)
    problems += more
    if _unwrap_fails(line) and message.data != line:
        problems.append("an envelope that cannot be unwrapped does not keep the line as read")
    if INVALID_ENVELOPE_ATTRIBUTE in message.attributes:  # set by the source, or replayed from the archive
        if isinstance(outcome, Failure) and outcome.code != errors.INVALID_ENVELOPE:
            problems.append(f"an invalid envelope was rejected as {outcome.code}, not invalid_envelope")
        if isinstance(outcome, ValidEvent):
            problems.append("an invalid envelope was loaded")
    return outcome, problems


def _unwrap_fails(line: bytes) -> bool:
    envelope = envelope_of(line, MAX_ENVELOPE_BYTES)
    if envelope is None:
        return False
    try:
        Message.from_envelope(envelope)
    except InvalidEnvelope:
        return True
    return False


# --- generating hostile inputs -----------------------------------------------------------------


class Raw(str):
    """A JSON token written verbatim (``NaN``, ``1e99999999999999999999``, a 5,000-digit integer)."""


class Pairs(list):
    """A JSON object as (key, value) pairs, so a key may appear twice."""


def dump(value: Any, ensure_ascii: bool = True) -> str:
    """JSON text of ``value``, with ``Raw`` tokens and ``Pairs`` objects as they are."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, (dict, Pairs)):
        pairs = value.items() if isinstance(value, dict) else value
        inner = ",".join(
            f"{json.dumps(str(k), ensure_ascii=ensure_ascii)}:{dump(v, ensure_ascii)}" for k, v in pairs
        )
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dump(v, ensure_ascii) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=ensure_ascii)


def to_bytes(text: str) -> bytes:
    """UTF-8, except that a lone surrogate becomes its (invalid) 3-byte form."""
    return text.encode("utf-8", "surrogatepass")


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


def valid_event(rng: random.Random) -> dict[str, Any]:
    """A valid event of a random stream, with random ids and text (weird but valid Unicode)."""

    def ident(prefix: str) -> str:
        tail = "".join(rng.choice("abcdef0123456789") for _ in range(10))
        if rng.random() < 0.2:  # valid but unusual text: accents, emoji, escapes, a NUL
            tail += rng.choice(("\u00e9", "\U0001f600", "\\n", "\x00", "\u2028", " \t", '"', "\u4e2d"))
        return f"{prefix}-{tail}"

    moment = NOW - timedelta(seconds=rng.randrange(40 * 86400), microseconds=rng.randrange(10**6))
    if rng.random() < 0.3:
        when: Any = int(moment.timestamp() * 1000)
    else:
        offset = timedelta(minutes=15 * rng.randrange(-48, 57))
        when = moment.astimezone(timezone(offset)).isoformat()
        when = when.replace("+00:00", "Z") if rng.random() < 0.5 else when
    stream = rng.choice(STREAMS)
    event: dict[str, Any]
    if stream == "orders":
        items = []
        for _ in range(rng.randrange(1, 5)):
            price = Decimal(rng.randrange(0, 100_000)) / 100
            items.append(
                {
                    "product_id": ident("p"),
                    "product_name": ident("name"),
                    "quantity": rng.randrange(1, 10),
                    "price": str(price) if rng.random() < 0.5 else price,
                }
            )
        total = sum(Decimal(str(i["price"])) * i["quantity"] for i in items)
        event = {
            "event_type": "order",
            "order_id": ident("ord"),
            "customer_id": ident("cust"),
            "order_date": when,
            "status": rng.choice(("pending", "processing", "shipped", "delivered", "cancelled")),
            "items": items,
            "shipping_address": {
                "street": ident("st"),
                "city": ident("c"),
                "country": rng.choice(("NO", "se", "US")),
            },
            "total_amount": str(total) if rng.random() < 0.5 else total,
        }
    elif stream == "inventory":
        reason = rng.choice(("restock", "sale", "return", "damage"))
        size = rng.randrange(1, 101)
        event = {
            "event_type": "inventory",
            "inventory_id": ident("inv"),
            "product_id": ident("p"),
            "warehouse_id": ident("wh"),
            "quantity_change": size if reason in ("restock", "return") else -size,
            "reason": reason,
            "timestamp": when,
        }
    else:
        ip = (
            f"{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
            if rng.random() < 0.6
            else ":".join(f"{rng.randrange(65536):x}" for _ in range(8))
        )
        event = {
            "event_type": "user_activity",
            "user_id": ident("u"),
            "activity_type": rng.choice(
                ("login", "logout", "view_product", "add_to_cart", "remove_from_cart")
            ),
            "ip_address": ip,
            "user_agent": ident("Mozilla/5.0"),
            "timestamp": when,
            "metadata": {"session_id": ident("s"), "platform": rng.choice(("web", "mobile", "tablet"))},
        }
    if rng.random() < 0.6:
        event["event_id"] = ident("evt")
    if rng.random() < 0.2:
        event["extra"] = random_json(rng)
    return event


def _locations(obj: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in ``obj``: where a mutation can strike."""
    found, stack = [], [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            children: Any = node.items()
        elif isinstance(node, list) and not isinstance(node, Pairs):  # a Pairs must stay pairs
            children = enumerate(node[:20])  # a huge array: strike near its start
        else:
            children = ()
        for key, child in children:
            found.append((node, key))
            stack.append(child)
    return found


def mutate(rng: random.Random, obj: dict[str, Any], huge: bool) -> dict[str, Any] | Pairs:
    """One mutation of an event, in place where it can; returns the (possibly new) top object."""
    places = _locations(obj)
    if not places:
        return obj
    container, key = rng.choice(places)
    value = container[key]
    op = rng.randrange(11)
    if op == 0:
        del container[key]
    elif op == 1:
        container[key] = extreme(rng)
    elif op == 2:
        container[key] = random_json(rng)
    elif op == 3:
        container[key] = rng.choice(TIMESTAMPS)
    elif op == 4:  # deep nesting inside a field, around the limit or far past it
        container[key] = nested(rng, rng.choice((30, 31, 32, 33, 40, rng.randrange(1, 100))), value)
    elif op == 5:  # a control character or lone surrogate inside a string
        text = value if isinstance(value, str) else rand_text(rng)
        at = rng.randrange(len(text) + 1)
        container[key] = text[:at] + rng.choice(SPICE) + text[at:]
    elif op == 6 and isinstance(container, dict):  # a hostile key
        container[rng.choice(HOSTILE_KEYS) + rng.choice(("", rand_char(rng)))] = container.pop(key)
    elif op == 7:  # a huge array (for items: many copies of valid items), near 1 MiB at most
        unit = value if isinstance(value, list) and value else [value]
        room = (MAX_PAYLOAD_BYTES + 100_000 if huge else 200_000) - len(dump(obj))
        budget = room // max(1, len(dump(unit)))
        copies = rng.choice((2, 100, 5_000)) if not huge else rng.choice((20_000, 40_000))
        # Copies, not aliases: a later mutation of one element must not grow every element.
        container[key] = [copy.deepcopy(v) for _ in range(max(1, min(copies, budget))) for v in unit]
    elif op == 8:
        container[key] = big_text(rng, huge)
    elif op == 9:  # a duplicate key, first or last
        other = rng.choice((extreme(rng), random_json(rng), rng.choice(TIMESTAMPS)))
        pairs = list(obj.items())
        pairs.insert(rng.choice((0, len(pairs))), (rng.choice(list(obj) or ["event_type"]), other))
        return Pairs(pairs)
    else:  # routed to another stream, or to none
        obj["event_type"] = rng.choice(
            ("order", "inventory", "user_activity", "Order", "", None, 7, "order\x00")
        )
    return obj


def mangle_bytes(rng: random.Random, data: bytes) -> bytes:
    """A byte-level mutation: BOMs, broken UTF-8, truncation, trailing data, other encodings."""
    op = rng.randrange(9)
    at = rng.randrange(len(data) + 1)
    if op == 0:
        return rng.choice((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf\xef\xbb\xbf")) + data
    if op == 1:
        bad = rng.choice(
            (b"\xff", b"\x80", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\xc3")
        )
        return data[:at] + bad + data[at:]
    if op == 2:
        return data[:at]
    if op == 3:
        return data + rng.choice(
            (b" {}", b"}", b",", b"\x00", b" ", b"\t", b"garbage", b"]", b"\xef\xbb\xbf")
        )
    if op == 4 and data:
        return data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]
    if op == 5:
        return data[:at] + bytes([rng.randrange(32)]) + data[at:]
    if op == 6:
        return data.decode("utf-8", "replace").encode(
            rng.choice(("utf-16", "utf-16-be", "utf-32", "latin-1")), "replace"
        )
    if op == 7:
        return data + data
    return data.replace(b'"', b"'", 1)


def envelope_lookalike(rng: random.Random, inner: bytes) -> bytes:
    """A line shaped like (or almost like) a raw-archive envelope, mostly broken somewhere."""
    encoding = rng.choice(
        ("utf-8", "base64", "base64", "utf-8", None, "latin-1", "BASE64", 7, "", ["base64"])
    )
    if encoding == "base64":
        data: Any = base64.b64encode(inner).decode("ascii")
        if rng.random() < 0.5:  # broken base64
            at = rng.randrange(len(data) + 1)
            data = data[:at] + rng.choice(("!", "=", "==", "\u00e9", " ", "\ud800", "-_", "A")) + data[at:]
    elif rng.random() < 0.8:
        data = inner.decode("utf-8", "surrogateescape")  # not UTF-8: lone surrogates
    else:
        data = rng.choice((None, 5, [], {"a": 1}, True, Raw("1e999")))
    envelope: dict[str, Any] = {"data": data, "data_encoding": encoding}
    if rng.random() < 0.8:
        envelope["attributes"] = rng.choice(
            (
                {},
                {"k": "v"},
                None,
                [],
                "k=v",
                {"k": 1},
                {"k": None},
                {"\ud800": "v"},
                {"k": "\udfff"},
                {"k": {"n": "v"}},
                {rand_text(rng, 5): rand_text(rng, 8) for _ in range(rng.randrange(5))},
                {f"a{i}": "v" * rng.randrange(50) for i in range(rng.choice((100, 101, 500)))},
                {INVALID_ENVELOPE_ATTRIBUTE: "spoofed"},
            )
        )
    if rng.random() < 0.7:
        envelope["message_id"] = rng.choice(("m-1", None, 5, "\ud800", ["x"], "", "m" * 2000, rand_text(rng)))
    if rng.random() < 0.7:
        envelope["publish_time"] = rng.choice(
            TIMESTAMPS + ("2026-11-01T10:15:00.250000Z", "garbage", 17, None, Raw("1e999"), {"a": 1}, [])
        )
    if rng.random() < 0.1:  # one key too many, or one missing: not an envelope at all
        envelope[rng.choice(("event_type", "extra", "data "))] = "order"
    if rng.random() < 0.05:
        envelope.pop(rng.choice(("data", "data_encoding")))
    if rng.random() < 0.1:
        pairs = list(envelope.items())
        pairs.append((rng.choice(list(envelope) or ["data"]), rng.choice(("x", 1, None))))
        return to_bytes(dump(Pairs(pairs), ensure_ascii=rng.random() < 0.7))
    return to_bytes(dump(envelope, ensure_ascii=rng.random() < 0.7))


@dataclass
class HostileInputs:
    """A deterministic stream of hostile file lines: ``line()`` -> (kind, bytes).

    ``huge`` is the share of inputs built around a huge array or string (near or past 1 MiB).
    """

    seed: int = 0
    huge: float = 0.005

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    KINDS = (
        ("random_bytes", 8),
        ("random_json", 12),
        ("deep_nesting", 8),
        ("valid_event", 14),
        ("mutated_event", 38),
        ("envelope", 15),
        ("plain_text", 5),
    )

    def line(self) -> tuple[str, bytes]:
        rng = self.rng
        kind = rng.choices([k for k, _ in self.KINDS], [w for _, w in self.KINDS])[0]
        huge = rng.random() < self.huge
        return kind, getattr(self, kind)(rng, huge)

    def random_bytes(self, rng: random.Random, huge: bool) -> bytes:
        size = (
            rng.choice((0, 1, 2, 3, 16, 200, 2000)) if not huge else MAX_PAYLOAD_BYTES + rng.randrange(-2, 3)
        )
        data = rng.randbytes(size)
        return rng.choice((b"", b"{", b"[", b'{"data_encoding": ', b"\xef\xbb\xbf{")) + data

    def random_json(self, rng: random.Random, huge: bool) -> bytes:
        value = random_json(rng, max_depth=rng.choice((2, 5, 8)))
        if rng.random() < 0.5:
            value = Pairs([("event_type", rng.choice(("order", "inventory", "user_activity"))), ("x", value)])
        data = to_bytes(dump(value, ensure_ascii=rng.random() < 0.7))
        return mangle_bytes(rng, data) if rng.random() < 0.2 else data

    def deep_nesting(self, rng: random.Random, huge: bool) -> bytes:
        depth = rng.choice((31, 32, 33, 34, 64, 1000, rng.randrange(1, 300)))
        if huge:
            depth = rng.choice((100_000, 200_000))
        unit, close = rng.choice(
            (("[", "]"), ('{"a":', "}"), ('{"":[', "]}"), ('[{"k":', "}]"), ('["[",', "]"))
        )
        core = rng.choice(("1", '"x"', "{}", "[]", "null", '"[[[["', "", '"\\"[["'))
        closing = close * depth if rng.random() < 0.7 else close * rng.randrange(depth + 1)
        body = unit * depth + core + closing
        if rng.random() < 0.4:  # deep inside a field of an otherwise valid event
            event = dump(valid_event(rng))
            body = event[:-1] + ', "deep": ' + body + "}"
        return body.encode("utf-8")

    def valid_event(self, rng: random.Random, huge: bool) -> bytes:
        event = valid_event(rng)
        if huge and event["event_type"] == "order":  # a huge items array, under or over 1 MiB
            copies = rng.choice((2_000, 6_000, 12_000))
            event["items"] = event["items"][:1] * copies
            item = event["items"][0]
            event["total_amount"] = str(Decimal(str(item["price"])) * item["quantity"] * copies)
        return to_bytes(dump(event, ensure_ascii=rng.random() < 0.7))

    def mutated_event(self, rng: random.Random, huge: bool) -> bytes:
        obj: Any = valid_event(rng)
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            obj = mutate(rng, obj, huge) if isinstance(obj, dict) else obj
        data = to_bytes(dump(obj, ensure_ascii=rng.random() < 0.8))
        return mangle_bytes(rng, data) if rng.random() < 0.15 else data

    def envelope(self, rng: random.Random, huge: bool) -> bytes:
        inner = rng.choice(
            (
                lambda: to_bytes(dump(valid_event(rng))),
                lambda: self.mutated_event(rng, False),
                lambda: rng.randbytes(rng.randrange(40)),
                lambda: self.deep_nesting(rng, False),
                lambda: b"",
            )
        )()
        return envelope_lookalike(rng, inner)

    def plain_text(self, rng: random.Random, huge: bool) -> bytes:
        return to_bytes(
            rng.choice((rand_text(rng, 40), "null", "[]", '"x"', "{}", "{} {}", "1", "\u00a0", "NaN"))
        )


def for_file(line: bytes) -> bytes | None:
    """``line`` as one line of a JSON Lines file (None: it would be blank, hence no message)."""
    line = line.replace(b"\n", b" ")
    if line.endswith(b"\r"):  # the reader takes \r\n as a line end
        line += b" "
    return line if line.strip() else None


# --- the catalogue of must-reject (and must-load) inputs ---------------------------------------

SAMPLES: dict[str, dict[str, Any]] = {
    "orders": {
        "event_type": "order",
        "event_id": "known-order",
        "order_id": "ord-1",
        "customer_id": "cust-1",
        "order_date": "2026-11-01T10:15:00+02:00",
        "status": "pending",
        "items": [
            {"product_id": "p-1", "product_name": "Mug", "quantity": 2, "price": "4.10"},
            {"product_id": "p-2", "product_name": "Tea", "quantity": 1, "price": Decimal("7.25")},
        ],
        "shipping_address": {"street": "1 Karl Johans gate", "city": "Oslo", "country": "no"},
        "total_amount": "15.45",
    },
    "inventory": {
        "event_type": "inventory",
        "event_id": "known-inventory",
        "inventory_id": "inv-1",
        "product_id": "p-1",
        "warehouse_id": "wh-1",
        "quantity_change": -2,
        "reason": "sale",
        "timestamp": 1762000000000,
    },
    "user_activity": {
        "event_type": "user_activity",
        "event_id": "known-user-activity",
        "user_id": "cust-1",
        "activity_type": "add_to_cart",
        "ip_address": "203.0.113.77",
        "user_agent": "Mozilla/5.0",
        "timestamp": "2026-11-01T08:00:00.250Z",
        "metadata": {"session_id": "sess-1", "platform": "mobile"},
    },
}
VALID = "valid"  # the expected "code" of an input that must be loaded
DROP = object()  # a ``sample`` change that deletes the field


@dataclass(frozen=True)
class KnownInput:
    """One hostile input and what must become of it: a dead-letter ``code``, or ``VALID``.

    ``pubsub_code`` is the outcome when the same bytes arrive as a Pub/Sub message's data,
    where an envelope-shaped payload is just data (None: the same as from a file).
    """

    name: str
    line: bytes
    code: str
    pubsub_code: str | None = None

    @property
    def via_pubsub(self) -> str:
        return self.pubsub_code or self.code


def sample(stream: str, event_id: str, **changes: Any) -> dict[str, Any]:
    """A valid sample event of ``stream`` with its own ``event_id`` and dotted-path ``changes``
    (``items.0.price``; a value of ``DROP`` deletes the field)."""
    obj = copy.deepcopy(SAMPLES[stream])
    obj["event_id"] = event_id
    for path, value in changes.items():
        *parents, last = path.split(".")
        target: Any = obj
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        key: Any = int(last) if isinstance(target, list) else last
        if value is DROP:
            del target[key]
        else:
            target[key] = value
    return obj


def line_of(obj: Any, ensure_ascii: bool = True) -> bytes:
    return to_bytes(dump(obj, ensure_ascii))


def _envelope(data: Any, encoding: Any = "utf-8", **fields: Any) -> bytes:
    return line_of({"data": data, "data_encoding": encoding, **fields})


def _huge_order(event_id: str, copies: int) -> dict[str, Any]:
    item = {"product_id": "p-1", "product_name": "Mug", "quantity": 1, "price": "0.25"}
    return sample("orders", event_id, items=[item] * copies, total_amount=str(Decimal("0.25") * copies))


def known_inputs() -> list[KnownInput]:
    """Every input class the pipeline must dead-letter (with its code) or load, one example each."""
    order = sample("orders", "known-order-1")
    deep_field = sample("inventory", "known-deep-32")
    deep_field["extra"] = nested(random.Random(0), 31, 1)  # 32 levels with the event itself: allowed
    too_deep_field = sample("inventory", "x")
    too_deep_field["extra"] = nested(random.Random(0), 32, 1)  # 33 levels
    envelope_key_text = dump(sample("orders", "known-envelope-order"))
    cases = [
        KnownInput("valid order", line_of(order), VALID),
        KnownInput("valid inventory", line_of(sample("inventory", "known-inventory-1")), VALID),
        KnownInput("valid user_activity", line_of(sample("user_activity", "known-ua-1")), VALID),
        KnownInput(
            "valid, odd but valid Unicode (NUL, emoji, U+2028, RTL override)",
            line_of(
                sample("user_activity", "known-ua-unicode", user_agent="a\x00b \U0001f600 \u2028 \u202e"),
                False,
            ),
            VALID,
        ),
        KnownInput(
            "valid, IPv6 with a non-ASCII scope id",
            line_of(sample("user_activity", "known-ua-scope", ip_address="fe80::1%\u00e9th0")),
            VALID,
        ),
        KnownInput("valid, 32 levels of nesting in all", line_of(deep_field), VALID),
        KnownInput(
            "valid, the first instant of year 1: its sliding metric windows start before year 1",
            line_of(sample("inventory", "known-inventory-year-1-start", timestamp=-62_135_596_800_000)),
            VALID,
        ),
        KnownInput(
            "valid, an hour into year 1 (epoch ms -62135593200000)",
            line_of(sample("inventory", "known-inventory-year-1", timestamp=-62_135_593_200_000)),
            VALID,
        ),
        KnownInput(
            "valid, prices in exponent notation (1E+2, 0E+1000000)",
            line_of(
                sample(
                    "orders",
                    "known-order-exponents",
                    items=[
                        {"product_id": "p-1", "product_name": "Mug", "quantity": 2, "price": "1E+2"},
                        {
                            "product_id": "p-2",
                            "product_name": "Tea",
                            "quantity": 1,
                            "price": Raw("0E+1000000"),
                        },
                    ],
                    total_amount=Raw("2.0e2"),
                )
            ),
            VALID,
        ),
        KnownInput(
            "valid, items array of 6,000 (420 KB)", line_of(_huge_order("known-order-6000", 6_000)), VALID
        ),
        KnownInput(
            "valid, a user_agent of 900 KB",
            line_of(sample("user_activity", "known-ua-long", user_agent="\u00e9" * 450_000), False),
            VALID,
        ),
        KnownInput("valid, the same order re-sent (a duplicate)", line_of(order), VALID),
        KnownInput("100,000 nested [", b"[" * 100_000, errors.NESTING_TOO_DEEP),
        KnownInput('{"a": nested 50,000 deep', b'{"a":' * 50_000, errors.NESTING_TOO_DEEP),
        KnownInput("33 levels, inside a field", line_of(too_deep_field), errors.NESTING_TOO_DEEP),
        KnownInput(
            "lone surrogate escape in warehouse_id",
            line_of(sample("inventory", "x", warehouse_id="hw-\ud800")),
            errors.INVALID_ENCODING,
        ),
        KnownInput(
            "lone surrogate escape in items[1].product_name",
            line_of(sample("orders", "x", **{"items.1.product_name": "T\udfffea"})),
            errors.INVALID_ENCODING,
        ),
        KnownInput(
            "lone surrogate escape in a key",
            line_of({**sample("inventory", "x"), "\ud83d": 1}),
            errors.INVALID_ENCODING,
        ),
        KnownInput(
            "non-UTF-8 bytes", b'{"event_type": "order", "order_id": "\xff\xfe"}', errors.INVALID_ENCODING
        ),
        KnownInput(
            "a surrogate encoded as UTF-8 bytes (CESU-8)",
            line_of(sample("inventory", "x", warehouse_id="\ud800"), False),
            errors.INVALID_ENCODING,
        ),
        KnownInput("Latin-1 text", '{"event_type": "caf\u00e9"}'.encode("latin-1"), errors.INVALID_ENCODING),
        KnownInput("NaN", line_of(sample("inventory", "x", quantity_change=Raw("NaN"))), errors.INVALID_JSON),
        KnownInput(
            "-Infinity", line_of(sample("orders", "x", total_amount=Raw("-Infinity"))), errors.INVALID_JSON
        ),
        KnownInput("UTF-8 BOM before a valid event", b"\xef\xbb\xbf" + line_of(order), errors.INVALID_JSON),
        KnownInput("UTF-16 text", dump(order).encode("utf-16"), errors.INVALID_ENCODING),
        KnownInput(
            "a 5,000-digit integer",
            line_of(sample("inventory", "x", quantity_change=Raw("9" * 5000))),
            errors.INVALID_JSON,
        ),
        KnownInput(
            "exponent beyond Decimal (1e99999999999999999999)",
            line_of(sample("orders", "x", total_amount=Raw("1e99999999999999999999"))),
            errors.INVALID_JSON,
        ),
        KnownInput(
            "price 1E+999999999999999999 (beyond NUMERIC)",
            line_of(sample("orders", "x", **{"items.0.price": Raw("1E+999999999999999999")})),
            errors.INVALID_VALUE,
        ),
        KnownInput(
            "quantity 10**30 (beyond INT64)",
            line_of(sample("orders", "x", **{"items.0.quantity": 10**30})),
            errors.INVALID_VALUE,
        ),
        KnownInput(
            "quantity_change -2**63-1",
            line_of(sample("inventory", "x", quantity_change=-(2**63) - 1)),
            errors.INVALID_VALUE,
        ),
        KnownInput(
            "epoch ms past 9999-12-31",
            line_of(sample("inventory", "x", timestamp=253_402_300_800_000)),
            errors.BAD_TIMESTAMP,
        ),
        KnownInput(
            "9999-12-31T23:59:59-01:00 (past year 9999 in UTC)",
            line_of(sample("inventory", "x", timestamp="9999-12-31T23:59:59-01:00")),
            errors.BAD_TIMESTAMP,
        ),
        KnownInput(
            "0001-01-01T00:00:00+01:00 (before year 1 in UTC)",
            line_of(sample("user_activity", "x", timestamp="0001-01-01T00:00:00+01:00")),
            errors.BAD_TIMESTAMP,
        ),
        KnownInput(
            "a day after now",
            line_of(sample("inventory", "x", timestamp="2026-11-03T12:00:01Z")),
            errors.FUTURE_TIMESTAMP,
        ),
        KnownInput(
            "a raw control character in a string",
            line_of(order).replace(b"Oslo", b"Os\x01lo"),
            errors.INVALID_JSON,
        ),
        KnownInput("trailing data", line_of(order) + b" {}", errors.INVALID_JSON),
        KnownInput("non-breaking space only", "\u00a0".encode(), errors.INVALID_JSON),
        KnownInput(
            "duplicate key, the last one wins",
            line_of(Pairs([*sample("inventory", "x").items(), ("event_type", "bogus")])),
            errors.UNKNOWN_EVENT_TYPE,
        ),
        KnownInput("an array", b"[1, 2]", errors.NOT_AN_OBJECT),
        KnownInput("a string", b'"event"', errors.NOT_AN_OBJECT),
        KnownInput("an empty object", b"{}", errors.MISSING_FIELD),
        KnownInput(
            "an order without items", line_of(sample("orders", "x", items=DROP)), errors.MISSING_FIELD
        ),
        KnownInput("items is a string", line_of(sample("orders", "x", items="many")), errors.WRONG_TYPE),
        KnownInput(
            "amounts do not add up",
            line_of(sample("orders", "x", total_amount="15.47")),
            errors.AMOUNT_MISMATCH,
        ),
        KnownInput(
            "envelope, data not base64",
            _envelope("not*base64!", "base64"),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "envelope, bad publish_time",
            _envelope(envelope_key_text, publish_time="yesterday"),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "envelope, publish_time before year 1 in UTC",
            _envelope(envelope_key_text, publish_time="0001-01-01T00:00:00+01:00"),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "envelope, attributes an array",
            _envelope(envelope_key_text, attributes=["a"]),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "envelope, an attribute that is a number",
            _envelope(envelope_key_text, attributes={"k": 1}),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput("envelope, data a number", _envelope(17), errors.INVALID_ENVELOPE, errors.MISSING_FIELD),
        KnownInput(
            "envelope, data a lone surrogate",
            _envelope("\udc80"),
            errors.INVALID_ENVELOPE,
            errors.INVALID_ENCODING,  # as Pub/Sub data: a JSON object holding a lone surrogate
        ),
        KnownInput(
            "envelope, data_encoding latin-1",
            _envelope(envelope_key_text, "latin-1"),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "envelope, message_id a number",
            _envelope(envelope_key_text, message_id=5),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "valid envelope holding a valid order",
            _envelope(
                envelope_key_text,
                attributes={"origin": "archive"},
                message_id="m-1",
                publish_time="2026-11-01T09:00:00Z",
            ),
            VALID,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "valid envelope holding non-UTF-8 bytes",
            _envelope(base64.b64encode(b"\xff\xfe{}").decode(), "base64", message_id="m-2"),
            errors.INVALID_ENCODING,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "payload over 1 MiB",
            b'{"event_type": "order", "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}',
            errors.PAYLOAD_TOO_LARGE,
        ),
        KnownInput(
            "items array of 16,000 (over 1 MiB)", line_of(_huge_order("x", 16_000)), errors.PAYLOAD_TOO_LARGE
        ),
    ]
    return cases


# --- the two runs ------------------------------------------------------------------------------


def _save(out: Path, line: bytes, problems: list[str]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"input-{hashlib.sha256(line).hexdigest()[:16]}.bin"
    path.write_bytes(line)
    path.with_suffix(".txt").write_text("\n".join(problems) + "\n")
    return path


def fuzz_core(count: int, seed: int, out: Path, huge: float = 0.005) -> dict[str, Any]:
    """``count`` inputs through line_to_message + triage + rows; counts per kind and per code."""
    from tqdm import tqdm

    inputs = HostileInputs(seed, huge)
    known = [("known", case.line) for case in known_inputs()]
    results: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    bad: list[tuple[str, list[str], Path]] = []
    crashes = violations = 0
    for index in tqdm(range(count), desc="core", unit="input", mininterval=1.0, file=sys.stderr):
        kind, line = known[index] if index < len(known) else inputs.line()
        kinds[kind] += 1
        outcome, problems = line_problems(line, NOW, IP_MODES[index % len(IP_MODES)])
        if outcome is None:
            results["(crash)"] += 1
        else:
            results["valid " + outcome.stream if isinstance(outcome, ValidEvent) else outcome.code] += 1
        if problems:
            crashes += outcome is None or any(" raised " in p for p in problems)
            violations += 1
            if len(bad) < 20:
                bad.append((kind, problems, _save(out, line, problems)))
    return {
        "inputs": count,
        "kinds": kinds,
        "results": results,
        "crashes": crashes,
        "violations": violations,
        "bad": bad,
    }


@dataclass(frozen=True)
class FixedClock:
    """The pipeline's clock pinned to ``moment`` (picklable), so its outcomes match ``triage``'s."""

    moment: datetime

    def __call__(self) -> datetime:
        return self.moment


def fuzz_pipeline(count: int, seed: int, root: Path, huge: float = 0.001) -> dict[str, Any]:
    """``count`` inputs in one file through the real batch pipeline on the emulators."""
    from localdev.stack import local_stack
    from pipeline import main as pipeline_main
    from pipeline.reconciliation import is_balanced

    inputs = HostileInputs(seed, huge)
    lines = [case.line for case in known_inputs()][:count]
    while len(lines) < count:
        if inputs.rng.random() < 0.03:  # an exact re-send of an earlier line
            lines.append(inputs.rng.choice(lines))
            continue
        line = for_file(inputs.line()[1])
        if line is not None:
            lines.append(line)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "hostile.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))

    predicted: Counter[str] = Counter()
    valid_ids: dict[str, str] = {}
    valid = 0
    for line in lines:
        outcome = triage(line_to_message(str(path), line), NOW)
        if isinstance(outcome, ValidEvent):
            valid += 1
            valid_ids.setdefault(outcome.event_id, outcome.stream)
        else:
            predicted[outcome.code] += 1
    report: dict[str, Any] = {
        "inputs": count,
        "file_bytes": path.stat().st_size,
        "predicted": {"valid": valid, "unique": len(valid_ids), "rejected": dict(sorted(predicted.items()))},
    }
    with local_stack(root / "stack") as stack:
        argv = [
            "--source=files",
            f"--input={path}",
            f"--project={stack.project}",
            f"--bigquery_endpoint={stack.bigquery_endpoint}",
            f"--archive_root={root / 'archive'}",
        ]
        started = time.perf_counter()
        try:
            summary = pipeline_main.run(argv, clock=FixedClock(NOW))
        except BaseException as exc:  # noqa: BLE001 - a crash of the run is the finding
            report.update(crashed=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
            return report
        report["seconds"] = round(time.perf_counter() - started, 1)
        report["summary"] = summary
        report["balanced"] = is_balanced(summary)
        client = stack.bigquery_client()

        def count_rows(table: str, where: str) -> int:
            query = f"SELECT COUNT(*) AS n FROM `events.{table}` WHERE {where}"
            return next(iter(client.query(query).result()))["n"]

        report["tables"] = {s: count_rows(s, "event_date >= '0001-01-01'") for s in STREAMS}
        report["tables"]["dead_letter"] = count_rows("dead_letter", "TRUE")
        codes = client.query("SELECT error_code, COUNT(*) AS n FROM `events.dead_letter` GROUP BY error_code")
        report["dead_letter_codes"] = {r["error_code"]: r["n"] for r in codes.result()}
        refusals = client.query(
            "SELECT error_message FROM `events.dead_letter` WHERE error_code = 'load_rejected' LIMIT 5"
        )
        report["refusals"] = [r["error_message"][:300] for r in refusals.result()]
    report["problems"] = _pipeline_problems(report, count)
    return report


def _pipeline_problems(report: dict[str, Any], count: int) -> list[str]:
    summary, predicted = report["summary"], report["predicted"]
    problems = []
    if summary["messages_in"] != count:
        problems.append(f"messages_in is {summary['messages_in']}, the file has {count} lines")
    if not report["balanced"]:
        problems.append("the run does not reconcile: in != loaded + rejected + duplicates")
    loaded = sum(summary["loaded"].values())
    refused = summary["rejected"].get(errors.LOAD_REJECTED, 0) - predicted["rejected"].get(
        errors.LOAD_REJECTED, 0
    )
    if (
        loaded + refused != predicted["unique"]
        or summary["duplicates"] != predicted["valid"] - predicted["unique"]
    ):
        problems.append(
            f"loaded {loaded} + refused {refused} / duplicates {summary['duplicates']}: triage predicted "
            f"{predicted['unique']} unique valid events and "
            f"{predicted['valid'] - predicted['unique']} duplicates"
        )
    others = {c: n for c, n in summary["rejected"].items() if c != errors.LOAD_REJECTED}
    expected = {c: n for c, n in predicted["rejected"].items() if c != errors.LOAD_REJECTED}
    if others != expected:
        problems.append(f"rejected per code {others}, triage predicted {expected}")
    if report["tables"]["dead_letter"] != sum(summary["rejected"].values()):
        problems.append(
            f"dead_letter holds {report['tables']['dead_letter']} rows, the summary says rejected"
        )
    if report["dead_letter_codes"] != summary["rejected"]:
        problems.append(f"dead_letter codes {report['dead_letter_codes']} != summary {summary['rejected']}")
    for stream in STREAMS:
        if report["tables"][stream] != summary["loaded"][stream]:
            problems.append(f"{stream} holds {report['tables'][stream]} rows, the summary says loaded")
    if summary["rejected"].get(errors.INTERNAL_ERROR):
        problems.append(f"{summary['rejected'][errors.INTERNAL_ERROR]} internal_error dead letters")
    return problems


def _print_counts(title: str, counts: dict[str, int]) -> None:
    print(title)
    for key, value in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {key:<24}{value:>9,}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--core", type=int, default=100_000, help="inputs through triage (default 100,000)")
    parser.add_argument(
        "--pipeline", type=int, default=10_000, help="inputs through the batch pipeline (0: skip)"
    )
    parser.add_argument("--seed", type=int, default=20261102)
    parser.add_argument(
        "--out", type=Path, default=Path(".local/fuzz"), help="where inputs that broke a property go"
    )
    args = parser.parse_args(argv)
    failed = False
    started = time.perf_counter()

    core = fuzz_core(args.core, args.seed, args.out / "failing")
    core_seconds = time.perf_counter() - started
    print(
        f"\n== core: {core['inputs']:,} inputs through line_to_message + triage + rows "
        f"in {core_seconds:.0f} s"
    )
    _print_counts("inputs by generator:", core["kinds"])
    _print_counts("outcomes:", core["results"])
    print(f"crashes (an exception escaped): {core['crashes']}")
    print(f"inputs breaking a property (crashes, internal_error, unwritable rows, ...): {core['violations']}")
    for kind, problems, path in core["bad"]:
        print(f"  [{kind}] {path}: {'; '.join(problems)[:300]}")
    failed |= bool(core["violations"])

    if args.pipeline:
        with tempfile.TemporaryDirectory(prefix="eventharbor-fuzz-") as folder:
            started_pipeline = time.perf_counter()
            report = fuzz_pipeline(args.pipeline, args.seed + 1, Path(folder))
            wall = time.perf_counter() - started_pipeline
        print(
            f"\n== pipeline: {report['inputs']:,} inputs ({report['file_bytes']:,} bytes) "
            "through the batch pipeline"
        )
        if "crashed" in report:
            print(f"THE RUN CRASHED: {report['crashed']}\n{report['traceback']}")
            failed = True
        else:
            summary = report["summary"]
            print(f"run {report['seconds']} s (with the emulators {wall:.0f} s)")
            print(f"messages_in {summary['messages_in']:,}   duplicates {summary['duplicates']:,}")
            _print_counts("loaded:", summary["loaded"])
            _print_counts("rejected:", summary["rejected"])
            print(f"predicted by triage: {json.dumps(report['predicted'], sort_keys=True)}")
            print(f"rows in the tables: {json.dumps(report['tables'])}")
            for reason in report["refusals"]:
                print(f"  refused by BigQuery: {reason}")
            balanced = (
                "reconciled: in = loaded + rejected + duplicates" if report["balanced"] else "NOT RECONCILED"
            )
            print(balanced)
            for problem in report["problems"]:
                print(f"PROBLEM: {problem}")
            failed |= bool(report["problems"])
    print(f"\nwall time {time.perf_counter() - started:.0f} s; {'FAILED' if failed else 'OK: 0 crashes'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
