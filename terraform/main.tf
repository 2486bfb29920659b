# Shared names, labels and the project-level plumbing (APIs, service agents).
# Resources are split by service: bigquery.tf, pubsub.tf, storage.tf, iam.tf,
# scheduled_queries.tf, dataflow.tf, monitoring.tf; moved.tf moves state of renamed resources.

locals {
  labels = merge(
    {
      app        = "eventharbor"
      env        = var.env
      managed_by = "terraform"
    },
    var.labels,
  )

  bucket_location = coalesce(var.bucket_location, var.region)

  archive_bucket_name = coalesce(var.archive_bucket_name, "${var.project_id}-${var.name_prefix}-archive")
  temp_bucket_name    = coalesce(var.temp_bucket_name, "${var.project_id}-${var.name_prefix}-dataflow")
  logs_bucket_name    = "${var.project_id}-${var.name_prefix}-logs"

  required_apis = toset(concat(
    [
      "bigquery.googleapis.com",
      "bigquerydatatransfer.googleapis.com",
      "bigquerystorage.googleapis.com",
      "cloudresourcemanager.googleapis.com",
      "compute.googleapis.com",
      "dataflow.googleapis.com",
      "iam.googleapis.com",
      "logging.googleapis.com",
      "monitoring.googleapis.com",
      "pubsub.googleapis.com",
      "storage.googleapis.com",
    ],
    var.artifact_registry_enabled ? ["artifactregistry.googleapis.com"] : [],
    var.ip_hash_key_secret_version != null ? ["secretmanager.googleapis.com"] : [],
    var.kms_key_name != null ? ["cloudkms.googleapis.com"] : [],
  ))
}

resource "google_project_service" "apis" {
  for_each = var.enable_apis ? local.required_apis : toset([])

  project            = var.project_id
  service            = each.key
  disable_on_destroy = false
}

# Google-managed service agents this stack grants roles to. Creating the
# identity is idempotent and makes sure the agent exists before IAM refers to it.

resource "google_project_service_identity" "pubsub" {
  provider = google-beta

  project = var.project_id
  service = "pubsub.googleapis.com"

  depends_on = [google_project_service.apis]
}

resource "google_project_service_identity" "bigquery_data_transfer" {
  provider = google-beta

  project = var.project_id
  service = "bigquerydatatransfer.googleapis.com"

  depends_on = [google_project_service.apis]
}
