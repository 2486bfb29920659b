# Development: everything can be torn down with `terraform destroy`.
# Replace project_id with your dev project before `make deploy-infra`.
project_id        = "my-eventharbor-dev"
env               = "dev"
region            = "us-central1"
bigquery_location = "US"

deletion_protection = false

# Short-lived data in dev.
events_partition_expiration_days = 30
archive_nearline_after_days      = 30
archive_coldline_after_days      = 60
archive_delete_after_days        = 150
archive_soft_delete_days         = 0

dataflow_max_workers    = 2
dataflow_use_public_ips = true

labels = {
  team = "data-platform"
}

# Monitoring: incidents open in the console, nobody is paged; the checks run hourly (cost), and
# a quiet dev project is not "stale" for 3 hours.
notification_channels     = []
monitoring_check_schedule = "every 1 hours"
raw_table_stale_minutes   = 180
