"""Parse, validate and normalise one event against the contract of docs/contract.md ("Events").

Pure functions, no Beam: every rule raises ``Rejection`` with a stable code and
a message naming the field and what is wrong with its value. The Beam DoFns in
``transforms.parse`` wrap these and route rejections to the dead-letter output.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from schemas import STREAM_BY_EVENT_TYPE, UNKNOWN_STREAM
from transforms import errors, utf8
from transforms.errors import Rejection
from transforms.times import EPOCH, rfc3339
from transforms.vocabulary import ACTIVITY_TYPES, INVENTORY_SIGNS, ISO_COUNTRIES, ORDER_STATUSES, PLATFORMS

MAX_PAYLOAD_BYTES = 1024 * 1024
MAX_NESTING = 32
INT64_RANGE = (-(2**63), 2**63 - 1)
MAX_EVENT_ID_CHARS = 128
FUTURE_TOLERANCE = timedelta(days=1)
AMOUNT_TOLERANCE = Decimal("0.01")
NUMERIC_MAX_SCALE = 9
NUMERIC_MAX_ABS = Decimal("1e29")

IP_MODES = ("raw", "truncate", "hash")
# The bits ``truncate`` keeps: the first 24 of an IPv4 address, the first 48 of an IPv6 one.
_TRUNCATE_KEEP = {4: (1 << 32) - (1 << 8), 6: (1 << 128) - (1 << 80)}
_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$",
)
# The usual shape of an RFC 3339 time: 'T', ASCII digits, at most 6 decimals, 'Z' or an offset. Such a
# text is already what ``parse_timestamp`` rebuilds from ``_RFC3339``'s groups (but for 'Z').
_USUAL_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_EPOCH_MS_RANGE = (-62_135_596_800_000, 253_402_300_799_999)  # 0001-01-01 .. 9999-12-31
# A JSON string (with its escapes) or one bracket: what the nesting check walks, at regex speed.
# The closing quote is optional so an unterminated string is consumed once, to the end of the
# text, instead of being rescanned from every later quote (quadratic on hostile input).
_JSON_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')
# A \uD800-\uDFFF escape: the only way a JSON text decoded from UTF-8 can yield a surrogate.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
# The field holding each stream's event time, whose UTC date is the row's event_date.
TIME_FIELD = {"orders": "order_date", "inventory": "timestamp", "user_activity": "timestamp"}


# --- parse stage -------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _exact_number(text: str) -> Decimal:
    """A JSON number with a fraction or exponent -> ``Decimal``; ValueError (invalid_json) when its
    exponent is beyond what ``Decimal`` can hold (``1e99999999999999999999``)."""
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"number {_printable(text, 40)} is out of range") from None


# json.loads and json.dumps build a new decoder or encoder on every call given options: built once here.
_JSON_DECODER = json.JSONDecoder(parse_float=_exact_number, parse_constant=_reject_constant)
_SHOW_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)
_CANONICAL_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _json_loads(text: str) -> Any:
    """``json.loads(text, parse_float=_exact_number, parse_constant=_reject_constant)``, its BOM check
    included, with the decoder built once."""
    if text.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _JSON_DECODER.decode(text)


def nesting_depth_exceeds(text: str, limit: int = MAX_NESTING) -> bool:
    """True when arrays/objects in ``text`` nest deeper than ``limit``, without recursion.

    Brackets inside strings do not count; malformed text is left for the JSON parser to reject.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _JSON_STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def lone_surrogate_path(value: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) holding a lone UTF-16 surrogate, else None.

    Walks with an explicit stack; ``parse_payload`` has already bounded the depth.
    """
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if not utf8.encodable(node):
                return where or "(payload)"
        elif isinstance(node, dict):
            for key, child in node.items():
                child_path = f"{where}.{key}" if where else key
                if not utf8.encodable(key):
                    return _printable(child_path)
                stack.append((child, child_path))
        elif isinstance(node, list):
            stack.extend((child, f"{where}[{index}]") for index, child in enumerate(node))
    return None


def _printable(text: str, limit: int = 200) -> str:
    """``text`` safe to put in an error message: surrogates escaped, at most ``limit`` characters."""
    shown = utf8.escaped(text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def parse_payload(data: bytes) -> dict[str, Any]:
    """Bytes -> JSON object, or ``Rejection`` (payload_too_large, invalid_encoding, invalid_json,
    nesting_too_deep, not_an_object). Numbers with a fraction are parsed as ``Decimal``, never
    float. The depth is checked before parsing, so no input can exhaust the parser's recursion.
    Strings may still hold lone surrogates: ``check_unicode`` rejects those, naming the field."""
    if len(data) > MAX_PAYLOAD_BYTES:
        raise Rejection(
            errors.PAYLOAD_TOO_LARGE,
            f"payload is {len(data)} bytes; the limit is {MAX_PAYLOAD_BYTES} bytes (1 MiB)",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejection(
            errors.INVALID_ENCODING,
            f"payload is not valid UTF-8: byte {data[exc.start : exc.start + 1]!r} at offset {exc.start}",
        ) from None
    if nesting_depth_exceeds(text):
        raise Rejection(
            errors.NESTING_TOO_DEEP, f"payload nests arrays/objects deeper than {MAX_NESTING} levels"
        )
    try:
        obj = _json_loads(text)
    except ValueError as exc:
        raise Rejection(errors.INVALID_JSON, f"payload is not valid JSON: {_printable(str(exc))}") from None
    if not isinstance(obj, dict):
        raise Rejection(errors.NOT_AN_OBJECT, f"payload must be a JSON object, got a JSON {json_type(obj)}")
    return obj


def check_unicode(data: bytes, obj: dict[str, Any]) -> None:
    """Reject (invalid_encoding, naming the field) an object whose strings are not valid Unicode:
    JSON's \\uD800-\\uDFFF escapes can encode a lone surrogate, which BigQuery refuses."""
    if not SURROGATE_ESCAPE.search(data):
        return
    path = lone_surrogate_path(obj)
    if path is not None:
        raise Rejection(
            errors.INVALID_ENCODING,
            f"field '{path}' holds a lone UTF-16 surrogate escape (\\uD800-\\uDFFF without its pair); "
            "strings must be valid Unicode",
        )


