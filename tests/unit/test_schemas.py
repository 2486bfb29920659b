"""schemas/ is the one source of truth: DDL, loaders and the catalog agree."""

from __future__ import annotations

import json

from schemas import all_tables, load_schema, schema_fields, table_spec
from schemas.catalog import SCHEMA_DIR
from schemas.ddl import expected_files

SPEC_TABLES = {
    "events.orders": ("event_date", ["customer_id", "status"]),
    "events.inventory": ("event_date", ["product_id", "warehouse_id"]),
    "events.user_activity": ("event_date", ["user_id", "activity_type"]),
    "events.dead_letter": ("failed_at", ["stream", "error_code"]),
    "events.realtime_event_metrics": ("window_start", ["stream", "event_type"]),
}


def test_every_schema_file_is_in_the_catalog_and_back():
    files = {f"{p.parent.name}.{p.stem}" for p in SCHEMA_DIR.glob("*/*.json")}
    assert files == {s.key for s in all_tables()}


def test_raw_tables_follow_the_spec():
    for key, (partition, clustering) in SPEC_TABLES.items():
        spec = table_spec(key)
        assert spec.partition_field == partition, key
        assert list(spec.clustering) == clustering, key
    for stream in ("orders", "inventory", "user_activity"):
        spec = table_spec(f"events.{stream}")
        assert spec.require_partition_filter
        assert spec.partition_expiration_days == 90
        names = [f["name"] for f in spec.schema]
        assert names[-8:] == [
            "event_id",
            "event_type",
            "processed_timestamp",
            "event_date",
            "message_id",
            "publish_time",
            "attributes",
            "extra_fields",
        ]


def test_schema_files_are_bq_json_format():
    allowed = {"name", "type", "mode", "description", "fields"}
    types = {"STRING", "INTEGER", "NUMERIC", "TIMESTAMP", "DATE", "BOOLEAN", "RECORD", "JSON", "FLOAT"}

    def check(fields, where):
        for f in fields:
            assert set(f) <= allowed, where
            assert f["type"] in types, (where, f["name"])
            assert f["mode"] in {"NULLABLE", "REQUIRED", "REPEATED"}, (where, f["name"])
            assert f.get("description"), (where, f["name"], "needs a description")
            if f["type"] == "RECORD":
                check(f["fields"], f"{where}.{f['name']}")

    for spec in all_tables():
        check(json.loads(spec.schema_path.read_text()), spec.key)


def test_money_is_numeric():
    orders = {f.name: f for f in schema_fields("events", "orders")}
    assert orders["total_amount"].field_type == "NUMERIC"
    assert {f.name: f.field_type for f in orders["items"].fields}["price"] == "NUMERIC"


def test_committed_ddl_matches_schemas():
    stale = [str(p) for p, text in expected_files().items() if not p.exists() or p.read_text() != text]
    assert not stale, f"run `python -m schemas.ddl` to regenerate: {stale}"


def test_every_error_code_is_documented_in_the_schema_and_the_readme():
    from pathlib import Path

    from transforms.errors import ERROR_CODES

    [error_code] = [f for f in load_schema("events", "dead_letter") if f["name"] == "error_code"]
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for code in ERROR_CODES:
        assert code in error_code["description"], code
        assert f"| `{code}` |" in readme, code
