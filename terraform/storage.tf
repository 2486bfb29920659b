# Cloud Storage: the raw archive (every message as received, replayable), the
# Dataflow temp/staging bucket, and a bucket for both buckets' usage logs.

resource "google_storage_bucket" "archive" {
  project       = var.project_id
  name          = local.archive_bucket_name
  location      = local.bucket_location
  storage_class = "STANDARD"
  labels        = merge(local.labels, { purpose = "raw-archive" })

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = !var.deletion_protection

  versioning {
    enabled = true
  }

  soft_delete_policy {
    retention_duration_seconds = var.archive_soft_delete_days * 86400
  }

  logging {
    log_bucket        = google_storage_bucket.logs.name
    log_object_prefix = "${local.archive_bucket_name}/"
  }

  # Raw files get colder with age, then are deleted.
  lifecycle_rule {
    condition {
      age                   = var.archive_nearline_after_days
      matches_storage_class = ["STANDARD"]
    }
    action {
      type          = "SetStorageClass"
      storage_class = "NEARLINE"
    }
  }

  lifecycle_rule {
    condition {
      age                   = var.archive_coldline_after_days
      matches_storage_class = ["NEARLINE"]
    }
    action {
      type          = "SetStorageClass"
      storage_class = "COLDLINE"
    }
  }

  lifecycle_rule {
    condition {
      age = var.archive_delete_after_days
    }
    action {
      type = "Delete"
    }
  }

  # Versioning keeps overwritten or deleted objects; drop those versions later.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.archive_noncurrent_delete_after_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_project_service.apis, google_kms_crypto_key_iam_member.service_agents]
}

resource "google_storage_bucket" "dataflow" {
  #checkov:skip=CKV_GCP_78:Dataflow scratch space: temp/ objects are deleted by lifecycle after days and staging/ packages are re-uploaded on every submission, so old versions would only add cost.
  project       = var.project_id
  name          = local.temp_bucket_name
  location      = local.bucket_location
  storage_class = "STANDARD"
  labels        = merge(local.labels, { purpose = "dataflow-temp" })

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  # Beam advises against soft delete on temp locations (it keeps every
  # short-lived temp file billable for the retention period).
  soft_delete_policy {
    retention_duration_seconds = 0
  }

  logging {
    log_bucket        = google_storage_bucket.logs.name
    log_object_prefix = "${local.temp_bucket_name}/"
  }

  # Only temp/ is short-lived: a running job's workers read staging/ whenever
  # they start, so it is never expired.
  lifecycle_rule {
    condition {
      age            = var.temp_delete_after_days
      matches_prefix = ["temp/"]
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_project_service.apis, google_kms_crypto_key_iam_member.service_agents]
}

resource "google_storage_bucket" "logs" {
  #checkov:skip=CKV_GCP_62:This is the usage-log sink of the other buckets; logging it into itself would loop; audit reads of it with Cloud Audit Logs data-access logs if needed.
  #checkov:skip=CKV_GCP_78:Usage logs are written once by Cloud Storage and never overwritten; they expire by lifecycle, so versioning would keep nothing useful.
  project       = var.project_id
  name          = local.logs_bucket_name
  location      = local.bucket_location
  storage_class = "STANDARD"
  labels        = merge(local.labels, { purpose = "access-logs" })

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = !var.deletion_protection

  lifecycle_rule {
    condition {
      age = var.access_log_retention_days
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_project_service.apis, google_kms_crypto_key_iam_member.service_agents]
}

# Cloud Storage writes usage and storage logs as this Google group.
resource "google_storage_bucket_iam_member" "logs_writer" {
  bucket = google_storage_bucket.logs.name
  role   = "roles/storage.objectCreator"
  member = "group:cloud-storage-analytics@google.com"
}
