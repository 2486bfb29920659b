"""A test-only feed for the streaming tests (``test_faults``, ``test_storage_writes``): unique
events of the three streams with event time now, a few of them invalid, each with what the
pipeline must make of it. ``make stream``'s own feed is ``localdev/live_feed.py``."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from schemas import STREAMS


@dataclass(frozen=True)
class FeedMessage:
    """One message of a feed and what the pipeline must make of it."""

    data: bytes
    event_id: str
    stream: str
    valid: bool


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def feed_event(n: int, run_id: str, now: datetime, invalid: bool = False) -> FeedMessage:
    """The ``n``-th event of a feed: orders, inventory and user activity in turn, each with its
    own ``event_id`` (``<run_id>-<n>``) and an event time a little before ``now``. An invalid
    one is an order whose status is not a known one (``invalid_value``, event_id kept)."""
    event_id = f"{run_id}-{n}"
    at = now - timedelta(milliseconds=n % 1000)
    stream = "orders" if invalid else STREAMS[n % len(STREAMS)]
    if stream == "orders":
        quantity = 1 + n % 5
        event: dict[str, Any] = {
            "event_type": "order",
            "event_id": event_id,
            "order_id": f"ord-{event_id}",
            "customer_id": f"cust-{n % 97}",
            "order_date": _rfc3339(at),
            "status": "lost" if invalid else "pending",
            "items": [
                {"product_id": f"p-{n % 13}", "product_name": "Mug", "quantity": quantity, "price": "4.10"},
                {"product_id": "p-tea", "product_name": "Tea", "quantity": 1, "price": "7.25"},
            ],
            "shipping_address": {"street": "1 Karl Johans gate", "city": "Oslo", "country": "no"},
            "total_amount": f"{quantity * 4.10 + 7.25:.2f}",
        }
    elif stream == "inventory":
        change = 1 + n % 7
        event = {
            "event_type": "inventory",
            "event_id": event_id,
            "inventory_id": f"inv-{event_id}",
            "product_id": f"p-{n % 13}",
            "warehouse_id": f"wh-{n % 3}",
            "quantity_change": -change if n % 2 else change,
            "reason": "sale" if n % 2 else "restock",
            "timestamp": int(at.timestamp() * 1000),
        }
    else:
        event = {
            "event_type": "user_activity",
            "event_id": event_id,
            "user_id": f"cust-{n % 97}",
            "activity_type": ("page_view", "add_to_cart", "login")[n % 3],
            "ip_address": f"203.0.113.{n % 250}",
            "user_agent": "Mozilla/5.0",
            "timestamp": _rfc3339(at),
            "metadata": {"session_id": f"sess-{n // 20}", "platform": "web"},
        }
    return FeedMessage(json.dumps(event).encode("utf-8"), event_id, stream, not invalid)


def feed(count: int, run_id: str | None = None, invalid_every: int = 0) -> list[FeedMessage]:
    """``count`` unique events (every ``invalid_every``-th one invalid; 0: none)."""
    run_id = run_id or uuid.uuid4().hex[:8]
    now = datetime.now(timezone.utc)
    return [
        feed_event(n, run_id, now, invalid=bool(invalid_every) and n % invalid_every == invalid_every - 1)
        for n in range(count)
    ]
