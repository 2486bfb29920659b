"""Helpers for the model tests: raw rows shaped like the raw tables, isolated datasets, snapshots.

Rows are written straight into the raw tables with ``insert_rows_json`` (the pipeline is not
involved), each test in its own pair of datasets created from ``schemas/``. bqemulator does not
de-duplicate on insertId, so copies of a row (:func:`copy_of`, :func:`sample_copies`) land in
the tables as they can in BigQuery.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from localdev import stack as localstack
from warehouse import graph, runner

RAW_TABLES = ("orders", "inventory", "user_activity")
Row = dict[str, Any]
_GENERATED = object()  # dead_letter(): derive the message_id from the row
_FAILED_AT = object()  # dead_letter(): the message_time is the failed_at


def _timestamp(day: date | str, time: str) -> str:
    return f"{date.fromisoformat(str(day)).isoformat()}T{time}Z"


def _event_date(day: date | str) -> str:
    return date.fromisoformat(str(day)).isoformat()


def order(
    order_id: str,
    customer_id: str,
    day: date | str,
    time: str,
    status: str,
    items: list[tuple[str, str, int, str]],
    city: str = "Oslo",
    country: str = "NO",
    event_id: str | None = None,
    total_amount: str | None = None,
) -> Row:
    """An ``events.orders`` row; items are (product_id, product_name, quantity, price)."""
    total = total_amount or str(sum(Decimal(price) * qty for _, _, qty, price in items))
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "order_date": _timestamp(day, time),
        "status": status,
        "items": [
            {"product_id": p, "product_name": n, "quantity": q, "price": price} for p, n, q, price in items
        ],
        "shipping_address": {"street": f"1 {city} Street", "city": city, "country": country},
        "total_amount": total,
        "event_id": event_id or f"o-{order_id}-{status}-{_event_date(day)}-{time}",
        "event_type": "order",
        "processed_timestamp": _timestamp(day, time),
        "event_date": _event_date(day),
    }


def inventory(
    product_id: str,
    warehouse_id: str,
    day: date | str,
    time: str,
    quantity_change: int,
    reason: str,
    event_id: str | None = None,
) -> Row:
    """An ``events.inventory`` row."""
    eid = event_id or f"i-{product_id}-{warehouse_id}-{_event_date(day)}-{time}-{reason}"
    return {
        "inventory_id": eid,
        "product_id": product_id,
        "warehouse_id": warehouse_id,
        "quantity_change": quantity_change,
        "reason": reason,
        "timestamp": _timestamp(day, time),
        "event_id": eid,
        "event_type": "inventory",
        "processed_timestamp": _timestamp(day, time),
        "event_date": _event_date(day),
    }


def activity(
    user_id: str,
    day: date | str,
    time: str,
    activity_type: str,
    platform: str,
    session_id: str | None = None,
    event_id: str | None = None,
) -> Row:
    """An ``events.user_activity`` row."""
    return {
        "user_id": user_id,
        "activity_type": activity_type,
        "ip_address": "203.0.113.0",
        "user_agent": "Mozilla/5.0 (test)",
        "timestamp": _timestamp(day, time),
        "metadata": {"session_id": session_id or f"s-{user_id}-{_event_date(day)}", "platform": platform},
        "event_id": event_id or f"a-{user_id}-{_event_date(day)}-{time}-{activity_type}-{platform}",
        "event_type": "user_activity",
        "processed_timestamp": _timestamp(day, time),
        "event_date": _event_date(day),
    }


def dead_letter(
    stream: str,
    day: date | str,
    time: str,
    error_code: str = "invalid_json",
    message_id: Any = _GENERATED,
    payload: str = "{}",
    payload_encoding: str = "utf-8",
    message_time: Any = _FAILED_AT,
) -> Row:
    """An ``events.dead_letter`` row for a message of ``stream`` rejected at ``day`` ``time`` (UTC).

    ``message_id`` defaults to one derived from the row; ``None`` for a message without one (a
    file input), identified by its payload bytes instead. ``message_time`` (RFC 3339) defaults to
    the failed_at (a message without publish time or readable event time); an older one is a
    message rejected after its time (a replay of history), ``None`` a row written before the
    column existed.
    """
    failed_at = _timestamp(day, time)
    if message_id is _GENERATED:
        message_id = f"dl-{stream}-{failed_at}-{error_code}"
    return {
        "failed_at": failed_at,
        "stream": stream,
        "stage": "validate",
        "error_code": error_code,
        "error_message": f"test rejection ({error_code})",
        "payload": payload,
        "payload_encoding": payload_encoding,
        "payload_truncated": False,
        "message_id": message_id,
        "message_time": failed_at if message_time is _FAILED_AT else message_time,
    }


def _shifted(timestamp: str, delay: timedelta) -> str:
    moved = datetime.fromisoformat(timestamp.replace("Z", "+00:00")) + delay
    return moved.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def copy_of(row: Row, delay: timedelta) -> Row:
    """Another copy of a raw row, loaded ``delay`` after it: the same event (``event_id``,
    ``event_date``, content) with a later ``processed_timestamp``, as a Pub/Sub redelivery, a
    re-send after the de-duplication window or an overlapping archive replay leaves it."""
    return {**row, "processed_timestamp": _shifted(row["processed_timestamp"], delay)}


def dead_letter_copy(row: Row, delay: timedelta, base64_payload: bool = False) -> Row:
    """The same rejected message failing again ``delay`` later; with ``base64_payload`` its payload
    is stored base64-encoded (the same bytes, so the same message).

    The copy keeps the row's message_time (a message with a message_id is a Pub/Sub message, whose
    copies share its publish time; a payload's copies share its event time) unless the row has
    neither, as a file input's unreadable event is dated by its failed_at: then the copy is dated
    by its own failed_at, as the pipeline dates it."""
    failed_at = _shifted(row["failed_at"], delay)
    dated_by_failure = row["message_id"] is None and row["message_time"] == row["failed_at"]
    copy = {
        **row,
        "failed_at": failed_at,
        "message_time": failed_at if dated_by_failure else row["message_time"],
    }
    if base64_payload:
        copy["payload"] = base64.b64encode(row["payload"].encode("utf-8")).decode("ascii")
        copy["payload_encoding"] = "base64"
    return copy


def sample_copies(raw: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """Copies of some rows of each raw table: every 5th again 30 s later (a redelivery), every 7th
    re-sent the next processing day, every 11th three days later (an overlapping replay)."""
    copies: dict[str, list[Row]] = {}
    for table, table_rows_ in raw.items():
        found = copies.setdefault(table, [])
        for number, row in enumerate(table_rows_):
            if number % 5 == 0:
                found.append(copy_of(row, timedelta(seconds=30)))
            if number % 7 == 0:
                found.append(copy_of(row, timedelta(days=1, hours=2)))
            if number % 11 == 0:
                found.append(copy_of(row, timedelta(days=3)))
    return copies


def insert_dead_letters(client, datasets: dict[str, str], dead_letters: list[Row]) -> None:
    """Write ``events.dead_letter`` rows into the events dataset."""
    if dead_letters:
        errors = client.insert_rows_json(
            f"{datasets['events']}.dead_letter", dead_letters, row_ids=[r["message_id"] for r in dead_letters]
        )
        assert errors == [], errors


def new_datasets(client, prefix: str = "m") -> dict[str, str]:
    """A fresh, uniquely named pair of datasets with every table of ``schemas/``."""
    suffix = uuid.uuid4().hex[:10]
    datasets = {"events": f"{prefix}_ev_{suffix}", "analytics": f"{prefix}_an_{suffix}"}
    localstack.create_tables(client, client.project, datasets)
    return datasets


def insert(client, datasets: dict[str, str], raw: dict[str, list[Row]]) -> None:
    """Write raw rows (``{"orders": [...], ...}``) into the events dataset."""
    for table, raw_rows in raw.items():
        if table not in RAW_TABLES:
            raise KeyError(table)
        for start in range(0, len(raw_rows), 500):
            chunk = raw_rows[start : start + 500]
            errors = client.insert_rows_json(
                f"{datasets['events']}.{table}", chunk, row_ids=[r["event_id"] for r in chunk]
            )
            assert errors == [], errors


def plain(value: Any) -> Any:
    """A query value as plain JSON-able data: NUMERIC as a normalised decimal string, dates ISO."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def table_rows(client, datasets: dict[str, str], model: str, order_by: str | None = None) -> list[Row]:
    """Every row of a model table as plain data, sorted (by ``order_by`` or by the whole row)."""
    sql = f"SELECT * FROM `{datasets['analytics']}.{model}`"
    rows = [plain(dict(r)) for r in client.query(sql).result()]
    if order_by:
        keys = [k.strip() for k in order_by.split(",")]
        return sorted(rows, key=lambda r: tuple("" if r[k] is None else str(r[k]) for k in keys))
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def snapshot(client, datasets: dict[str, str]) -> dict[str, list[Row]]:
    """Every model table's rows, for comparing two builds."""
    return {model: table_rows(client, datasets, model) for model in graph.model_names()}


