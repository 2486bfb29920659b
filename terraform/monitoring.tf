# Monitoring as code: alert policies, three scheduled BigQuery checks and the pipeline dashboard
# (dashboards/pipeline.json). Everything here is off with monitoring_enabled = false; thresholds
# are variables (variables.tf, "Monitoring"), notification channels come from
# var.notification_channels (an empty list still opens incidents in the console, it pages nobody).
#
# Which signal each alert uses, and why:
#   backlog           pubsub.googleapis.com/subscription/oldest_unacked_message_age, per Dataflow
#                     subscription: the age of the oldest message the job has not acknowledged.
#   pubsub dead letters  pubsub.googleapis.com/subscription/num_undelivered_messages on the
#                     dead-letter hold subscription: messages Pub/Sub gave up delivering (a job
#                     that keeps failing to ack them); normal rejections go to events.dead_letter.
#   freshness         dataflow.googleapis.com/job/data_watermark_age (data freshness) and
#                     job/system_lag of the streaming job, by job name.
#   job failure       dataflow.googleapis.com/job/is_failed, and job/system_lag going silent: is_failed
#                     "isn't recorded for jobs that fail before launch", and a cancelled or drained
#                     job stops reporting altogether.
#   dead-letter rate  a scheduled query over events.dead_letter and the raw tables, per stream,
#                     alerting on bigquerydatatransfer.googleapis.com/transfer_config/
#                     last_execution_job_rows (the rows its last run returned). Not the Beam
#                     counters: Dataflow exports them as job/user_counter with the labels
#                     metric_name, job_id and ptransform only, so the stream, which is the counter's
#                     namespace (eventharbor.<stream>), is not in the metric, and rejections of all
#                     streams are counted in the same transform. Not a log-based metric: the
#                     pipeline does not log each dead letter (it writes them to BigQuery).
#   scheduled-query failures  bigquerydatatransfer.googleapis.com/transfer_config/completed_runs
#                     with completion_state other than SUCCEEDED, for the models and both checks.
#   late data         a scheduled query over analytics.model_builds (the models' build log): the
#                     latest run counted rows beyond late_data_horizon_days, days it could not
#                     rebuild, or rows in raw partitions older than the expiration; alerting on
#                     last_execution_job_rows like the dead-letter rate. The models' own run
#                     succeeds (it built what it could): failing it would hide real failures.
#   raw-table freshness  a scheduled query: the newest processed_timestamp of each raw table
#                     (what has actually landed in BigQuery, after refusals and retries), alerting
#                     on the same last_execution_job_rows metric. BigQuery's own storage metrics
#                     (storage/uploaded_row_count) can take hours to become visible.
#
# The checks run as the models service account, which already reads events and runs BigQuery
# jobs (iam.tf): no new grant. Each run scans processed_timestamp / failed_at over the last
# few days' partitions only.

