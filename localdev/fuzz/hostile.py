"""Generated hostile file lines: ``HostileInputs`` and the generators it mixes.

The inputs come from a seeded ``random.Random``: random bytes, random JSON, deep nesting, valid
events of the three streams (``valid_event``), mutations of them (``mutate``: fields dropped,
retyped, set to extreme values, nested deep, huge arrays and strings, lone surrogates and control
characters, duplicate keys), byte-level damage (``mangle_bytes``: BOMs, broken UTF-8, other
encodings) and archive-envelope lookalikes (``envelope_lookalike``). Same seed, same inputs.
"""

from __future__ import annotations

import base64
import copy
import random
from dataclasses import dataclass
from datetime import timedelta, timezone
from decimal import Decimal
from typing import Any

from localdev.fuzz.checks import NOW
from localdev.fuzz.jsontext import Pairs, Raw, dump, to_bytes
from localdev.fuzz.values import (
    HOSTILE_KEYS,
    SPICE,
    TIMESTAMPS,
    big_text,
    extreme,
    nested,
    rand_char,
    rand_text,
    random_json,
)
from schemas import STREAMS
from transforms.messages import INVALID_ENVELOPE_ATTRIBUTE
from transforms.validation import MAX_PAYLOAD_BYTES


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
