"""The fast path of triage: the common valid event, decoded and checked by msgspec from the bytes.

``accept`` only ever accepts. It returns the very ``ValidEvent`` the precise path
(``transforms.validation`` through ``transforms.triage``) gives the message, or None whenever it
cannot prove that outcome: then the precise path decides, with its exact codes and messages. So
it declines anything unusual: payloads longer than ``MAX_FAST_BYTES``, with unknown keys and more
than ``MAX_NESTING`` brackets, not UTF-8, holding a \\uD800-\\uDFFF escape, or marked as a broken
envelope; JSON that msgspec refuses or that does not fit the typed contracts below (a null, a
missing or mistyped field, a bool or float where an int goes, a duplicate ``event_type``); money
other than plain digits (at most 6 decimals, as a number or a string); and any rule of the
contract that fails. What it accepts goes through the precise path's own helpers
(``parse_timestamp``, ``mask_ip``) and gets the same values, so the same event. Its row is the
event written by ``msgspec.to_builtins`` in one call: the contract functions build the event with
the schema's columns in the schema's order, every value a str, int, Decimal, a UTC ``datetime`` or
a ``date``, which msgspec writes exactly as the row shaper's cells do (``rfc3339``,
``date.isoformat``, and ``format(amount, "f")``, since an amount of at most 6 decimals never takes
an exponent in ``str``); the tests compare both paths' rows, key order included.

Why the bytes msgspec accepts are exactly those ``json.loads`` parses to the same values, here:
both refuse NaN, control characters in strings, bad escapes, trailing data and a BOM; both keep
the last of duplicate keys and unescape keys alike; a JSON number becomes ``Decimal`` of its text
(never a float), an integer an ``int``. They differ on numbers msgspec only skips (an unknown
field's ``1e99999999999999999999``, which ``Decimal`` refuses), so an event whose objects hold
a key the contract does not know is first decoded untyped, as ``json.loads`` would (numbers
through ``Decimal``), and on integers longer than Python's ``int`` string limit, which no
payload of ``MAX_FAST_BYTES`` can hold. The untyped decode also gives the object a missing
``event_id`` is derived from, as ``derive_event_id`` does (see ``_CANONICAL``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal

import msgspec

from schemas import EVENT_TYPE_BY_STREAM
from transforms import known_fields
from transforms.known_fields import has_typed_fields
from transforms.messages import INVALID_ENVELOPE_ATTRIBUTE, Message, ValidEvent
from transforms.rows import LINEAGE_COLUMNS, event_shaper, lineage, lineage_shaper
from transforms.validation import (
    AMOUNT_TOLERANCE,
    FUTURE_TOLERANCE,
    INT64_RANGE,
    MAX_EVENT_ID_CHARS,
    MAX_NESTING,
    SURROGATE_ESCAPE,
    add_derived_columns,
    mask_ip,
    parse_timestamp,
)
from transforms.vocabulary import (
    ACTIVITY_TYPES,
    INVENTORY_REASONS,
    INVENTORY_SIGNS,
    ISO_COUNTRIES,
    ORDER_STATUSES,
    PLATFORMS,
)

# Typical events are a few hundred bytes; longer ones take the precise path.
MAX_FAST_BYTES = 4096
# Money the fast path takes: ASCII digits, at most 29 before the point and 6 after it (so it fits
# NUMERIC, and str() of its Decimal is fixed-point), as a JSON number or a JSON string without
# escapes or spaces. Either way the precise path gives it Decimal(those digits): the Decimal of a
# JSON number's text, Decimal(int) for an integer.
_PLAIN_AMOUNT = re.compile(rb'(")?([0-9]{1,29}(?:\.[0-9]{1,6})?)(?(1)")')
_int_max_str_digits: Callable[[], int] = getattr(sys, "get_int_max_str_digits", lambda: 0)

Quantity = Annotated[int, msgspec.Meta(ge=1, le=INT64_RANGE[1])]
QuantityChange = Annotated[int, msgspec.Meta(ge=-100, le=100)]
Timestamp = int | str  # epoch milliseconds or RFC 3339 text; parse_timestamp judges either
# The event's fields (Python types, ip_address not yet masked) and its time, or None: not provably valid.
_Checked = tuple[dict[str, Any], datetime] | None


# --- the contracts as msgspec types: extra keys allowed (skipped), and the strict variants --------


class Item(msgspec.Struct):
    product_id: str
    product_name: str
    quantity: Quantity
    price: msgspec.Raw


class Address(msgspec.Struct):
    street: str
    city: str
    country: str


class Metadata(msgspec.Struct):
    session_id: str
    platform: Literal[PLATFORMS]


class Order(msgspec.Struct, tag_field="event_type", tag=EVENT_TYPE_BY_STREAM["orders"]):
    order_id: str
    customer_id: str
    order_date: Timestamp
    status: Literal[ORDER_STATUSES]
    items: list[Item]
    shipping_address: Address
    total_amount: msgspec.Raw
    event_id: str | None = None


class Inventory(msgspec.Struct, tag_field="event_type", tag=EVENT_TYPE_BY_STREAM["inventory"]):
    inventory_id: str
    product_id: str
    warehouse_id: str
    quantity_change: QuantityChange
    reason: Literal[INVENTORY_REASONS]
    timestamp: Timestamp
    event_id: str | None = None


class UserActivity(msgspec.Struct, tag_field="event_type", tag=EVENT_TYPE_BY_STREAM["user_activity"]):
    user_id: str
    activity_type: Literal[ACTIVITY_TYPES]
    ip_address: str
    user_agent: str
    timestamp: Timestamp
    metadata: Metadata
    event_id: str | None = None


class StrictItem(Item, forbid_unknown_fields=True):
    pass


class StrictAddress(Address, forbid_unknown_fields=True):
    pass


class StrictMetadata(Metadata, forbid_unknown_fields=True):
    pass


class StrictOrder(Order, forbid_unknown_fields=True):
    items: list[StrictItem]
    shipping_address: StrictAddress


class StrictInventory(Inventory, forbid_unknown_fields=True):
    pass


class StrictUserActivity(UserActivity, forbid_unknown_fields=True):
    metadata: StrictMetadata


# Strict first: an event holding only the contract's keys needs no untyped decode (when it has an id).
_STRICT = msgspec.json.Decoder(StrictOrder | StrictInventory | StrictUserActivity)
_LENIENT = msgspec.json.Decoder(Order | Inventory | UserActivity)
_UNTYPED = msgspec.json.Decoder(float_hook=Decimal)
# ``canonical_json(obj).encode("utf-8")``, byte for byte, for the values a JSON decode gives (dicts,
# lists, str, int, bool, None, Decimal as its str): the same escapes, and keys sorted by code point
# (as UTF-8 bytes sort). So sha256 of it is ``derive_event_id(obj)``.
_CANONICAL = msgspec.json.Encoder(order="sorted")
_to_builtins = msgspec.to_builtins
# The last columns of a plain file line's row without unknown keys: no lineage, no extra fields.
_NULL_TAIL = dict.fromkeys(LINEAGE_COLUMNS)


# --- the rules, as the precise path applies them to what it accepts -----------------------------------


def _amount(raw: msgspec.Raw) -> Decimal | None:
    """Plain money -> the Decimal ``validation._decimal`` gives it; None for anything else."""
    match = _PLAIN_AMOUNT.fullmatch(raw)
    if match is None:
        return None
    return Decimal(match[2].decode("ascii"))


@lru_cache(maxsize=4096)
def _masked_ip(text: str, mode: str, key: bytes | None) -> str:
    """``ip_address`` then ``mask_ip``, remembered: a session sends the same address again and again."""
    return mask_ip(ipaddress.ip_address(text), mode, key)


def _order(event: Order, limit: datetime) -> _Checked:
    order_date = parse_timestamp(event.order_date, "order_date")
    address = event.shipping_address
    if not (
        event.order_id.strip()
        and event.customer_id.strip()
        and order_date <= limit
        and event.items
        and address.street.strip()
        and address.city.strip()
    ):
        return None
    items = []
    computed = Decimal(0)  # the sum the precise path takes, in the same order
    for item in event.items:
        price = _amount(item.price)
        if price is None or not (item.product_id.strip() and item.product_name.strip()):
            return None
        items.append(
            {
                "product_id": item.product_id,
                "product_name": item.product_name,
                "quantity": item.quantity,
                "price": price,
            }
        )
        computed = computed + item.quantity * price
    country = address.country.strip()
    country = country.upper() if country.isascii() else country
    total = _amount(event.total_amount)
    if country not in ISO_COUNTRIES or total is None:
        return None
    if abs(total - computed) > AMOUNT_TOLERANCE:
        return None
    fields = {
        "order_id": event.order_id,
        "customer_id": event.customer_id,
        "order_date": order_date,
        "status": event.status,
        "items": items,
        "shipping_address": {"street": address.street, "city": address.city, "country": country},
        "total_amount": total,
    }
    return fields, order_date


def _inventory(event: Inventory, limit: datetime) -> _Checked:
    change = event.quantity_change
    moment = parse_timestamp(event.timestamp, "timestamp")
    if not (
        event.inventory_id.strip()
        and event.product_id.strip()
        and event.warehouse_id.strip()
        and change != 0
        and (change > 0) == (INVENTORY_SIGNS[event.reason] > 0)
        and moment <= limit
    ):
        return None
    fields = {
        "inventory_id": event.inventory_id,
        "product_id": event.product_id,
        "warehouse_id": event.warehouse_id,
        "quantity_change": change,
        "reason": event.reason,
        "timestamp": moment,
    }
    return fields, moment


def _user_activity(event: UserActivity, limit: datetime) -> _Checked:
    moment = parse_timestamp(event.timestamp, "timestamp")
    ip_text = event.ip_address.strip()
    if not (
        event.user_id.strip()
        and ip_text
        and event.user_agent.strip()
        and moment <= limit
        and event.metadata.session_id.strip()
    ):
        return None
    fields = {
        "user_id": event.user_id,
        "activity_type": event.activity_type,
        "ip_address": ip_text,  # masked by _accept, as validate_event masks it
        "user_agent": event.user_agent,
        "timestamp": moment,
        "metadata": {"session_id": event.metadata.session_id, "platform": event.metadata.platform},
    }
    return fields, moment


# decoded type -> (stream, its contract, its row shaper, the shaper of its LINEAGE_COLUMNS)
_CONTRACTS: dict[
    type, tuple[str, Callable[[Any, datetime], _Checked], Callable[[dict], dict], Callable[[dict], dict]]
] = {
    kind: (stream, contract, event_shaper(stream), lineage_shaper(stream))
    for stream, contract, kinds in (
        ("orders", _order, (Order, StrictOrder)),
        ("inventory", _inventory, (Inventory, StrictInventory)),
        ("user_activity", _user_activity, (UserActivity, StrictUserActivity)),
    )
    for kind in kinds
}


# --- the fast path ---------------------------------------------------------------------------------


def accept(
    message: Message, now: datetime, ip_mode: str = "truncate", ip_key: bytes | None = None
) -> ValidEvent | None:
    """The message's ``ValidEvent`` when the fast path can prove it valid, else None (never raises).

    Whatever goes wrong here (msgspec refusing the JSON, a rule failing, a bad ``ip_mode`` or a
    missing hash key) is a doubt, and a doubt is the precise path's to judge and to report. The
    load stage's row-size check cannot apply: it starts far above ``MAX_FAST_BYTES``.
    """
    try:
        data = message.data
        # Bytes both paths read alike: short, no surrogate escape, UTF-8, not marked a broken envelope.
        if type(data) is not bytes or len(data) > MAX_FAST_BYTES or SURROGATE_ESCAPE.search(data):
            return None
        # json.loads refuses integers of more digits than its limit (>= 640 when set); msgspec takes them.
        if len(data) > 640 and 0 < _int_max_str_digits() < len(data):
            return None
        if not data.isascii():
            data.decode("utf-8")  # UnicodeDecodeError: not UTF-8
        if message.attributes.get(INVALID_ENVELOPE_ATTRIBUTE) is not None:
            return None
        whole = None  # the object as json.loads gives it, when needed
        try:
            event = _STRICT.decode(data)  # no unknown key: nested 3 levels deep at most
        except msgspec.ValidationError:  # maybe only a key the contract does not know, at any depth
            event = _LENIENT.decode(data)
            if data.count(b"[") + data.count(b"{") > MAX_NESTING:
                return None
            whole = _UNTYPED.decode(data)
        event_id = event.event_id
        if event_id is None:
            canonical = _CANONICAL.encode(_UNTYPED.decode(data) if whole is None else whole)
            event_id = hashlib.sha256(canonical).hexdigest()
        elif not event_id.strip() or len(event_id) > MAX_EVENT_ID_CHARS:
            return None
        stream, contract, shape, shape_tail = _CONTRACTS[type(event)]
        checked = contract(event, now + FUTURE_TOLERANCE)
        if checked is None:
            return None
        fields, event_time = checked
        if stream == "user_activity":
            fields["ip_address"] = _masked_ip(fields["ip_address"], ip_mode, ip_key)
        add_derived_columns(fields, event_id, EVENT_TYPE_BY_STREAM[stream], event_time, now)
        # Typed fields and keys the contract does not know: only a lenient decode can have them.
        # The columns come in the schema's order, as the precise path builds the event: the
        # contract's, the derived ones, the lineage, then the typed fields. Without typed fields,
        # msgspec writes the first ones in one call and the last four are added after them (all
        # NULL for a plain file line without unknown keys, the usual batch event); a processing
        # time of another zone or type is the row shaper's to write.
        if type(now) is datetime and now.tzinfo is timezone.utc and not has_typed_fields(stream):
            row = _to_builtins(fields)
            if whole is None and message.message_id is None and message.publish_time is None:
                tail = _NULL_TAIL
                row.update(tail)
            else:
                tail = lineage(message)
                tail["extra_fields"] = None if whole is None else known_fields.split(stream, whole, fields)
                row.update(shape_tail(tail))
            fields.update(tail)
        else:
            fields.update(lineage(message))
            fields["extra_fields"] = None if whole is None else known_fields.split(stream, whole, fields)
            row = shape(fields)
        return ValidEvent(message, stream, event_id, event_time, fields, row)
    except Exception:  # noqa: BLE001 - any doubt goes to the precise path
        return None
