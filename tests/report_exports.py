"""A hand-written export folder for the run report (localdev/report/): every table, the run summary."""

from __future__ import annotations

import json
from pathlib import Path

DAYS = ["2026-11-02", "2026-11-03", "2026-11-04"]


def _event(stream: str, day: str, n: int, **fields) -> dict:
    return {"event_id": f"{stream}-{day}-{n}", "event_type": stream, "event_date": day, **fields}


_FAILED_AT = "failed_at"


def dead_letter(
    n: int,
    stream: str,
    code: str,
    failed_at: str,
    message_id: str | None = None,
    message_time: str | None = _FAILED_AT,
) -> dict:
    """A dead_letter export row; ``message_time`` defaults to its failed_at, None is a row written
    before the column existed."""
    return {
        "failed_at": failed_at,
        "stream": stream,
        "stage": "validate",
        "error_code": code,
        "error_message": f"{code} in message {n}",
        "payload": f'{{"n": {n}}}',
        "payload_encoding": "utf-8",
        "payload_truncated": False,
        "attributes": None,
        "message_id": message_id if message_id is not None else f"events.jsonl:{n}",
        "publish_time": None,
        "event_id": None,
        "message_time": failed_at if message_time == _FAILED_AT else message_time,
    }


def _fact(day: str, stream: str, event_type: str, total: int, errors: int | None = None) -> dict:
    """An analytics.fact_events_daily export row (error_events only on the '(all)' rows)."""
    return {
        "date": day,
        "stream": stream,
        "event_type": event_type,
        "total_events": total,
        "error_events": errors,
        "unique_sessions": None,
        "avg_session_duration_s": None,
    }


