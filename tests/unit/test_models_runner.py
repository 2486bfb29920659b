"""The model runner without a database: dataset rewrite, parameter binding, plans, --dry-run."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import sqlglot
from sqlglot import exp

from warehouse import runner as models


def test_rewrite_changes_only_backticked_references_of_the_logical_datasets():
    sql = (
        "-- reads `events.orders` and events.orders\n"
        "SELECT 'events.orders' AS s, events_total, analytics_x FROM `events.orders` AS o\n"
        "JOIN `analytics.customers_scd` USING (customer_id) JOIN `other.events` USING (x)\n"
        "JOIN `events.user_activity` USING (y)"
    )
    out = models.rewrite_datasets(sql, {"events": "ev_1", "analytics": "an_1"})
    assert out == (
        "-- reads `ev_1.orders` and events.orders\n"
        "SELECT 'events.orders' AS s, events_total, analytics_x FROM `ev_1.orders` AS o\n"
        "JOIN `an_1.customers_scd` USING (customer_id) JOIN `other.events` USING (x)\n"
        "JOIN `ev_1.user_activity` USING (y)"
    )


def test_rewrite_defaults_partial_maps_and_project_qualified_datasets():
    sql = "SELECT * FROM `events.orders` JOIN `analytics.products_scd` USING (x)"
    assert models.rewrite_datasets(sql, None) == sql
    assert models.rewrite_datasets(sql, {"events": "events"}) == sql
    assert (
        models.rewrite_datasets(sql, {"analytics": "my-project.marts"})
        == "SELECT * FROM `events.orders` JOIN `my-project.marts.products_scd` USING (x)"
    )


@pytest.mark.parametrize("bad", ["", "ev`x", "ev x", "ev;DROP", "ev.", "1.2.`x`", "a/b"])
def test_rewrite_rejects_unsafe_dataset_names(bad):
    with pytest.raises(ValueError):
        models.rewrite_datasets("SELECT 1", {"events": bad})


def test_rewrite_rejects_unknown_logical_datasets():
    with pytest.raises(ValueError, match="unknown dataset"):
        models.check_datasets({"raw": "x"})


def test_every_model_file_is_rewritten_completely():
    datasets = {"events": "ev_t", "analytics": "an_t"}
    for name in models.model_names():
        for kind in models.SQL_KINDS:
            code = models.strip_comment_lines(models.load_sql(name, kind, datasets))
            assert "`events." not in code and "`analytics." not in code
            tables = {t.db for t in sqlglot.parse_one(code, read="bigquery").find_all(exp.Table) if t.db}
            assert tables <= {"ev_t", "an_t"}
            assert f"`an_t.{name}`" in code


def test_bind_parameters_writes_date_literals_outside_comments():
    sql = (
        "-- uses @run_date\nSELECT @run_date AS d, '@x' AS s, \"it's @y\" AS t, `@z` FROM t  -- @w\n"
        "WHERE d BETWEEN @start_date AND @end_date /* @v */"
    )
    out = models.bind_parameters(
        sql, {"run_date": date(2026, 11, 3), "start_date": date(2026, 11, 1), "end_date": date(2026, 11, 2)}
    )
    assert out.startswith("-- uses @run_date\n")
    assert "SELECT DATE '2026-11-03' AS d, '@x' AS s, \"it's @y\" AS t, `@z` FROM t  -- @w\n" in out
    assert out.endswith("BETWEEN DATE '2026-11-01' AND DATE '2026-11-02' /* @v */")
    assert "BETWEEN DATE '2026-11-01' AND DATE '2026-11-02'" in out
    with pytest.raises(KeyError, match="run_date"):
        models.bind_parameters("SELECT @run_date", {})


def test_strip_comment_lines_keeps_the_statement():
    text = models.sql_path("customers_scd", "incremental").read_text()
    code = models.strip_comment_lines(text)
    assert code.startswith("MERGE `analytics.customers_scd`")
    assert not any(line.lstrip().startswith("--") for line in code.splitlines())
    assert sqlglot.parse_one(code, read="bigquery") == sqlglot.parse_one(text, read="bigquery")


def test_plans_follow_models_json():
    names = models.model_names()
    day = models.plan_day("2026-11-03")
    assert [s.model for s in day] == names
    assert all(s.kind == "incremental" and s.parameters == {"run_date": date(2026, 11, 3)} for s in day)

    fill = models.plan_backfill("2026-11-01", "2026-11-21")
    assert [s.model for s in fill] == names
    assert {tuple(s.parameters.values()) for s in fill} == {(date(2026, 11, 1), date(2026, 11, 21))}

    replay = models.plan_backfill(date(2026, 10, 30), date(2026, 11, 2), mode="replay")
    assert len(replay) == 4 * len(names)
    assert [s.parameters["run_date"] for s in replay[:: len(names)]] == [
        date(2026, 10, 30),
        date(2026, 10, 31),
        date(2026, 11, 1),
        date(2026, 11, 2),
    ]
    subset = models.plan_day("2026-11-03", models=["customers_scd", "orders_first_seen"])
    assert [s.model for s in subset] == ["orders_first_seen", "customers_scd"]
    with pytest.raises(ValueError, match="unknown models"):
        models.plan_day("2026-11-03", models=["nope"])
    with pytest.raises(ValueError, match="before start"):
        models.plan_backfill("2026-11-02", "2026-11-01")
    with pytest.raises(ValueError, match="unknown mode"):
        models.plan_backfill("2026-11-01", "2026-11-02", mode="fast")


def test_sql_files_lists_both_files_of_every_model():
    files = models.sql_files()
    assert len(files) == 2 * len(models.model_names())
    assert all(f.is_file() for f in files)
    assert files[0] == models.SQL_DIR / models.model_names()[0] / "backfill.sql"


def _statements(text: str) -> list[str]:
    return [s for s in re.split(r"^-- \[\d+/\d+\] .*$", text, flags=re.M) if s.strip()]


def test_dry_run_prints_every_step_with_parameters_bound(capsys):
    argv = ["run", "--date", "2026-11-03", "--dry-run", "--events-dataset", "ev_x", "--analytics-dataset"]
    assert models.main([*argv, "an_x"]) == 0
    captured = capsys.readouterr()
    names = models.model_names()
    headers = re.findall(r"^-- \[(\d+)/(\d+)\] (\w+) \((\w+)\): (.*)$", captured.out, flags=re.M)
    assert [h[2] for h in headers] == names
    assert {(h[1], h[3], h[4]) for h in headers} == {
        (str(len(names)), "incremental", "@run_date = DATE '2026-11-03'")
    }
    statements = _statements(captured.out)
    assert len(statements) == len(names)
    for name, statement in zip(names, statements, strict=True):
        assert "@" not in statement
        assert "DATE '2026-11-03'" in statement
        tree = sqlglot.parse_one(statement, read="bigquery")
        assert (tree.this.db, tree.this.name) == ("an_x", name)
        assert {t.db for t in tree.find_all(exp.Table) if t.db} <= {"ev_x", "an_x"}
    # progress goes to stderr, one line per step
    assert len([line for line in captured.err.splitlines() if line.startswith("[")]) == len(names)
    assert "2026-11-03 customers_scd (incremental)" in captured.err


def test_dry_run_backfill_modes(capsys):
    assert (
        models.main(["backfill", "--start", "2026-11-01", "--end", "2026-11-03", "--dry-run", "--quiet"]) == 0
    )
    out = capsys.readouterr()
    assert out.err == ""
    statements = _statements(out.out)
    assert len(statements) == len(models.model_names())
    assert all("DATE '2026-11-01'" in s and "DATE '2026-11-03'" in s for s in statements)
    assert "`events.orders`" in out.out

    argv = ["backfill", "--start", "2026-11-01", "--end", "2026-11-03", "--mode", "replay", "--dry-run"]
    assert models.main([*argv, "--models", "inventory_daily_balance"]) == 0
    out = capsys.readouterr()
    assert len(_statements(out.out)) == 3
    assert re.findall(r"@run_date = DATE '([\d-]+)'", out.out) == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert "[########################] 3/3 2026-11-03 inventory_daily_balance (incremental)" in out.err


def test_cli_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        models.main(["backfill", "--start", "2026-11-03", "--end", "2026-11-01", "--dry-run"])
    assert "before --start" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        models.main(["run", "--date", "yesterday", "--dry-run"])
    with pytest.raises(SystemExit):
        models.main(["backfill", "--start", "2026-11-01", "--end", "2026-11-02", "--mode", "fast"])


def test_progress_bar_format():
    stream = io.StringIO()
    progress = models.Progress(3, stream=stream, width=6)
    for step in models.plan_day("2026-11-03", models=["orders_first_seen"]) * 3:
        progress(step)
    lines = stream.getvalue().splitlines()
    assert [line[:14] for line in lines] == ["[##....] 1/3 2", "[####..] 2/3 2", "[######] 3/3 2"]
    assert lines[0].startswith("[##....] 1/3 2026-11-03 orders_first_seen (incremental)")


def test_execute_needs_a_client_unless_dry_run():
    with pytest.raises(ValueError, match="client"):
        models.execute(None, models.plan_day("2026-11-03"))


def test_progress_can_be_a_stream_true_or_a_callable(capsys):
    steps = models.plan_day("2026-11-03")
    stream = io.StringIO()
    models.execute(None, steps, progress=stream, dry_run=True, out=io.StringIO())
    assert len(stream.getvalue().splitlines()) == len(steps)
    assert f"{len(steps)}/{len(steps)} 2026-11-03 inventory_daily_balance" in stream.getvalue()

    models.execute(None, steps, progress=True, dry_run=True, out=io.StringIO())
    assert len(capsys.readouterr().err.splitlines()) == len(steps)

    seen = []
    models.execute(None, steps, progress=seen.append, dry_run=True, out=io.StringIO())
    assert seen == steps
    models.execute(None, steps, progress=False, dry_run=True, out=io.StringIO())
    assert capsys.readouterr().err == ""
