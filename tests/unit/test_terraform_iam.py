"""IAM in terraform/: the two service accounts get only the roles they need, each as narrowly
scoped as the service allows (offline, python-hcl2).
"""

from __future__ import annotations

from tests.terraform_hcl import (
    attr,
    expr,
    for_each_instances,
    is_meta,
    resolve_local,
    resources,
    resources_of,
    variable_default,
    variables,
)


def _grant_arguments() -> dict[tuple[str, str], dict]:
    """{(resource type, name): arguments} of every IAM member grant. A resource that is a
    for_each over a local map of grants (``each.value.role``) counts as one grant per entry,
    named by its key."""
    found = {}
    for (rtype, name), body in resources().items():
        if not rtype.endswith("_iam_member"):
            continue
        if "each.value.role" in expr(attr(body, "role")):
            found |= {(rtype, key): args for key, args in for_each_instances(body).items()}
        else:
            found[(rtype, name)] = {key: attr(body, key) for key in body if not is_meta(key)}
    return found


def _grants() -> list[tuple[str, str, str, str]]:
    """(resource type, name, role, member expression) of every IAM member grant."""
    return [(t, n, args["role"], expr(args["member"])) for (t, n), args in _grant_arguments().items()]


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
    editor = _grant_arguments()[("google_bigquery_dataset_iam_member", "dataflow_events_editor")]
    assert expr(editor["dataset_id"]) == '${google_bigquery_dataset.datasets["events"].dataset_id}'

    assert roles(models_sa) == [
        "roles/bigquery.dataEditor",
        "roles/bigquery.dataViewer",
        "roles/bigquery.jobUser",
    ]
    grants = _grant_arguments()
    assert '"analytics"' in expr(
        grants[("google_bigquery_dataset_iam_member", "models_analytics_editor")]["dataset_id"]
    )
    assert '"events"' in expr(
        grants[("google_bigquery_dataset_iam_member", "models_events_viewer")]["dataset_id"]
    )


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
    editor = _grant_arguments()[("google_bigquery_dataset_iam_member", "dataflow_events_editor")]
    assert expr(editor["dataset_id"]) == '${google_bigquery_dataset.datasets["events"].dataset_id}'
    # jobUser is only for batch load jobs, and optional: a streaming-only deployment drops it.
    job_user = resources_of("google_project_iam_member")["dataflow_bigquery_job_user"]
    assert expr(attr(job_user, "count")) == "${var.dataflow_bigquery_job_user?1:0}"
    assert "Storage Write API" in attr(variables()["dataflow_bigquery_job_user"], "description")
