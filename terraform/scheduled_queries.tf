# The daily models: ONE scheduled query running the script generated from sql/ by
# `python -m warehouse.render` (terraform/generated/daily_models.sql, committed; `make lint`
# fails when it is stale). The script runs every model over the days it builds in the run order derived
# from the tables each model reads, each in its own BEGIN ... END block, so a failing model
# stops the script: the models after it do not run on incomplete inputs.
#
# BigQuery's scheduled-query @run_date is the date the run fires (UTC); the script declares
# eventharbor_run_date = @run_date - models_lag_days (default 1: yesterday, complete at
# 03:00) and the models build that day. Late data heals itself: the script compares the rows
# of every day (raw partitions from INFORMATION_SCHEMA.PARTITIONS, dead letters by message day)
# with what its last successful run counted (analytics.model_builds) and rebuilds from the
# earliest changed or unbuilt day, at most late_data_horizon_days back (docs/models.md, "Late
# data"); what arrives later is counted there and alerted on (monitoring.tf, late_data).
#
# templatefile() only fills in the script's placeholders: the dataset ids the SQL's
# `events.` / `analytics.` references point at (as the Python runner does), the lag, the
# horizon and the raw tables' partition expiration.

locals {
  # The models in run order (generated alongside the script), for the models_order output.
  models = var.scheduled_models_enabled ? jsondecode(file("${path.module}/generated/daily_models.json")) : []

  # One expiration for the three raw tables (schemas/tables.json, or the variable's override).
  raw_partition_expiration_days = local.partition_expiration_days["events.orders"]

  models_script = templatefile("${path.module}/generated/daily_models.sql", {
    events_dataset                = var.dataset_ids["events"]
    analytics_dataset             = var.dataset_ids["analytics"]
    models_lag_days               = var.models_lag_days
    late_data_horizon_days        = var.late_data_horizon_days
    raw_partition_expiration_days = local.raw_partition_expiration_days
  })
}

resource "google_bigquery_data_transfer_config" "models" {
  count = var.scheduled_models_enabled ? 1 : 0

  project              = var.project_id
  display_name         = "${var.name_prefix}-daily-models"
  location             = var.bigquery_location
  data_source_id       = "scheduled_query"
  schedule             = var.models_schedule
  service_account_name = google_service_account.models.email

  # A script (DML/DDL): no destination table, so no destination_dataset_id.
  params = {
    query = local.models_script
  }

  lifecycle {
    precondition {
      condition     = var.late_data_horizon_days < local.raw_partition_expiration_days
      error_message = "late_data_horizon_days (${var.late_data_horizon_days}) must be shorter than the raw tables' partition expiration (${local.raw_partition_expiration_days} days): a run cannot rebuild days whose raw rows are gone."
    }
  }

  depends_on = [
    google_bigquery_table.tables,
    google_bigquery_dataset_iam_member.service_accounts,
    google_project_iam_member.models_job_user,
    google_service_account_iam_member.models_token_minter,
  ]
}