locals {
  monitoring = var.monitoring_enabled ? 1 : 0

  # The raw table of each stream (schemas.STREAMS); dead letters of other streams (unknown)
  # have no raw table, so their rate is 1 once they pass dead_letter_min_count.
  raw_stream_tables = ["orders", "inventory", "user_activity"]

  events_ref = "${var.project_id}.${google_bigquery_dataset.datasets["events"].dataset_id}"
  raw_table_refs = {
    for table in local.raw_stream_tables :
    table => format("%s.%s", local.events_ref, google_bigquery_table.tables[format("events.%s", table)].table_id)
  }
  dead_letter_ref = format("%s.%s", local.events_ref, google_bigquery_table.tables["events.dead_letter"].table_id)
  model_builds_ref = format(
    "%s.%s.%s", var.project_id, google_bigquery_dataset.datasets["analytics"].dataset_id,
    google_bigquery_table.tables["analytics.model_builds"].table_id
  )

  # Raw rows are partitioned by event date, and a partition filter is required: the checks read
  # the last few days of partitions, so a row whose event time is older than that is not seen.
  check_lookback_days = 3
  recent_partitions   = "event_date >= DATE_SUB(CURRENT_DATE(), INTERVAL ${local.check_lookback_days} DAY)"
  rate_window_start   = "TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL ${var.dead_letter_rate_window_minutes} MINUTE)"

  rows_loaded_sql = join("\n  UNION ALL\n", [
    for table in local.raw_stream_tables :
    "  SELECT '${table}' AS stream, COUNT(*) AS rows_loaded\n  FROM `${local.raw_table_refs[table]}`\n  WHERE ${local.recent_partitions} AND processed_timestamp >= ${local.rate_window_start}"
  ])

  last_loaded_sql = join("\n  UNION ALL\n", [
    for table in var.raw_tables_monitored :
    "  SELECT '${table}' AS table_name, MAX(processed_timestamp) AS last_loaded_at\n  FROM `${local.raw_table_refs[table]}`\n  WHERE ${local.recent_partitions}"
  ])

  dead_letter_rate_check_sql = <<-EOT
    -- EventHarbor monitoring check: streams whose share of dead letters over the last
    -- ${var.dead_letter_rate_window_minutes} minutes is above ${var.dead_letter_rate_threshold} (at least ${var.dead_letter_min_count} dead letters).
    -- One row per stream in breach; the "dead-letter rate" alert fires while the last run returned rows.
    SELECT
      dead.stream,
      dead.dead_letters,
      IFNULL(loaded.rows_loaded, 0) AS rows_loaded,
      ROUND(SAFE_DIVIDE(dead.dead_letters, dead.dead_letters + IFNULL(loaded.rows_loaded, 0)), 4) AS dead_letter_rate
    FROM (
      SELECT stream, COUNT(*) AS dead_letters
      FROM `${local.dead_letter_ref}`
      WHERE failed_at >= ${local.rate_window_start}
      GROUP BY stream
    ) AS dead
    LEFT JOIN (
    ${local.rows_loaded_sql}
    ) AS loaded
    ON dead.stream = loaded.stream
    WHERE dead.dead_letters >= ${var.dead_letter_min_count}
      AND SAFE_DIVIDE(dead.dead_letters, dead.dead_letters + IFNULL(loaded.rows_loaded, 0)) > ${var.dead_letter_rate_threshold}
  EOT

  raw_table_freshness_check_sql = <<-EOT
    -- EventHarbor monitoring check: raw tables with no row processed in the last ${var.raw_table_stale_minutes} minutes.
    -- One row per stale table; the "raw-table freshness" alert fires while the last run returned rows.
    SELECT
      table_name,
      last_loaded_at,
      TIMESTAMP_DIFF(CURRENT_TIMESTAMP(), last_loaded_at, MINUTE) AS minutes_since_last_row
    FROM (
    ${local.last_loaded_sql}
    )
    WHERE last_loaded_at IS NULL
      OR last_loaded_at < TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL ${var.raw_table_stale_minutes} MINUTE)
  EOT

  late_data_check_sql = <<-EOT
    -- EventHarbor monitoring check: the models' latest scheduled run (analytics.model_builds) met data
    -- it could not absorb: rows for days older than late_data_horizon_days (${var.late_data_horizon_days}), days it could not
    -- rebuild, or raw rows in partitions older than the expiration. One row when it did; the "late data"
    -- alert fires while the last run returned it.
    SELECT run_date, built_through, rows_beyond_horizon, days_beyond_horizon, rows_in_expired_partitions
    FROM (
      SELECT *
      FROM `${local.model_builds_ref}`
      WHERE run_date >= DATE_SUB(CURRENT_DATE(), INTERVAL ${local.check_lookback_days} DAY)
      ORDER BY finished_at DESC
      LIMIT 1
    )
    WHERE rows_beyond_horizon > 0 OR days_beyond_horizon > 0 OR rows_in_expired_partitions > 0
  EOT

  # The scheduled checks: a plain SELECT each, without a destination; only the number of rows
  # its last run returned matters (last_execution_job_rows).
  check_queries = {
    dead_letter_rate    = local.dead_letter_rate_check_sql
    raw_table_freshness = local.raw_table_freshness_check_sql
    late_data           = local.late_data_check_sql
  }

  # config_id of a transfer config: the last segment of its name
  # (projects/P/locations/L/transferConfigs/ID). A list per check: empty while monitoring is off.
  models_config_ids = [for config in google_bigquery_data_transfer_config.models : reverse(split("/", config.name))[0]]
  check_config_ids = {
    for check in keys(local.check_queries) : check => [
      for name, config in google_bigquery_data_transfer_config.checks : reverse(split("/", config.name))[0] if name == check
    ]
  }
  scheduled_config_ids = concat(local.models_config_ids, flatten(values(local.check_config_ids)))

  dataflow_subscription_filter = "resource.labels.subscription_id = one_of(${join(", ", [for topic in var.pubsub_topics : "\"${google_pubsub_subscription.dataflow[topic].name}\""])})"
  dataflow_job_filter          = "resource.type = \"dataflow_job\" AND resource.labels.job_name = \"${var.dataflow_job_name}\""
  dts_filter                   = "resource.type = \"bigquery_dts_config\""
  alert_duration               = "${var.alert_duration_seconds}s"

  # What the alert on a scheduled check watches: the rows its last run returned.
  check_filters = {
    for check, ids in local.check_config_ids :
    check => "${local.dts_filter} AND metric.type = \"bigquerydatatransfer.googleapis.com/transfer_config/last_execution_job_rows\" AND resource.labels.config_id = one_of(${join(", ", [for id in ids : "\"${id}\""])})"
  }

  runbook = "docs/deploy.md, section Monitoring, and README.md, section Operations"
}