def stream_of(obj: dict[str, Any]) -> str:
    """The stream (table) an object is routed to, or ``unknown``."""
    event_type = obj.get("event_type")
    if isinstance(event_type, str):
        return STREAM_BY_EVENT_TYPE.get(event_type, UNKNOWN_STREAM)
    return UNKNOWN_STREAM


# --- field checks ------------------------------------------------------------------------------


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def show(value: Any) -> str:
    """A short JSON rendering of a value for an error message (at most 80 characters)."""
    if isinstance(value, (dict, list)) and len(value) > 8:
        return f"<{json_type(value)} of {len(value)} entries>"
    if isinstance(value, str) and len(value) > 80:
        value = value[:80]
    text = _SHOW_ENCODER.encode(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _get(obj: dict[str, Any], key: str, path: str) -> Any:
    value = obj.get(key)
    if value is None:
        raise Rejection(errors.MISSING_FIELD, f"required field '{path}' is missing")
    return value


def _string(obj: dict[str, Any], key: str, path: str) -> str:
    value = _get(obj, key, path)
    if not isinstance(value, str):
        raise Rejection(
            errors.WRONG_TYPE, f"field '{path}' must be a string, got {json_type(value)} {show(value)}"
        )
    if not value.strip():
        raise Rejection(errors.INVALID_VALUE, f"field '{path}' must not be empty")
    return value


def _enum(obj: dict[str, Any], key: str, path: str, allowed: tuple[str, ...]) -> str:
    value = _string(obj, key, path)
    if value not in allowed:
        raise Rejection(
            errors.INVALID_VALUE, f"field '{path}' must be one of {', '.join(allowed)}; got {show(value)}"
        )
    return value


def _object(obj: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    value = _get(obj, key, path)
    if not isinstance(value, dict):
        raise Rejection(
            errors.WRONG_TYPE, f"field '{path}' must be an object, got {json_type(value)} {show(value)}"
        )
    return value


def _integer(obj: dict[str, Any], key: str, path: str) -> int:
    value = _get(obj, key, path)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Rejection(
            errors.WRONG_TYPE, f"field '{path}' must be an integer, got {json_type(value)} {show(value)}"
        )
    if not INT64_RANGE[0] <= value <= INT64_RANGE[1]:
        raise Rejection(errors.INVALID_VALUE, f"field '{path}' does not fit a 64-bit integer: {show(value)}")
    return value


# What a numeric string may look like: ASCII digits only (Decimal() would also take "1_000" and
# non-ASCII digits such as "\u0664"), or a named special value that the finite check rejects.
_DECIMAL_TEXT = re.compile(
    r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|snan|inf|infinity)", re.IGNORECASE | re.ASCII
)


def decimal_number(value: Any, path: str, non_negative: bool = False) -> Decimal:
    """An exact decimal that fits BigQuery NUMERIC, given as a JSON number or a numeric string."""
    text_ok = isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value.strip())
    if isinstance(value, bool) or not (isinstance(value, (int, Decimal)) or text_ok):
        raise Rejection(
            errors.WRONG_TYPE,
            f"field '{path}' must be a decimal number, got {json_type(value)} {show(value)}",
        )
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:  # an exponent beyond Decimal's context
        raise Rejection(errors.INVALID_VALUE, f"field '{path}' is out of range: {show(value)}") from None
    if not amount.is_finite():
        raise Rejection(errors.INVALID_VALUE, f"field '{path}' must be a finite number, got {show(value)}")
    if non_negative and amount < 0:
        raise Rejection(errors.INVALID_VALUE, f"field '{path}' must be >= 0, got {show(value)}")
    # copy_abs, not abs(): abs() rounds to the context and overflows on an exponent like 1E+999999999999999999
    if amount.copy_abs() >= NUMERIC_MAX_ABS or -amount.as_tuple().exponent > NUMERIC_MAX_SCALE:
        raise Rejection(
            errors.INVALID_VALUE,
            f"field '{path}' does not fit BigQuery NUMERIC (< 1e29, at most 9 decimals): {show(value)}",
        )
    return amount


