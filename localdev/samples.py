"""One valid event of each stream, as producers send them (``SAMPLES``), and copies of them
with changes (``sample``, ``set_path``).

The fuzz catalogue (:mod:`localdev.fuzz.known`) builds its known inputs from them; the tests'
events (tests/events.py) are these with a few differences of their own.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

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
DROP = object()  # a change that deletes the field


def set_path(obj: Any, path: str, value: Any) -> None:
    """Set the dotted ``path`` of ``obj`` (list indexes as numbers: ``items.0.price``) to
    ``value``, in place; a ``value`` of ``DROP`` deletes it."""
    *parents, last = path.split(".")
    target: Any = obj
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key: Any = int(last) if isinstance(target, list) else last
    if value is DROP:
        del target[key]
    else:
        target[key] = value


def sample(stream: str, event_id: str | None, **changes: Any) -> dict[str, Any]:
    """A copy of ``stream``'s sample event with its own ``event_id`` (None: without one) and
    dotted-path ``changes`` (``items.0.price``; a value of ``DROP`` deletes the field)."""
    obj = copy.deepcopy(SAMPLES[stream])
    if event_id is None:
        del obj["event_id"]
    else:
        obj["event_id"] = event_id
    for path, value in changes.items():
        set_path(obj, path, value)
    return obj
