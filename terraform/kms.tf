# Optional CMEK (var.kms_key_name): the Google-managed service agents that
# encrypt data on this stack's behalf get encrypt/decrypt on the key.

data "google_project" "this" {
  count = var.kms_key_name == null ? 0 : 1

  project_id = var.project_id
}

data "google_bigquery_default_service_account" "this" {
  count = var.kms_key_name == null ? 0 : 1

  project = var.project_id
}

data "google_storage_project_service_account" "this" {
  count = var.kms_key_name == null ? 0 : 1

  project = var.project_id
}

locals {
  kms_service_agents = var.kms_key_name == null ? {} : {
    bigquery = "serviceAccount:${data.google_bigquery_default_service_account.this[0].email}"
    storage  = "serviceAccount:${data.google_storage_project_service_account.this[0].email_address}"
    pubsub   = "serviceAccount:${google_project_service_identity.pubsub.email}"
    dataflow = "serviceAccount:service-${data.google_project.this[0].number}@dataflow-service-producer-prod.iam.gserviceaccount.com"
    compute  = "serviceAccount:service-${data.google_project.this[0].number}@compute-system.iam.gserviceaccount.com"
  }
}

resource "google_kms_crypto_key_iam_member" "service_agents" {
  for_each = local.kms_service_agents

  crypto_key_id = var.kms_key_name
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = each.value
}
