"""The shape of terraform/: its files split by service, pinned versions, every resource placed in
var.project_id, and docs/deploy.md's tables of every input and output (offline, python-hcl2).
"""

from __future__ import annotations

import re
from typing import Any

from tests.terraform_hcl import (
    ROOT,
    TF_DIR,
    attr,
    blocks,
    clean,
    expr,
    labelled,
    load_all,
    models,
    outputs,
    resources,
    tf_files,
    variables,
)

DEPLOY_DOC = ROOT / "docs" / "deploy.md"


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
