"""Malformed messages, exactly one defect each, cycling through every code an input can earn.

Each defect breaks a fresh valid-looking event built like the simulation's. ``DEFECTS`` lists,
per dead-letter code, the variants the cycle walks through in turn: the stream of the event
that gets broken and the function that breaks it (returning the object, or the bytes when the
defect is below JSON).
"""

from __future__ import annotations

import base64
import itertools
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from localdev.generator.render import Renderer, encode, epoch_millis, producer_rfc3339, to_json
from localdev.generator.sample import SOURCE, GeneratorConfig, SampleMessage
from localdev.generator.simulation import (
    activity_fields,
    inventory_fields,
    new_order,
    new_session,
    pick_items,
    random_seconds,
)
from localdev.generator.world import World
from transforms.errors import (
    AMOUNT_MISMATCH,
    BAD_TIMESTAMP,
    FUTURE_TIMESTAMP,
    INPUT_ERROR_CODES,
    INVALID_ENCODING,
    INVALID_ENVELOPE,
    INVALID_JSON,
    INVALID_VALUE,
    MISSING_FIELD,
    NESTING_TOO_DEEP,
    NOT_AN_OBJECT,
    PAYLOAD_TOO_LARGE,
    UNKNOWN_EVENT_TYPE,
    WRONG_TYPE,
)
from transforms.times import rfc3339

MIB = 1024 * 1024
# The contract (docs/contract.md) rejects arrays/objects nested deeper than 32 levels; the defects go
# well past it.
NESTING_LEVELS = 40

# The defects cycle in this order, so a sample of len(DEFECT_CYCLE) malformed messages holds every
# code an input can earn once: payload_too_large first (capped by max_oversized), then the others.
DEFECT_CYCLE = (PAYLOAD_TOO_LARGE, *(code for code in INPUT_ERROR_CODES if code != PAYLOAD_TOO_LARGE))
# Rejected before the event's type is read (parse stage) or for the type itself: the pipeline
# cannot tell the stream (dead letters say "unknown"), so they are published to the mixed topic.
UNROUTABLE = frozenset(
    {PAYLOAD_TOO_LARGE, INVALID_JSON, NESTING_TOO_DEEP, NOT_AN_OBJECT, INVALID_ENVELOPE, UNKNOWN_EVENT_TYPE}
)

Defect = Callable[[dict, datetime], dict | bytes]


def pipeline_stream(code: str, stream: str, data: bytes) -> str | None:
    """The stream the pipeline attributes a defect of ``code`` in an event of ``stream`` to.

    None ("unknown") for the unroutable codes, and for ``invalid_encoding`` when the bytes are not
    UTF-8 (rejected before parsing); a lone surrogate escape is found in a parsed event.
    """
    if code in UNROUTABLE:
        return None
    if code == INVALID_ENCODING:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return stream


# --- building blocks ----------------------------------------------------------------------------


def _node(payload: dict, path: str) -> tuple[dict | list, str | int]:
    """The container holding the last element of a dotted path like "items.0.price"."""
    *parents, last = path.split(".")
    node: dict | list = payload
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, int(last) if isinstance(node, list) else last


def dropped(path: str) -> Defect:
    def apply(payload: dict, _: datetime) -> dict:
        node, key = _node(payload, path)
        del node[key]
        return payload

    return apply


def replaced(path: str, value: object) -> Defect:
    def apply(payload: dict, _: datetime) -> dict:
        node, key = _node(payload, path)
        node[key] = value(node[key]) if callable(value) else value
        return payload

    return apply


def _like(old: object, amount: Decimal) -> str | Decimal:
    """``amount`` written the way ``old`` was (JSON string or number)."""
    return f"{amount:.2f}" if isinstance(old, str) else amount


def _retotalled(payload: dict) -> dict:
    total = sum((Decimal(str(i["price"])) * i["quantity"] for i in payload["items"]), Decimal("0.00"))
    payload["total_amount"] = _like(payload["total_amount"], total)
    return payload


def _quantity_zero(payload: dict, _: datetime) -> dict:
    payload["items"][0]["quantity"] = 0
    return _retotalled(payload)


def _amount_off(sign: int) -> Defect:
    def apply(payload: dict, _: datetime) -> dict:
        total = Decimal(str(payload["total_amount"]))
        delta = Decimal("5.00") if sign > 0 or total < 5 else Decimal("-5.00")
        payload["total_amount"] = _like(payload["total_amount"], total + delta)
        return payload

    return apply


def _inventory_as(reason: str, change: Callable[[int], int]) -> Defect:
    def apply(payload: dict, _: datetime) -> dict:
        payload["reason"] = reason
        payload["quantity_change"] = change(abs(payload["quantity_change"]))
        return payload

    return apply


def _with_raw(key: str, raw: bytes) -> Defect:
    """Bytes that are not UTF-8 at the start of a string field's value."""

    def apply(payload: dict, _: datetime) -> bytes:
        marker = f'"{key}":"'.encode()
        return encode(payload).replace(marker, marker + raw, 1)

    return apply


