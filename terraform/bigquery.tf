# BigQuery datasets and every table of schemas/.
#
# schemas/ is the one source of truth: the table set, descriptions,
# partitioning, clustering and partition expirations come from
# schemas/tables.json and each column list from schemas/<dataset>/<table>.json.
# Nothing about a table is repeated here.

locals {
  table_catalog = jsondecode(file("${path.module}/../schemas/tables.json"))

  dataset_descriptions = {
    events    = "EventHarbor raw events written by the streaming pipeline: orders, inventory, user_activity, dead_letter and realtime_event_metrics."
    analytics = "EventHarbor daily models built by the scheduled query from the events dataset (SCD2, cumulated, balance and analytics tables)."
  }

  # Partition expiration in days per "dataset.table": the catalog value, or
  # var.events_partition_expiration_days for the events tables that expire.
  partition_expiration_days = {
    for key, spec in local.table_catalog : key => (
      try(spec.partition_expiration_days, null) == null ? null : (
        split(".", key)[0] == "events" && var.events_partition_expiration_days != null
        ? var.events_partition_expiration_days
        : spec.partition_expiration_days
      )
    )
  }
}

resource "google_bigquery_dataset" "datasets" {
  for_each = var.dataset_ids

  project     = var.project_id
  dataset_id  = each.value
  location    = var.bigquery_location
  description = lookup(local.dataset_descriptions, each.key, "EventHarbor ${each.key} dataset.")
  labels      = merge(local.labels, { dataset = each.key })

  # Keep the data when the stack is destroyed unless protection is off (dev).
  delete_contents_on_destroy = !var.deletion_protection

  dynamic "default_encryption_configuration" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      kms_key_name = default_encryption_configuration.value
    }
  }

  depends_on = [google_project_service.apis, google_kms_crypto_key_iam_member.service_agents]
}

resource "google_bigquery_table" "tables" {
  #checkov:skip=CKV_GCP_80:CMEK is opt-in through var.kms_key_name (the dynamic encryption_configuration block); the default is Google-managed encryption, which needs no key ring.
  for_each = local.table_catalog

  project     = var.project_id
  dataset_id  = google_bigquery_dataset.datasets[split(".", each.key)[0]].dataset_id
  table_id    = split(".", each.key)[1]
  description = each.value.description
  schema      = file("${path.module}/../schemas/${split(".", each.key)[0]}/${split(".", each.key)[1]}.json")

  time_partitioning {
    type          = "DAY"
    field         = each.value.partition_field
    expiration_ms = local.partition_expiration_days[each.key] == null ? null : local.partition_expiration_days[each.key] * 86400000
  }

  require_partition_filter = each.value.require_partition_filter
  clustering               = length(try(each.value.clustering, [])) > 0 ? each.value.clustering : null

  deletion_protection = var.deletion_protection
  labels              = merge(local.labels, { dataset = split(".", each.key)[0] })

  dynamic "encryption_configuration" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      kms_key_name = encryption_configuration.value
    }
  }
}

# Read access to the models for analysts (non-authoritative: other grants on
# the dataset are left alone).
resource "google_bigquery_dataset_iam_member" "analytics_readers" {
  for_each = toset(var.analytics_readers)

  project    = var.project_id
  dataset_id = google_bigquery_dataset.datasets["analytics"].dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = each.key
}
