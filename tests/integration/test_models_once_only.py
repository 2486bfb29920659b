"""Each event once and each rejected message once (docs/contract.md and docs/models.md, "Once only"),
on the real bqemulator.

Copies of raw rows — the same day, re-sent on a later processing day, of a late event — and copies
of dead letters (the same ``message_id``; the same payload without one, stored as text or base64)
must give exactly the tables built without them, for every model: built by one backfill with
every copy loaded, and by the daily steps with each row loaded on its processing day (a late
event is fixed by the documented rebuild from its day; copies arriving afterwards change nothing).
A hand-written scenario types out the rows of ``inventory_daily_balance`` and
``fact_events_daily``; a generated sample covers every model with many copies. The SQL key of a
dead letter (``dead_letter_key`` of sql/rules.sql) is the Python one of
``recovery.dead_letters``.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime, timedelta

import pytest

from recovery.dead_letters import dead_letter_key, to_dead_letter
from tests.models_scenario import (
    activity,
    copy_of,
    dead_letter,
    dead_letter_copy,
    generate_sample,
    insert,
    insert_dead_letters,
    inventory,
    new_datasets,
    order,
    rows,
    sample_copies,
    snapshot,
    table_rows,
)
from warehouse import rules, runner
from warehouse.graph import model_names
from warehouse.sql import point_datasets

Raw = dict[str, list[dict]]

# --------------------------------------------------------------------------------------
# The dead-letter key: SQL and Python agree
# --------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# (message_id, payload as stored, payload_encoding)
KEY_CASES = [
    ("m-1", '{"order_id": "o1"}', "utf-8"),
    ("projects/p/topics/t/123456789", _b64(b"\xff\x00 not utf-8"), "base64"),
    (None, '{"order_id": "o1"}', "utf-8"),
    (None, "h\u00e9llo w\u00f6rld \u2713 \U0001f680", "utf-8"),  # non-ASCII text: its UTF-8 bytes
    (None, _b64("h\u00e9llo".encode()), "base64"),  # the same bytes as the text "héllo"
    (None, "h\u00e9llo", "utf-8"),
    (None, _b64(b"\xff\xfe\x00\x01binary"), "base64"),
    ("", "an empty message_id counts as none", "utf-8"),
    (None, "", "utf-8"),
    (None, None, "utf-8"),  # no payload at all: the SHA-256 of no bytes
]


def _payload_bytes(payload: str | None, encoding: str) -> bytes:
    if encoding == "base64":
        return base64.b64decode(payload or "")
    return (payload or "").encode("utf-8")


def test_the_sql_dead_letter_key_is_the_python_one(bq_client):
    datasets = new_datasets(bq_client, "ok")
    letters = [
        dead_letter("orders", "2026-10-01", "10:00:00", f"case_{number}", mid, payload, encoding)
        for number, (mid, payload, encoding) in enumerate(KEY_CASES)
    ]
    insert_dead_letters(bq_client, datasets, letters)
    query = (
        "SELECT *, dead_letter_key(message_id, payload, payload_encoding) AS sql_key "
        "FROM `events.dead_letter`"
    )
    query = rules.preamble(query) + point_datasets(query, datasets)
    stored = {row["error_code"]: dict(row) for row in bq_client.query(query).result()}
    assert len(stored) == len(KEY_CASES)
    for number, (mid, payload, encoding) in enumerate(KEY_CASES):
        row = stored[f"case_{number}"]
        expected = dead_letter_key(mid, _payload_bytes(payload, encoding))
        assert row["sql_key"] == expected, (mid, payload, encoding)
        assert to_dead_letter(row).key == expected  # the replay's path from the stored row
        if mid:
            assert expected == f"message_id:{mid}"
        else:
            digest = hashlib.sha256(_payload_bytes(payload, encoding)).hexdigest()
            assert expected == f"payload_sha256:{digest}"
    # The base64 copy of "héllo" is the same message as the text "héllo".
    assert stored["case_4"]["sql_key"] == stored["case_5"]["sql_key"]


def test_is_first_rejection_looks_back_exactly_the_window(bq_client):
    window = rules.definition("dead_letter_window_days").value
    cases = {
        "no copy before": ("NULL", True),
        "same day": ("TIMESTAMP '2026-10-01 09:00:00+00'", False),
        "window days before": (
            f"TIMESTAMP_SUB(TIMESTAMP '2026-10-01 00:00:00+00', INTERVAL {window} DAY)",
            False,
        ),
        "one day more": (
            f"TIMESTAMP_SUB(TIMESTAMP '2026-10-01 00:00:00+00', INTERVAL {window + 1} DAY)",
            True,
        ),
    }
    selects = ", ".join(
        f"is_first_rejection(TIMESTAMP '2026-10-01 10:00:00+00', {previous}, dead_letter_window_days) AS c{i}"
        for i, (previous, _) in enumerate(cases.values())
    )
    query = f"SELECT {selects}"
    result = dict(next(iter(bq_client.query(rules.preamble(query) + query).result())))
    assert [result[f"c{i}"] for i in range(len(cases))] == [want for _, want in cases.values()], cases


# --------------------------------------------------------------------------------------
# Builds: everything loaded at once, or each row on its processing day
# --------------------------------------------------------------------------------------


def _arrival(row: dict) -> date:
    """The UTC day a row reaches its table: processed_timestamp (raw) or failed_at (dead letter)."""
    stamp = row.get("processed_timestamp") or row["failed_at"]
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).date()


def _load(client, datasets, raw: Raw, letters: list[dict]) -> None:
    """Each table's rows in separate calls per copy round, so no insertId could merge copies."""
    for table, table_rows_ in raw.items():
        seen: dict[tuple, int] = {}
        rounds: list[list[dict]] = []
        for row in table_rows_:
            key = (row["event_date"], row["event_id"])
            number = seen[key] = seen.get(key, -1) + 1
            while len(rounds) <= number:
                rounds.append([])
            rounds[number].append(row)
        for batch in rounds:
            insert(client, datasets, {table: batch})
    insert_dead_letters(client, datasets, letters)


