# Service accounts and least-privilege grants. Every grant is non-authoritative
# (an *_iam_member) and, where the service allows it, scoped to one resource
# rather than the project.

resource "google_service_account" "dataflow" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-dataflow"
  display_name = "EventHarbor Dataflow workers"
  description  = "Runs the EventHarbor streaming pipeline: reads its Pub/Sub subscriptions, writes the events dataset and the raw archive."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "models" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-models"
  display_name = "EventHarbor scheduled models"
  description  = "Runs the daily scheduled query that builds the analytics dataset from the events dataset."

  depends_on = [google_project_service.apis]
}

# --- Dataset-level grants of both service accounts ----------------------------------
#
# By name: the dataset (a key of var.dataset_ids), member and role. (The project-level grants
# below stay one resource each: checkov cannot read the roles of a for_each over a map that a
# condition filters, as dataflow_bigquery_job_user's would be.)

locals {
  dataset_grants = {
    # bigquery.tables.updateData, which every write method needs (Storage Write
    # API, streaming inserts, load jobs), with tables.get and datasets.get, on the
    # events dataset only. dataEditor is the narrowest predefined role holding
    # updateData (dataOwner and admin are broader); the pipeline writes five of the
    # dataset's tables and creates none.
    dataflow_events_editor = { dataset = "events", member = google_service_account.dataflow.member, role = "roles/bigquery.dataEditor" }

    # The scheduled models build the analytics dataset from the events dataset.
    models_analytics_editor = { dataset = "analytics", member = google_service_account.models.member, role = "roles/bigquery.dataEditor" }
    models_events_viewer    = { dataset = "events", member = google_service_account.models.member, role = "roles/bigquery.dataViewer" }
  }
}

resource "google_bigquery_dataset_iam_member" "service_accounts" {
  for_each = local.dataset_grants

  project    = var.project_id
  dataset_id = google_bigquery_dataset.datasets[each.value.dataset].dataset_id
  role       = each.value.role
  member     = each.value.member
}

# --- Dataflow workers ----------------------------------------------------------

# Project level by necessity: a worker VM must be able to lease Dataflow work items.
resource "google_project_iam_member" "dataflow_worker" {
  project = var.project_id
  role    = "roles/dataflow.worker"
  member  = google_service_account.dataflow.member
}

# Streaming jobs write by the Storage Write API (CreateWriteStream, AppendRows)
# or by streaming inserts: neither is a BigQuery job, and both need only
# bigquery.tables.updateData on the tables, which dataEditor on the events
# dataset above holds. Batch runs write by load
# jobs, which are BigQuery jobs and also need jobUser (on by default; a
# streaming-only deployment can turn it off).
resource "google_project_iam_member" "dataflow_bigquery_job_user" {
  count = var.dataflow_bigquery_job_user ? 1 : 0

  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = google_service_account.dataflow.member
}

resource "google_pubsub_subscription_iam_member" "dataflow_subscriber" {
  for_each = google_pubsub_subscription.dataflow

  project      = var.project_id
  subscription = each.value.name
  role         = "roles/pubsub.subscriber"
  member       = google_service_account.dataflow.member
}

# Dataflow's Pub/Sub source reads the subscription's metadata (subscriptions.get),
# which roles/pubsub.subscriber does not include.
resource "google_pubsub_subscription_iam_member" "dataflow_viewer" {
  for_each = google_pubsub_subscription.dataflow

  project      = var.project_id
  subscription = each.value.name
  role         = "roles/pubsub.viewer"
  member       = google_service_account.dataflow.member
}

locals {
  dataflow_buckets = {
    archive  = google_storage_bucket.archive.name
    dataflow = google_storage_bucket.dataflow.name
  }
}

resource "google_storage_bucket_iam_member" "dataflow_object_admin" {
  for_each = local.dataflow_buckets

  bucket = each.value
  role   = "roles/storage.objectAdmin"
  member = google_service_account.dataflow.member
}

# storage.buckets.get (Beam checks its temp/staging bucket), which objectAdmin lacks.
resource "google_storage_bucket_iam_member" "dataflow_bucket_reader" {
  for_each = local.dataflow_buckets

  bucket = each.value
  role   = "roles/storage.legacyBucketReader"
  member = google_service_account.dataflow.member
}

# The Flex Template launcher (it runs as this account) reads the IP hash key;
# make deploy-pipeline reads it with the deployer's own credentials instead.
resource "google_secret_manager_secret_iam_member" "dataflow_ip_hash_key" {
  count = var.ip_hash_key_secret_version == null ? 0 : 1

  secret_id = regex("^projects/[^/]+/secrets/[^/]+", var.ip_hash_key_secret_version)
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.dataflow.member
}

resource "google_secret_manager_secret_iam_member" "pipeline_deployers_ip_hash_key" {
  for_each = var.ip_hash_key_secret_version == null ? toset([]) : toset(var.pipeline_deployers)

  secret_id = regex("^projects/[^/]+/secrets/[^/]+", var.ip_hash_key_secret_version)
  role      = "roles/secretmanager.secretAccessor"
  member    = each.key
}

# People or CI identities that submit the job with make deploy-pipeline: they
# launch Dataflow jobs and run them as the worker service account.
resource "google_project_iam_member" "pipeline_deployers_dataflow" {
  #checkov:skip=CKV_GCP_49:Dataflow has no per-job IAM, so launching jobs needs roles/dataflow.developer on the project; which service account a deployer can run jobs as is limited by the serviceAccountUser grant below, scoped to the worker service account only. Empty unless pipeline_deployers is set.
  for_each = toset(var.pipeline_deployers)

  project = var.project_id
  role    = "roles/dataflow.developer"
  member  = each.key
}

resource "google_service_account_iam_member" "pipeline_deployers_act_as" {
  for_each = toset(var.pipeline_deployers)

  service_account_id = google_service_account.dataflow.name
  role               = "roles/iam.serviceAccountUser"
  member             = each.key
}

# --- Scheduled models ------------------------------------------------------------

# Running a query job is a project-level permission in BigQuery.
resource "google_project_iam_member" "models_job_user" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = google_service_account.models.member
}

# The BigQuery Data Transfer service agent mints tokens for this service
# account only (not project-wide) to run the scheduled query as it.
resource "google_service_account_iam_member" "models_token_minter" {
  service_account_id = google_service_account.models.name
  role               = "roles/iam.serviceAccountShortTermTokenMinter"
  member             = "serviceAccount:${google_project_service_identity.bigquery_data_transfer.email}"
}
