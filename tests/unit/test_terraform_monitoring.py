"""Offline checks of terraform/monitoring.tf: its alert policies and scheduled checks.

Every alert policy: documented, wired to var.notification_channels, its threshold from a
variable, its filter naming a metric type (on its monitored resource) from KNOWN_METRICS
(tests/terraform_metrics.py, from Google Cloud's metric reference), with an aligner that metric
kind allows. The scheduled checks' SQL parses as BigQuery SQL and reads columns that exist in
schemas/. The dashboard is checked in test_terraform_dashboard.py.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import hcl2
import pytest
import sqlglot
from sqlglot import exp

from schemas import STREAMS
from tests import terraform_hcl as tf
from tests.terraform_hcl import (
    SCHEMAS_DIR,
    TF_DIR,
    attr,
    blocks,
    clean,
    each_value,
    expr,
    is_meta,
    parsed_locals,
)
from tests.terraform_metrics import KNOWN_METRICS, RATE_ALIGNERS, metric_types, resource_types

# Parsed once: the HCL does not change during a test run.
resources_of = functools.cache(tf.resources_of)
variables = functools.cache(tf.variables)


def variable_default(name: str) -> Any:
    return attr(variables()[name], "default")


MONITORING_TF = TF_DIR / "monitoring.tf"


# What each policy must watch, and the variables its threshold comes from (for the two
# check-based policies the threshold is in the check's SQL, and the policy fires on rows > 0).
POLICIES = {
    "backlog": ("subscription/oldest_unacked_message_age", {"backlog_max_age_seconds"}),
    "pubsub_dead_letters": ("subscription/num_undelivered_messages", {"pubsub_dead_letter_max_messages"}),
    "dataflow_freshness": (
        "job/data_watermark_age",
        {"dataflow_data_freshness_max_seconds", "dataflow_system_lag_max_seconds"},
    ),
    "dataflow_job_failed": ("job/is_failed", {"dataflow_job_absent_minutes"}),
    "dead_letter_rate": ("last_execution_job_rows", set()),
    "scheduled_query_failed": ("transfer_config/completed_runs", {"scheduled_query_failures_allowed"}),
    "raw_table_freshness": ("last_execution_job_rows", set()),
    "late_data": ("last_execution_job_rows", set()),
}
# Each scheduled check (a key of local.check_queries): the local holding its SQL, and the
# variables its SQL reads.
CHECKS = {
    "dead_letter_rate": (
        "dead_letter_rate_check_sql",
        {"dead_letter_rate_threshold", "dead_letter_rate_window_minutes", "dead_letter_min_count"},
    ),
    "raw_table_freshness": ("raw_table_freshness_check_sql", {"raw_table_stale_minutes"}),
    "late_data": ("late_data_check_sql", {"late_data_horizon_days"}),
}
# The table each check reads (a raw-table check reads the raw tables it names).
CHECK_TABLES = {"dead_letter_rate": {"events.dead_letter"}, "late_data": {"analytics.model_builds"}}


def _dynamic_blocks(body: dict) -> dict[str, dict]:
    """{name: body} of the dynamic blocks of a block body."""
    return {
        name: inner for entry in body.get("dynamic", []) for name, inner in entry.items() if not is_meta(name)
    }


def _fill(content: dict, item: str, element: dict) -> dict:
    """The content of dynamic block ``item`` for one element: its arguments (and those of its nested
    aggregations and trigger blocks) with ``${item.value.x}``, or ``${try(item.value.x, default)}``
    when the element has no x, replaced by the element's x (expressions as written)."""
    filled = {}
    for key in content:
        if is_meta(key):
            continue
        if key in ("aggregations", "trigger"):
            (nested,) = blocks(content, key)
            filled[key] = _fill(nested, item, element)
            continue
        text = expr(attr(content, key))
        field = re.fullmatch(rf"\$\{{{item}\.value\.(\w+)\}}", text)
        fallback = re.fullmatch(rf"\$\{{try\({item}\.value\.(\w+),(.+)\)\}}", text)
        if field:
            filled[key] = element[field.group(1)]
        elif fallback:
            default = None if fallback.group(2) == "null" else fallback.group(2).strip('"')
            filled[key] = element.get(fallback.group(1), default)
        else:
            filled[key] = attr(content, key)
    return filled


