"""Inputs and outputs of terraform/: every variable typed, described and validated, envs/*.tfvars
setting only declared variables with values the validations accept, outputs covering what
scripts/deploy_pipeline.sh reads (offline, python-hcl2; Terraform's own evaluation of the
validations is in tests/infra/test_terraform_cli.py).
"""

from __future__ import annotations

import re

from tests.terraform_hcl import (
    DEPLOY_SCRIPT,
    TF_DIR,
    attr,
    blocks,
    expr,
    local_values,
    outputs,
    tfvars,
    variable_default,
    variables,
)

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
