"""The model runner without a database: run order, dataset rewrite, parameter binding, plans,
--dry-run, and the generated files (the scheduled-query script, the docs tables) with --check."""

from __future__ import annotations

import io
import json
import re
from datetime import date

import pytest
import sqlglot
from sqlglot import exp

from pipeline.commands import UsageError
from warehouse import docs, graph, once, render, rules, runner
from warehouse import sql as model_sql
from warehouse.graph import model_names

# --------------------------------------------------------------------------------------
# Run order, derived from the tables each SQL file reads
# --------------------------------------------------------------------------------------


def test_every_model_runs_after_every_model_whose_table_it_reads():
    order = model_names()
    assert sorted(order) == sorted(model_sql.model_files())
    for model, files in model_sql.model_files().items():
        tree = sqlglot.parse_one(files.statement(), read="bigquery")
        read = {t.name for t in tree.find_all(exp.Table) if t.db == "analytics"} - {model}
        for dependency in read:
            assert order.index(dependency) < order.index(model), (model, dependency)


def test_dependencies_are_the_other_models_each_sql_reads():
    assert graph.dependencies() == {
        "activity_monthly_reduced": (),
        "churn_classification": ("users_cumulated",),
        "customer_daily_balance": ("orders_first_seen",),
        "customers_scd": ("customer_daily_balance",),
        "daily_active_users": (),
        "fact_events_daily": (),
        "funnel_daily": ("orders_first_seen",),
        "inventory_daily_balance": (),
        "orders_first_seen": (),
        "products_scd": (),
        "retention_cohorts": ("users_cumulated",),
        "users_cumulated": (),
        "weekly_error_rate": ("fact_events_daily",),
    }


def test_tables_read_finds_backticked_tables_but_not_ctes_or_functions():
    sql = (
        "MERGE `analytics.a` AS t USING (WITH x AS (SELECT customer_tier(v) FROM `events.orders`) "
        "SELECT * FROM x JOIN `analytics.b` USING (k) JOIN other.c USING (k)) AS s ON FALSE "
        "WHEN NOT MATCHED THEN INSERT (k) VALUES (s.k)"
    )
    assert graph.tables_read(sql) == {("analytics", "a"), ("events", "orders"), ("analytics", "b")}


def test_run_order_is_by_depth_then_name_and_independent_of_input_order():
    deps = {"d": ("b", "c"), "c": ("a",), "b": (), "a": (), "e": ()}
    assert graph.run_order(deps) == ["a", "b", "e", "c", "d"]
    assert graph.run_order(dict(reversed(list(deps.items())))) == ["a", "b", "e", "c", "d"]
    assert graph.run_order({}) == []


def test_run_order_rejects_cycles_and_unknown_dependencies():
    with pytest.raises(ValueError, match="cycle"):
        graph.run_order({"a": ("b",), "b": ("a",), "c": ()})
    with pytest.raises(ValueError, match="not models"):
        graph.run_order({"a": ("nope",)})


# --------------------------------------------------------------------------------------
# Dataset rewrite and parameter binding
# --------------------------------------------------------------------------------------


def test_rewrite_changes_only_backticked_references_of_the_logical_datasets():
    sql = (
        "-- reads `events.orders` and events.orders\n"
        "SELECT 'events.orders' AS s, events_total, analytics_x FROM `events.orders` AS o\n"
        "JOIN `analytics.customers_scd` USING (customer_id) JOIN `other.events` USING (x)\n"
        "JOIN `events.user_activity` USING (y)"
    )
    out = model_sql.rewrite_datasets(sql, {"events": "ev_1", "analytics": "an_1"})
    assert out == (
        "-- reads `ev_1.orders` and events.orders\n"
        "SELECT 'events.orders' AS s, events_total, analytics_x FROM `ev_1.orders` AS o\n"
        "JOIN `an_1.customers_scd` USING (customer_id) JOIN `other.events` USING (x)\n"
        "JOIN `ev_1.user_activity` USING (y)"
    )


