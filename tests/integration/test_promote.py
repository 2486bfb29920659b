"""Promoting a new typed field's past values out of ``extra_fields``, on the BigQuery emulator.

The scenario, with no product edit: orders are loaded through the real batch pipeline while the
contract does not know ``coupon_code`` (so it lands in ``extra_fields``); then the schema change
is simulated for the test's own dataset only (the column added to the table as
``localdev.resources.add_new_columns`` adds one, and the field's type given to ``promote`` directly,
or to the command through ``typed_kind``), and the past values are promoted.
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from google.cloud import bigquery

from pipeline.commands import run_command
from recovery import cli, promote
from schemas.ddl import column_type
from tests.events import ORDER
from tests.pipeline_runs import run_batch, table_rows, write_lines
from transforms.known_fields import Known, known_fields

ALL = "event_date >= '2000-01-01'"
START, END = date(2026, 11, 1), date(2026, 11, 3)


def order(event_id: str, day: str, **unknown: Any) -> bytes:
    """A valid order of ``day`` with keys the contract does not know (yet)."""
    event = copy.deepcopy(ORDER)
    event.update(event_id=event_id, order_id=f"ord-{event_id}", order_date=f"{day}T10:15:00Z", **unknown)
    return json.dumps(event).encode()


def add_column(stack, dataset: str, name: str, kind: str, storage: str | None = None) -> None:
    """The schema change, for this dataset only: the column in the table's metadata
    (``update_table``, what ``get_table`` answers) and in its storage (``ALTER TABLE``, what
    queries see), as ``localdev.resources.add_new_columns`` does, with the DDL's spelling of the type
    (INT64: the emulator stores INTEGER as 32 bits). ``storage`` overrides that spelling."""
    client = stack.bigquery_client()
    table = client.get_table(f"{stack.project}.{dataset}.orders")
    table.schema = [*table.schema, bigquery.SchemaField(name, kind)]
    client.update_table(table, ["schema"])
    client.query(
        f"ALTER TABLE `{stack.project}.{dataset}.orders` "
        f"ADD COLUMN IF NOT EXISTS {name} {storage or column_type({'name': name, 'type': kind})}"
    ).result()


def contents(stack, dataset: str) -> list[str]:
    """Every row of the orders table, every column, in a comparable form."""
    return sorted(
        json.dumps(row, sort_keys=True, default=str) for row in table_rows(stack, dataset, "orders", ALL)
    )


def by_id(stack, dataset: str) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in table_rows(stack, dataset, "orders", ALL):
        rows.setdefault(row["event_id"], []).append(row)
    return rows


def test_coupon_codes_move_from_extra_fields_into_the_new_column_once(stack, tmp_path, monkeypatch, capsys):
    payloads = [
        order("o1", "2026-11-01", coupon_code="WINTER", other=1),
        order("o2", "2026-11-01", coupon_code="AUTUMN"),
        order("o3", "2026-11-02", coupon_code=5),
        order("o4", "2026-11-02"),
        order(
            "o5",
            "2026-11-03",
            coupon_code="SPRING",
            shipping_address={**ORDER["shipping_address"], "floor": 3},
        ),
        order("o6", "2026-11-04", coupon_code="LATER"),  # outside the range promoted
        order("o7", "2026-11-03", coupon_code="SET"),  # its column is set by hand below
        order("o1", "2026-11-01", coupon_code="WINTER", other=1),  # the same event again
    ]
    dataset = stack.fresh_dataset("pr")
    loaded = run_batch(stack, str(write_lines(tmp_path / "in.jsonl", payloads)), dataset)
    assert loaded["loaded"]["orders"] == 7 and loaded["duplicates"] == 1
    client = stack.bigquery_client()
    # An identical duplicate row of one event, as a replay can leave (the models count it once).
    client.query(
        f"INSERT INTO `{stack.project}.{dataset}.orders` SELECT * FROM `{stack.project}.{dataset}.orders` "
        "WHERE event_date = '2026-11-01' AND event_id = 'o2'"
    ).result()
    assert by_id(stack, dataset)["o1"][0]["extra_fields"] == {"coupon_code": "WINTER", "other": 1}
    add_column(stack, dataset, "coupon_code", "STRING")
    client.query(
        f"UPDATE `{stack.project}.{dataset}.orders` SET coupon_code = 'BY HAND' "
        "WHERE event_date = '2026-11-03' AND event_id = 'o7'"
    ).result()
    tree = {**known_fields("orders"), "coupon_code": Known("STRING", False, None)}
    in_schemas = promote.typed_kind
    monkeypatch.setattr(promote, "typed_kind", lambda stream, field, _=None: in_schemas(stream, field, tree))
    capsys.readouterr()
    loaded_rows = contents(stack, dataset)

    status = cli.main(
        [
            "promote-field",
            "--table=orders",
            "--field=coupon_code",
            f"--start={START}",
            f"--end={END}",
            f"--dataset={dataset}",
            f"--project={stack.project}",
            f"--bigquery-endpoint={stack.bigquery_endpoint}",
            "--dry-run",
        ]
    )

    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out == [
        "2026-11-01: would promote 3 rows",
        "2026-11-02: would promote 0 rows; left in extra_fields: wrong_type 1",
        "2026-11-03: would promote 1 row; column already set: 1 row",
        f"{stack.project}.{dataset}.orders.coupon_code (STRING), 2026-11-01..2026-11-03: dry run, nothing "
        "written: would promote 4 rows (3 of 3 days had work); left in extra_fields: 1 row; "
        "column already set: 1 row",
        "  wrong_type: 1 row, e.g. 2026-11-02 o3: field 'coupon_code' must be a string, got number 5",
    ]
    assert contents(stack, dataset) == loaded_rows

    before = by_id(stack, dataset)
    days: list[str] = []
    first = promote.promote(
        client,
        stack.project,
        dataset,
        "orders",
        "coupon_code",
        START,
        END,
        kind="STRING",
        progress=days.append,
    )

    assert (first.promoted, first.left_in_extra_fields, first.already_columns) == (4, {"wrong_type": 1}, 1)
    assert first.statements == 2
    assert days == [
        "2026-11-01: promoted 3 rows (1 UPDATE)",
        "2026-11-02: promoted 0 rows; left in extra_fields: wrong_type 1",
        "2026-11-03: promoted 1 row (1 UPDATE); column already set: 1 row",
    ]
    assert first.examples == {
        "wrong_type": ["2026-11-02 o3: field 'coupon_code' must be a string, got number 5"]
    }
    rows = by_id(stack, dataset)
    assert [(r["coupon_code"], r["extra_fields"]) for r in rows["o1"]] == [("WINTER", {"other": 1})]
    assert [(r["coupon_code"], r["extra_fields"]) for r in rows["o2"]] == [("AUTUMN", None)] * 2
    assert [(r["coupon_code"], r["extra_fields"]) for r in rows["o3"]] == [(None, {"coupon_code": 5})]
    assert [(r["coupon_code"], r["extra_fields"]) for r in rows["o4"]] == [(None, None)]
    assert [(r["coupon_code"], r["extra_fields"]) for r in rows["o5"]] == [
        ("SPRING", {"shipping_address": {"floor": 3}})
    ]
    assert [(r["coupon_code"], r["extra_fields"]) for r in rows["o6"]] == [(None, {"coupon_code": "LATER"})]
    assert [(r["coupon_code"], r["extra_fields"]) for r in rows["o7"]] == [
        ("BY HAND", {"coupon_code": "SET"})
    ]
    promoted_rows = contents(stack, dataset)
    # Nothing but the two columns changed.
    moved = ("coupon_code", "extra_fields")
    assert {e: [{k: v for k, v in r.items() if k not in moved} for r in rs] for e, rs in rows.items()} == {
        e: [{k: v for k, v in r.items() if k not in moved} for r in rs] for e, rs in before.items()
    }

    again = promote.promote(
        client, stack.project, dataset, "orders", "coupon_code", START, END, kind="STRING"
    )

    assert (again.promoted, again.statements, again.left_in_extra_fields) == (0, 0, {"wrong_type": 1})
    assert contents(stack, dataset) == promoted_rows


def test_the_command_refuses_a_table_without_the_column(stack, monkeypatch, capsys):
    dataset = stack.fresh_dataset("pr")
    tree = {**known_fields("orders"), "coupon_code": Known("STRING", False, None)}
    in_schemas = promote.typed_kind
    monkeypatch.setattr(promote, "typed_kind", lambda stream, field, _=None: in_schemas(stream, field, tree))
    common = [
        "promote-field",
        "--table=orders",
        "--field=coupon_code",
        "--start=2026-11-01",
        "--end=2026-11-02",
        f"--project={stack.project}",
        f"--bigquery-endpoint={stack.bigquery_endpoint}",
    ]

    assert run_command(cli.main, "recovery", [*common, f"--dataset={dataset}"]) == 2
    assert run_command(cli.main, "recovery", [*common, "--dataset=no_such_dataset"]) == 2

    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"recovery: error: --field coupon_code: {stack.project}.{dataset}.orders has no column coupon_code; "
        "apply the schema change to the table first (terraform apply), then promote",
        f"recovery: error: table {stack.project}.no_such_dataset.orders not found; "
        "check --project and --dataset",
    ]


def test_every_type_is_cast_exactly(stack, tmp_path):
    fields = {
        "delivered_at": "TIMESTAMP",
        "discount": "NUMERIC",
        "gift": "BOOLEAN",
        "units": "INTEGER",
        "ship_on": "DATE",
        "gift_note": "JSON",
    }
    payloads = [
        order(
            "a",
            "2026-11-01",
            delivered_at="2026-11-01T10:15:00.123456+02:00",
            discount="12345678901234567890.123456789",
            gift=True,
            units=7,
            ship_on="2026-11-05",
            gift_note={"to": "Ann", "amount": 1.5},
        ),
        order(
            "b",
            "2026-11-01",
            delivered_at=1762000000000,
            discount=0.000000001,
            gift=False,
            units=-9223372036854775808,
            ship_on="2026-11-06",
            gift_note="hi",
        ),
        order(
            "c",
            "2026-11-02",
            delivered_at="soon",
            discount=0.0000000001,
            gift="yes",
            units=1.5,
            ship_on="11/05/2026",
            gift_note=None,
        ),
    ]
    dataset = stack.fresh_dataset("pt")
    run_batch(stack, str(write_lines(tmp_path / "in.jsonl", payloads)), dataset)
    for name, kind in fields.items():
        # bqemulator stores an added NUMERIC column as DuckDB DECIMAL(18,3) (3 decimals); BigQuery's
        # NUMERIC is (38,9). Only the emulator's ALTER is spelled NUMERIC(38, 9).
        add_column(stack, dataset, name, kind, "NUMERIC(38, 9)" if kind == "NUMERIC" else None)
    client = stack.bigquery_client()

    reports = {
        name: promote.promote(client, stack.project, dataset, "orders", name, START, END, kind=kind)
        for name, kind in fields.items()
    }

    assert {name: (r.promoted, r.left_in_extra_fields) for name, r in reports.items()} == {
        "delivered_at": (2, {"bad_timestamp": 1}),
        "discount": (2, {"invalid_value": 1}),
        "gift": (2, {"wrong_type": 1}),
        "units": (2, {"wrong_type": 1}),
        "ship_on": (2, {"invalid_value": 1}),
        "gift_note": (3, {}),  # c's null: the key leaves, the column stays NULL
    }
    rows = {event_id: found for event_id, [found] in by_id(stack, dataset).items()}
    assert {name: rows["a"][name] for name in fields} == {
        "delivered_at": datetime(2026, 11, 1, 8, 15, 0, 123456, tzinfo=timezone.utc),
        "discount": Decimal("12345678901234567890.123456789"),
        "gift": True,
        "units": 7,
        "ship_on": date(2026, 11, 5),
        "gift_note": {"amount": 1.5, "to": "Ann"},
    }
    assert {name: rows["b"][name] for name in fields} == {
        "delivered_at": datetime(2025, 11, 1, 12, 26, 40, tzinfo=timezone.utc),
        "discount": Decimal("0.000000001"),
        "gift": False,
        "units": -9223372036854775808,
        "ship_on": date(2026, 11, 6),
        "gift_note": "hi",
    }
    assert rows["a"]["extra_fields"] is None and rows["b"]["extra_fields"] is None
    assert all(rows["c"][name] is None for name in fields)
    assert set(rows["c"]["extra_fields"]) == {"delivered_at", "discount", "gift", "units", "ship_on"}
    assert rows["c"]["extra_fields"]["units"] == 1.5
