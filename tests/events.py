"""Valid sample events of each stream, as producers send them, for the tests."""

from __future__ import annotations

import copy
import json
from typing import Any

ORDER: dict[str, Any] = {
    "event_type": "order",
    "event_id": "evt-order-1",
    "order_id": "ord-1",
    "customer_id": "cust-1",
    "order_date": "2026-11-01T10:15:00+02:00",
    "status": "pending",
    "items": [
        {"product_id": "p-1", "product_name": "Mug", "quantity": 2, "price": "4.10"},
        {"product_id": "p-2", "product_name": "Tea", "quantity": 1, "price": 7.25},
    ],
    "shipping_address": {"street": "1 Karl Johans gate", "city": "Oslo", "country": "no"},
    "total_amount": "15.45",
}

INVENTORY: dict[str, Any] = {
    "event_type": "inventory",
    "inventory_id": "inv-1",
    "product_id": "p-1",
    "warehouse_id": "wh-1",
    "quantity_change": -2,
    "reason": "sale",
    "timestamp": 1762000000000,
}

USER_ACTIVITY: dict[str, Any] = {
    "event_type": "user_activity",
    "event_id": "evt-ua-1",
    "user_id": "cust-1",
    "activity_type": "add_to_cart",
    "ip_address": "203.0.113.77",
    "user_agent": "Mozilla/5.0",
    "timestamp": "2026-11-01T08:00:00.250Z",
    "metadata": {"session_id": "sess-1", "platform": "mobile"},
    "client_version": "7.1",
}


def encode(obj: Any) -> bytes:
    return json.dumps(obj).encode("utf-8")


def changed(base: dict[str, Any], path: str, value: Any = None, *, delete: bool = False) -> bytes:
    """``base`` with the dotted ``path`` (list indexes as numbers) set to ``value`` or deleted."""
    obj = copy.deepcopy(base)
    *parents, last = path.split(".")
    target: Any = obj
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key: Any = int(last) if isinstance(target, list) else last
    if delete:
        del target[key]
    else:
        target[key] = value
    return encode(obj)


def value_paths(obj: Any, prefix: tuple = (), first: int | None = None) -> list[tuple]:
    """Every path (keys and list indexes) in a parsed event, containers included, depth first;
    ``first`` caps the elements walked in each list (a huge array: its first ones). A list of
    (key, value) pairs written as an object with repeated keys (``localdev.fuzz.Pairs``) is a leaf."""
    from localdev.fuzz import Pairs

    if isinstance(obj, dict):
        items: Any = obj.items()
    elif isinstance(obj, list) and not isinstance(obj, Pairs):
        items = enumerate(obj[:first])
    else:
        items = ()
    paths = []
    for key, child in items:
        paths.append((*prefix, key))
        paths.extend(value_paths(child, (*prefix, key), first))
    return paths