def _alert_resource() -> dict:
    (resource,) = resources_of("google_monitoring_alert_policy").values()
    return resource


def policies() -> dict[str, dict]:
    """Each alert policy as the one for_each resource makes it from its entry of
    local.alert_policies (expressions as written): its arguments, its documentation and its
    conditions as [(condition_threshold or condition_absent, body)]; the resource's wiring is
    checked by test_the_alert_resource_makes_one_policy_per_entry."""
    resource = _alert_resource()
    (condition_content,) = blocks(_dynamic_blocks(resource)["conditions"], "content")
    kinds = _dynamic_blocks(condition_content)
    (documentation,) = blocks(resource, "documentation")
    found = {}
    for name, entry in raw_local("alert_policies").items():
        conditions = []
        for condition in entry["conditions"]:
            kind = "condition_threshold" if "threshold" in condition else "condition_absent"
            (content,) = blocks(kinds[kind], "content")
            conditions.append((kind, _fill(content, kind, condition)))
        arguments = ("for_each", "project", "display_name", "combiner", "severity", "notification_channels")
        found[name] = {key: each_value(attr(resource, key), entry) for key in arguments}
        found[name]["documentation"] = {
            key: each_value(attr(documentation, key), entry) for key in documentation
        }
        found[name]["conditions"] = conditions
    return found


# --------------------------------------------------------------------------------------
# Alert policies
# --------------------------------------------------------------------------------------


def test_the_required_alert_policies_exist():
    assert set(policies()) == set(POLICIES), sorted(set(policies()) ^ set(POLICIES))


