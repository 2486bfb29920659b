"""Static checks of the model SQL in sql/: it parses as BigQuery SQL and prunes raw partitions."""

from __future__ import annotations

import json
import re

import pytest
import sqlglot
from sqlglot import exp

from schemas import all_tables, table_spec
from warehouse import runner as models

RAW_PARTITIONED = {("events", "orders"), ("events", "inventory"), ("events", "user_activity")}
SIX_MODELS = {
    "customers_scd",
    "products_scd",
    "users_cumulated",
    "activity_monthly_reduced",
    "inventory_daily_balance",
    "customer_daily_balance",
}
FILES = models.sql_files()


def _parse(path) -> exp.Expression:
    statements = [s for s in sqlglot.parse(path.read_text(), read="bigquery") if s is not None]
    assert len(statements) == 1, f"{path}: one statement per file, found {len(statements)}"
    return statements[0]


def _conjuncts(condition: exp.Expression) -> list[exp.Expression]:
    condition = condition.unnest()
    if isinstance(condition, exp.And):
        return _conjuncts(condition.left) + _conjuncts(condition.right)
    return [condition]


def _raw_table_filters(tree: exp.Expression) -> list[tuple[exp.Table, exp.Expression | None]]:
    """For each raw partitioned table read: the table node and the WHERE of the SELECT reading it."""
    found = []
    for table in tree.find_all(exp.Table):
        if (table.db, table.name) not in RAW_PARTITIONED:
            continue
        select = table.parent_select
        where = select.args.get("where") if select else None
        found.append((table, where.this if where else None))
    return found


def _partition_predicates(table: exp.Table, where: exp.Expression | None) -> list[exp.Expression]:
    """Top-level AND-ed ``<table>.event_date = @p`` / ``BETWEEN ... AND ...@p`` conditions of WHERE."""
    if where is None:
        return []
    found = []
    for condition in _conjuncts(where):
        if not isinstance(condition, exp.EQ | exp.Between):
            continue
        column = condition.this
        if not isinstance(column, exp.Column) or column.name != "event_date":
            continue
        if column.table not in ("", table.alias_or_name):
            continue
        bounds = (
            [condition.expression]
            if isinstance(condition, exp.EQ)
            else [
                condition.args["low"],
                condition.args["high"],
            ]
        )
        if all(b.find(exp.Parameter) for b in bounds):
            found.append(condition)
    return found


def test_models_json_lists_the_six_models_in_dependency_order():
    names = models.model_names()
    assert set(names) >= SIX_MODELS
    assert json.loads(models.MODELS_FILE.read_text()) == names
    # Dependencies: customer_daily_balance reads orders_first_seen; customers_scd reads both.
    assert names.index("orders_first_seen") < names.index("customer_daily_balance")
    assert names.index("customer_daily_balance") < names.index("customers_scd")
    assert {p.parent.name for p in models.SQL_DIR.glob("*/*.sql")} == set(names)


def test_every_model_has_both_files_a_schema_and_a_catalog_entry():
    for name in models.model_names():
        assert models.sql_path(name, "backfill").is_file()
        assert models.sql_path(name, "incremental").is_file()
        spec = table_spec(f"analytics.{name}")
        assert spec.schema_path.is_file()
        assert spec.require_partition_filter is False
        assert spec.partition_expiration_days is None
        assert spec.clustering
    assert {s.table for s in all_tables("analytics")} >= set(models.model_names())


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sql_file_parses_as_bigquery_and_has_a_header(path):
    text = path.read_text()
    header = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        header.append(line)
    joined = "\n".join(header)
    for word in ("Grain:", "Inputs:", "Parameters:", "Idempotency:"):
        assert word in joined, f"{path}: header must say {word}"
    tree = _parse(path)
    assert isinstance(tree, exp.Merge), f"{path}: each step is one atomic MERGE"
    target = tree.this
    assert (target.db, target.name) == ("analytics", path.parent.name), "a model writes only its own table"


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parameters_are_exactly_the_modes_parameters(path):
    kind = path.stem
    used = {p.name for p in _parse(path).find_all(exp.Parameter)}
    assert used == set(models.PARAMETERS[kind]), path


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_raw_table_read_filters_event_date(path):
    """require_partition_filter: every read of a raw table sits in a SELECT whose WHERE prunes event_date."""
    for table, where in _raw_table_filters(_parse(path)):
        predicates = _partition_predicates(table, where)
        assert predicates, f"{path}: {table.sql('bigquery')} is read without an event_date filter"
        for predicate in predicates:
            text = predicate.sql("bigquery")
            if path.stem == "incremental":
                assert text.endswith(("event_date = @run_date", "AND @run_date")), text
            else:
                assert text.endswith("AND @end_date"), text


def test_incremental_steps_read_at_most_the_rules_look_back():
    """Only @run_date's partition, except customers_scd's 30-day is_active window."""
    for name in models.model_names():
        tree = _parse(models.sql_path(name, "incremental"))
        for table, where in _raw_table_filters(tree):
            for predicate in _partition_predicates(table, where):
                text = predicate.sql("bigquery")
                if isinstance(predicate, exp.EQ):
                    assert re.fullmatch(r"(\w+\.)?event_date = @run_date", text), text
                else:
                    assert name == "customers_scd", f"{name} reads more than @run_date from {table}"
                    assert text == "event_date BETWEEN DATE_SUB(@run_date, INTERVAL '29' DAY) AND @run_date"


def test_the_check_catches_a_missing_partition_filter():
    def predicates(sql: str) -> dict[str, list[exp.Expression]]:
        tree = sqlglot.parse_one(sql, read="bigquery")
        return {t.name: _partition_predicates(t, w) for t, w in _raw_table_filters(tree)}

    joined = predicates(
        "SELECT o.order_id FROM `events.orders` AS o JOIN `events.inventory` AS i ON TRUE "
        "WHERE o.event_date = @run_date"
    )
    assert joined["orders"] and not joined["inventory"]
    assert not predicates("SELECT * FROM `events.orders` WHERE status = 'x'")["orders"]
    assert not predicates("SELECT * FROM `events.orders` WHERE event_date = @run_date OR TRUE")["orders"]
    assert not predicates("SELECT * FROM `events.orders` WHERE event_date >= DATE '2026-01-01'")["orders"]
    assert not predicates("SELECT * FROM `events.orders`")["orders"]
    assert predicates("SELECT * FROM `events.orders` WHERE x = 1 AND event_date = @run_date")["orders"]


def test_sql_references_tables_only_as_backticked_dataset_table():
    for path in FILES:
        code = models.strip_comment_lines(path.read_text())
        for table in _parse(path).find_all(exp.Table):
            if table.db:
                assert f"`{table.db}.{table.name}`" in code, (path, table.sql("bigquery"))
                assert table.db in models.LOGICAL_DATASETS
                assert not table.catalog, "no project in the SQL: the job's project is used"
