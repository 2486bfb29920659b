"""The checker the generator's output is judged by, written from docs/contract.md on purpose,
independent of the generator and of the pipeline, and the sample helpers the
``tests/*/test_generator_*`` modules share. Its own tests are in tests/unit/test_generator_spec.py.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from localdev import generator as gen

MIB = 1024 * 1024
MAX_DEPTH = 32
START = date(2026, 3, 2)
CONFIG = gen.GeneratorConfig(seed=7, start=START)
SMALL = gen.GeneratorConfig(seed=3, start=START, days=2, customers=8, orders_per_day=5, sessions_per_day=5)
# Every code an input can earn (docs/contract.md, "Rejections"): all but load_rejected and internal_error.
ALL_CODES = {
    "payload_too_large",
    "invalid_encoding",
    "invalid_json",
    "nesting_too_deep",
    "not_an_object",
    "invalid_envelope",
    "unknown_event_type",
    "missing_field",
    "wrong_type",
    "invalid_value",
    "bad_timestamp",
    "future_timestamp",
    "amount_mismatch",
}
TABLES = {"order": "orders", "inventory": "inventory", "user_activity": "user_activity"}
ENVELOPE_KEYS = {"data", "data_encoding", "attributes", "message_id", "publish_time"}
COUNTRIES = {
    *"AR AT AU BE BR CA CH CN CZ DE DK ES FI FR GB GR HU IE IN IT JP KR".split(),
    *"MX NL NO NZ PL PT SE SG TR US ZA".split(),
}
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
LEGAL_NEXT = {
    "pending": {"processing", "cancelled"},
    "processing": {"shipped", "cancelled"},
    "shipped": {"delivered"},
    "delivered": set(),
    "cancelled": set(),
}

# Required fields per event type: a Python type, "money" (decimal string or JSON number) or "time".
FIELDS = {
    "order": {
        "order_id": str,
        "customer_id": str,
        "order_date": "time",
        "status": str,
        "items": list,
        "shipping_address": dict,
        "total_amount": "money",
    },
    "inventory": {
        "inventory_id": str,
        "product_id": str,
        "warehouse_id": str,
        "quantity_change": int,
        "reason": str,
        "timestamp": "time",
    },
    "user_activity": {
        "user_id": str,
        "activity_type": str,
        "ip_address": str,
        "user_agent": str,
        "timestamp": "time",
        "metadata": dict,
    },
}
ITEM = {"product_id": str, "product_name": str, "quantity": int, "price": "money"}
ADDRESS = {"street": str, "city": str, "country": str}
METADATA = {"session_id": str, "platform": str}


class Rejected(Exception):
    """The checker's verdict on a message: the dead-letter code and stream (None: "unknown")."""

    def __init__(self, code: str, stream: str | None = None):
        super().__init__(code, stream)
        self.code, self.stream = code, stream


def _is(value: object, kind: object) -> bool:
    if kind == "money":
        return isinstance(value, str | Decimal) or (isinstance(value, int) and not isinstance(value, bool))
    if kind == "time":
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _require(obj: dict, spec: dict) -> None:
    for name, kind in spec.items():
        if name not in obj:
            raise Rejected("missing_field")
        if not _is(obj[name], kind):
            raise Rejected("wrong_type")


def _money(value: object) -> Decimal:
    try:
        amount = Decimal(value)
    except ArithmeticError as exc:
        raise Rejected("invalid_value") from exc
    if not amount.is_finite() or amount < 0:
        raise Rejected("invalid_value")
    return amount