# --- Scheduled BigQuery checks ------------------------------------------------------

resource "google_bigquery_data_transfer_config" "checks" {
  for_each = var.monitoring_enabled ? local.check_queries : {}

  project              = var.project_id
  display_name         = "${var.name_prefix}-check-${replace(each.key, "_", "-")}"
  location             = var.bigquery_location
  data_source_id       = "scheduled_query"
  schedule             = var.monitoring_check_schedule
  service_account_name = google_service_account.models.email

  params = {
    query = each.value
  }

  depends_on = [
    google_bigquery_table.tables,
    google_bigquery_dataset_iam_member.service_accounts,
    google_project_iam_member.models_job_user,
    google_service_account_iam_member.models_token_minter,
  ]
}

# --- Alert policies ---------------------------------------------------------------------
#
# One policy per entry of alert_policies: its title (after "EventHarbor <env>: "), severity,
# conditions, documentation subject and content, and auto_close where incidents should close by
# themselves. A condition with a threshold fires while its metric stays above it for its
# duration; one without fires when the metric is absent for its duration. Each condition aligns
# its series over period with ALIGN_MAX unless it names an aligner (and a reducer and group_by).

locals {
  alert_policies = {
    backlog = {
      title      = "Pub/Sub backlog growing"
      severity   = "ERROR"
      auto_close = "1800s"
      conditions = [{
        display_name = "Oldest unacknowledged message older than ${var.backlog_max_age_seconds}s"
        filter       = "resource.type = \"pubsub_subscription\" AND metric.type = \"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND ${local.dataflow_subscription_filter}"
        threshold    = var.backlog_max_age_seconds
        duration     = local.alert_duration
        period       = "60s"
      }]
      subject = "backlog on $${resource.label.subscription_id}"
      content = <<-EOT
        The oldest message on Pub/Sub subscription `$${resource.label.subscription_id}` has waited more than
        ${var.backlog_max_age_seconds} seconds: the Dataflow job `${var.dataflow_job_name}` is not keeping up, or not running.

        1. Is the job running? (Dataflow > Jobs; the "job failed or silent" alert covers a failed job.)
        2. Look at the dashboard's backlog and throughput charts: is the publish rate up, or did the job slow down?
        3. If the job is healthy but saturated, raise `dataflow_max_workers` and update it (`UPDATE=1 make deploy-pipeline`).

        Threshold: variable `backlog_max_age_seconds`. Runbook: ${local.runbook}.
      EOT
    }

    pubsub_dead_letters = {
      title    = "messages on the Pub/Sub dead-letter topic"
      severity = "WARNING"
      conditions = [{
        display_name = "Undelivered messages on ${google_pubsub_subscription.dead_letter.name} above ${var.pubsub_dead_letter_max_messages}"
        filter       = "resource.type = \"pubsub_subscription\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.dead_letter.name}\""
        threshold    = var.pubsub_dead_letter_max_messages
        duration     = local.alert_duration
        period       = "300s"
      }]
      subject = "Pub/Sub dead-lettered messages"
      content = <<-EOT
        Pub/Sub moved messages to `${google_pubsub_topic.dead_letter.name}` after ${var.max_delivery_attempts} delivery attempts:
        the job received them but never acknowledged them (a crash loop, or a message that kills the worker).
        Bad events are not the cause: the pipeline acknowledges those and writes them to `events.dead_letter`.

        Inspect them on subscription `${google_pubsub_subscription.dead_letter.name}` and replay them into a source topic
        once the job is fixed. Threshold: variable `pubsub_dead_letter_max_messages`. Runbook: ${local.runbook}.
      EOT
    }

    dataflow_freshness = {
      title    = "Dataflow job falling behind"
      severity = "ERROR"
      conditions = [
        {
          display_name = "Data freshness (watermark age) above ${var.dataflow_data_freshness_max_seconds}s"
          filter       = "${local.dataflow_job_filter} AND metric.type = \"dataflow.googleapis.com/job/data_watermark_age\""
          threshold    = var.dataflow_data_freshness_max_seconds
          duration     = local.alert_duration
          period       = "60s"
        },
        {
          display_name = "System lag above ${var.dataflow_system_lag_max_seconds}s"
          filter       = "${local.dataflow_job_filter} AND metric.type = \"dataflow.googleapis.com/job/system_lag\""
          threshold    = var.dataflow_system_lag_max_seconds
          duration     = local.alert_duration
          period       = "60s"
        },
      ]
      subject = "${var.dataflow_job_name} is falling behind"
      content = <<-EOT
        The streaming job `${var.dataflow_job_name}` has data older than ${var.dataflow_data_freshness_max_seconds}s not yet fully
        processed (data freshness), or an element waiting more than ${var.dataflow_system_lag_max_seconds}s (system lag).

        Check the job's stages for a bottleneck or stuck step (Dataflow > job > Execution details), worker errors in the
        job logs, and BigQuery insert errors. Sustained load needs more workers (`dataflow_max_workers`).

        Thresholds: variables `dataflow_data_freshness_max_seconds`, `dataflow_system_lag_max_seconds`. Runbook: ${local.runbook}.
      EOT
    }

    dataflow_job_failed = {
      title    = "Dataflow job failed or silent"
      severity = "CRITICAL"
      conditions = [
        {
          display_name = "Job reports failure"
          filter       = "${local.dataflow_job_filter} AND metric.type = \"dataflow.googleapis.com/job/is_failed\""
          threshold    = 0
          duration     = "0s"
          period       = "60s"
        },
        # A job that failed before launch, was cancelled or drained reports nothing: absence of its
        # system lag for dataflow_job_absent_minutes means no streaming job is running under this name.
        {
          display_name = "No job metrics for ${var.dataflow_job_absent_minutes} minutes"
          filter       = "${local.dataflow_job_filter} AND metric.type = \"dataflow.googleapis.com/job/system_lag\""
          duration     = "${var.dataflow_job_absent_minutes * 60}s"
          period       = "300s"
        },
      ]
      subject = "${var.dataflow_job_name} failed or stopped"
      content = <<-EOT
        The streaming job `${var.dataflow_job_name}` failed, or has reported no metrics for ${var.dataflow_job_absent_minutes} minutes
        (cancelled, drained, or failed before it started). Messages wait on the subscriptions meanwhile (retention
        ${var.message_retention_seconds}s), so nothing is lost while it is brought back.

        Read the job's error logs, fix the cause, and start it again with `make deploy-pipeline` (or the Flex Template job).
        Absence window: variable `dataflow_job_absent_minutes`. Runbook: ${local.runbook}.
      EOT
    }

    dead_letter_rate = {
      title    = "dead-letter rate high on a stream"
      severity = "WARNING"
      conditions = [{
        display_name = "A stream's dead-letter share above ${var.dead_letter_rate_threshold} over ${var.dead_letter_rate_window_minutes} minutes"
        filter       = local.check_filters.dead_letter_rate
        threshold    = 0
        duration     = "0s"
        period       = "300s"
      }]
      subject = "dead-letter rate above ${var.dead_letter_rate_threshold}"
      content = <<-EOT
        The scheduled check `${var.name_prefix}-check-dead-letter-rate` found streams where more than ${var.dead_letter_rate_threshold} of the
        messages of the last ${var.dead_letter_rate_window_minutes} minutes became dead letters (at least ${var.dead_letter_min_count}).
        Its last run's results (BigQuery > Scheduled queries > run history) list the streams.

        Which error codes? `SELECT stream, error_code, COUNT(*) FROM events.dead_letter WHERE failed_at >
        TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL ${var.dead_letter_rate_window_minutes} MINUTE) GROUP BY 1, 2`, or the dashboard's
        "dead letters by error code" chart. A producer sending a new shape is the usual cause; fix it, then replay the
        dead letters (README, Replaying dead letters).

        Thresholds: variables `dead_letter_rate_threshold`, `dead_letter_rate_window_minutes`, `dead_letter_min_count`.
        Runbook: ${local.runbook}.
      EOT
    }

    scheduled_query_failed = {
      title    = "scheduled query run failed"
      severity = "ERROR"
      conditions = [{
        display_name = "More than ${var.scheduled_query_failures_allowed} unsuccessful runs in an hour"
        filter       = "${local.dts_filter} AND metric.type = \"bigquerydatatransfer.googleapis.com/transfer_config/completed_runs\" AND metric.labels.completion_state != \"SUCCEEDED\" AND resource.labels.config_id = one_of(${join(", ", [for id in local.scheduled_config_ids : "\"${id}\""])})"
        threshold    = var.scheduled_query_failures_allowed
        duration     = "0s"
        period       = "3600s"
        aligner      = "ALIGN_SUM"
        reducer      = "REDUCE_SUM"
        group_by     = ["resource.label.config_id"]
      }]
      subject = "scheduled query $${resource.label.config_id} did not succeed"
      content = <<-EOT
        A run of scheduled query `$${resource.label.config_id}` ended FAILED or CANCELLED: the daily models
        (`${var.name_prefix}-daily-models`) or one of the monitoring checks (`${var.name_prefix}-check-*`).
        A failed models run stops at the failing model, so the models after it did not build that day.

        Read the run's error (BigQuery > Scheduled queries > the query > Run history), fix it, then rebuild the day:
        `make backfill START=YYYY-MM-DD END=YYYY-MM-DD` or "Schedule backfill" on the scheduled query.
        A failing check leaves its alert at its last result: fix it before trusting that alert again.

        Threshold: variable `scheduled_query_failures_allowed`. Runbook: ${local.runbook}.
      EOT
    }

    raw_table_freshness = {
      title    = "raw table not receiving rows"
      severity = "ERROR"
      conditions = [{
        display_name = "A raw table has no row processed in ${var.raw_table_stale_minutes} minutes"
        filter       = local.check_filters.raw_table_freshness
        threshold    = 0
        duration     = "0s"
        period       = "300s"
      }]
      subject = "raw table stale for ${var.raw_table_stale_minutes} minutes"
      content = <<-EOT
        The scheduled check `${var.name_prefix}-check-raw-table-freshness` found raw tables among
        ${join(", ", var.raw_tables_monitored)} whose newest row was processed more than ${var.raw_table_stale_minutes} minutes ago.
        Its last run's results name them.

        Nothing published (the topic's publish rate on the dashboard), the job not running (see the job alerts), or every
        row refused by BigQuery (a spike of `load_rejected` dead letters) are the usual causes. Leave a quiet table out
        with `raw_tables_monitored`.

        Threshold: variable `raw_table_stale_minutes`. Runbook: ${local.runbook}.
      EOT
    }

    late_data = {
      title      = "late data beyond the models' horizon"
      severity   = "WARNING"
      auto_close = "86400s"
      conditions = [{
        display_name = "The latest models run met rows it could not absorb"
        filter       = local.check_filters.late_data
        threshold    = 0
        duration     = "0s"
        period       = "300s"
      }]
      subject = "late data the models did not absorb"
      content = <<-EOT
        The latest run of the daily models (`${var.name_prefix}-daily-models`) found rows it could not build into
        the models: rows for days more than ${var.late_data_horizon_days} days (`late_data_horizon_days`) before the
        day it built, days it should have rebuilt but could not (a schedule stopped for longer than the horizon), or
        raw rows in partitions older than the raw tables' partition expiration, which BigQuery deletes.

        1. See what: `SELECT * EXCEPT (partition_rows) FROM analytics.model_builds ORDER BY finished_at DESC LIMIT 5`.
        2. Rebuild the affected days up to the last built day: `make backfill START=<first day> END=<built_through>`
           (`python -m warehouse.runner backfill`), which the next scheduled run continues from.
        3. Rows in expired partitions are gone from BigQuery; the raw archive keeps them.

        Horizon: variable `late_data_horizon_days`. Runbook: ${local.runbook}.
      EOT
    }
  }
}

