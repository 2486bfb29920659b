"""The daily models' scheduled query: it runs terraform/generated/daily_models.sql, rendered from
sql/, each model in its own block, with the runner's defaults (offline, python-hcl2).
"""

from __future__ import annotations

import re

from tests.terraform_hcl import (
    CATALOG,
    SCRIPT_FILE,
    attr,
    expr,
    local_values,
    models,
    resources_of,
    variable_default,
)
from tests.terraform_templates import render_like_terraform


def _template_variables(call: str) -> dict[str, str]:
    """``{name: expression}`` of the object passed to templatefile(), however the parser prints it."""
    return dict(re.findall(r"[\'\"]?(\w+)[\'\"]?[:=][\'\"]?(\$\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\})", call))


def test_scheduled_query_runs_the_generated_script():
    configs = resources_of("google_bigquery_data_transfer_config")
    # The models, and monitoring.tf's checks, one for_each (tests/unit/test_terraform_monitoring.py).
    assert sorted(configs) == ["checks", "models"], list(configs)
    body = configs["models"]
    assert attr(body, "data_source_id") == "scheduled_query"
    assert expr(attr(body, "schedule")) == "${var.models_schedule}"
    assert expr(attr(body, "service_account_name")) == "${google_service_account.models.email}"
    assert "destination_dataset_id" not in body, "a multi-statement script has no destination table"
    params = attr(body, "params")
    params = params[0] if isinstance(params, list) else params
    assert expr(params["query"]) == "${local.models_script}"
    assert set(params) == {"query"}

    local = local_values()
    assert local["models"] == expr(
        '${var.scheduled_models_enabled?jsondecode(file("${path.module}/generated/daily_models.json")):[]}'
    )
    script = local["models_script"]
    # One read of the generated file; no model SQL is assembled in HCL.
    assert script.startswith('${templatefile("${path.module}/generated/daily_models.sql",'), script
    assert "replace(" not in script and "sql/" not in script
    assert _template_variables(script) == {
        "events_dataset": '${var.dataset_ids["events"]}',
        "analytics_dataset": '${var.dataset_ids["analytics"]}',
        "models_lag_days": "${var.models_lag_days}",
        "late_data_horizon_days": "${var.late_data_horizon_days}",
        "raw_partition_expiration_days": "${local.raw_partition_expiration_days}",
    }
    assert local["raw_partition_expiration_days"] == '${local.partition_expiration_days["events.orders"]}'
    models()


def test_generated_script_runs_each_model_in_its_own_block():
    from warehouse import render

    template = SCRIPT_FILE.read_text()
    assert set(re.findall(r"\$\{(\w+)\}", template)) == set(render.TEMPLATE_VARIABLES)
    assert "%{" not in template, "templatefile() directives are not used"
    values = {
        "events_dataset": "ev_prod",
        "analytics_dataset": "an_prod",
        "models_lag_days": "2",
        "late_data_horizon_days": "7",
        "raw_partition_expiration_days": "90",
    }
    script = render_like_terraform(template, values)
    # The models build the day var.models_lag_days before the run's @run_date.
    assert "DECLARE eventharbor_run_date DATE DEFAULT DATE_SUB(@run_date, INTERVAL 2 DAY);" in script
    assert "DECLARE late_data_horizon_days INT64 DEFAULT 7;" in script
    blocks = re.findall(r"^-- step \d+ of \d+: (\w+) \(.*?\)\nBEGIN\n(.*?)\nEND;$", script, flags=re.M | re.S)
    # Every model once, in run order, over the days the plan chose (the run's day alone on most days).
    assert [model for model, _ in blocks] == models()
    datasets = {"events": "ev_prod", "analytics": "an_prod"}
    for model, statement in blocks:
        # Exactly the model's SQL as the runner sends it, on the configured datasets.
        expected = render.model_statement(
            model, "eventharbor_rebuild_from", "eventharbor_build_through", datasets
        )
        assert statement == expected.strip(), model
        assert statement.rstrip().endswith(";"), (
            f"{model}: its last statement needs its ';' inside BEGIN ... END"
        )
        for reference in re.findall(r"`([^`]+)`", statement):
            assert reference.split(".")[0] in {"ev_prod", "an_prod"}, (model, reference)
        assert "@" not in statement, f"{model}: every date parameter is a script variable"
    # Variables and rules first, then the plan and the blocks: DECLAREs must open a BigQuery script.
    head = script[: script.index("\n-- Which days this run builds")]
    statements = [
        line for line in head.splitlines() if line and not line.startswith(("--", " ", ")", "))", ">;"))
    ]
    kinds = [line.split("(")[0].split()[0:3] for line in statements]
    assert kinds[0] == ["DECLARE", "eventharbor_run_date", "DATE"]
    first_function = next(i for i, k in enumerate(kinds) if k[0] == "CREATE")
    assert all(k[0] == "DECLARE" for k in kinds[:first_function])
    assert all(k[:3] == ["CREATE", "TEMP", "FUNCTION"] for k in kinds[first_function:])


def test_the_runner_defaults_are_terraforms():
    """``python -m warehouse.runner scheduled`` runs with the deployed defaults."""
    from warehouse import render

    assert variable_default("models_lag_days") == render.DEFAULT_LAG_DAYS
    assert variable_default("late_data_horizon_days") == render.DEFAULT_HORIZON_DAYS
    assert CATALOG["events.orders"]["partition_expiration_days"] == render.raw_partition_expiration_days()