def event_time(value: object) -> datetime:
    """An event's time in UTC: RFC 3339 with an offset, or epoch milliseconds."""
    if isinstance(value, int):
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=value)
    if not RFC3339.fullmatch(value):
        raise Rejected("bad_timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Rejected("bad_timestamp") from exc
    return parsed.astimezone(timezone.utc)


def depth(value: object) -> int:
    """How deep arrays/objects nest in ``value`` (a scalar is 0, ``[]`` is 1), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def strings(value: object) -> list[tuple[str, str]]:
    """Every (path, string) in ``value``, keys included (a key's path ends in "(key)")."""
    found, stack = [], [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            found.append((path, node))
        elif isinstance(node, dict):
            for key, child in node.items():
                found.append((f"{path}.{key}(key)".lstrip("."), key))
                stack.append((child, f"{path}.{key}".lstrip(".")))
        elif isinstance(node, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(node))
    return found


def has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_order(event: dict) -> None:
    if event["status"] not in LEGAL_NEXT or not event["items"]:
        raise Rejected("invalid_value")
    for item in event["items"]:
        if not isinstance(item, dict):
            raise Rejected("wrong_type")
        _require(item, ITEM)
        if item["quantity"] < 1:
            raise Rejected("invalid_value")
    _require(event["shipping_address"], ADDRESS)
    if event["shipping_address"]["country"] not in COUNTRIES:
        raise Rejected("invalid_value")
    total = sum((_money(i["price"]) * i["quantity"] for i in event["items"]), Decimal(0))
    if abs(total - _money(event["total_amount"])) > Decimal("0.01"):
        raise Rejected("amount_mismatch")


def _check_inventory(event: dict) -> None:
    change, reason = event["quantity_change"], event["reason"]
    signs = {"restock": 1, "return": 1, "sale": -1, "damage": -1}
    if reason not in signs or not 1 <= abs(change) <= 100 or change * signs[reason] < 0:
        raise Rejected("invalid_value")


def _check_activity(event: dict) -> None:
    _require(event["metadata"], METADATA)
    activities = {"login", "logout", "view_product", "add_to_cart", "remove_from_cart"}
    if event["activity_type"] not in activities or event["metadata"]["platform"] not in {
        "web",
        "mobile",
        "tablet",
    }:
        raise Rejected("invalid_value")
    try:
        ipaddress.ip_address(event["ip_address"])
    except ValueError as exc:
        raise Rejected("invalid_value") from exc


def unwrap(envelope: dict) -> bytes:
    """An archive envelope's data, or raises ``Rejected("invalid_envelope")`` (docs/contract.md)."""
    try:
        attributes = envelope["attributes"]
        if attributes is not None and not (
            isinstance(attributes, dict) and all(isinstance(v, str) for v in attributes.values())
        ):
            raise ValueError("attributes must be an object of strings")
        if envelope["publish_time"] is not None:
            datetime.fromisoformat(envelope["publish_time"].replace("Z", "+00:00"))
        if envelope["data_encoding"] == "base64":
            return base64.b64decode(envelope["data"], validate=True)
        if envelope["data_encoding"] == "utf-8":
            return envelope["data"].encode("utf-8")
        raise ValueError("unknown data_encoding")
    except (ValueError, TypeError, AttributeError, binascii.Error) as exc:
        raise Rejected("invalid_envelope") from exc


def check(data: bytes, as_file_line: bool = True) -> dict:
    """The parsed event if ``data`` is valid per docs/contract.md, else raises Rejected(code, stream).

    ``as_file_line``: ``data`` is a line of a JSON Lines file, which may be an archive envelope;
    otherwise it is Pub/Sub message data, which never is.
    """
    if len(data) > MIB:
        raise Rejected("payload_too_large")
    try:
        event = json.loads(data.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise Rejected("invalid_encoding") from exc
    except ValueError as exc:
        raise Rejected("invalid_json") from exc
    if as_file_line and isinstance(event, dict) and set(event) == ENVELOPE_KEYS:
        return check(unwrap(event), as_file_line=False)
    if depth(event) > MAX_DEPTH:
        raise Rejected("nesting_too_deep")
    if not isinstance(event, dict):
        raise Rejected("not_an_object")
    stream = TABLES.get(event.get("event_type"))
    if any(has_lone_surrogate(text) for _, text in strings(event)):
        raise Rejected("invalid_encoding", stream)
    if "event_type" not in event:
        raise Rejected("missing_field")
    if stream is None:
        raise Rejected("unknown_event_type")
    try:
        if "event_id" in event and not (isinstance(event["event_id"], str) and len(event["event_id"]) <= 128):
            raise Rejected("invalid_value")
        _require(event, FIELDS[event["event_type"]])
        {"order": _check_order, "inventory": _check_inventory, "user_activity": _check_activity}[
            event["event_type"]
        ](event)
        when = event_time(event.get("order_date", event.get("timestamp")))
        if when > datetime.now(timezone.utc) + timedelta(days=1):
            raise Rejected("future_timestamp")
    except Rejected as rejected:
        raise Rejected(rejected.code, stream) from None
    return event


def verdict(data: bytes, as_file_line: bool = True) -> tuple[str | None, str | None]:
    """(code, stream) the checker gives ``data``: code None when valid, stream None when unknown."""
    try:
        event = check(data, as_file_line)
    except Rejected as rejected:
        return rejected.code, rejected.stream
    return None, TABLES[event["event_type"]]


# --- the sample, as the checker sees it ---------------------------------------------------------


@lru_cache(maxsize=8)
def generated(config: gen.GeneratorConfig) -> gen.Sample:
    """``generate(config)``, once per test session (configs are frozen, so hashable)."""
    return gen.generate(config)


@dataclass(frozen=True)
class Line:
    """One line of an output file, as the checker sees it."""

    day: date
    data: bytes
    event: dict | None
    code: str | None
    resent: bool

    @property
    def time(self) -> datetime:
        return event_time(self.event.get("order_date", self.event.get("timestamp")))


def read_lines(out: Path) -> list[Line]:
    lines, seen = [], set()
    for path in sorted(out.glob("events-*.jsonl")):
        day = date.fromisoformat(path.stem.removeprefix("events-"))
        for data in path.read_bytes().split(b"\n")[:-1]:
            try:
                event, code = check(data), None
            except Rejected as rejected:
                event, code = None, rejected.code
            lines.append(Line(day, data, event, code, data in seen))
            seen.add(data)
    return lines


def by_type(valid: list[Line], event_type: str) -> list[dict]:
    return [line.event for line in valid if line.event["event_type"] == event_type]


# --- the checker's own tests --------------------------------------------------------------------

INVENTORY = {
    "event_type": "inventory",
    "inventory_id": "inv-1",
    "product_id": "p-1",
    "warehouse_id": "wh-1",
    "quantity_change": 5,
    "reason": "restock",
    "timestamp": "2026-03-02T10:00:00Z",
}


def _arrays(levels: int) -> list:
    return json.loads("[" * levels + "]" * levels)


def _line(value: object) -> bytes:
    return json.dumps(value).encode()


def _envelope(**changes: object) -> dict:
    envelope = {
        "data": json.dumps(INVENTORY),
        "data_encoding": "utf-8",
        "attributes": {"source": "test"},
        "message_id": "1",
        "publish_time": "2026-03-02T10:00:01Z",
    }
    return {**envelope, **changes}