def _backfilled(client, raw: Raw, letters: list[dict], start: date, end: date) -> dict[str, str]:
    datasets = new_datasets(client, "once")
    _load(client, datasets, raw, letters)
    runner.backfill(client, start, end, "backfill", datasets)
    return datasets


def _built_as_they_arrive(
    client, raw: Raw, letters: list[dict], start: date, end: date, late_from: date, again: str
) -> tuple[dict[str, str], list[str]]:
    """The daily steps, each day after loading the rows that arrive that day; then the late-data
    rebuild from ``late_from``, the rows arriving after ``end``, and the rebuild again (``again``:
    ``replay`` or ``backfill`` mode).

    Returns the datasets and the models the last rebuild changed (none: copies change nothing).
    """
    datasets = new_datasets(client, "once")

    def arriving(when) -> tuple[Raw, list[dict]]:
        picked = {t: [r for r in table_rows_ if when(_arrival(r))] for t, table_rows_ in raw.items()}
        return picked, [r for r in letters if when(_arrival(r))]

    for day in runner.days(start, end):
        _load(client, datasets, *arriving(lambda a, day=day: a == day or (day == start and a < start)))
        runner.execute(client, runner.plan_day(day, datasets))
    runner.backfill(client, late_from, end, "backfill", datasets)  # the documented late-data fix
    before = snapshot(client, datasets)
    _load(client, datasets, *arriving(lambda a: a > end))
    runner.backfill(client, late_from, end, again, datasets)  # e.g. a trailing replay
    after = snapshot(client, datasets)
    return datasets, [m for m in model_names() if after[m] != before[m]]


# --------------------------------------------------------------------------------------
# A hand-written scenario with its expected rows
# --------------------------------------------------------------------------------------

D1, D2, D3, D4 = (date(2026, 10, 5) + timedelta(days=i) for i in range(4))
d1, d2, d3 = (d.isoformat() for d in (D1, D2, D3))
SECONDS, DAY = timedelta(seconds=20), timedelta(days=1)
MUG = [("p1", "Mug", 2, "50.00")]