_MARK = "<lone-surrogate>"


def _lone_surrogate(path: str, escape: str) -> Defect:
    """A string field ending in a lone UTF-16 surrogate, written as its JSON escape (``\\ud800``).

    The bytes are ASCII and the JSON is valid: only the decoded string is not valid Unicode.
    """

    def apply(payload: dict, _: datetime) -> bytes:
        node, key = _node(payload, path)
        node[key] += _MARK
        return to_json(payload).replace(_MARK, escape).encode()

    return apply


def nested(levels: int, objects: bool = False) -> list | dict:
    """``levels`` arrays (or objects ``{"a": ...}``) nested in each other, the innermost empty."""
    value: list | dict = {} if objects else []
    for _ in range(levels - 1):
        value = {"a": value} if objects else [value]
    return value


def _nested_extra(path: str | None, key: str, objects: bool = False) -> Defect:
    """An extra field ``key`` (extra fields are allowed) holding ``NESTING_LEVELS`` nested
    arrays or objects, in the object at ``path`` (None: the event itself)."""

    def apply(payload: dict, _: datetime) -> dict:
        if path is None:
            target = payload
        else:
            node, last = _node(payload, path)
            target = node[last]
        target[key] = nested(NESTING_LEVELS, objects)
        return payload

    return apply


def undecodable_base64(payload: dict) -> str:
    """The event's base64 behind "@@@" and cut to 4n + 1 characters: no decoder takes it,
    strict (no "@" allowed) or lenient (drops the "@", then 4n + 1 characters never decode)."""
    text = base64.b64encode(encode(payload)).decode("ascii").rstrip("=")
    return "@@@" + text[: len(text) - (len(text) - 1) % 4]


def _envelope_lookalike(**broken: object) -> Defect:
    """The event wrapped like a raw-archive line (exactly the envelope's five keys), with the
    parts in ``broken`` replaced (a callable gets the event). Only a file line can be an
    envelope: as Pub/Sub data it is an object without event_type (``missing_field``)."""

    def apply(payload: dict, when: datetime) -> dict:
        envelope = {
            "data": to_json(payload),
            "data_encoding": "utf-8",
            "attributes": {"source": SOURCE},
            "message_id": str(epoch_millis(when)),
            "publish_time": rfc3339(when),
        }
        envelope.update({key: part(payload) if callable(part) else part for key, part in broken.items()})
        return envelope

    return apply


def _text(transform: Callable[[str], str]) -> Defect:
    return lambda payload, _: transform(to_json(payload)).encode()


def _timestamp(path: str, render: Callable[[datetime], object]) -> Defect:
    def apply(payload: dict, when: datetime) -> dict:
        payload[path] = render(when)
        return payload

    return apply


TWO_HOURS = timedelta(hours=2)


def _in_2099(when: datetime) -> datetime:
    return when.replace(year=2099, day=min(when.day, 28))