def test_the_alert_resource_makes_one_policy_per_entry():
    """What policies() reads the resource as: one policy per entry of local.alert_policies while
    monitoring is on, a condition_threshold for a condition with a threshold and a
    condition_absent for one without, auto_close only where an entry sets it."""
    resource = _alert_resource()
    assert expr(attr(resource, "for_each")) == (
        "${{forname,policyinlocal.alert_policies:name=>policyifvar.monitoring_enabled}}"
    )
    dynamic = _dynamic_blocks(resource)
    assert set(dynamic) == {"conditions", "alert_strategy"}
    assert expr(attr(dynamic["conditions"], "for_each")) == "${each.value.conditions}"
    (condition_content,) = blocks(dynamic["conditions"], "content")
    assert expr(attr(condition_content, "display_name")) == "${conditions.value.display_name}"
    kinds = _dynamic_blocks(condition_content)
    threshold, absent = (
        expr(attr(kinds[k], "for_each")) for k in ("condition_threshold", "condition_absent")
    )
    assert threshold.startswith("${can(conditions.value.threshold)?[") and threshold.endswith("]:[]}"), (
        threshold
    )
    assert absent.startswith("${can(conditions.value.threshold)?[]:["), absent
    strategy = expr(attr(dynamic["alert_strategy"], "for_each"))
    assert strategy.startswith("${can(each.value.auto_close)?[") and strategy.endswith("]:[]}"), strategy
    (strategy_content,) = blocks(dynamic["alert_strategy"], "content")
    assert expr(attr(strategy_content, "auto_close")) == "${alert_strategy.value}"
    # Every field the resource reads is in every entry (Terraform would refuse the plan).
    for name, entry in raw_local("alert_policies").items():
        assert {"title", "severity", "conditions", "subject", "content"} <= set(entry), name
        assert re.fullmatch(r"\d+s", entry.get("auto_close", "0s")), name
        for condition in entry["conditions"]:
            assert {"display_name", "filter", "duration", "period"} <= set(condition), (name, condition)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_alert_policy_is_documented_wired_and_thresholded_by_variables(name):
    policy = policies()[name]
    metric_suffix, threshold_variables = POLICIES[name]
    if name in CHECKS:  # the threshold is in the check's SQL; the policy fires on any row
        threshold_variables = CHECKS[name][1]
    assert expr(policy["for_each"]).endswith("ifvar.monitoring_enabled}}"), name
    assert expr(policy["project"]) == "${var.project_id}"
    assert expr(policy["notification_channels"]) == "${var.notification_channels}", (
        f"{name}: notify var.notification_channels"
    )
    assert policy["combiner"] == "OR" and policy["severity"] in {"CRITICAL", "ERROR", "WARNING"}
    assert policy["display_name"].startswith("EventHarbor ${var.env}: ")

    documentation = policy["documentation"]
    assert documentation["mime_type"] == "text/markdown"
    assert len(documentation["subject"]) >= 20, name
    content = documentation["content"]
    assert len(content) >= 200 and "${local.runbook}" in content, f"{name}: document what to do"
    for variable in threshold_variables:
        assert f"`{variable}`" in content, f"{name}: its documentation must name variable {variable}"

    conditions = policy["conditions"]
    assert conditions, f"{name}: no threshold or absence condition"
    referenced = set()
    for kind, condition in conditions:
        filter_text = resolve_filter(condition["filter"])
        (metric,) = metric_types(filter_text)
        assert metric in KNOWN_METRICS, f"{name}: unknown metric type {metric}"
        resource, metric_kind, _ = KNOWN_METRICS[metric]
        assert resource_types(filter_text) == [resource], f"{name}: {metric} is written on {resource}"
        aggregation = condition["aggregations"]
        aligner = aggregation["per_series_aligner"]
        assert metric_kind != "GAUGE" or aligner not in RATE_ALIGNERS, f"{name}: {aligner} on a GAUGE"
        assert re.fullmatch(r"\d+s", aggregation["alignment_period"])
        duration = expr(condition["duration"])
        assert re.fullmatch(r"\d+s|\$\{[^}]*var\.\w+[^}]*\}s|\$\{local\.alert_duration\}", duration), duration
        used = f"{expr(condition.get('threshold_value', ''))} {duration}"
        used = used.replace("${local.alert_duration}", "${var.alert_duration_seconds}")
        referenced |= set(re.findall(r"var\.(\w+)", used))
        if kind == "condition_threshold":
            assert condition["comparison"] == "COMPARISON_GT"
    assert any(metric_suffix in f for _, c in conditions for f in metric_types(resolve_filter(c["filter"])))
    if name in CHECKS:
        # Fires on any row of its check's last run; the thresholds are in the check's SQL.
        sql_local, check_variables = CHECKS[name]
        (kind, condition), *_ = conditions
        assert condition["threshold_value"] == 0 and condition["duration"] == "0s"
        assert expr(condition["filter"]) == "${local.check_filters." + name + "}"
        sql = raw_local(sql_local) + raw_local("rows_loaded_sql") + raw_local("last_loaded_sql")
        sql += raw_local("rate_window_start")
        assert check_variables <= set(re.findall(r"var\.(\w+)", sql)), (name, check_variables)
    else:
        assert threshold_variables <= referenced, (
            f"{name}: thresholds {threshold_variables}, uses {referenced}"
        )
    declared = variables()
    for variable in threshold_variables:
        assert variable in declared and "default" in declared[variable], f"{variable}: needs a sane default"
        assert blocks(declared[variable], "validation"), f"{variable}: needs a validation"


def resolve_filter(filter_expression: Any) -> str:
    """A filter with ${local.x} filter pieces substituted (their metric/resource types are literal)."""
    text = re.sub(
        r"\$\{local\.check_filters\.\w+\}", lambda _: raw_local("check_filters"), str(filter_expression)
    )
    for name in ("dataflow_job_filter", "dts_filter", "dataflow_subscription_filter"):
        text = text.replace("${local." + name + "}", raw_local(name))
    return text


