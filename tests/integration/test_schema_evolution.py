"""Nothing a producer sends is dropped, end to end on the emulators: unknown keys land in
``extra_fields``, each row carries its message's lineage, an existing local warehouse gains the
columns ``schemas/`` adds, and a NULLABLE field added to a copy of ``schemas/`` loads as a
column through the real batch pipeline with no other edit."""

from __future__ import annotations

import copy
import json
import shutil
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from google.cloud import bigquery

from localdev.stack import create_tables
from schemas import load_schema, schema_fields
from tests.events import INVENTORY, ORDER, USER_ACTIVITY, encode
from tests.pipeline_runs import run_batch, table_rows, write_lines
from tests.python_commands import run_python
from transforms.messages import Message

PARTITIONS = "event_date >= '2000-01-01'"
ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = datetime(2026, 11, 1, 9, 30, 0, 250000, tzinfo=timezone.utc)


def by_event_id(rows: list[dict]) -> dict[str, dict]:
    return {row["event_id"]: row for row in rows}


def test_unknown_fields_and_lineage_reach_bigquery_through_the_batch_path(stack, tmp_path):
    order = copy.deepcopy(ORDER)
    order["coupon_code"] = "WINTER"
    order["items"][1]["sku_color"] = "red"
    order["shipping_address"]["floor"] = 3
    enveloped = {**INVENTORY, "event_id": "evt-inv-env", "warehouse_note": {"bay": [1, 2]}}
    envelope = Message(
        encode(enveloped), {"origin": "shop", "tenant": "eu"}, "m-42", PUBLISHED
    ).envelope_line()
    plain_activity = {k: v for k, v in USER_ACTIVITY.items() if k != "client_version"}
    source = write_lines(
        tmp_path / "events.jsonl", [encode(order), envelope.encode(), encode(plain_activity)]
    )
    dataset = stack.fresh_dataset("extra")

    summary = run_batch(stack, str(source), dataset)

    assert summary["loaded"] == {"orders": 1, "inventory": 1, "user_activity": 1}
    (order_row,) = table_rows(stack, dataset, "orders", PARTITIONS)
    assert order_row["extra_fields"] == {
        "coupon_code": "WINTER",
        "items": [{}, {"sku_color": "red"}],
        "shipping_address": {"floor": 3},
    }
    assert [order_row[c] for c in ("message_id", "publish_time", "attributes")] == [None, None, None]
    (inventory_row,) = table_rows(stack, dataset, "inventory", PARTITIONS)
    assert inventory_row["extra_fields"] == {"warehouse_note": {"bay": [1, 2]}}
    assert inventory_row["message_id"] == "m-42"
    assert inventory_row["publish_time"] == PUBLISHED
    assert inventory_row["attributes"] == {"origin": "shop", "tenant": "eu"}
    (activity_row,) = table_rows(stack, dataset, "user_activity", PARTITIONS)
    assert activity_row["extra_fields"] is None


def test_an_existing_local_table_gains_the_columns_schemas_adds(stack):
    client = stack.bigquery_client()
    dataset = f"old_{uuid.uuid4().hex[:10]}"
    client.create_dataset(f"{stack.project}.{dataset}")
    added = {"message_id", "publish_time", "attributes", "extra_fields"}
    before = [f for f in schema_fields("events", "inventory") if f.name not in added]
    table = bigquery.Table(f"{stack.project}.{dataset}.inventory", schema=before)
    table.time_partitioning = bigquery.TimePartitioning(field="event_date")
    client.create_table(table)
    old_row = {
        "inventory_id": "inv-old",
        "product_id": "p",
        "warehouse_id": "w",
        "quantity_change": 3,
        "reason": "restock",
        "timestamp": "2026-10-01T00:00:00Z",
        "event_id": "evt-old",
        "event_type": "inventory",
        "processed_timestamp": "2026-10-01T00:00:01Z",
        "event_date": "2026-10-01",
    }
    assert client.insert_rows_json(f"{stack.project}.{dataset}.inventory", [old_row]) == []

    create_tables(client, stack.project, {"events": dataset})  # what make run KEEP=1 does at start
    create_tables(client, stack.project, {"events": dataset})  # and again: nothing left to add

    names = [f.name for f in client.get_table(f"{stack.project}.{dataset}.inventory").schema]
    assert names == [f["name"] for f in load_schema("events", "inventory")]
    new_row = {**old_row, "event_id": "evt-new", "message_id": "m-1", "extra_fields": '{"a":1}'}
    assert client.insert_rows_json(f"{stack.project}.{dataset}.inventory", [new_row]) == []
    rows = by_event_id(table_rows(stack, dataset, "inventory", PARTITIONS))
    assert rows["evt-old"]["message_id"] is None and rows["evt-old"]["extra_fields"] is None
    assert rows["evt-new"]["message_id"] == "m-1" and rows["evt-new"]["extra_fields"] == {"a": 1}


