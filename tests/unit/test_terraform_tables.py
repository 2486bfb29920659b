"""BigQuery in terraform/: every table of schemas/, from schemas/ (tables.json and the column files),
and the datasets (offline, python-hcl2).
"""

from __future__ import annotations

import json
import re

from tests.terraform_hcl import (
    CATALOG,
    SCHEMAS_DIR,
    attr,
    blocks,
    expr,
    local_values,
    resolve_local,
    resources_of,
    tf_files,
    variable_default,
)

# docs/contract.md, "Tables": the raw tables' partitioning, clustering and default expiration.
SPEC_EVENTS_TABLES = {
    "events.orders": ("event_date", ["customer_id", "status"], 90),
    "events.inventory": ("event_date", ["product_id", "warehouse_id"], 90),
    "events.user_activity": ("event_date", ["user_id", "activity_type"], 90),
    "events.dead_letter": ("failed_at", ["stream", "error_code"], 90),
    "events.realtime_event_metrics": ("window_start", ["stream", "event_type"], 90),
}


def table_resource() -> dict:
    tables = resources_of("google_bigquery_table")
    assert list(tables) == ["tables"], f"one catalog-driven table resource expected, got {list(tables)}"
    return tables["tables"]


def test_table_resource_is_driven_by_the_schemas_catalog():
    body = table_resource()
    for_each = resolve_local(attr(body, "for_each"))
    assert for_each == expr('${jsondecode(file("${path.module}/../schemas/tables.json"))}'), for_each
    schema = expr(attr(body, "schema"))
    assert schema == expr(
        '${file("${path.module}/../schemas/${split(".", each.key)[0]}/${split(".", each.key)[1]}.json")}'
    ), schema
    assert expr(attr(body, "table_id")) == expr('${split(".", each.key)[1]}')
    assert expr(attr(body, "dataset_id")) == expr(
        '${google_bigquery_dataset.datasets[split(".", each.key)[0]].dataset_id}'
    )
    assert expr(attr(body, "description")) == "${each.value.description}"
    assert expr(attr(body, "require_partition_filter")) == "${each.value.require_partition_filter}"
    assert "each.value.clustering" in expr(attr(body, "clustering"))
    assert expr(attr(body, "deletion_protection")) == "${var.deletion_protection}"
    assert "local.labels" in expr(attr(body, "labels"))
    (partitioning,) = blocks(body, "time_partitioning")
    assert attr(partitioning, "type") == "DAY"
    assert expr(attr(partitioning, "field")) == "${each.value.partition_field}"
    assert "local.partition_expiration_days[each.key]*86400000" in expr(attr(partitioning, "expiration_ms"))
    expirations = local_values()["partition_expiration_days"]
    for needle in (
        "local.table_catalog",
        "spec.partition_expiration_days",
        "var.events_partition_expiration_days",
    ):
        assert needle in expirations, f"partition_expiration_days must use {needle}: {expirations}"


def test_a_schema_edit_reaches_terraform_as_a_plain_update_of_the_schema_attribute():
    """What offline checks can prove of "a NULLABLE column is added in place": the column list is
    the schema file itself, and nothing on the resource turns a schema edit into a replacement
    (``lifecycle.replace_triggered_by``) or hides it (``ignore_changes``). That the provider then
    applies it in place is its rule (docs/schema-evolution.md), which ``schemas.compat`` mirrors."""
    body = table_resource()
    assert not blocks(body, "lifecycle"), (
        "a lifecycle block on the tables would change how schema edits apply"
    )


def test_no_schema_or_table_metadata_is_copied_into_terraform():
    for path in tf_files():
        text = path.read_text()
        assert '"mode"' not in text and "REQUIRED" not in text, f"{path.name} holds a schema copy"
        assert not re.search(r'table_id\s*=\s*"', text), f"{path.name}: a literal table id; use the catalog"
        assert not re.search(r"clustering\s*=\s*\[", text), f"{path.name}: literal clustering"
        assert len(re.findall(r"^\s*schema\s*=", text, flags=re.M)) == (path.name == "bigquery.tf"), path.name


def test_every_table_in_schemas_is_covered_with_its_catalog_settings():
    # The for_each set is the catalog's keys, so every schema file must be in the catalog...
    files = {f"{p.parent.name}.{p.stem}" for p in SCHEMAS_DIR.glob("*/*.json")}
    assert files == set(CATALOG), f"schema files and tables.json disagree: {sorted(files ^ set(CATALOG))}"
    datasets = set(variable_default("dataset_ids"))
    for key, spec in CATALOG.items():
        dataset, table = key.split(".")
        assert dataset in datasets, f"{key}: dataset {dataset} is not a key of var.dataset_ids"
        # ...and what the HCL reads for it must be there: the schema file the expression
        # file("../schemas/${dataset}/${table}.json") names, and the catalog fields.
        schema = json.loads((SCHEMAS_DIR / dataset / f"{table}.json").read_text())
        columns = {f["name"]: f["type"] for f in schema}
        assert spec["description"], key
        assert columns.get(spec["partition_field"]) in {"DATE", "TIMESTAMP"}, (
            f"{key}: partition_field {spec['partition_field']!r} must be a DATE or TIMESTAMP column"
        )
        assert isinstance(spec["require_partition_filter"], bool), key
        expiration = spec.get("partition_expiration_days")
        assert expiration is None or (isinstance(expiration, int) and expiration > 0), key
        clustering = spec.get("clustering", [])
        assert len(clustering) <= 4 and set(clustering) <= set(columns), f"{key}: clustering {clustering}"
    for key, (partition, clustering, days) in SPEC_EVENTS_TABLES.items():
        spec = CATALOG[key]
        assert (spec["partition_field"], spec["clustering"], spec["partition_expiration_days"]) == (
            partition,
            clustering,
            days,
        ), key
    for stream in ("orders", "inventory", "user_activity"):
        assert CATALOG[f"events.{stream}"]["require_partition_filter"] is True
    for key, spec in CATALOG.items():
        if key.startswith("analytics."):
            assert spec.get("partition_expiration_days") is None, f"{key}: model history must not expire"


def test_datasets_are_configurable_and_protected():
    datasets = resources_of("google_bigquery_dataset")
    body = datasets["datasets"]
    assert expr(attr(body, "for_each")) == "${var.dataset_ids}"
    assert expr(attr(body, "dataset_id")) == "${each.value}"
    assert expr(attr(body, "location")) == "${var.bigquery_location}"
    assert expr(attr(body, "delete_contents_on_destroy")) == "${!var.deletion_protection}"
    assert variable_default("dataset_ids") == {"events": "events", "analytics": "analytics"}
