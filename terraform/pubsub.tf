# Pub/Sub: a topic per stream plus the mixed events topic, one subscription per
# topic for the Dataflow job, and a dead-letter topic with its own subscription.
#
# The pipeline acknowledges every message it has durably handled, bad ones
# included (those become rows of the BigQuery dead_letter table), so the
# Pub/Sub dead-letter topic is a backstop for messages the job keeps failing
# to acknowledge (e.g. a crash-looping job), not the normal rejection path.

locals {
  dead_letter_topic_name        = "${var.name_prefix}-dead-letter"
  dead_letter_subscription_name = "${var.name_prefix}-dead-letter-hold"
}

resource "google_pubsub_topic" "sources" {
  #checkov:skip=CKV_GCP_83:CMEK is opt-in through var.kms_key_name; the default is Google-managed encryption, which needs no key ring.
  for_each = toset(var.pubsub_topics)

  project      = var.project_id
  name         = each.key
  labels       = merge(local.labels, { stream = replace(lower(each.key), "/[^a-z0-9_-]/", "_") })
  kms_key_name = var.kms_key_name

  depends_on = [google_project_service.apis, google_kms_crypto_key_iam_member.service_agents]
}

resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83:CMEK is opt-in through var.kms_key_name; the default is Google-managed encryption, which needs no key ring.
  project      = var.project_id
  name         = local.dead_letter_topic_name
  labels       = local.labels
  kms_key_name = var.kms_key_name

  depends_on = [google_project_service.apis, google_kms_crypto_key_iam_member.service_agents]
}

resource "google_pubsub_subscription" "dataflow" {
  for_each = google_pubsub_topic.sources

  project = var.project_id
  name    = "${each.key}-dataflow"
  topic   = each.value.id
  labels  = local.labels

  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = "${var.message_retention_seconds}s"
  retain_acked_messages      = false

  # The job's subscriptions must never expire, even while the job is stopped.
  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "${var.retry_minimum_backoff_seconds}s"
    maximum_backoff = "${var.retry_maximum_backoff_seconds}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }
}

# Holds dead-lettered messages (a topic without a subscription drops them) so
# they can be inspected and replayed into a source topic.
resource "google_pubsub_subscription" "dead_letter" {
  project = var.project_id
  name    = local.dead_letter_subscription_name
  topic   = google_pubsub_topic.dead_letter.id
  labels  = local.labels

  ack_deadline_seconds       = 60
  message_retention_duration = "${var.message_retention_seconds}s"
  retain_acked_messages      = false

  expiration_policy {
    ttl = ""
  }
}

# The Pub/Sub service agent forwards undeliverable messages: it publishes to
# the dead-letter topic and acknowledges them on the source subscription.

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

resource "google_pubsub_subscription_iam_member" "service_agent_subscriber" {
  for_each = google_pubsub_subscription.dataflow

  project      = var.project_id
  subscription = each.value.name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_project_service_identity.pubsub.email}"
}
