"""What the contract knows of an event, read from ``schemas/``, and what it keeps of the rest.

Each field of a stream's schema (``schemas/events/<stream>.json``) is one of three kinds:

- a **rule field**: validated by hand, with its business rules, by the stream's contract function
  in ``transforms.validation`` (``RULE_FIELDS`` lists them; a test holds the list to what those
  functions build);
- a **pipeline column**: set by the pipeline, never read from the payload (``PIPELINE_COLUMNS``);
- a **typed field**: every other field. It must be NULLABLE and of a type in ``TYPED``; its value
  is checked by type alone (``typed_value``) and loaded as a column. Adding one to the schema
  JSON is the whole of a compatible contract change: nothing here or in the contract functions
  names it.

Whatever key the contract does not know, at any depth, is kept in the row's ``extra_fields``:
the event as sent with every known field removed. An unknown key inside a known object stays
under that object's name (``{"metadata": {"screen": "home"}}``); inside a REPEATED record the
array keeps its positions, ``{}`` for an element without unknown keys, so a path into
``extra_fields`` is the path into the event (``$.items[1].sku_color``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from schemas import STREAMS, load_schema
from transforms import errors
from transforms.errors import Rejection
from transforms.validation import (
    INT64_RANGE,
    decimal_number,
    json_type,
    parse_timestamp,
    show,
)

# Columns the pipeline fills; a payload key of one of these names is the producer's own data and
# goes to extra_fields. (event_id and event_type are read from the payload: rule fields.)
PIPELINE_COLUMNS = frozenset(
    {"processed_timestamp", "event_date", "message_id", "publish_time", "attributes", "extra_fields"}
)
# The fields the contract functions of transforms.validation check by hand, as dotted paths.
RULE_FIELDS: dict[str, frozenset[str]] = {
    "orders": frozenset(
        {
            "event_id",
            "event_type",
            "order_id",
            "customer_id",
            "order_date",
            "status",
            "items",
            "items.product_id",
            "items.product_name",
            "items.quantity",
            "items.price",
            "shipping_address",
            "shipping_address.street",
            "shipping_address.city",
            "shipping_address.country",
            "total_amount",
        }
    ),
    "inventory": frozenset(
        {
            "event_id",
            "event_type",
            "inventory_id",
            "product_id",
            "warehouse_id",
            "quantity_change",
            "reason",
            "timestamp",
        }
    ),
    "user_activity": frozenset(
        {
            "event_id",
            "event_type",
            "user_id",
            "activity_type",
            "ip_address",
            "user_agent",
            "timestamp",
            "metadata",
            "metadata.session_id",
            "metadata.platform",
        }
    ),
}
# The types a typed field may have: each has one unambiguous JSON form (see typed_value).
TYPED = ("STRING", "INTEGER", "INT64", "NUMERIC", "BOOLEAN", "BOOL", "TIMESTAMP", "DATE", "JSON")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The integers BigQuery's JSON type holds exactly (INT64 and UINT64).
_JSON_INT_RANGE = (-(2**63), 2**64 - 1)


class SchemaProblem(ValueError):
    """A stream schema the pipeline cannot load: names the file, the field and what to do."""


@dataclass(frozen=True)
class Known:
    """One known field: its type if typed (None for a rule field), and its known sub-fields."""

    typed: str | None
    repeated: bool
    fields: dict[str, Known] | None


@cache
def known_fields(stream: str) -> dict[str, Known]:
    """The payload keys ``stream``'s contract knows, as a tree read from its schema file."""
    return _tree(stream, load_schema("events", stream), "")


def _tree(stream: str, schema: list[dict[str, Any]], prefix: str) -> dict[str, Known]:
    tree = {}
    for field in schema:
        path = prefix + field["name"]
        if not prefix and field["name"] in PIPELINE_COLUMNS:
            continue
        mode = field.get("mode", "NULLABLE")
        if path in RULE_FIELDS[stream]:
            children = _tree(stream, field["fields"], path + ".") if field["type"] == "RECORD" else None
            tree[field["name"]] = Known(None, mode == "REPEATED", children)
            continue
        where = f"schemas/events/{stream}.json: field '{path}'"
        if mode != "NULLABLE":
            raise SchemaProblem(
                f"{where} is {mode}, but no contract rule validates it; add new fields as NULLABLE "
                "(they are then checked by type and loaded as a column)"
            )
        if field["type"] not in TYPED:
            raise SchemaProblem(
                f"{where} has type {field['type']}, which the pipeline cannot check by type alone; "
                f"use one of {', '.join(TYPED)}"
            )
        tree[field["name"]] = Known(field["type"], False, None)
    return tree