def rows(columns: str, *values: tuple) -> list[Row]:
    """Expected rows typed as tuples: ``rows("a, b", (1, 2), (3, 4))``."""
    names = [c.strip() for c in columns.split(",")]
    return [dict(zip(names, v, strict=True)) for v in values]


def rows_at(built: list[Row], expected: list[Row], key: str) -> list[Row]:
    """The rows of ``built``, in its order, whose ``key`` columns ("a, b") are those of a row of
    ``expected``: the part of a large table that a test types out."""
    names = [c.strip() for c in key.split(",")]
    wanted = {tuple(row[n] for n in names) for row in expected}
    return [row for row in built if tuple(row[n] for n in names) in wanted]


def month(length: int, counts: dict[int, int]) -> list[int]:
    """A zero-filled daily array; counts maps day of month -> value."""
    return [counts.get(day, 0) for day in range(1, length + 1)]


def replay_twice(client, datasets, start: date, end: date, model_names=None, every: int = 1) -> list[str]:
    """Replay day by day, running each step of every ``every``-th day a second time.

    Returns the labels of the steps whose second run changed their table (none, if idempotent).
    """
    changed = []
    for step in runner.plan_backfill(start, end, "replay", datasets, model_names):
        runner.execute(client, [step])
        if (min(step.parameters.values()) - start).days % every:
            continue
        first = table_rows(client, datasets, step.model)
        runner.execute(client, [step])
        if table_rows(client, datasets, step.model) != first:
            changed.append(step.label)
    return changed