ORDERS = [
    order("o1", "c1", D1, "09:00:00", "pending", MUG),
    order("o1", "c1", D2, "11:00:00", "shipped", MUG),
]
ACTIVITY = [
    activity("u1", D1, "09:00:00", "login", "web", "s1"),
    activity("u1", D1, "09:10:00", "view_product", "web", "s1"),
    activity("u1", D2, "10:00:00", "view_product", "web", "s2"),
    activity("u2", D3, "12:00:00", "login", "mobile", "s3"),
]
INVENTORY = [
    inventory("p1", "w1", D1, "08:00:00", 30, "restock", event_id="i1"),
    inventory("p1", "w1", D1, "12:00:00", -5, "sale", event_id="i2"),
    inventory("p1", "w1", D2, "09:00:00", -10, "sale", event_id="i3"),
    inventory("p1", "w1", D3, "09:00:00", 2, "return", event_id="i4"),
    # A producer reusing an event_id for another event on another day: one event on each day.
    inventory("p1", "w1", D2, "15:00:00", 1, "return", event_id="i-two-days"),
    inventory("p1", "w1", D3, "15:00:00", 1, "return", event_id="i-two-days"),
]
# Late: D2's damage arrives on D3, after D2 was built.
LATE = {
    **inventory("p1", "w1", D2, "20:00:00", -1, "damage", event_id="i5"),
    "processed_timestamp": f"{d3}T12:00:00Z",
}
# A producer reusing an event_id on one day: the first loaded copy counts (the sale, loaded 09:00).
REUSED_FIRST = {
    **inventory("p1", "w1", D1, "07:00:00", -3, "sale", event_id="i-reused"),
    "processed_timestamp": f"{d1}T09:00:00Z",
}
REUSED_LATER = {
    **inventory("p1", "w1", D1, "07:30:00", 7, "restock", event_id="i-reused"),
    "processed_timestamp": f"{d1}T10:00:00Z",
}
# The same for an order event and an activity event: the order o3 and the user u4 never exist.
ORDER_REUSED_FIRST = {
    **order("o2", "c2", D1, "13:00:00", "pending", [("p2", "Lamp", 1, "150.00")], event_id="o-reused"),
    "processed_timestamp": f"{d1}T13:00:00Z",
}
ORDER_REUSED_LATER = {
    **order("o3", "c3", D1, "13:30:00", "pending", [("p2", "Lamp XL", 1, "9000.00")], event_id="o-reused"),
    "processed_timestamp": f"{d1}T14:00:00Z",
}
ACTIVITY_REUSED_FIRST = activity("u3", D1, "09:00:00", "login", "tablet", "s4", event_id="a-reused")
ACTIVITY_REUSED_LATER = {
    **activity("u4", D1, "09:20:00", "login", "web", "s5", event_id="a-reused"),
    "processed_timestamp": f"{d1}T09:30:00Z",
}
# Loaded at the same instant: the row whose JSON sorts first counts (inventory_id 'i-tie-a').
TIE_A = {**inventory("p1", "w1", D2, "07:00:00", 4, "restock", event_id="i-tie"), "inventory_id": "i-tie-a"}
TIE_B = {**inventory("p1", "w1", D2, "07:00:00", -4, "sale", event_id="i-tie"), "inventory_id": "i-tie-b"}

BAD_PAYLOAD = '{"order_id": "o9", "total_amount": '  # truncated JSON, no message_id (a file input)
REJECTED = [
    dead_letter("orders", D1, "10:00:00", "invalid_json", message_id="m-1"),
    dead_letter("inventory", D1, "23:59:30", "invalid_json", message_id=None, payload=BAD_PAYLOAD),
    dead_letter("user_activity", D2, "13:00:00", "missing_field", message_id=None, payload='{"other": 1}'),
    dead_letter("unknown", D3, "08:00:00", "unknown_event_type", message_id="m-2"),
]
REJECTED_COPIES = [
    dead_letter_copy(REJECTED[0], timedelta(minutes=5)),  # redelivered the same day
    dead_letter_copy(REJECTED[0], timedelta(hours=23)),  # and again on D2
    dead_letter_copy(REJECTED[0], timedelta(days=21)),  # and by a replay three weeks later
    dead_letter_copy(REJECTED[1], timedelta(minutes=1)),  # the same payload just after midnight
    dead_letter_copy(REJECTED[1], timedelta(days=1, hours=9), base64_payload=True),  # same bytes, base64, D3
    dead_letter_copy(REJECTED[3], timedelta(hours=1)),
]