def test_rewrite_defaults_partial_maps_and_project_qualified_datasets():
    sql = "SELECT * FROM `events.orders` JOIN `analytics.products_scd` USING (x)"
    assert model_sql.rewrite_datasets(sql, None) == sql
    assert model_sql.rewrite_datasets(sql, {"events": "events"}) == sql
    assert (
        model_sql.rewrite_datasets(sql, {"analytics": "my-project.marts"})
        == "SELECT * FROM `events.orders` JOIN `my-project.marts.products_scd` USING (x)"
    )


@pytest.mark.parametrize("bad", ["", "ev`x", "ev x", "ev;DROP", "ev.", "1.2.`x`", "a/b", "${x}"])
def test_rewrite_rejects_unsafe_dataset_names(bad):
    with pytest.raises(ValueError):
        model_sql.rewrite_datasets("SELECT 1", {"events": bad})


def test_rewrite_rejects_unknown_logical_datasets():
    with pytest.raises(ValueError, match="unknown dataset"):
        model_sql.check_datasets({"raw": "x"})


def test_every_step_script_is_rewritten_completely():
    datasets = {"events": "ev_t", "analytics": "an_t"}
    for name in model_names():
        values = dict.fromkeys(model_sql.PARAMETERS, date(2026, 11, 3))
        script = model_sql.step_script(name, values, datasets)
        assert "`events." not in script and "`analytics." not in script
        statements = [s for s in sqlglot.parse(script, read="bigquery") if s is not None]
        tables = {t.db for s in statements for t in s.find_all(exp.Table) if t.db}
        assert tables <= {"ev_t", "an_t"}
        assert f"`an_t.{name}`" in script


def test_bind_parameters_writes_the_given_sql_outside_comments():
    sql = (
        "-- uses @run_date\nSELECT @run_date AS d, '@x' AS s, \"it's @y\" AS t, `@z` FROM t  -- @w\n"
        "WHERE d BETWEEN @start_date AND @end_date /* @v */"
    )
    values = {"run_date": "DATE '2026-11-03'", "start_date": "DATE '2026-11-01'", "end_date": "day_var"}
    out = model_sql.bind_parameters(sql, values)
    assert out.startswith("-- uses @run_date\n")
    assert "SELECT DATE '2026-11-03' AS d, '@x' AS s, \"it's @y\" AS t, `@z` FROM t  -- @w\n" in out
    assert out.endswith("BETWEEN DATE '2026-11-01' AND day_var /* @v */")
    with pytest.raises(KeyError, match="run_date"):
        model_sql.bind_parameters("SELECT @run_date", {})


def test_strip_comment_lines_keeps_the_statement():
    text = model_sql.model_sql("customers_scd").text()
    code = model_sql.strip_comment_lines(text)
    assert code.startswith("MERGE `analytics.customers_scd`")
    assert not any(line.lstrip().startswith("--") for line in code.splitlines())
    assert sqlglot.parse_one(code, read="bigquery") == sqlglot.parse_one(text, read="bigquery")


def test_step_script_checks_its_parameters():
    with pytest.raises(ValueError, match="takes"):
        model_sql.step_script("customers_scd", {"start_date": date(2026, 11, 3)})
    with pytest.raises(ValueError, match="takes"):
        model_sql.step_script("customers_scd", {"run_date": date(2026, 11, 3)})
    with pytest.raises(ValueError, match="unknown model"):
        model_sql.model_sql("nope")


def test_step_script_is_the_rules_it_uses_then_its_statement():
    day = date(2026, 11, 3)
    script = model_sql.step_script("customers_scd", {"start_date": day, "end_date": day})
    statements = [s for s in sqlglot.parse(script, read="bigquery") if s is not None]
    assert [type(s).__name__ for s in statements] == ["Declare", "Create", "Merge"]
    assert script.startswith("DECLARE active_window_days INT64")
    assert "CREATE TEMP FUNCTION customer_tier" in script and "churn_status" not in script
    assert "@" not in script and "DATE '2026-11-03'" in script
    # A model using no rule is sent as its statement alone.
    plain = model_sql.step_script("orders_first_seen", {"start_date": day, "end_date": day})
    assert plain.startswith("MERGE `analytics.orders_first_seen`")


# --------------------------------------------------------------------------------------
# Plans and the command line
# --------------------------------------------------------------------------------------


