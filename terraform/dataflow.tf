# The streaming Dataflow job. By default `make deploy-pipeline` submits it
# (scripts/deploy_pipeline.sh, from this module's outputs). Optionally
# Terraform runs it from the Flex Template in flex-template/ instead:
# artifact_registry_enabled = true, build the template (docs/deploy.md), then
# dataflow_job_enabled = true.

locals {
  temp_location    = "gs://${google_storage_bucket.dataflow.name}/temp"
  staging_location = "gs://${google_storage_bucket.dataflow.name}/staging"
  archive_root     = "gs://${google_storage_bucket.archive.name}/raw"

  subscription_paths = [for topic in var.pubsub_topics : google_pubsub_subscription.dataflow[topic].id]
  subscriptions_csv  = join(",", local.subscription_paths)

  artifact_repository_id = var.name_prefix
  flex_template_image    = coalesce(var.flex_template_image, "${var.region}-docker.pkg.dev/${var.project_id}/${local.artifact_repository_id}/pipeline:latest")
  flex_template_spec     = coalesce(var.flex_template_spec_gcs_path, "gs://${google_storage_bucket.dataflow.name}/templates/${var.name_prefix}.json")

  # Pipeline options (pipeline/options.py) the job runs with; Dataflow's own
  # options are arguments of the job resource / flags of the deploy script.
  pipeline_parameters = merge(
    {
      source            = "pubsub"
      subscriptions     = local.subscriptions_csv
      dataset           = google_bigquery_dataset.datasets["events"].dataset_id
      dead_letter_table = google_bigquery_table.tables["events.dead_letter"].table_id
      metrics_table     = google_bigquery_table.tables["events.realtime_event_metrics"].table_id
      archive_root      = local.archive_root
      ip_mode           = var.ip_mode
    },
    var.ip_hash_key_secret_version == null ? {} : { ip_hash_key_secret = var.ip_hash_key_secret_version },
    var.dataflow_extra_parameters,
  )
}

resource "google_artifact_registry_repository" "pipeline" {
  count = var.artifact_registry_enabled ? 1 : 0

  project       = var.project_id
  location      = var.region
  repository_id = local.artifact_repository_id
  format        = "DOCKER"
  description   = "EventHarbor Flex Template images (launcher and Dataflow worker SDK container)."
  labels        = local.labels
  kms_key_name  = var.kms_key_name

  depends_on = [google_project_service.apis, google_kms_crypto_key_iam_member.service_agents]
}

# The launcher VM and the workers pull the template image as the worker service account.
resource "google_artifact_registry_repository_iam_member" "dataflow_reader" {
  count = var.artifact_registry_enabled ? 1 : 0

  project    = var.project_id
  location   = google_artifact_registry_repository.pipeline[0].location
  repository = google_artifact_registry_repository.pipeline[0].name
  role       = "roles/artifactregistry.reader"
  member     = google_service_account.dataflow.member
}

resource "google_dataflow_flex_template_job" "pipeline" {
  count    = var.dataflow_job_enabled ? 1 : 0
  provider = google-beta

  project                 = var.project_id
  region                  = var.region
  name                    = var.dataflow_job_name
  container_spec_gcs_path = local.flex_template_spec
  sdk_container_image     = local.flex_template_image
  service_account_email   = google_service_account.dataflow.email
  temp_location           = local.temp_location
  staging_location        = local.staging_location
  enable_streaming_engine = true
  max_workers             = var.dataflow_max_workers
  machine_type            = var.dataflow_machine_type
  subnetwork              = var.dataflow_subnetwork
  ip_configuration        = var.dataflow_use_public_ips ? "WORKER_IP_PUBLIC" : "WORKER_IP_PRIVATE"
  kms_key_name            = var.kms_key_name
  labels                  = local.labels

  parameters = local.pipeline_parameters

  # Drain on destroy/replace: in-flight data is finished, nothing is dropped.
  on_delete = "drain"

  depends_on = [
    google_project_iam_member.dataflow_worker,
    google_bigquery_dataset_iam_member.service_accounts,
    google_pubsub_subscription_iam_member.dataflow_subscriber,
    google_pubsub_subscription_iam_member.dataflow_viewer,
    google_storage_bucket_iam_member.dataflow_object_admin,
    google_storage_bucket_iam_member.dataflow_bucket_reader,
    google_artifact_registry_repository_iam_member.dataflow_reader,
  ]
}