def parse_timestamp(value: Any, path: str) -> datetime:
    """RFC 3339 with a zone offset, or integer epoch milliseconds -> aware UTC datetime."""
    if isinstance(value, str) and _USUAL_RFC3339.fullmatch(value):  # the general case's text, faster
        return _utc(value[:-1] + "+00:00" if value[-1] == "Z" else value, value, path)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise Rejection(
            errors.WRONG_TYPE,
            f"field '{path}' must be an RFC 3339 string or epoch milliseconds, "
            f"got {json_type(value)} {show(value)}",
        )
    if isinstance(value, int):
        if not _EPOCH_MS_RANGE[0] <= value <= _EPOCH_MS_RANGE[1]:
            raise Rejection(
                errors.BAD_TIMESTAMP, f"field '{path}': epoch milliseconds {value} are out of range"
            )
        return EPOCH + timedelta(milliseconds=value)
    match = _RFC3339.match(value.strip())
    if not match:
        raise Rejection(errors.BAD_TIMESTAMP, f"field '{path}': {show(value)} is not an RFC 3339 timestamp")
    day, clock, fraction, zone = match.groups()
    if zone is None:
        raise Rejection(
            errors.BAD_TIMESTAMP,
            f"field '{path}': {show(value)} has no zone offset; add 'Z' or '+HH:MM' so it is unambiguous",
        )
    fraction = (fraction or "")[:7]  # Python keeps microseconds; BigQuery keeps microseconds too.
    zone = "+00:00" if zone in ("Z", "z") else zone
    return _utc(f"{day}T{clock}{fraction}{zone}", value, path)


def _utc(text: str, value: str, path: str) -> datetime:
    """ISO text with an offset -> aware UTC datetime, or ``bad_timestamp`` naming ``value``."""
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        # OverflowError: a valid local time whose UTC instant falls outside years 1..9999.
        raise Rejection(
            errors.BAD_TIMESTAMP, f"field '{path}': {show(value)} is not a valid time ({exc})"
        ) from None


def _is_future(moment: datetime, now: datetime) -> bool:
    """Whether ``moment`` is further ahead of the processing time than the contract accepts."""
    return moment > now + FUTURE_TOLERANCE


def _timestamp(obj: dict[str, Any], key: str, path: str, now: datetime) -> datetime:
    moment = parse_timestamp(_get(obj, key, path), path)
    if _is_future(moment, now):
        raise Rejection(
            errors.FUTURE_TIMESTAMP,
            f"field '{path}': {rfc3339(moment)} is more than 1 day after the processing time {rfc3339(now)}",
        )
    return moment


def readable_event_time(stream: str, obj: Any, now: datetime) -> datetime | None:
    """The event's own time (its stream's ``TIME_FIELD``), read best effort from a parsed object
    whatever else is wrong with it, with the parser validation uses; None when the stream is not
    known, or the time is missing, unreadable or further in the future than the contract accepts.

    It dates a rejected message (``dead_letter.message_time``) when it has no publish time.
    """
    field = TIME_FIELD.get(stream)
    if field is None or not isinstance(obj, dict) or obj.get(field) is None:
        return None
    try:
        moment = parse_timestamp(obj[field], field)
    except Rejection:
        return None
    return None if _is_future(moment, now) else moment


# --- per-stream contracts ----------------------------------------------------------------------


