"""Static checks of the model SQL in sql/: it parses as BigQuery SQL, prunes raw partitions, counts
each event and each rejected message once (warehouse/once.py), and takes every business rule from
sql/rules.sql, which the schema descriptions and docs agree with."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from schemas import all_tables, table_spec
from schemas.catalog import CATALOG_FILE
from warehouse import once, rules
from warehouse import sql as model_sql
from warehouse.graph import model_names

ROOT = Path(__file__).resolve().parents[2]
RAW_PARTITIONED = {("events", "orders"), ("events", "inventory"), ("events", "user_activity")}
MODELS = model_names()
# Numbers a model may write: they are arithmetic, not rules (1_000_000: microseconds per second).
STRUCTURAL_NUMBERS = {0, 1, 1_000_000}


def _parse(model: str) -> exp.Expression:
    text = model_sql.model_sql(model).text()
    statements = [s for s in sqlglot.parse(text, read="bigquery") if s is not None]
    assert len(statements) == 1, f"{model}.sql: one statement per file, found {len(statements)}"
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
        if isinstance(condition, exp.EQ):
            bounds = [condition.expression]
        else:
            bounds = [condition.args["low"], condition.args["high"]]
        if all(b.find(exp.Parameter) for b in bounds):
            found.append(condition)
    return found


# --------------------------------------------------------------------------------------
# Files, statements, parameters
# --------------------------------------------------------------------------------------


def test_every_model_is_one_file_of_sql_models():
    files = model_sql.model_files()
    assert set(model_names()) == set(files) and len(files) == 13
    assert all(f.path == model_sql.MODELS_DIR / f"{m}.sql" for m, f in files.items())
    others = {p.relative_to(model_sql.SQL_DIR).as_posix() for p in model_sql.SQL_DIR.rglob("*.sql")}
    others -= {f"models/{m}.sql" for m in files}
    assert others == {"rules.sql", "schedule/plan.sql", "schedule/record.sql"}
    assert not (model_sql.SQL_DIR / "models.json").exists(), "the run order is derived from the SQL"


def test_every_model_has_a_schema_and_a_catalog_entry():
    for name in model_names():
        spec = table_spec(f"analytics.{name}")
        assert spec.schema_path.is_file()
        assert spec.require_partition_filter is False
        assert spec.partition_expiration_days is None
        assert spec.clustering
    assert {s.table for s in all_tables("analytics")} >= set(model_names())


@pytest.mark.parametrize("model", MODELS)
def test_sql_file_parses_as_bigquery_and_has_a_header(model):
    text = model_sql.model_sql(model).text()
    header = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        header.append(line)
    joined = "\n".join(header)
    for word in ("Grain:", "Inputs:", "Parameters:", "Once only:", "Idempotency:"):
        assert word in joined, f"{model}.sql: header must say {word}"
    tree = _parse(model)
    assert isinstance(tree, exp.Merge), f"{model}.sql: each step is one atomic MERGE"
    target = tree.this
    assert (target.db, target.name) == ("analytics", model), "a model writes only its own table"


@pytest.mark.parametrize("model", MODELS)
def test_parameters_are_exactly_the_files_parameters(model):
    used = {p.name for p in _parse(model).find_all(exp.Parameter)}
    assert used == set(model_sql.PARAMETERS), model


@pytest.mark.parametrize("model", MODELS)
def test_every_raw_table_read_filters_event_date(model):
    """require_partition_filter: every read of a raw table sits in a SELECT whose WHERE prunes event_date."""
    for table, where in _raw_table_filters(_parse(model)):
        predicates = _partition_predicates(table, where)
        assert predicates, f"{model}.sql: {table.sql('bigquery')} is read without an event_date filter"
        for predicate in predicates:
            text = predicate.sql("bigquery")
            assert text.endswith("AND @end_date"), text


def test_daily_steps_read_only_their_day_except_the_is_active_window():
    """A model reads exactly the raw partitions of [@start_date, @end_date] (a day's step: that
    day's partition), except customers_scd, which reads its is_active window before the range."""
    is_active_window = (
        "event_date BETWEEN DATE_SUB(@start_date, INTERVAL (active_window_days - 1) DAY) AND @end_date"
    )
    for model in MODELS:
        for table, where in _raw_table_filters(_parse(model)):
            for predicate in _partition_predicates(table, where):
                text = re.sub(r"^\w+\.", "", predicate.sql("bigquery"))
                if model == "customers_scd":
                    assert text == is_active_window, (model, text)
                else:
                    assert text == "event_date BETWEEN @start_date AND @end_date", (model, text)


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


def test_the_dead_letter_read_covers_the_range_and_the_window_before_it():
    """fact_events_daily reads failed_at from start - dead_letter_window_days - 1 day on, pruned on
    its partitioning: every row whose message day is in [start - window, end] (a message fails at
    most a day before its message time), with no upper bound (a replay rejects it later)."""
    readers = []
    for model in MODELS:
        for table in _parse(model).find_all(exp.Table):
            if (table.db, table.name) != ("events", "dead_letter"):
                continue
            readers.append(model)
            where = table.parent_select.args["where"].this
            bounds = sorted(c.sql("bigquery") for c in _conjuncts(where))
            assert bounds == [
                "failed_at >= TIMESTAMP(DATE_SUB(@start_date, INTERVAL (dead_letter_window_days + 1) DAY))",
            ], (model, bounds)
    assert readers == ["fact_events_daily"]


# --------------------------------------------------------------------------------------
# Once only: each event once, each rejected message once
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_every_raw_read_keeps_the_first_copy_of_each_event_and_of_each_rejected_message(model):
    statement = model_sql.model_sql(model).statement()
    assert once.problems(statement) == [], f"{model}.sql"


def test_every_model_reading_raw_tables_de_duplicates_each_of_them():
    for model in MODELS:
        statement = model_sql.model_sql(model).statement()
        tree = sqlglot.parse_one(statement, read="bigquery")
        raw = [t for t in tree.find_all(exp.Table) if (t.db, t.name) in RAW_PARTITIONED]
        reads = once.raw_reads(statement)
        assert len(reads) == len(raw), model
        assert all(r.name for r in reads), model


def test_the_once_only_check_sees_a_read_that_counts_copies():
    qualify = f"QUALIFY {once.FIRST_COPY}"
    good = (
        "WITH x AS (SELECT a FROM `events.orders` AS raw_event "
        f"WHERE event_date = @run_date {qualify}) SELECT 1"
    )
    assert once.problems(good) == []
    bad = {
        "no de-duplication": "SELECT a FROM `events.orders` WHERE event_date = @run_date",
        "aggregated first": (
            "WITH x AS (SELECT status, COUNT(*) AS n FROM `events.orders` AS raw_event "
            f"WHERE event_date = @run_date GROUP BY status {qualify}) SELECT 1"
        ),
        "joined first": (
            "WITH x AS (SELECT line FROM `events.orders` AS raw_event CROSS JOIN UNNEST(items) AS line "
            f"WHERE event_date = @run_date {qualify}) SELECT 1"
        ),
        "keeps the last copy": (
            "WITH x AS (SELECT a FROM `events.orders` AS raw_event WHERE event_date = @run_date "
            "QUALIFY ROW_NUMBER() OVER (PARTITION BY event_date, event_id "
            "ORDER BY processed_timestamp DESC, TO_JSON_STRING(raw_event)) = 1) SELECT 1"
        ),
        "only per event_id": (
            "WITH x AS (SELECT a FROM `events.orders` AS raw_event WHERE event_date = @run_date "
            "QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id "
            "ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)) = 1) SELECT 1"
        ),
        "distinct": (
            "WITH x AS (SELECT DISTINCT a FROM `events.orders` AS raw_event "
            f"WHERE event_date = @run_date {qualify}) SELECT 1"
        ),
        "not a CTE": f"SELECT a FROM `events.orders` AS raw_event WHERE event_date = @run_date {qualify}",
        "counts every dead letter": (
            "SELECT COUNT(*) FROM `events.dead_letter` WHERE failed_at >= TIMESTAMP(@start_date)"
        ),
    }
    for what, sql in bad.items():
        assert once.problems(sql), what


def _dead_letter_read(previous_copy: str, window_start: str) -> str:
    return (
        f"WITH d AS (SELECT stream, {previous_copy} AS previous_copy_message_time "
        f"FROM `events.dead_letter` WHERE failed_at >= {window_start}) "
        f"SELECT COUNTIF({once.FIRST_REJECTION}) FROM d"
    )


def test_the_once_only_check_wants_dead_letters_ordered_and_read_by_message_time():
    assert once.problems(_dead_letter_read(once.PREVIOUS_COPY, once.DEAD_LETTER_WINDOW_START)) == []
    by_failure = "LAG(failed_at) OVER (PARTITION BY dead_letter_key(message_id, payload, payload_encoding) "
    by_failure += "ORDER BY failed_at, stream)"
    assert once.problems(_dead_letter_read(by_failure, once.DEAD_LETTER_WINDOW_START))
    too_late = "TIMESTAMP(DATE_SUB(@start_date, INTERVAL dead_letter_window_days DAY))"
    assert once.problems(_dead_letter_read(once.PREVIOUS_COPY, too_late))


def test_the_dead_letter_window_is_as_long_as_the_dead_letters_are_kept():
    """A copy of a rejected message is recognised as long as the table holds the copy before it."""
    window = rules.definition("dead_letter_window_days").value
    assert window == table_spec("events.dead_letter").partition_expiration_days


def test_sql_references_tables_only_as_backticked_dataset_table():
    for model in MODELS:
        code = model_sql.model_sql(model).statement()
        for table in _parse(model).find_all(exp.Table):
            if table.db:
                assert f"`{table.db}.{table.name}`" in code, (model, table.sql("bigquery"))
                assert table.db in model_sql.LOGICAL_DATASETS
                assert not table.catalog, "no project in the SQL: the job's project is used"


def test_model_files_end_their_statement_with_a_semicolon():
    """Each statement runs after the rules in one script and inside BEGIN ... END in the scheduled query."""
    for model in MODELS:
        assert model_sql.model_sql(model).statement().rstrip().endswith(";"), model


# --------------------------------------------------------------------------------------
# Business rules: defined once in sql/rules.sql, used everywhere
# --------------------------------------------------------------------------------------


def test_the_rules_file_holds_declares_then_temp_functions_each_with_a_comment():
    found = rules.definitions()
    assert [d.kind for d in found] == sorted(d.kind for d in found)
    for definition in found:
        assert definition.comment, definition.name
        tree = sqlglot.parse_one(definition.sql, read="bigquery")
        if definition.kind == "constant":
            assert isinstance(tree, exp.Declare) and definition.sql.startswith("DECLARE ")
        else:
            assert definition.sql.startswith("CREATE TEMP FUNCTION ")
            # A function body uses only its own arguments, never a script variable.
            arguments = {c.name for c in tree.this.expressions}
            assert {c.name for c in definition.body.find_all(exp.Column)} <= arguments | {"active_date"}
    text = rules.RULES_FILE.read_text()
    assert len([s for s in sqlglot.parse(text, read="bigquery") if s is not None]) == len(found)


def test_the_rules_say_what_the_spec_says():
    """The product's business rules, stated once here as the acceptance check of sql/rules.sql."""
    assert rules.summary("customer_tier") == "bronze < 200 <= silver < 1000 <= gold < 5000 <= platinum"
    assert rules.summary("churn_status") == "active < 7 <= soft_churn < 14 <= churned < 30 <= hard_churn"
    assert rules.summary("is_low_stock") == "closing_quantity < 10"
    assert {n: rules.definition(n).value for n in ("active_window_days", "weekly_active_days")} == {
        "active_window_days": 30,
        "weekly_active_days": 7,
    }
    assert rules.definition("monthly_active_days").value == 28
    assert rules.definition("retention_days").value == 30


def test_every_rule_is_used_and_every_step_gets_the_rules_it_uses():
    functions = {d.name for d in rules.definitions() if d.kind == "function"}
    used = set()
    for model in MODELS:
        statement = model_sql.model_sql(model).statement()
        tree = sqlglot.parse_one(statement, read="bigquery")
        called = {f.name for f in tree.find_all(exp.Anonymous)}
        assert called <= functions, f"{model}.sql calls {called - functions}, not defined in sql/rules.sql"
        names = {d.name for d in rules.used_by(statement)}
        assert called <= names
        constants = {c.name for c in tree.find_all(exp.Column) if not c.table} & {
            d.name for d in rules.definitions() if d.kind == "constant"
        }
        assert constants <= names
        used |= names
        script = model_sql.step_script(model, dict.fromkeys(model_sql.PARAMETERS, _a_day()))
        for definition in rules.used_by(statement):
            assert definition.sql in script
    assert used == {d.name for d in rules.definitions()}, "a rule no model uses"


def _a_day():
    from datetime import date

    return date(2026, 11, 3)


def _rule_numbers() -> set[int]:
    return set().union(*(d.numbers for d in rules.definitions())) - STRUCTURAL_NUMBERS


@pytest.mark.parametrize("model", MODELS)
def test_no_model_file_writes_a_number_of_its_own(model):
    """Every number other than arithmetic 0/1 comes from sql/rules.sql, in the code and the header."""
    tree = _parse(model)
    numbers = {int(n.this) for n in tree.find_all(exp.Literal) if n.is_number}
    assert numbers <= STRUCTURAL_NUMBERS, f"{model}.sql writes {numbers - STRUCTURAL_NUMBERS}"
    text = model_sql.model_sql(model).text()
    restated = {n for n in _rule_numbers() if re.search(rf"(?<![\w.'-]){n}(?![\w'-])", text)}
    assert not restated, f"{model}.sql restates rule numbers {restated}: name the rule instead"


def test_the_number_check_sees_a_hardcoded_threshold():
    tree = sqlglot.parse_one("SELECT IF(x >= 5000, 'platinum', 'gold'), y < 10", read="bigquery")
    assert {int(n.this) for n in tree.find_all(exp.Literal) if n.is_number} - STRUCTURAL_NUMBERS == {5000, 10}
    assert {5000, 10, 30, 7} <= _rule_numbers()


def test_ladder_summaries_read_from_low_to_high():
    descending = sqlglot.parse_one(
        "CASE WHEN v >= 9 THEN 'c' WHEN v >= 3 THEN 'b' ELSE 'a' END", read="bigquery"
    )
    ascending = sqlglot.parse_one(
        "CASE WHEN v < 3 THEN 'a' WHEN v < 9 THEN 'b' ELSE 'c' END", read="bigquery"
    )
    assert rules._ladder(descending) == rules._ladder(ascending) == "a < 3 <= b < 9 <= c"
    assert rules._ladder(sqlglot.parse_one("CASE WHEN v = 3 THEN 'a' ELSE 'b' END", read="bigquery")) is None


# Where the schemas restate a rule: the rule phrase each description must contain.
RESTATED = {
    "analytics.customers_scd.customer_tier": {"customer_tier": "{summary}"},
    "analytics.customers_scd.is_active": {"active_window_days": "{value} days"},
    "analytics.churn_classification.churn_status": {"churn_status": "{summary}"},
    "analytics.inventory_daily_balance.is_low_stock": {"is_low_stock": "{summary}"},
    "analytics.retention_cohorts.day_n": {"retention_days": "0..{value}"},
    "analytics.retention_cohorts": {"retention_days": "0..{value}"},
    "analytics.users_cumulated.datelist_int": {
        "datelist_int": "",
        "datelist_active_within": "last {width} days",
    },
    "analytics.users_cumulated": {"datelist_active_within": "{width}-day bit mask"},
    "analytics.users_cumulated.is_weekly_active": {"weekly_active_days": "{value} days"},
    "analytics.users_cumulated.is_monthly_active": {"monthly_active_days": "{value} days"},
}


def _descriptions() -> dict[str, str]:
    """Every analytics description: ``dataset.table`` (tables.json) and ``dataset.table.column``."""
    found = {}
    catalog = json.loads(CATALOG_FILE.read_text())
    for spec in all_tables("analytics"):
        found[spec.key] = catalog[spec.key]["description"]

        def walk(fields, prefix):
            for field in fields:
                found[f"{prefix}.{field['name']}"] = field.get("description", "")
                walk(field.get("fields", []), f"{prefix}.{field['name']}")

        walk(spec.schema, spec.key)
    return found


def _phrase(rule: str, template: str) -> str:
    definition = rules.definition(rule)
    width = max(definition.numbers) if definition.kind == "function" else None
    value = definition.value if definition.kind == "constant" else None
    return template.format(summary=rules.summary(rule), value=value, width=width)


def test_schema_descriptions_agree_with_the_rules():
    """A description restating a rule states it as sql/rules.sql defines it, and names no other number."""
    descriptions = _descriptions()
    assert set(RESTATED) <= set(descriptions)
    for key, text in descriptions.items():
        prose = text.replace("SCD type 2", "SCD")  # a name, not a number
        numbers = {int(n) for n in re.findall(r"(?<![\w.])\d+(?![\w.])", prose)} - STRUCTURAL_NUMBERS
        allowed = set()
        for rule, template in RESTATED.get(key, {}).items():
            definition = rules.definition(rule)
            allowed |= definition.numbers | ({definition.value} if definition.kind == "constant" else set())
            phrase = _phrase(rule, template)
            assert phrase in text, (
                f"{key}: the description must say {phrase!r} (sql/rules.sql {rule}): {text!r}"
            )
        assert numbers <= allowed, f"{key}: {numbers - allowed} in {text!r} is no rule of sql/rules.sql"


def _prose(text: str) -> str:
    """The text without its generated regions (tables rendered from sql/ and schemas/)."""
    return re.sub(r"<!-- generated: .*?<!-- end generated -->", "", text, flags=re.S)


def _readme_analytics_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("### Dataset `analytics`", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize(
    "where",
    ["docs/models.md", "README.md (Dataset analytics)"],
)
def test_docs_prose_names_the_rules_instead_of_their_numbers(where):
    if where == "docs/models.md":
        text = _prose((ROOT / "docs" / "models.md").read_text())
    else:
        text = _readme_analytics_section()
    restated = sorted(n for n in _rule_numbers() if re.search(rf"(?<![\w.:/-]){n}(?![\w:/-])", text))
    assert not restated, f"{where} restates rule numbers {restated} outside generated tables"
