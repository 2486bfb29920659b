# State moves. Resources that became instances of one for_each resource (issue 23) keep their
# remote objects: on its next plan a deployment applied before that change shows "has moved to"
# for each of them, not a destroy and a create (which, for an IAM grant, could revoke the grant
# after its recreation). A fresh deployment ignores these blocks. Keep them until no deployment
# from before the change is left (Terraform >= 1.1; versions.tf asks for >= 1.9).

# Alert policies: one resource per policy (count) became one for_each over local.alert_policies.

moved {
  from = google_monitoring_alert_policy.backlog[0]
  to   = google_monitoring_alert_policy.alerts["backlog"]
}

moved {
  from = google_monitoring_alert_policy.pubsub_dead_letters[0]
  to   = google_monitoring_alert_policy.alerts["pubsub_dead_letters"]
}

moved {
  from = google_monitoring_alert_policy.dataflow_freshness[0]
  to   = google_monitoring_alert_policy.alerts["dataflow_freshness"]
}

moved {
  from = google_monitoring_alert_policy.dataflow_job_failed[0]
  to   = google_monitoring_alert_policy.alerts["dataflow_job_failed"]
}

moved {
  from = google_monitoring_alert_policy.dead_letter_rate[0]
  to   = google_monitoring_alert_policy.alerts["dead_letter_rate"]
}

moved {
  from = google_monitoring_alert_policy.scheduled_query_failed[0]
  to   = google_monitoring_alert_policy.alerts["scheduled_query_failed"]
}

moved {
  from = google_monitoring_alert_policy.raw_table_freshness[0]
  to   = google_monitoring_alert_policy.alerts["raw_table_freshness"]
}

moved {
  from = google_monitoring_alert_policy.late_data[0]
  to   = google_monitoring_alert_policy.alerts["late_data"]
}

# Scheduled checks: one resource per check (count) became one for_each over local.check_queries.

moved {
  from = google_bigquery_data_transfer_config.dead_letter_rate_check[0]
  to   = google_bigquery_data_transfer_config.checks["dead_letter_rate"]
}

moved {
  from = google_bigquery_data_transfer_config.raw_table_freshness_check[0]
  to   = google_bigquery_data_transfer_config.checks["raw_table_freshness"]
}

moved {
  from = google_bigquery_data_transfer_config.late_data_check[0]
  to   = google_bigquery_data_transfer_config.checks["late_data"]
}

# Dataset-level grants of the service accounts: one resource per grant became one for_each over
# local.dataset_grants.

moved {
  from = google_bigquery_dataset_iam_member.dataflow_events_editor
  to   = google_bigquery_dataset_iam_member.service_accounts["dataflow_events_editor"]
}

moved {
  from = google_bigquery_dataset_iam_member.models_analytics_editor
  to   = google_bigquery_dataset_iam_member.service_accounts["models_analytics_editor"]
}

moved {
  from = google_bigquery_dataset_iam_member.models_events_viewer
  to   = google_bigquery_dataset_iam_member.service_accounts["models_events_viewer"]
}