def _hand_raw(with_copies: bool) -> tuple[Raw, list[dict]]:
    raw = {
        "orders": [*ORDERS, ORDER_REUSED_FIRST],
        "user_activity": [*ACTIVITY, ACTIVITY_REUSED_FIRST],
        "inventory": [*INVENTORY, LATE, REUSED_FIRST, TIE_A],
    }
    if not with_copies:
        return raw, list(REJECTED)
    raw["orders"] += [
        copy_of(ORDERS[0], SECONDS),
        copy_of(ORDERS[0], DAY),
        copy_of(ORDERS[1], 2 * DAY),
        ORDER_REUSED_LATER,
    ]
    raw["user_activity"] += [
        copy_of(ACTIVITY[0], SECONDS),
        copy_of(ACTIVITY[2], DAY),
        copy_of(ACTIVITY[3], DAY),  # arrives after the last built day
        ACTIVITY_REUSED_LATER,
    ]
    raw["inventory"] += [
        copy_of(INVENTORY[0], SECONDS),  # the restock loaded twice the same day
        copy_of(INVENTORY[0], DAY),  # and re-sent on D2
        copy_of(INVENTORY[2], DAY),
        copy_of(INVENTORY[2], 2 * DAY),
        copy_of(LATE, DAY),  # a copy of the late event, after the late-data rebuild
        REUSED_LATER,
        TIE_B,
    ]
    return raw, REJECTED + REJECTED_COPIES


@pytest.fixture(scope="module")
def hand(bq_client):
    clean = _backfilled(bq_client, *_hand_raw(False), D1, D3)
    copies = _backfilled(bq_client, *_hand_raw(True), D1, D3)
    daily, changed = _built_as_they_arrive(bq_client, *_hand_raw(True), D1, D3, late_from=D2, again="replay")
    return {"clean": clean, "copies": copies, "daily": daily, "changed_by_late_copies": changed}


def test_hand_scenario_copies_change_no_model(bq_client, hand):
    clean = snapshot(bq_client, hand["clean"])
    assert all(clean.values()), "every model has rows"
    for how in ("copies", "daily"):
        built = snapshot(bq_client, hand[how])
        assert {m: built[m] == clean[m] for m in model_names()} == dict.fromkeys(model_names(), True), how
    assert hand["changed_by_late_copies"] == []


@pytest.mark.parametrize("how", ["clean", "copies", "daily"])
def test_an_inventory_movement_loaded_twice_moves_the_stock_once(bq_client, hand, how):
    columns = (
        "product_id, warehouse_id, balance_date, opening_quantity, restocked, sold, returned, damaged, "
        "net_change, closing_quantity, is_low_stock"
    )
    assert table_rows(bq_client, hand[how], "inventory_daily_balance", "balance_date") == rows(
        columns,
        # i1 +30 (three copies), i2 -5, i-reused: its first loaded copy, the sale -3.
        ("p1", "w1", d1, 0, 30, -8, 0, 0, 22, 22, False),
        # i3 -10 (three copies), the late i5 -1 (two), i-tie-a +4, i-two-days +1.
        ("p1", "w1", d2, 22, 4, -10, 1, -1, -6, 16, False),
        # i4 +2 and i-two-days again: the same event_id on another day is another event.
        ("p1", "w1", d3, 16, 0, 0, 3, 0, 3, 19, False),
    )


@pytest.mark.parametrize("how", ["clean", "copies", "daily"])
def test_fact_events_daily_counts_each_event_and_each_rejected_message_once(bq_client, hand, how):
    expected = rows(
        "date, stream, event_type, total_events, error_events, unique_sessions, avg_session_duration_s",
        (d1, "inventory", "(all)", 3, 1, None, None),  # the payload rejected at 23:59:30, once
        (d1, "inventory", "restock", 1, None, None, None),
        (d1, "inventory", "sale", 2, None, None, None),
        (d1, "orders", "(all)", 2, 1, None, None),  # m-1, rejected four times
        (d1, "orders", "pending", 2, None, None, None),  # o1, o2 (not o3, which reused o2's event_id)
        (d1, "user_activity", "(all)", 3, 0, 2, 300.0),  # s1 600 s, s4 0 s (u3, not u4)
        (d1, "user_activity", "login", 2, None, 2, 300.0),
        (d1, "user_activity", "view_product", 1, None, 1, 600.0),
        (d2, "inventory", "(all)", 4, 0, None, None),  # the payload's copy at 00:00:30 is no new error
        (d2, "inventory", "damage", 1, None, None, None),
        (d2, "inventory", "restock", 1, None, None, None),
        (d2, "inventory", "return", 1, None, None, None),
        (d2, "inventory", "sale", 1, None, None, None),
        (d2, "orders", "(all)", 1, 0, None, None),  # m-1's copy on D2 is no new error
        (d2, "orders", "shipped", 1, None, None, None),
        (d2, "user_activity", "(all)", 1, 1, 1, 0.0),  # another payload: another message
        (d2, "user_activity", "view_product", 1, None, 1, 0.0),
        (d3, "inventory", "(all)", 2, 0, None, None),  # the base64 copy of D1's payload: no error
        (d3, "inventory", "return", 2, None, None, None),
        (d3, "unknown", "(all)", 0, 1, None, None),  # m-2 and its copy
        (d3, "user_activity", "(all)", 1, 0, 1, 0.0),
        (d3, "user_activity", "login", 1, None, 1, 0.0),
    )
    key = "date, stream, event_type"
    assert table_rows(bq_client, hand[how], "fact_events_daily", key) == expected