RUN_IN_COPY = """
import sys
from localdev.stack import bigquery_client, create_tables
from pipeline import main
endpoint, project, dataset, source = sys.argv[1:]
create_tables(bigquery_client(endpoint, project), project, {"events": dataset})
main.run(["--source=files", f"--input={source}", f"--project={project}", f"--dataset={dataset}",
          f"--bigquery_endpoint={endpoint}"])
"""


def test_a_field_added_to_a_copy_of_the_schemas_loads_as_a_column_with_no_other_edit(stack, tmp_path):
    """The producer adds ``coupon_code``: first it lands in extra_fields; after one edit of the
    copy's ``schemas/events/orders.json`` the copy's own code adds the column to the existing
    table (as ``make run KEEP=1`` would) and the pipeline loads it as a column."""
    dataset = stack.fresh_dataset("evolve")
    first = write_lines(tmp_path / "before.jsonl", [encode({**ORDER, "coupon_code": "WINTER"})])
    run_batch(stack, str(first), dataset)

    copy_root = tmp_path / "copy"
    for package in ("pipeline", "transforms", "schemas", "localdev"):
        shutil.copytree(ROOT / package, copy_root / package, ignore=shutil.ignore_patterns("__pycache__"))
    schema_file = copy_root / "schemas" / "events" / "orders.json"
    added = [
        {"name": "coupon_code", "type": "STRING", "mode": "NULLABLE", "description": "Coupon code."},
        {"name": "discount", "type": "NUMERIC", "mode": "NULLABLE", "description": "Discount."},
    ]
    schema_file.write_text(json.dumps([*json.loads(schema_file.read_text()), *added], indent=2))
    second = write_lines(
        tmp_path / "after.jsonl",
        [
            encode(
                {
                    **ORDER,
                    "event_id": "evt-order-2",
                    "coupon_code": "SPRING",
                    "discount": "-12345678901234567890.123456789",
                    "gift_note": "hi",
                }
            ),
            encode({**ORDER, "event_id": "evt-order-3", "coupon_code": 15}),
        ],
    )
    run_in_copy = ["-c", RUN_IN_COPY, stack.bigquery_endpoint, stack.project, dataset, str(second)]
    run_python(run_in_copy, copy_root, cwd=copy_root, timeout=600)

    rows = by_event_id(table_rows(stack, dataset, "orders", PARTITIONS))
    assert rows["evt-order-1"]["coupon_code"] is None  # loaded before the change: still in extra_fields
    assert rows["evt-order-1"]["extra_fields"] == {"coupon_code": "WINTER"}
    assert rows["evt-order-2"]["coupon_code"] == "SPRING"
    assert rows["evt-order-2"]["discount"] == Decimal("-12345678901234567890.123456789")
    assert rows["evt-order-2"]["extra_fields"] == {"gift_note": "hi"}
    (dead,) = table_rows(stack, dataset, "dead_letter")
    assert (dead["error_code"], dead["stream"]) == ("wrong_type", "orders")
    assert "field 'coupon_code' must be a string, got number 15" in dead["error_message"]