def test_a_day_runs_every_model_over_that_one_day():
    names = model_names()
    day = runner.plan_day("2026-11-03")
    assert [s.model for s in day] == names
    for step in day:
        assert step.kind == "day"
        assert step.parameters == {"start_date": date(2026, 11, 3), "end_date": date(2026, 11, 3)}
        assert step.label == f"2026-11-03 {step.model}"


def test_plans_follow_the_derived_run_order():
    names = model_names()
    fill = runner.plan_backfill("2026-11-01", "2026-11-21")
    assert [s.model for s in fill] == names
    assert {s.kind for s in fill} == {"range"}
    assert {tuple(s.parameters.values()) for s in fill} == {(date(2026, 11, 1), date(2026, 11, 21))}
    assert fill[0].label == f"2026-11-01..2026-11-21 {names[0]}"

    replay = runner.plan_backfill(date(2026, 10, 30), date(2026, 11, 2), mode="replay")
    assert len(replay) == 4 * len(names)
    assert {s.kind for s in replay} == {"day"}
    assert [min(s.parameters.values()) for s in replay[:: len(names)]] == [
        date(2026, 10, 30),
        date(2026, 10, 31),
        date(2026, 11, 1),
        date(2026, 11, 2),
    ]
    subset = runner.plan_day("2026-11-03", models=["customers_scd", "orders_first_seen"])
    assert [s.model for s in subset] == ["orders_first_seen", "customers_scd"]
    with pytest.raises(ValueError, match="--models: unknown model nope; the models"):
        runner.plan_day("2026-11-03", models=["nope"])
    with pytest.raises(ValueError, match="before start"):
        runner.plan_backfill("2026-11-02", "2026-11-01")
    with pytest.raises(ValueError, match="unknown mode"):
        runner.plan_backfill("2026-11-01", "2026-11-02", mode="fast")


def _scripts(text: str) -> list[str]:
    return [s for s in re.split(r"^-- \[\d+/\d+\] .*$", text, flags=re.M) if s.strip()]


def _merge(script: str) -> exp.Merge:
    statements = [s for s in sqlglot.parse(script, read="bigquery") if s is not None]
    assert all(isinstance(s, exp.Declare | exp.Create) for s in statements[:-1]), script[:200]
    assert isinstance(statements[-1], exp.Merge)
    return statements[-1]


def test_dry_run_prints_every_step_with_parameters_bound(capsys):
    argv = ["run", "--date", "2026-11-03", "--dry-run", "--events-dataset", "ev_x", "--analytics-dataset"]
    assert runner.main([*argv, "an_x"]) == 0
    captured = capsys.readouterr()
    names = model_names()
    headers = re.findall(r"^-- \[(\d+)/(\d+)\] (\w+) \((\w+)\): (.*)$", captured.out, flags=re.M)
    assert [h[2] for h in headers] == names
    for _, total, _model, kind, bound in headers:
        assert total == str(len(names))
        assert (kind, bound) == ("day", "@start_date = DATE '2026-11-03', @end_date = DATE '2026-11-03'")
    scripts = _scripts(captured.out)
    assert len(scripts) == len(names)
    for name, script in zip(names, scripts, strict=True):
        assert "@" not in script
        assert "DATE '2026-11-03'" in script
        tree = _merge(script)
        assert (tree.this.db, tree.this.name) == ("an_x", name)
        assert {t.db for t in tree.find_all(exp.Table) if t.db} <= {"ev_x", "an_x"}
    # What is printed is what a run sends.
    planned = runner.plan_day("2026-11-03", {"events": "ev_x", "analytics": "an_x"})
    assert [s.strip() for s in scripts] == [s.sql.strip() for s in planned]
    # progress goes to stderr: a tqdm bar updated once per step
    assert f"{len(names)}/{len(names)}" in captured.err
    assert "2026-11-03 customers_scd (day)" in captured.err
    assert "2026-11-03 funnel_daily (day)" in captured.err