@cache
def has_typed_fields(stream: str) -> bool:
    """Whether ``stream``'s schema has any typed field (at any depth)."""

    def any_typed(tree: dict[str, Known]) -> bool:
        return any(
            k.typed is not None or (k.fields is not None and any_typed(k.fields)) for k in tree.values()
        )

    return any_typed(known_fields(stream))


def check_schemas() -> None:
    """Raise ``SchemaProblem`` unless every stream schema can be loaded (run at pipeline start)."""
    for stream in STREAMS:
        known_fields(stream)


def split(stream: str, obj: dict[str, Any], event: dict[str, Any]) -> dict[str, Any] | None:
    """Check ``obj``'s typed fields into ``event`` (at their paths) and return its extra fields.

    ``event`` is what the contract function built from ``obj``: every rule field already checked.
    Returns the event as sent minus every known field (None when nothing is left), with numbers
    made safe for BigQuery's JSON type (:func:`json_safe`); raises ``Rejection`` (``wrong_type``,
    ``invalid_value``, ``bad_timestamp``) naming a typed field whose value is not of its type.
    """
    return _split(obj, event, known_fields(stream), "")


def _split(obj: dict[str, Any], event: dict[str, Any], tree: dict[str, Known], prefix: str) -> dict | None:
    extra = {}
    for key, value in obj.items():
        known = tree.get(key)
        if known is None:
            extra[key] = json_safe(value)
        elif known.typed is not None:
            typed = typed_value(known.typed, value, prefix + key)
            if typed is not None:
                event[key] = typed
        elif known.fields is not None and known.repeated:
            elements = [
                _split(element, shaped, known.fields, f"{prefix}{key}[{index}].") or {}
                for index, (element, shaped) in enumerate(zip(value, event[key], strict=True))
            ]
            if any(elements):
                extra[key] = elements
        elif known.fields is not None:
            nested = _split(value, event[key], known.fields, f"{prefix}{key}.")
            if nested:
                extra[key] = nested
    return extra or None


def typed_value(kind: str, value: Any, path: str) -> Any:
    """A typed field's value as its column holds it, or ``Rejection`` naming the field.

    null is NULL. STRING: a string. INTEGER: a JSON integer in the INT64 range. NUMERIC: a JSON
    number or a numeric string (ASCII digits), finite, below 1e29 with at most 9 decimals.
    BOOLEAN: true or false. TIMESTAMP: RFC 3339 with a zone offset, or epoch milliseconds.
    DATE: ``YYYY-MM-DD``. JSON: any value (numbers made safe, :func:`json_safe`).
    """
    if value is None:
        return None
    if kind == "JSON":
        return json_safe(value)
    if kind == "TIMESTAMP":
        return parse_timestamp(value, path)
    if kind == "STRING":
        return _of_type(value, str, "a string", path)
    if kind in ("BOOLEAN", "BOOL"):
        return _of_type(value, bool, "true or false", path)
    if kind in ("INTEGER", "INT64"):
        number = _of_type(value, int, "an integer", path)
        if not INT64_RANGE[0] <= number <= INT64_RANGE[1]:
            raise Rejection(
                errors.INVALID_VALUE, f"field '{path}' does not fit a 64-bit integer: {show(value)}"
            )
        return number
    if kind == "NUMERIC":
        return decimal_number(value, path)
    return _date(value, path)


def _of_type(value: Any, kind: type, expected: str, path: str) -> Any:
    # bool is an int in Python; JSON keeps them apart
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Rejection(
            errors.WRONG_TYPE, f"field '{path}' must be {expected}, got {json_type(value)} {show(value)}"
        )
    return value


def _date(value: Any, path: str) -> date:
    text = _of_type(value, str, "a date (YYYY-MM-DD)", path)
    try:
        if not _DATE_TEXT.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise Rejection(
            errors.INVALID_VALUE, f"field '{path}' must be a date YYYY-MM-DD, got {show(value)}"
        ) from None


def json_safe(value: Any) -> Any:
    """``value`` as BigQuery's JSON type holds it exactly: a number it would round (it keeps JSON
    numbers as INT64, UINT64 or FLOAT64) becomes its exact text, a JSON string; the rest is kept.

    Payloads are at most 32 levels deep (checked at parse), so the recursion is bounded.
    """
    if isinstance(value, dict):
        return {key: json_safe(child) for key, child in value.items()}
    if isinstance(value, list):
        return [json_safe(child) for child in value]
    if isinstance(value, Decimal):
        return value if _float_exact(value) else str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value if _JSON_INT_RANGE[0] <= value <= _JSON_INT_RANGE[1] else str(value)
    return value


def _float_exact(number: Decimal) -> bool:
    """Whether a FLOAT64 prints back as the same number (0.1 does; 1.00000000000000000001 does not)."""
    try:
        return Decimal(repr(float(number))) == number
    except (OverflowError, InvalidOperation):
        return False