BUILDS = ["replay", "backfill", "chunked"]


def build_three_ways(
    client,
    raw: dict[str, list[Row]],
    start: date,
    end: date,
    model_names=None,
    rerun_each_step: bool = True,
    dead_letters: list[Row] | None = None,
    prefix: str = "m",
) -> dict[str, dict[str, str]]:
    """The same input built by day-by-day replay, one backfill, and two chained backfills.

    With ``rerun_each_step`` the replay runs every step twice and asserts nothing changed.
    Returns the datasets of each build, keyed as in ``BUILDS``.
    """
    builds = {}
    for how in BUILDS:
        datasets = new_datasets(client, prefix)
        insert(client, datasets, raw)
        insert_dead_letters(client, datasets, dead_letters or [])
        builds[how] = datasets
    if rerun_each_step:
        assert replay_twice(client, builds["replay"], start, end, model_names) == []
    else:
        runner.backfill(client, start, end, "replay", builds["replay"], models=model_names)
    runner.backfill(client, start, end, "backfill", builds["backfill"], models=model_names)
    middle = start + (end - start) // 2
    runner.backfill(client, start, middle, "backfill", builds["chunked"], models=model_names)
    runner.backfill(
        client, middle + timedelta(days=1), end, "backfill", builds["chunked"], models=model_names
    )
    return builds