def fixture_tables() -> dict[str, list[dict]]:
    orders = [
        _event("orders", d, i, status=s, customer_id=f"cust-{i}", total_amount="10.5")
        for d in DAYS
        for i, s in enumerate(["pending", "shipped", "delivered"])
    ]
    orders.append(dict(orders[0]))  # a duplicate row of one event: counted once
    inventory = [_event("inventory", d, i, reason=r) for d in DAYS for i, r in enumerate(["restock", "sale"])]
    activity = [
        _event("user_activity", d, i, activity_type=a, metadata={"platform": "web", "session_id": f"s{i}"})
        for d in DAYS
        for i, a in enumerate(["login", "view_product", "add_to_cart", "logout"])
    ]
    published = "2026-11-02T09:59:58Z"
    dead = [
        dead_letter(1, "orders", "amount_mismatch", "2026-11-02T10:00:00Z", message_time=published),
        # a copy failing the next day shares the publish time: counted once, on 2026-11-02
        dead_letter(1, "orders", "amount_mismatch", "2026-11-03T10:00:00Z", message_time=published),
        dead_letter(2, "inventory", "invalid_value", "2026-11-03T11:00:00Z", message_time=None),  # old row
        dead_letter(3, "unknown", "invalid_json", "2026-11-04T12:00:00Z", message_id=""),
        # rejected by a replay on 2026-11-09: dated by its event's own time, 2026-11-04
        dead_letter(
            4, "user_activity", "missing_field", "2026-11-09T08:00:00Z", None, "2026-11-04T07:00:00Z"
        ),
    ]
    metrics = []
    for stream, types in {
        "orders": ["pending", "shipped"],
        "user_activity": ["login", "view_product"],
    }.items():
        for k, event_type in enumerate(types):
            for pane in (0, 1):
                metrics.append(
                    {
                        "stream": stream,
                        "event_type": event_type,
                        "window_start": "2026-11-02T10:00:00Z",
                        "window_end": "2026-11-02T10:01:00Z",
                        "occurrences": (k + 1) * (pane + 1),
                        "last_event_ts": "2026-11-02T10:00:59Z",
                        "pane_timing": "EARLY" if pane == 0 else "ON_TIME",
                        "pane_index": pane,
                    }
                )
    dau = [{"date": d, "platform": p, "dau": 3 + i} for i, d in enumerate(DAYS) for p in ("web", "mobile")]
    retention = [
        {"cohort_date": c, "day_n": n, "users": 4, "retained": 4 - n, "rate": (4 - n) / 4}
        for ci, c in enumerate(DAYS)
        for n in range(len(DAYS) - ci)
    ]
    funnel = [
        {
            "date": d,
            "viewed_users": 10,
            "carted_users": 5,
            "ordered_users": 2,
            "view_to_cart_rate": 0.5,
            "cart_to_order_rate": 0.4,
        }
        for d in DAYS
    ]
    churn = [
        {
            "user_id": f"u{u}",
            "snapshot_date": d,
            "last_active_date": DAYS[0],
            "days_inactive": 8 * u,
            "churn_status": ["active", "soft_churn", "churned", "hard_churn"][u],
        }
        for d in DAYS
        for u in range(4)
    ]
    inventory_balance = [
        {
            "product_id": f"prod-{p}",
            "warehouse_id": "wh-01",
            "balance_date": d,
            "opening_quantity": 50,
            "restocked": 0,
            "sold": -5 * p,
            "returned": 0,
            "damaged": 0,
            "net_change": -5 * p,
            "closing_quantity": 50 - 5 * p - 10 * i,
            "is_low_stock": 50 - 5 * p - 10 * i < 10,
        }
        for i, d in enumerate(DAYS)
        for p in range(1, 6)
    ]
    customers = [
        {
            "customer_id": f"cust-{c}",
            "balance_date": d,
            "orders_placed": 1,
            "order_value": "100.25",
            "cancelled_value": "0",
            "net_value": "100.25",
            "lifetime_orders": i + 1,
            "lifetime_value": f"{(c + 1) * (i + 1) * 100.25:.2f}",
        }
        for i, d in enumerate(DAYS)
        for c in range(3)
    ]
    weekly = [
        {"week": "2026-11-02", "stream": s, "messages": 40, "dead_letters": n, "error_rate": n / 40}
        for s, n in (("orders", 2), ("inventory", 1), ("user_activity", 0))
    ]
    # as the model holds the rows above: each event once, each rejected message once on the day of
    # its message time (orders' copy failing on 11-03 and user_activity's replay on 11-09 included)
    errors = {
        ("2026-11-02", "orders"): 1,
        ("2026-11-03", "inventory"): 1,
        ("2026-11-04", "unknown"): 1,
        ("2026-11-04", "user_activity"): 1,
    }
    types = {
        "orders": ["pending", "shipped", "delivered"],
        "inventory": ["restock", "sale"],
        "user_activity": ["login", "view_product", "add_to_cart", "logout"],
    }
    facts = [_fact(d, s, t, 1) for d in DAYS for s, ts in types.items() for t in ts]
    facts += [_fact(d, s, "(all)", len(ts), errors.get((d, s), 0)) for d in DAYS for s, ts in types.items()]
    facts.append(_fact("2026-11-04", "unknown", "(all)", 0, 1))
    return {
        "events.orders": orders,
        "events.inventory": inventory,
        "events.user_activity": activity,
        "events.dead_letter": dead,
        "events.realtime_event_metrics": metrics,
        "analytics.daily_active_users": dau,
        "analytics.retention_cohorts": retention,
        "analytics.funnel_daily": funnel,
        "analytics.churn_classification": churn,
        "analytics.inventory_daily_balance": inventory_balance,
        "analytics.customer_daily_balance": customers,
        "analytics.weekly_error_rate": weekly,
        "analytics.fact_events_daily": facts,
    }


SUMMARY = {
    "messages_in": 61,
    "loaded": {"orders": 9, "inventory": 6, "user_activity": 12},
    "rejected": {"amount_mismatch": 1, "invalid_value": 1, "invalid_json": 1, "missing_field": 1},
    "duplicates": 1,
    "models": {"daily_active_users": 6},
}


def write_exports(local: Path, tables: dict[str, list[dict]], summary: dict | None = SUMMARY) -> Path:
    export = local / "export"
    export.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        (export / f"{name}.jsonl").write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    if summary is not None:
        (local / "run-summary.json").write_text(json.dumps(summary))
    return export