DEFECTS: dict[str, list[tuple[str, Defect]]] = {
    PAYLOAD_TOO_LARGE: [("orders", lambda p, _: {**p, "padding": "x" * MIB})],
    INVALID_ENCODING: [
        ("user_activity", _with_raw("user_agent", b"\xff\xfe")),
        ("inventory", _lone_surrogate("warehouse_id", "\\ud800")),
        ("orders", _with_raw("order_id", b"\xc3\x28")),
        ("orders", _lone_surrogate("items.0.product_name", "\\udc00")),
        ("user_activity", _lone_surrogate("metadata.session_id", "\\udbff")),
    ],
    INVALID_JSON: [
        ("orders", _text(lambda s: s[: len(s) // 2])),
        ("inventory", _text(lambda s: s[:-1] + ",}")),
        ("user_activity", _text(lambda s: s[: len(s) - 3])),
        ("orders", _text(lambda s: s.replace('"', "'"))),
    ],
    NOT_AN_OBJECT: [
        ("orders", _text(lambda s: f"[{s}]")),
        ("inventory", lambda p, when: str(epoch_millis(when)).encode()),
        ("user_activity", _text(to_json)),  # JSON-encoded twice: a JSON string
        ("orders", lambda p, _: to_json(p["items"]).encode()),
    ],
    UNKNOWN_EVENT_TYPE: [
        ("orders", replaced("event_type", "refund")),
        ("user_activity", replaced("event_type", "page_view")),
    ],
    MISSING_FIELD: [
        ("orders", dropped("customer_id")),
        ("orders", dropped("shipping_address.city")),
        ("user_activity", dropped("metadata.platform")),
        ("inventory", dropped("reason")),
        ("orders", dropped("items.0.price")),
        ("user_activity", dropped("timestamp")),
        ("orders", dropped("total_amount")),
        ("inventory", dropped("warehouse_id")),
    ],
    WRONG_TYPE: [
        ("orders", replaced("items.0.quantity", "three")),
        ("orders", replaced("items", lambda items: items[0])),
        ("orders", replaced("customer_id", lambda cid: int(cid.split("-")[1]))),
        ("inventory", replaced("quantity_change", "ten")),
        ("user_activity", replaced("metadata", lambda meta: meta["platform"])),
        ("orders", replaced("shipping_address", lambda a: f"{a['street']}, {a['city']}, {a['country']}")),
    ],
    INVALID_VALUE: [
        ("orders", replaced("status", "returned")),
        ("orders", _quantity_zero),
        ("inventory", _inventory_as("sale", lambda q: q)),
        ("inventory", _inventory_as("restock", lambda _: 150)),
        ("user_activity", replaced("metadata.platform", "desktop")),
        ("user_activity", replaced("ip_address", "999.1.1.1")),
        ("orders", replaced("shipping_address.country", "XX")),
        ("user_activity", replaced("activity_type", "purchase")),
        ("inventory", _inventory_as("theft", lambda q: -q)),
        ("inventory", _inventory_as("restock", lambda _: 0)),
    ],
    BAD_TIMESTAMP: [
        ("orders", _timestamp("order_date", lambda t: f"{t.year}-13-45T00:00:00Z")),
        ("inventory", _timestamp("timestamp", lambda t: t.strftime("%Y-%m-%dT%H:%M:%S"))),
        ("user_activity", _timestamp("timestamp", lambda t: "yesterday")),
        ("orders", _timestamp("order_date", lambda t: f"{t.year}-02-30T10:00:00+01:00")),
    ],
    # Far in the future, so they are rejected whenever the sample is processed.
    FUTURE_TIMESTAMP: [
        ("orders", _timestamp("order_date", lambda t: rfc3339(_in_2099(t)))),
        ("inventory", _timestamp("timestamp", lambda t: epoch_millis(_in_2099(t)))),
        ("user_activity", _timestamp("timestamp", lambda t: producer_rfc3339(_in_2099(t), TWO_HOURS))),
    ],
    AMOUNT_MISMATCH: [("orders", _amount_off(+1)), ("orders", _amount_off(-1))],
    NESTING_TOO_DEEP: [
        ("user_activity", _nested_extra("metadata", "trail")),
        ("orders", _nested_extra("items.0", "options", objects=True)),
        ("inventory", _nested_extra(None, "trace")),
    ],
    INVALID_ENVELOPE: [
        ("orders", _envelope_lookalike(data=undecodable_base64, data_encoding="base64")),
        ("inventory", _envelope_lookalike(publish_time="yesterday")),
        ("user_activity", _envelope_lookalike(attributes=["source", SOURCE])),
        ("orders", _envelope_lookalike(attributes={"source": SOURCE, "attempt": 2})),
    ],
}


class Defects:
    """Malformed messages built from fresh valid-looking events, cycling through the codes."""

    def __init__(self, config: GeneratorConfig, world: World, rng: random.Random):
        self.config, self.world, self.rng = config, world, rng
        self.render = Renderer(rng)

    def codes(self, count: int) -> list[str]:
        """``count`` codes in cycle order; payload_too_large at most ``max_oversized`` times."""
        codes: list[str] = []
        cycle, oversized_left = itertools.cycle(DEFECT_CYCLE), self.config.max_oversized
        while len(codes) < count:
            code = next(cycle)
            if code == PAYLOAD_TOO_LARGE:
                if not oversized_left:
                    continue
                oversized_left -= 1
            codes.append(code)
        return codes

    def messages(self, count: int) -> list[SampleMessage]:
        """``count`` malformed messages; each code walks through its variants in turn."""
        seen: Counter = Counter()
        made = []
        for code in self.codes(count):
            variants = DEFECTS[code]
            stream, defect = variants[seen[code] % len(variants)]
            seen[code] += 1
            made.append(self._message(code, stream, defect))
        return made

    def _message(self, code: str, stream: str, defect: Defect) -> SampleMessage:
        when = self.config.begin + random_seconds(self.rng, 0, self.config.days * 86_400 - 1)
        broken = defect(self._template(stream, when), when)
        data = broken if isinstance(broken, bytes) else encode(broken)
        return SampleMessage(data, when, pipeline_stream(code, stream, data), error_code=code)

    def _template(self, stream: str, when: datetime) -> dict:
        """A valid event of ``stream`` at ``when``, to be broken."""
        rng, world = self.rng, self.world
        customer = rng.choice(world.buyers() or world.customers)
        if stream == "orders":
            order = new_order(world, customer, pick_items(world, customer, rng), when, rng)
            status = rng.choice(("pending", "processing", "shipped", "delivered", "cancelled"))
            return self.render.payload(stream, order.fields(status, when))
        if stream == "inventory":
            reason = rng.choice(("restock", "sale", "return", "damage"))
            change = rng.randint(1, 40) * (1 if reason in ("restock", "return") else -1)
            product, warehouse = rng.choice(world.products), rng.choice(world.warehouses)
            return self.render.payload(
                stream, inventory_fields(world, product, warehouse, change, reason, when)
            )
        activity = rng.choice(("login", "view_product", "add_to_cart", "remove_from_cart", "logout"))
        fields = activity_fields(customer, new_session(customer, rng), activity, when)
        return self.render.payload(stream, fields)