def test_dry_run_backfill_modes(capsys):
    argv = ["backfill", "--start", "2026-11-01", "--end", "2026-11-03", "--dry-run", "--quiet"]
    assert runner.main(argv) == 0
    out = capsys.readouterr()
    assert out.err == ""
    scripts = _scripts(out.out)
    assert len(scripts) == len(model_names())
    assert all("DATE '2026-11-01'" in s and "DATE '2026-11-03'" in s for s in scripts)
    assert "`events.orders`" in out.out

    argv = ["backfill", "--start", "2026-11-01", "--end", "2026-11-03", "--mode", "replay", "--dry-run"]
    assert runner.main([*argv, "--models", "inventory_daily_balance,funnel_daily"]) == 0
    out = capsys.readouterr()
    assert len(_scripts(out.out)) == 6
    days = [day for day in ("2026-11-01", "2026-11-02", "2026-11-03") for _ in range(2)]
    assert re.findall(r"@start_date = DATE '([\d-]+)', @end_date = DATE '\1'", out.out) == days
    assert "models [########################] 6/6 2026-11-03 funnel_daily (day) 00:00" in _updates(out.err)


def test_cli_rejects_bad_arguments():
    with pytest.raises(UsageError, match="--end 2026-11-01 is before --start 2026-11-03"):
        runner.main(["backfill", "--start", "2026-11-03", "--end", "2026-11-01", "--dry-run"])
    with pytest.raises(UsageError, match="argument --date: expected a date YYYY-MM-DD, got 'yesterday'"):
        runner.main(["run", "--date", "yesterday", "--dry-run"])
    with pytest.raises(UsageError, match="argument --mode: invalid choice: 'fast'"):
        runner.main(["backfill", "--start", "2026-11-01", "--end", "2026-11-02", "--mode", "fast"])


def _updates(text: str) -> list[str]:
    """The states a tqdm bar drew (it redraws with carriage returns on a non-terminal stream)."""
    return [line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()]


def test_progress_bar_format():
    stream = io.StringIO()
    progress = runner.Progress(3, stream=stream)
    for step in runner.plan_day("2026-11-03", models=["orders_first_seen"]) * 3:
        progress(step)
    states = list(dict.fromkeys(u for u in _updates(stream.getvalue()) if "/3 " in u))  # close redraws
    assert [s.split("] ")[1][:3] for s in states] == ["0/3", "1/3", "2/3", "3/3"]
    assert states[-1].startswith("models [########################] 3/3 2026-11-03 orders_first_seen (day)")


def test_execute_needs_a_client_unless_dry_run():
    with pytest.raises(ValueError, match="client"):
        runner.execute(None, runner.plan_day("2026-11-03"))


def test_progress_can_be_a_stream_true_or_a_callable(capsys):
    steps = runner.plan_day("2026-11-03")
    stream = io.StringIO()
    runner.execute(None, steps, progress=stream, dry_run=True, out=io.StringIO())
    assert f"{len(steps)}/{len(steps)} 2026-11-03 {model_names()[-1]}" in stream.getvalue()

    runner.execute(None, steps, progress=True, dry_run=True, out=io.StringIO())
    assert f"{len(steps)}/{len(steps)}" in capsys.readouterr().err

    seen = []
    runner.execute(None, steps, progress=seen.append, dry_run=True, out=io.StringIO())
    assert seen == steps
    runner.execute(None, steps, progress=False, dry_run=True, out=io.StringIO())
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------------------
# Generated files: the scheduled-query script, the run order, the docs tables
# --------------------------------------------------------------------------------------


def _blocks(script: str) -> list[tuple[str, str]]:
    """``(model, statement)`` of every ``-- step i of n: model (...)`` / BEGIN ... END; block."""
    return re.findall(r"^-- step \d+ of \d+: (\w+) \(.*?\)\nBEGIN\n(.*?)\nEND;$", script, flags=re.M | re.S)


def test_the_committed_generated_files_are_up_to_date():
    assert render.stale_files() == [], "run `python -m warehouse.render`"
    assert render.main(["--check"]) == 0


def test_check_names_a_stale_or_missing_file(tmp_path, capsys):
    current, stale, missing = tmp_path / "current.sql", tmp_path / "stale.sql", tmp_path / "missing.sql"
    current.write_text("SELECT 1;\n")
    stale.write_text("SELECT 1;\n")
    expected = {current: "SELECT 1;\n", stale: "SELECT 2;\n", missing: "SELECT 3;\n"}
    assert render.stale_files(expected) == [stale, missing]


