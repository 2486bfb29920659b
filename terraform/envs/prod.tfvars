# Production: deletion protection on, data kept longer, private workers.
# Replace project_id (and dataflow_subnetwork) before `make deploy-infra TFVARS=envs/prod.tfvars`.
project_id        = "my-eventharbor-prod"
env               = "prod"
region            = "us-central1"
bigquery_location = "US"

deletion_protection = true

# null keeps the 90 days of schemas/tables.json.
events_partition_expiration_days = null
archive_nearline_after_days      = 30
archive_coldline_after_days      = 90
archive_delete_after_days        = 730
archive_soft_delete_days         = 7

ack_deadline_seconds  = 60
max_delivery_attempts = 10

dataflow_max_workers    = 10
dataflow_machine_type   = "n2-standard-2"
dataflow_use_public_ips = false
# A subnetwork with Private Google Access (required with private worker IPs).
dataflow_subnetwork = "regions/us-central1/subnetworks/default"

ip_mode = "truncate"

labels = {
  team = "data-platform"
}

# Monitoring: add your channel ids (Cloud Monitoring > Alerting > notification channels), e.g.
# ["projects/my-eventharbor-prod/notificationChannels/1234567890"]. Empty pages nobody.
notification_channels      = []
backlog_max_age_seconds    = 600
dead_letter_rate_threshold = 0.05
raw_table_stale_minutes    = 30