# --------------------------------------------------------------------------------------
# A generated sample with copies of every kind, every model
# --------------------------------------------------------------------------------------

START, DAYS = date(2026, 10, 30), 5  # across a month end
END = START + timedelta(days=DAYS - 1)
LATE_DAY = START + timedelta(days=1)


def _sample_letters() -> tuple[list[dict], list[dict]]:
    """Dead letters of each day and their copies: same message_id (same day, next day), the same
    payload without a message_id (after midnight, then base64 two days later)."""
    letters, copies = [], []
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        with_id = dead_letter(("orders", "inventory", "user_activity")[offset % 3], day, "10:00:00")
        without = dead_letter("unknown", day, "23:59:50", "unknown_event_type", None, f'{{"day": {offset}}}')
        letters += [with_id, without]
        copies += [
            dead_letter_copy(with_id, timedelta(minutes=3)),
            dead_letter_copy(with_id, timedelta(days=1)),
            dead_letter_copy(without, timedelta(seconds=30)),
            dead_letter_copy(without, timedelta(days=2), base64_payload=True),
        ]
    return letters, copies


def _sample_raw() -> tuple[Raw, Raw]:
    """The sample, with every 4th event of LATE_DAY arriving three days late, and its copies."""
    sample = generate_sample(START, DAYS, seed=11)
    late_stamp = f"{(LATE_DAY + timedelta(days=3)).isoformat()}T06:00:00Z"
    for table_rows_ in sample.values():
        on_late_day = [r for r in table_rows_ if r["event_date"] == LATE_DAY.isoformat()]
        for row in on_late_day[::4]:
            row["processed_timestamp"] = late_stamp
    return sample, sample_copies(sample)


@pytest.fixture(scope="module")
def sample_builds(bq_client):
    sample, copies = _sample_raw()
    letters, letter_copies = _sample_letters()
    with_copies = {t: sample[t] + copies[t] for t in sample}
    # "Without copies": the first copy of each event, the first copy of each rejected message by
    # the Python key (recovery.dead_letters), which the SQL must match.
    first_letters: dict[str, dict] = {}
    for letter in sorted(letters + letter_copies, key=lambda r: r["failed_at"]):
        key = dead_letter_key(
            letter["message_id"], _payload_bytes(letter["payload"], letter["payload_encoding"])
        )
        first_letters.setdefault(key, letter)
    assert len(first_letters) == len(letters)
    clean = _backfilled(bq_client, sample, list(first_letters.values()), START, END)
    copied = _backfilled(bq_client, with_copies, letters + letter_copies, START, END)
    daily, changed = _built_as_they_arrive(
        bq_client, with_copies, letters + letter_copies, START, END, late_from=LATE_DAY, again="backfill"
    )
    return {
        "copies": sum(len(c) for c in copies.values()) + len(letter_copies),
        "tables": {
            how: snapshot(bq_client, d) for how, d in [("clean", clean), ("copies", copied), ("daily", daily)]
        },
        "changed_by_late_copies": changed,
    }


def test_the_sample_holds_copies_of_every_kind(sample_builds):
    assert sample_builds["copies"] > 100
    assert all(sample_builds["tables"]["clean"].values()), "every model has rows"


@pytest.mark.parametrize("model", model_names())
def test_copies_change_no_model_built_by_backfill(sample_builds, model):
    assert sample_builds["tables"]["copies"][model] == sample_builds["tables"]["clean"][model]


@pytest.mark.parametrize("model", model_names())
def test_copies_change_no_model_built_day_by_day_as_rows_arrive(sample_builds, model):
    """Backfill equals the daily steps with copies present (and the late-data fix still works)."""
    assert sample_builds["tables"]["daily"][model] == sample_builds["tables"]["clean"][model]


def test_copies_arriving_after_a_rebuild_change_nothing(sample_builds):
    assert sample_builds["changed_by_late_copies"] == []
