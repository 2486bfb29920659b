# Outputs. scripts/deploy_pipeline.sh reads these with `terraform output -raw`.

output "project_id" {
  description = "Project everything was created in."
  value       = var.project_id
}

output "region" {
  description = "Region of the Dataflow job."
  value       = var.region
}

output "subscriptions" {
  description = "Dataflow subscriptions as the comma-separated full paths the pipeline's --subscriptions takes."
  value       = local.subscriptions_csv
}

output "subscription_paths" {
  description = "Dataflow subscription path per source topic."
  value       = { for topic, sub in google_pubsub_subscription.dataflow : topic => sub.id }
}

output "topic_ids" {
  description = "Source topic path per topic name (publish events here)."
  value       = { for name, topic in google_pubsub_topic.sources : name => topic.id }
}

output "dead_letter_topic" {
  description = "Pub/Sub dead-letter topic of the Dataflow subscriptions."
  value       = google_pubsub_topic.dead_letter.id
}

output "dead_letter_subscription" {
  description = "Subscription holding dead-lettered Pub/Sub messages for inspection and replay."
  value       = google_pubsub_subscription.dead_letter.id
}

output "archive_bucket" {
  description = "Raw archive bucket name."
  value       = google_storage_bucket.archive.name
}

output "archive_root" {
  description = "The pipeline's --archive_root: gs://<archive bucket>/raw."
  value       = local.archive_root
}

output "dataflow_bucket" {
  description = "Dataflow temp/staging bucket name."
  value       = google_storage_bucket.dataflow.name
}

output "temp_location" {
  description = "Dataflow --temp_location."
  value       = local.temp_location
}

output "staging_location" {
  description = "Dataflow --staging_location."
  value       = local.staging_location
}

output "logs_bucket" {
  description = "Bucket receiving the other buckets' usage and storage logs."
  value       = google_storage_bucket.logs.name
}

output "dataflow_service_account_email" {
  description = "Service account the Dataflow workers run as (--service_account_email)."
  value       = google_service_account.dataflow.email
}

output "models_service_account_email" {
  description = "Service account the daily models scheduled query runs as."
  value       = google_service_account.models.email
}

output "dataset_ids" {
  description = "Actual dataset id per logical dataset (events, analytics)."
  value       = { for name, ds in google_bigquery_dataset.datasets : name => ds.dataset_id }
}

output "events_dataset" {
  description = "The pipeline's --dataset."
  value       = google_bigquery_dataset.datasets["events"].dataset_id
}

output "analytics_dataset" {
  description = "Dataset of the scheduled models."
  value       = google_bigquery_dataset.datasets["analytics"].dataset_id
}

output "dead_letter_table" {
  description = "The pipeline's --dead_letter_table."
  value       = google_bigquery_table.tables["events.dead_letter"].table_id
}

output "metrics_table" {
  description = "The pipeline's --metrics_table."
  value       = google_bigquery_table.tables["events.realtime_event_metrics"].table_id
}

output "table_ids" {
  description = "Fully qualified table id (project.dataset.table) per schemas/tables.json key."
  value       = { for key, t in google_bigquery_table.tables : key => "${t.project}.${t.dataset_id}.${t.table_id}" }
}

output "models_scheduled_query" {
  description = "Resource name of the daily models scheduled query (null when scheduled_models_enabled is false)."
  value       = one(google_bigquery_data_transfer_config.models[*].name)
}

output "models_order" {
  description = "Models run by the scheduled query, in dependency order (terraform/generated/daily_models.json)."
  value       = local.models
}

output "dataflow_job_name" {
  description = "Name of the streaming Dataflow job (--job_name)."
  value       = var.dataflow_job_name
}

output "dataflow_max_workers" {
  description = "Dataflow --max_num_workers."
  value       = var.dataflow_max_workers
}

output "dataflow_machine_type" {
  description = "Dataflow --worker_machine_type, or an empty string for Dataflow's default."
  value       = var.dataflow_machine_type == null ? "" : var.dataflow_machine_type
}

output "dataflow_subnetwork" {
  description = "Dataflow --subnetwork, or an empty string for the default network."
  value       = var.dataflow_subnetwork == null ? "" : var.dataflow_subnetwork
}

output "dataflow_use_public_ips" {
  description = "Whether workers get public IPs (the deploy script passes --no_use_public_ips when false)."
  value       = var.dataflow_use_public_ips
}

output "kms_key_name" {
  description = "CMEK key for the Dataflow job (--dataflow_kms_key), or an empty string."
  value       = var.kms_key_name == null ? "" : var.kms_key_name
}

output "ip_mode" {
  description = "The pipeline's --ip_mode."
  value       = var.ip_mode
}

output "ip_hash_key_secret" {
  description = "The pipeline's --ip_hash_key_secret (Secret Manager version), or an empty string."
  value       = var.ip_hash_key_secret_version == null ? "" : var.ip_hash_key_secret_version
}

output "flex_template_image" {
  description = "Image to build flex-template/Dockerfile into (launcher and worker SDK container)."
  value       = local.flex_template_image
}

output "flex_template_spec_gcs_path" {
  description = "Where gcloud dataflow flex-template build writes the template spec."
  value       = local.flex_template_spec
}

output "dataflow_job_id" {
  description = "Id of the Terraform-managed Flex Template job (null unless dataflow_job_enabled)."
  value       = one(google_dataflow_flex_template_job.pipeline[*].job_id)
}

output "alert_policy_ids" {
  description = "Resource name of each alert policy of monitoring.tf (empty when monitoring_enabled is false)."
  value       = { for name, policy in google_monitoring_alert_policy.alerts : name => policy.name }
}

output "monitoring_dashboard_id" {
  description = "Id of the pipeline dashboard (terraform/dashboards/pipeline.json), null when monitoring_enabled is false."
  value       = one(google_monitoring_dashboard.pipeline[*].id)
}

output "monitoring_checks" {
  description = "Resource names of the scheduled BigQuery checks behind the dead-letter rate, raw-table freshness and late-data alerts."
  value       = { for check in keys(local.check_queries) : check => try(google_bigquery_data_transfer_config.checks[check].name, null) }
}