resource "google_monitoring_alert_policy" "alerts" {
  for_each = { for name, policy in local.alert_policies : name => policy if var.monitoring_enabled }

  project               = var.project_id
  display_name          = "EventHarbor ${var.env}: ${each.value.title}"
  combiner              = "OR"
  severity              = each.value.severity
  notification_channels = var.notification_channels
  user_labels           = local.labels

  dynamic "conditions" {
    for_each = each.value.conditions
    content {
      display_name = conditions.value.display_name

      dynamic "condition_threshold" {
        for_each = can(conditions.value.threshold) ? [conditions.value] : []
        content {
          filter          = condition_threshold.value.filter
          comparison      = "COMPARISON_GT"
          threshold_value = condition_threshold.value.threshold
          duration        = condition_threshold.value.duration

          aggregations {
            alignment_period     = condition_threshold.value.period
            per_series_aligner   = try(condition_threshold.value.aligner, "ALIGN_MAX")
            cross_series_reducer = try(condition_threshold.value.reducer, null)
            group_by_fields      = try(condition_threshold.value.group_by, null)
          }

          trigger {
            count = 1
          }
        }
      }

      dynamic "condition_absent" {
        for_each = can(conditions.value.threshold) ? [] : [conditions.value]
        content {
          filter   = condition_absent.value.filter
          duration = condition_absent.value.duration

          aggregations {
            alignment_period   = condition_absent.value.period
            per_series_aligner = "ALIGN_MAX"
          }

          trigger {
            count = 1
          }
        }
      }
    }
  }

  dynamic "alert_strategy" {
    for_each = can(each.value.auto_close) ? [each.value.auto_close] : []
    content {
      auto_close = alert_strategy.value
    }
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "EventHarbor ${var.env}: ${each.value.subject}"
    content   = each.value.content
  }
}

# --- Dashboard ---------------------------------------------------------------------------

resource "google_monitoring_dashboard" "pipeline" {
  count = local.monitoring

  project = var.project_id
  dashboard_json = templatefile("${path.module}/dashboards/pipeline.json", {
    env                      = var.env
    job_name                 = var.dataflow_job_name
    subscription_regex       = join("|", [for topic in var.pubsub_topics : google_pubsub_subscription.dataflow[topic].name])
    dead_letter_subscription = google_pubsub_subscription.dead_letter.name
    models_config_regex      = join("|", local.models_config_ids)
    check_config_regex       = join("|", flatten(values(local.check_config_ids)))
  })
}