def _order(obj: dict[str, Any], now: datetime) -> tuple[dict[str, Any], datetime]:
    order_id = _string(obj, "order_id", "order_id")
    customer_id = _string(obj, "customer_id", "customer_id")
    order_date = _timestamp(obj, "order_date", "order_date", now)
    status = _enum(obj, "status", "status", ORDER_STATUSES)
    raw_items = _get(obj, "items", "items")
    if not isinstance(raw_items, list):
        raise Rejection(errors.WRONG_TYPE, f"field 'items' must be an array, got {json_type(raw_items)}")
    if not raw_items:
        raise Rejection(errors.INVALID_VALUE, "field 'items' must hold at least one item")
    items = []
    for index, raw in enumerate(raw_items):
        path = f"items[{index}]"
        if not isinstance(raw, dict):
            raise Rejection(errors.WRONG_TYPE, f"field '{path}' must be an object, got {json_type(raw)}")
        quantity = _integer(raw, "quantity", f"{path}.quantity")
        if quantity < 1:
            raise Rejection(errors.INVALID_VALUE, f"field '{path}.quantity' must be >= 1, got {quantity}")
        items.append(
            {
                "product_id": _string(raw, "product_id", f"{path}.product_id"),
                "product_name": _string(raw, "product_name", f"{path}.product_name"),
                "quantity": quantity,
                "price": decimal_number(
                    _get(raw, "price", f"{path}.price"), f"{path}.price", non_negative=True
                ),
            }
        )
    address = _object(obj, "shipping_address", "shipping_address")
    country = _string(address, "country", "shipping_address.country").strip()
    country = country.upper() if country.isascii() else country  # "ﬁ".upper() would be "FI"
    if country not in ISO_COUNTRIES:
        raise Rejection(
            errors.INVALID_VALUE,
            "field 'shipping_address.country' must be an ISO 3166-1 alpha-2 code, "
            f"got {show(address['country'])}",
        )
    total = decimal_number(_get(obj, "total_amount", "total_amount"), "total_amount", non_negative=True)
    computed = sum((i["quantity"] * i["price"] for i in items), Decimal(0))
    if abs(total - computed) > AMOUNT_TOLERANCE:
        raise Rejection(
            errors.AMOUNT_MISMATCH,
            f"field 'total_amount' is {total} but the items add up to {computed} (sum of quantity x price)",
        )
    event = {
        "order_id": order_id,
        "customer_id": customer_id,
        "order_date": order_date,
        "status": status,
        "items": items,
        "shipping_address": {
            "street": _string(address, "street", "shipping_address.street"),
            "city": _string(address, "city", "shipping_address.city"),
            "country": country,
        },
        "total_amount": total,
    }
    return event, order_date


def _inventory(obj: dict[str, Any], now: datetime) -> tuple[dict[str, Any], datetime]:
    inventory_id = _string(obj, "inventory_id", "inventory_id")
    product_id = _string(obj, "product_id", "product_id")
    warehouse_id = _string(obj, "warehouse_id", "warehouse_id")
    change = _integer(obj, "quantity_change", "quantity_change")
    if change == 0 or not -100 <= change <= 100:
        raise Rejection(
            errors.INVALID_VALUE,
            f"field 'quantity_change' must be between -100 and 100 and not 0, got {change}",
        )
    reason = _enum(obj, "reason", "reason", tuple(INVENTORY_SIGNS))
    if (change > 0) != (INVENTORY_SIGNS[reason] > 0):
        sign = "positive" if INVENTORY_SIGNS[reason] > 0 else "negative"
        raise Rejection(
            errors.INVALID_VALUE,
            f"field 'quantity_change' must be {sign} for reason '{reason}', got {change}",
        )
    moment = _timestamp(obj, "timestamp", "timestamp", now)
    event = {
        "inventory_id": inventory_id,
        "product_id": product_id,
        "warehouse_id": warehouse_id,
        "quantity_change": change,
        "reason": reason,
        "timestamp": moment,
    }
    return event, moment


def _user_activity(obj: dict[str, Any], now: datetime) -> tuple[dict[str, Any], datetime]:
    user_id = _string(obj, "user_id", "user_id")
    activity_type = _enum(obj, "activity_type", "activity_type", ACTIVITY_TYPES)
    ip_text = _string(obj, "ip_address", "ip_address")
    try:
        ip = ipaddress.ip_address(ip_text.strip())
    except ValueError:
        raise Rejection(
            errors.INVALID_VALUE, f"field 'ip_address' must be an IPv4 or IPv6 address, got {show(ip_text)}"
        ) from None
    user_agent = _string(obj, "user_agent", "user_agent")
    moment = _timestamp(obj, "timestamp", "timestamp", now)
    metadata = _object(obj, "metadata", "metadata")
    event = {
        "user_id": user_id,
        "activity_type": activity_type,
        "ip_address": ip,
        "user_agent": user_agent,
        "timestamp": moment,
        "metadata": {
            "session_id": _string(metadata, "session_id", "metadata.session_id"),
            "platform": _enum(metadata, "platform", "metadata.platform", PLATFORMS),
        },
    }
    return event, moment