def test_subscription_and_job_filters_name_this_deployments_resources():
    assert "google_pubsub_subscription.dataflow[topic].name" in raw_local("dataflow_subscription_filter")
    assert "for topic in var.pubsub_topics" in raw_local("dataflow_subscription_filter")
    assert 'resource.labels.job_name = \\"${var.dataflow_job_name}\\"' in raw_local("dataflow_job_filter")
    failed = policies()["scheduled_query_failed"]
    ((_, condition),) = failed["conditions"]
    assert "local.scheduled_config_ids" in expr(condition["filter"])
    assert 'completion_state!=\\"SUCCEEDED\\"' in expr(condition["filter"])
    assert expr(raw_local("scheduled_config_ids")) == expr(
        "${concat(local.models_config_ids,flatten(values(local.check_config_ids)))}"
    )
    dead = policies()["pubsub_dead_letters"]
    ((_, condition),) = dead["conditions"]
    assert "google_pubsub_subscription.dead_letter.name" in expr(condition["filter"])
    # A check's alert watches the rows of that check's last run, by its transfer config id.
    assert "local.check_config_ids" in raw_local("check_filters")
    assert "last_execution_job_rows" in raw_local("check_filters")
    assert "google_bigquery_data_transfer_config.checks" in raw_local("check_config_ids")


# --------------------------------------------------------------------------------------
# The scheduled checks
# --------------------------------------------------------------------------------------


@functools.cache
def _monitoring_locals() -> dict[str, Any]:
    values = {}
    for entry in hcl2.load(MONITORING_TF.open()).get("locals", []):
        for name, value in entry.items():
            if not name.startswith("__"):
                values[name] = clean(value[0] if isinstance(value, list) and len(value) == 1 else value)
    return values


def raw_local(name: str) -> Any:
    return _monitoring_locals()[name]


def render_check_sql(name: str, values: dict[str, Any]) -> str:
    """A check's SQL as Terraform renders it, for the given variable values (project "proj")."""
    local = _monitoring_locals()
    refs = {
        "local.events_ref": "proj.events",
        "local.dead_letter_ref": "proj.events.dead_letter",
        "local.model_builds_ref": "proj.analytics.model_builds",
    }
    lookback = local["check_lookback_days"]

    def render(text: str, scope: dict[str, str]) -> str:
        def join(match: re.Match) -> str:
            separator, item, source, template = match.groups()
            items = local[source[6:]] if source.startswith("local.") else values[source[4:]]
            return (
                separator.encode()
                .decode("unicode_escape")
                .join(
                    render(template.encode().decode("unicode_escape"), {**scope, item: entry})
                    for entry in items
                )
            )

        text = re.sub(r'\$\{join\("(.*?)", ?\[for (\w+) in ([\w.]+) ?: ?"(.*)"\]\)\}', join, text, flags=re.S)
        text = re.sub(
            r"\$\{local\.raw_table_refs\[(\w+)\]\}", lambda m: f"proj.events.{scope[m.group(1)]}", text
        )
        for key, value in refs.items():
            text = text.replace("${" + key + "}", value)
        text = text.replace("${local.check_lookback_days}", str(lookback))
        text = re.sub(r"\$\{local\.(\w+)\}", lambda m: render(str(local[m.group(1)]), scope), text)
        text = re.sub(r"\$\{var\.(\w+)\}", lambda m: str(values[m.group(1)]), text)
        text = re.sub(r"\$\{(\w+)\}", lambda m: scope[m.group(1)], text)
        assert "${" not in text, text
        return text

    return render(str(local[name]), {})


def _defaults() -> dict[str, Any]:
    return {name: variable_default(name) for name, body in variables().items() if "default" in body}


def _columns(table: str) -> set[str]:
    dataset, name = table.split(".")
    return {field["name"] for field in json.loads((SCHEMAS_DIR / dataset / f"{name}.json").read_text())}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_check_sql_parses_as_bigquery_and_reads_existing_columns(check):
    sql_local, check_variables = CHECKS[check]
    values = {**_defaults(), "dead_letter_rate_threshold": 0.25, "raw_table_stale_minutes": 45}
    sql = render_check_sql(sql_local, values)
    (statement,) = sqlglot.parse(sql, read="bigquery")
    assert isinstance(statement, exp.Select), check
    tables = {".".join(p for p in (t.catalog, t.db, t.name) if p) for t in statement.find_all(exp.Table)}
    raw = {
        f"proj.events.{t}"
        for t in (values["raw_tables_monitored"] if check == "raw_table_freshness" else STREAMS)
        if check != "late_data"
    }
    assert tables == raw | {f"proj.{t}" for t in CHECK_TABLES.get(check, ())}, tables
    known = set().union(*(_columns(t.split(".", 1)[1]) for t in tables))
    aliases = {a.alias for a in statement.find_all(exp.Alias)}
    columns = {c.name for c in statement.find_all(exp.Column)}
    assert columns <= known | aliases, sorted(columns - known - aliases)
    # Every raw table is read within recent partitions (require_partition_filter is on).
    assert sql.count("event_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 3 DAY)") == len(raw)
    if check == "dead_letter_rate":
        assert "> 0.25" in sql and f">= {values['dead_letter_min_count']}" in sql
        assert f"INTERVAL {values['dead_letter_rate_window_minutes']} MINUTE" in sql
    elif check == "late_data":
        # The latest build only, and only when it met what it could not absorb.
        assert "ORDER BY finished_at DESC\n  LIMIT 1" in sql
        for counted in ("rows_beyond_horizon", "days_beyond_horizon", "rows_in_expired_partitions"):
            assert f"{counted} > 0" in sql
    else:
        assert "INTERVAL 45 MINUTE" in sql