def test_check_fails_when_the_script_lags_behind_the_sql(monkeypatch, tmp_path, capsys):
    committed = tmp_path / "daily_models.sql"
    committed.write_text(render.SCRIPT_FILE.read_text())
    monkeypatch.setattr(render, "SCRIPT_FILE", committed)
    monkeypatch.setattr(render, "ROOT", tmp_path)
    monkeypatch.setattr(render, "DOC_FILES", ())
    monkeypatch.setattr(render, "ORDER_FILE", tmp_path / "daily_models.json")
    (tmp_path / "daily_models.json").write_text(render.order_json())
    assert render.main(["--check"]) == 0
    # A model's SQL changes (here: the rendered statement of one model) but the file is not rerendered.
    original = render.model_statement
    monkeypatch.setattr(
        render, "model_statement", lambda m, s, e, ds: original(m, s, e, ds).replace("COUNT(*)", "COUNT(1)")
    )
    assert render.main(["--check"]) == 1
    assert "daily_models.sql is out of date: run `python -m warehouse.render`" in capsys.readouterr().err
    assert render.main([]) == 0
    assert "COUNT(1)" in committed.read_text() and render.main(["--check"]) == 0


def _parts(script: str) -> dict[str, str]:
    """The script around its model blocks: the head (declarations, rules, plan), the blocks, the tail."""
    models = "\n-- Each model once over the days the plan chose.\n"
    record = "\n-- The build log (sql/schedule/record.sql).\n"
    assert script.count(models) == 1 and script.count(record) == 1
    head, rest = script.split(models)
    blocks, tail = rest.split(record)
    return {"head": head, "blocks": blocks, "tail": tail}


def test_the_script_runs_every_model_over_the_planned_days_in_run_order_each_in_its_own_block():
    script = render.daily_script()
    assert script.startswith("-- Generated by `python -m warehouse.render`")
    declare = (
        "DECLARE eventharbor_run_date DATE DEFAULT DATE_SUB(@run_date, INTERVAL ${models_lag_days} DAY);"
    )
    assert declare in script
    blocks = _blocks(_parts(script)["blocks"])
    assert [model for model, _ in blocks] == model_names()
    for model, statement in blocks:
        # The block is the model's SQL with its dates set to the days the plan chose.
        expected = render.model_statement(
            model, "eventharbor_rebuild_from", "eventharbor_build_through", render.DATASET_PLACEHOLDERS
        )
        assert statement == expected.strip()
        tree = sqlglot.parse_one(statement, read="bigquery")
        assert isinstance(tree, exp.Merge)
        assert (tree.this.db, tree.this.name) == ("${analytics_dataset}", model)
        assert {t.db for t in tree.find_all(exp.Table) if t.db} <= {
            "${events_dataset}",
            "${analytics_dataset}",
        }
        assert not list(tree.find_all(exp.Parameter)), f"{model}: every parameter is a script variable"
        assert f": {model} (sql/models/{model}.sql)\nBEGIN\n" in script
    # The only placeholders are templatefile()'s variables.
    assert set(re.findall(r"\$\{(\w+)\}", script)) == set(render.TEMPLATE_VARIABLES)
    assert "%{" not in script


def test_the_script_plans_before_the_models_and_logs_after_them():
    parts = _parts(render.daily_script())
    assert render.schedule_statements("plan").strip() in parts["head"]
    assert parts["tail"].strip().endswith(render.schedule_statements("record").strip())
    assert "analytics_dataset}.model_builds" in parts["tail"]


def test_the_script_declares_every_variable_and_rule_once_before_anything_else():
    script = render.daily_script()
    head = model_sql.strip_comment_lines(script[: script.index("\n-- Which days this run builds")])
    statements = [s for s in sqlglot.parse(head, read="bigquery") if s is not None]
    own = len(re.findall(r"^DECLARE ", render.SCRIPT_DECLARATIONS, flags=re.M))
    assert [type(s).__name__ for s in statements] == ["Declare"] * (
        own + sum(d.kind == "constant" for d in rules.definitions())
    ) + ["Create"] * sum(d.kind == "function" for d in rules.definitions())
    for definition in rules.definitions():
        assert script.count(definition.sql) == 1, definition.name
    body = script[script.index("\n-- Which days this run builds") :]
    assert "DECLARE" not in body and "CREATE TEMP FUNCTION" not in body