def generate_sample(start: date, days: int, seed: int = 7) -> dict[str, list[Row]]:
    """A deterministic multi-week sample of raw rows for the three streams.

    Several customers (some ordering often, some stopping early so they go inactive), products
    whose names and prices change, orders moving through their statuses over several days
    with some cancelled, warehouses selling down to low stock and restocking, and users on
    several platforms with gaps in their activity.
    """
    rng = random.Random(seed)
    end = start + timedelta(days=days - 1)
    customers = [f"c{i:02d}" for i in range(1, 9)]
    cities = [("Oslo", "NO"), ("Bergen", "NO"), ("Berlin", "DE"), ("Paris", "FR"), ("Lyon", "FR")]
    home = {c: rng.choice(cities) for c in customers}
    last_order_day = {
        c: end if i % 3 else start + timedelta(days=rng.randint(2, 6)) for i, c in enumerate(customers)
    }
    products = {
        f"p{i}": (f"Product {i}", Decimal(rng.randint(5, 400)) + Decimal("0.99")) for i in range(1, 7)
    }
    warehouses = ["w1", "w2", "w3"]
    users = customers + [f"u{i:02d}" for i in range(1, 5)]
    platforms = ["web", "mobile", "tablet"]
    activity_types = ["login", "view_product", "add_to_cart", "remove_from_cart", "logout"]
    orders, stock, activities = [], [], []
    order_number = 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        if offset % 7 == 3:  # weekly price and name changes
            for pid in rng.sample(sorted(products), 2):
                name, price = products[pid]
                if rng.random() < 0.3:
                    name = f"{name} v{offset}"
                products[pid] = (name, price + Decimal(rng.randint(-3, 9)))
        if offset == days // 2:  # a couple of customers move
            for c in rng.sample(customers, 2):
                home[c] = rng.choice(cities)
        for c in customers:
            if day > last_order_day[c] or rng.random() > 0.45:
                continue
            order_number += 1
            oid = f"o{order_number:04d}"
            lines = []
            for pid in rng.sample(sorted(products), rng.randint(1, 3)):
                name, price = products[pid]
                lines.append((pid, name, rng.randint(1, 4), f"{price}"))
            city, country = home[c]
            hour = rng.randint(0, 20)
            statuses = ["pending", "processing", "shipped", "delivered"]
            if rng.random() < 0.2:
                statuses = statuses[: rng.randint(1, 3)] + ["cancelled"]
            event_day, minute = day, rng.randint(0, 50)
            for status in statuses:
                orders.append(
                    order(oid, c, event_day, f"{hour:02d}:{minute:02d}:00", status, lines, city, country)
                )
                event_day += timedelta(days=rng.choice([0, 1, 1, 2]))
                minute = min(minute + 1, 59)
        for pid in products:
            for w in warehouses:
                if rng.random() < 0.35:
                    continue
                for n in range(rng.randint(1, 3)):
                    reason = rng.choices(["sale", "restock", "return", "damage"], [6, 2, 1, 1])[0]
                    qty = rng.randint(1, 30) if reason == "restock" else rng.randint(1, 6)
                    change = qty if reason in ("restock", "return") else -qty
                    time = f"{8 + n:02d}:{rng.randint(0, 59):02d}:00"
                    stock.append(inventory(pid, w, day, time, change, reason, event_id=f"i{len(stock):05d}"))
        for u in users:
            if rng.random() < 0.4:
                continue
            for n in range(rng.randint(1, 4)):
                time = f"{9 + n:02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
                kind = rng.choice(activity_types)
                platform = rng.choice(platforms[: 1 + int(u[1:]) % 3])
                activities.append(activity(u, day, time, kind, platform, event_id=f"a{len(activities):05d}"))
    return {"orders": orders, "inventory": stock, "user_activity": activities}