def test_checks_cover_every_stream_and_run_as_the_models_service_account():
    assert raw_local("raw_stream_tables") == list(STREAMS)
    assert variable_default("raw_tables_monitored") == list(STREAMS)
    body = resources_of("google_bigquery_data_transfer_config")["checks"]
    assert expr(attr(body, "for_each")) == "${var.monitoring_enabled?local.check_queries:{}}"
    queries = raw_local("check_queries")
    assert {check: expr(query) for check, query in queries.items()} == {
        check: "${local." + sql_local + "}" for check, (sql_local, _) in CHECKS.items()
    }
    assert attr(body, "data_source_id") == "scheduled_query"
    assert expr(attr(body, "schedule")) == "${var.monitoring_check_schedule}"
    assert expr(attr(body, "service_account_name")) == "${google_service_account.models.email}"
    assert expr(attr(body, "location")) == "${var.bigquery_location}"
    params = attr(body, "params")
    params = params[0] if isinstance(params, list) else params
    assert expr(params["query"]) == "${each.value}" and set(params) == {"query"}
    assert "destination_dataset_id" not in body, "a check is a plain SELECT: only its row count is used"
    # Its name, as the alerts' documentation gives it: <name_prefix>-check-dead-letter-rate ...
    assert expr(attr(body, "display_name")) == '${var.name_prefix}-check-${replace(each.key,"_","-")}'
    for check in ("dead_letter_rate", "raw_table_freshness"):
        name = "${var.name_prefix}-check-" + check.replace("_", "-")
        assert name in policies()[check]["documentation"]["content"], check
    depends = expr(attr(body, "depends_on"))
    assert "google_bigquery_dataset_iam_member.service_accounts" in depends
    grants = parsed_locals()["dataset_grants"]
    for check in CHECKS:
        dataset = "analytics_editor" if check == "late_data" else "events_viewer"
        assert expr(grants[f"models_{dataset}"]["member"]) == "${google_service_account.models.member}", check


def test_monitoring_variables_have_sane_defaults():
    defaults = _defaults()
    assert defaults["notification_channels"] == [] and defaults["monitoring_enabled"] is True
    assert 0 < defaults["dead_letter_rate_threshold"] < 0.5
    assert defaults["raw_table_stale_minutes"] >= 15
    assert re.fullmatch(r"every (\d+) minutes", defaults["monitoring_check_schedule"])
    assert int(defaults["monitoring_check_schedule"].split()[1]) <= defaults["raw_table_stale_minutes"]
    assert defaults["dead_letter_rate_window_minutes"] >= int(
        defaults["monitoring_check_schedule"].split()[1]
    )
    assert defaults["dataflow_system_lag_max_seconds"] <= defaults["dataflow_data_freshness_max_seconds"]
    assert defaults["backlog_max_age_seconds"] < defaults["message_retention_seconds"]


def test_outputs_expose_the_dashboard_and_policies():
    declared = tf.outputs()
    assert (
        expr(attr(declared["monitoring_dashboard_id"], "value"))
        == "${one(google_monitoring_dashboard.pipeline[*].id)}"
    )
    assert "google_monitoring_alert_policy" in expr(attr(declared["alert_policy_ids"], "value"))