def test_the_scheduled_script_is_the_committed_template_filled_in():
    script = render.scheduled_script(date(2026, 11, 4), {"events": "ev", "analytics": "an"}, horizon_days=5)
    assert "DECLARE eventharbor_run_date DATE DEFAULT DATE_SUB(DATE '2026-11-04', INTERVAL 1 DAY);" in script
    assert "DECLARE late_data_horizon_days INT64 DEFAULT 5;" in script
    assert "DECLARE raw_partition_expiration_days INT64 DEFAULT 90;" in script
    assert "`ev.INFORMATION_SCHEMA.PARTITIONS`" in script and "`an.model_builds`" in script
    statements = model_sql.strip_comment_lines(script)
    assert "${" not in statements and "@run_date" not in statements
    with pytest.raises(ValueError, match="shorter than the raw tables' partition expiration"):
        render.scheduled_script(date(2026, 11, 4), horizon_days=90)
    with pytest.raises(ValueError, match="at least 1 day"):
        render.scheduled_script(date(2026, 11, 4), horizon_days=0)


def test_the_order_file_is_the_run_order():
    assert json.loads(render.ORDER_FILE.read_text()) == model_names()


def test_generated_doc_regions():
    text = "a\n<!-- generated: run order -->\nstale\n<!-- end generated -->\nb\n"
    rendered = docs.render_regions(text)
    assert rendered.startswith("a\n<!-- generated: run order -->\n1. `")
    assert rendered.endswith("<!-- end generated -->\nb\n") and "stale" not in rendered
    assert docs.render_regions(rendered) == rendered
    with pytest.raises(ValueError, match="unknown generated region"):
        docs.render_regions("<!-- generated: nope -->\n<!-- end generated -->")
    with pytest.raises(ValueError, match="no <!-- generated"):
        docs.render_regions("no regions here")


def test_docs_column_tables_are_the_schemas():
    from schemas import table_spec

    text = (render.ROOT / "docs" / "models.md").read_text()
    for model in model_names():
        assert f"<!-- generated: columns {model} -->" in text, model
        region = text.split(f"<!-- generated: columns {model} -->\n", 1)[1].split("<!-- end generated -->")[0]
        rows = re.findall(r"^\| `(\w+)` \| (.*?) \| (.*) \|$", region, flags=re.M)
        schema = table_spec(f"analytics.{model}").schema
        assert [r[0] for r in rows] == [f["name"] for f in schema]
        assert [r[2] for r in rows] == [f.get("description", "") for f in schema]
    assert docs.column_type({"name": "x", "type": "INTEGER", "mode": "REQUIRED"}) == "INT64 NOT NULL"
    record = {
        "name": "p",
        "type": "RECORD",
        "mode": "REPEATED",
        "fields": [
            {"name": "a", "type": "STRING", "mode": "REQUIRED"},
            {"name": "d", "type": "DATE", "mode": "REPEATED"},
        ],
    }
    assert docs.column_type(record) == "ARRAY<STRUCT<a STRING, d ARRAY<DATE>>>"


def test_docs_say_how_each_model_counts_each_event_once():
    """docs/models.md's once-only list: every model, in run order, with its SQL header's paragraph
    and the de-duplicated reads the SQL holds."""
    text = (render.ROOT / "docs" / "models.md").read_text()
    region = text.split("<!-- generated: once only -->\n", 1)[1].split("<!-- end generated -->")[0]
    items = re.findall(r"^- \[`(\w+)`\]\(#\w+\) \((.*?)\): (.*)$", region, flags=re.M)
    assert [model for model, _, _ in items] == model_names()
    for model, reads, said in items:
        assert said == docs.once_only(model) and said, model
        raw = {r.table for r in once.raw_reads(model_sql.model_sql(model).statement())}
        assert {t for t in raw if f"`events.{t}`" in reads} == raw, model
        assert ("`events.dead_letter`" in reads) == (model == "fact_events_daily"), model
    assert docs.header_paragraph("-- A: one\n--   two\n-- B: three\nSELECT 1", "A") == "one two"
    assert docs.header_paragraph("-- B: three\nSELECT 1", "A") == ""