CONTRACTS: dict[str, Callable[[dict[str, Any], datetime], tuple[dict[str, Any], datetime]]] = {
    "orders": _order,
    "inventory": _inventory,
    "user_activity": _user_activity,
}


# --- normalisation -----------------------------------------------------------------------------


def canonical_json(obj: Any) -> str:
    """Key-sorted, whitespace-free JSON; Decimals as their exact text."""
    return _CANONICAL_ENCODER.encode(obj)


def derive_event_id(obj: dict[str, Any]) -> str:
    """A deterministic id from the canonical payload, so a re-sent event gets the same id."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def event_id_of(obj: dict[str, Any]) -> str:
    """The producer's ``event_id`` when given (validated), else the derived one."""
    if "event_id" not in obj or obj["event_id"] is None:
        return derive_event_id(obj)
    value = obj["event_id"]
    if not isinstance(value, str):
        raise Rejection(
            errors.WRONG_TYPE, f"field 'event_id' must be a string, got {json_type(value)} {show(value)}"
        )
    if not value.strip() or len(value) > MAX_EVENT_ID_CHARS:
        raise Rejection(
            errors.INVALID_VALUE,
            f"field 'event_id' must be 1 to {MAX_EVENT_ID_CHARS} characters, got {len(value)}",
        )
    return value


def mask_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, mode: str, key: bytes | None) -> str:
    """``raw`` keeps the address; ``truncate`` zeroes the last IPv4 octet / last 80 IPv6 bits;
    ``hash`` is a keyed HMAC-SHA256 of the address (hex)."""
    if mode == "raw":
        return str(ip)
    if mode == "truncate":
        address = int(ip)
        kept = address & _TRUNCATE_KEEP[ip.version]
        # What ip_network(f"{ip}/24" or "/48", strict=False).network_address gives: the address
        # itself (an IPv6 scope id included) when no host bit is set, else the bare network address.
        if kept == address:
            return str(ip)
        return str(ipaddress.IPv4Address(kept) if ip.version == 4 else ipaddress.IPv6Address(kept))
    if mode == "hash":
        if not key:
            raise ValueError("--ip_mode hash needs a key: set --ip_hash_key or its environment variable")
        # UTF-8: an IPv6 scope id (fe80::1%name) may hold any character; the rest is ASCII.
        return hmac.new(key, str(ip).encode("utf-8"), hashlib.sha256).hexdigest()
    raise ValueError(f"--ip_mode must be one of {', '.join(IP_MODES)}, got {mode!r}")


def validate_event(
    obj: dict[str, Any],
    now: datetime,
    ip_mode: str = "truncate",
    ip_key: bytes | None = None,
) -> tuple[str, str, datetime, dict[str, Any]]:
    """Check a parsed object against its stream's contract.

    Returns ``(stream, event_id, event_time, event)`` where ``event`` holds Python
    types (aware UTC datetimes, ``Decimal`` money, ``date`` event_date), or raises
    ``Rejection``.
    """
    event_type = _get(obj, "event_type", "event_type")
    if not isinstance(event_type, str):
        raise Rejection(
            errors.WRONG_TYPE, f"field 'event_type' must be a string, got {json_type(event_type)}"
        )
    stream = STREAM_BY_EVENT_TYPE.get(event_type)
    if stream is None:
        raise Rejection(
            errors.UNKNOWN_EVENT_TYPE,
            f"field 'event_type' is {show(event_type)}; expected one of {', '.join(STREAM_BY_EVENT_TYPE)}",
        )
    event_id = event_id_of(obj)
    event, event_time = CONTRACTS[stream](obj, now)
    if stream == "user_activity":
        event["ip_address"] = mask_ip(event["ip_address"], ip_mode, ip_key)
    add_derived_columns(event, event_id, event_type, event_time, now)
    return stream, event_id, event_time, event


def add_derived_columns(
    event: dict[str, Any], event_id: str, event_type: str, event_time: datetime, now: datetime
) -> None:
    """The columns every raw row has beside the contract's: ``event_id``, ``event_type``,
    ``processed_timestamp`` (now) and ``event_date`` (the UTC date of the event's own time)."""
    event.update(
        event_id=event_id,
        event_type=event_type,
        processed_timestamp=now,
        event_date=event_time.date(),
    )
