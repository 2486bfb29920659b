# The daily models: ONE scheduled query whose script runs
# sql/<model>/incremental.sql for every model of sql/models.json, in that
# (dependency) order. Each model runs in its own BEGIN ... END block, so its
# DECLAREs stay at the top of a block, and a failing model stops the script:
# the models after it do not run on incomplete inputs.
#
# The model SQL takes @run_date, the day to build. BigQuery's scheduled-query
# @run_date is the date the run fires (UTC), so the script declares
# eventharbor_run_date = @run_date - var.models_lag_days (default 1: yesterday,
# complete at 03:00) and the models' @run_date is rewritten to it.
#
# The SQL refers to tables as `events.<table>` and `analytics.<table>`; those
# references are rewritten to var.dataset_ids, as the Python model runner does.

locals {
  models_file = "${path.module}/../sql/models.json"
  models      = var.scheduled_models_enabled ? jsondecode(file(local.models_file)) : []

  # The models' own SQL, with `events.` / `analytics.` pointed at var.dataset_ids and
  # @run_date replaced by the script variable declared below.
  model_steps = [
    for model in local.models : replace(
      replace(
        replace(
          file("${path.module}/../sql/${model}/incremental.sql"),
          "`events.",
          "`${var.dataset_ids["events"]}.",
        ),
        "`analytics.",
        "`${var.dataset_ids["analytics"]}.",
      ),
      "@run_date",
      "eventharbor_run_date",
    )
  ]

  models_script = join("\n", concat(
    [
      "-- EventHarbor daily models (terraform/scheduled_queries.tf), in sql/models.json order.",
      "-- BigQuery sets @run_date to the date of the scheduled run (UTC); the models build the",
      "-- day var.models_lag_days before it, which is complete when the schedule fires.",
      "DECLARE eventharbor_run_date DATE DEFAULT DATE_SUB(@run_date, INTERVAL ${var.models_lag_days} DAY);",
      "",
    ],
    [
      for i, model in local.models :
      "-- step ${i + 1} of ${length(local.models)}: sql/${model}/incremental.sql\nBEGIN\n${trimspace(local.model_steps[i])}\nEND;\n"
    ],
  ))
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

  depends_on = [
    google_bigquery_table.tables,
    google_bigquery_dataset_iam_member.models_analytics_editor,
    google_bigquery_dataset_iam_member.models_events_viewer,
    google_project_iam_member.models_job_user,
    google_service_account_iam_member.models_token_minter,
  ]
}
