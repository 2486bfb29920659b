# Inputs of the EventHarbor infrastructure. envs/dev.tfvars and envs/prod.tfvars
# set the ones that differ per environment; docs/deploy.md lists them all.

# --- Project and placement ---------------------------------------------------

variable "project_id" {
  description = "Google Cloud project id every resource is created in (one project per environment is recommended)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the Dataflow job, the Pub/Sub-adjacent resources and (by default) the buckets, e.g. us-central1."
  type        = string
  default     = "us-central1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1 or europe-west1 (not a zone)."
  }
}

variable "bigquery_location" {
  description = "Location of the BigQuery datasets and the scheduled query: a multi-region (US, EU) or a region; keep it near var.region."
  type        = string
  default     = "US"

  validation {
    condition     = can(regex("^(US|EU|[a-z]+-[a-z]+[0-9]+)$", var.bigquery_location))
    error_message = "bigquery_location must be US, EU or a region such as europe-west1."
  }
}

variable "bucket_location" {
  description = "Location of the GCS buckets; null uses var.region. A multi-region (US, EU) is allowed."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_location == null ? true : can(regex("^(US|EU|ASIA|[a-z]+-[a-z]+[0-9]+)$", var.bucket_location))
    error_message = "bucket_location must be null, US, EU, ASIA or a region such as europe-west1."
  }
}

variable "env" {
  description = "Environment name, dev or prod; used in labels (envs/<env>.tfvars sets the rest)."
  type        = string

  validation {
    condition     = contains(["dev", "prod"], var.env)
    error_message = "env must be dev or prod."
  }
}

variable "name_prefix" {
  description = "Prefix of service account ids, bucket names, the dead-letter topic and the Artifact Registry repository."
  type        = string
  default     = "eventharbor"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-20 lowercase letters, digits or hyphens, starting with a letter (service account ids are at most 30 characters)."
  }
}

variable "labels" {
  description = "Extra labels put on every labelled resource, merged over app, env and managed_by."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "Label keys must start with a lowercase letter; keys and values use lowercase letters, digits, _ and - (at most 63 characters)."
  }
}

variable "enable_apis" {
  description = "Enable the Google Cloud APIs this stack needs (google_project_service). Turn off when a platform team manages them."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Protect BigQuery tables from terraform destroy/replace, keep dataset contents and refuse to delete non-empty buckets. true in prod."
  type        = bool
  default     = true
}

variable "kms_key_name" {
  description = "Optional Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) for CMEK on datasets, tables, topics, buckets and the Dataflow job; null uses Google-managed keys. The key must be in a location compatible with each resource."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_name == null ? true : can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_name))
    error_message = "kms_key_name must be null or projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY."
  }
}

# --- BigQuery ------------------------------------------------------------------

variable "dataset_ids" {
  description = "Actual BigQuery dataset ids of the logical datasets of schemas/tables.json: events (what the pipeline writes) and analytics (the scheduled models). Scheduled SQL is rewritten to use them."
  type        = map(string)
  default = {
    events    = "events"
    analytics = "analytics"
  }

  validation {
    condition     = length(setsubtract(["events", "analytics"], keys(var.dataset_ids))) == 0 && length(setsubtract(keys(var.dataset_ids), ["events", "analytics"])) == 0
    error_message = "dataset_ids must have exactly the keys events and analytics."
  }

  validation {
    condition     = alltrue([for id in values(var.dataset_ids) : can(regex("^[A-Za-z0-9_]+$", id)) && length(id) <= 1024])
    error_message = "Dataset ids use letters, digits and underscores only."
  }
}

variable "events_partition_expiration_days" {
  description = "Overrides the partition expiration of every events.* table that has one in schemas/tables.json (90 days there, as the seed design); null keeps the catalog value. Analytics tables never expire."
  type        = number
  default     = null

  validation {
    condition     = var.events_partition_expiration_days == null ? true : var.events_partition_expiration_days >= 1 && floor(var.events_partition_expiration_days) == var.events_partition_expiration_days
    error_message = "events_partition_expiration_days must be null or a whole number of days >= 1."
  }
}

variable "analytics_readers" {
  description = "IAM members (e.g. group:analysts@example.com) granted roles/bigquery.dataViewer on the analytics dataset."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.analytics_readers : can(regex("^(user|group|serviceAccount|domain):.+$", m))])
    error_message = "Each reader must be an IAM member such as group:analysts@example.com."
  }
}

# --- Pub/Sub -------------------------------------------------------------------

variable "pubsub_topics" {
  description = "Source topics, each with a subscription for the Dataflow job: one per stream plus the mixed events topic (the pipeline routes by event_type)."
  type        = list(string)
  default     = ["orders", "inventory", "user_activity", "events"]

  validation {
    condition     = length(var.pubsub_topics) > 0 && alltrue([for t in var.pubsub_topics : can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,200}$", t)) && !startswith(t, "goog")])
    error_message = "pubsub_topics must be a non-empty list of valid topic names (3-201 characters, starting with a letter, not goog*)."
  }
}

variable "ack_deadline_seconds" {
  description = "Ack deadline of the Dataflow subscriptions (Dataflow extends it while it works on a message)."
  type        = number
  default     = 60

  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be between 10 and 600."
  }
}

variable "message_retention_seconds" {
  description = "How long the Dataflow subscriptions and the dead-letter subscription keep unacknowledged messages, in seconds (600 to 604800 = 7 days)."
  type        = number
  default     = 604800

  validation {
    condition     = var.message_retention_seconds >= 600 && var.message_retention_seconds <= 604800
    error_message = "message_retention_seconds must be between 600 and 604800."
  }
}

variable "retry_minimum_backoff_seconds" {
  description = "Minimum delay of the exponential-backoff retry policy of the Dataflow subscriptions, in seconds."
  type        = number
  default     = 10

  validation {
    condition     = var.retry_minimum_backoff_seconds >= 0 && var.retry_minimum_backoff_seconds <= 600
    error_message = "retry_minimum_backoff_seconds must be between 0 and 600."
  }
}

variable "retry_maximum_backoff_seconds" {
  description = "Maximum delay of the exponential-backoff retry policy of the Dataflow subscriptions, in seconds."
  type        = number
  default     = 600

  validation {
    condition     = var.retry_maximum_backoff_seconds >= var.retry_minimum_backoff_seconds && var.retry_maximum_backoff_seconds <= 600
    error_message = "retry_maximum_backoff_seconds must be between retry_minimum_backoff_seconds and 600."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of a message before Pub/Sub moves it to the dead-letter topic (5 to 100)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100."
  }
}

# --- Cloud Storage -------------------------------------------------------------

variable "archive_bucket_name" {
  description = "Name of the raw archive bucket; null uses <project_id>-<name_prefix>-archive."
  type        = string
  default     = null

  validation {
    condition     = var.archive_bucket_name == null ? true : can(regex("^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$", var.archive_bucket_name))
    error_message = "archive_bucket_name must be 3-63 lowercase letters, digits, _ or -."
  }
}

variable "temp_bucket_name" {
  description = "Name of the Dataflow temp/staging bucket; null uses <project_id>-<name_prefix>-dataflow."
  type        = string
  default     = null

  validation {
    condition     = var.temp_bucket_name == null ? true : can(regex("^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$", var.temp_bucket_name))
    error_message = "temp_bucket_name must be 3-63 lowercase letters, digits, _ or -."
  }
}

variable "archive_nearline_after_days" {
  description = "Age in days after which raw archive objects move from STANDARD to NEARLINE."
  type        = number
  default     = 30

  validation {
    condition     = var.archive_nearline_after_days >= 1
    error_message = "archive_nearline_after_days must be >= 1."
  }
}

variable "archive_coldline_after_days" {
  description = "Age in days after which raw archive objects move from NEARLINE to COLDLINE (NEARLINE bills at least 30 days)."
  type        = number
  default     = 90

  validation {
    condition     = var.archive_coldline_after_days >= var.archive_nearline_after_days + 30
    error_message = "archive_coldline_after_days must be at least archive_nearline_after_days + 30."
  }
}

variable "archive_delete_after_days" {
  description = "Age in days after which raw archive objects are deleted (COLDLINE bills at least 90 days)."
  type        = number
  default     = 730

  validation {
    condition     = var.archive_delete_after_days >= var.archive_coldline_after_days + 90
    error_message = "archive_delete_after_days must be at least archive_coldline_after_days + 90."
  }
}

variable "archive_noncurrent_delete_after_days" {
  description = "Days a noncurrent (overwritten or deleted) archive object version is kept before deletion; the bucket is versioned."
  type        = number
  default     = 30

  validation {
    condition     = var.archive_noncurrent_delete_after_days >= 1
    error_message = "archive_noncurrent_delete_after_days must be >= 1."
  }
}

variable "archive_soft_delete_days" {
  description = "Soft-delete retention of the archive bucket in days: 0 disables it, otherwise 7 to 90."
  type        = number
  default     = 7

  validation {
    condition     = var.archive_soft_delete_days == 0 || (var.archive_soft_delete_days >= 7 && var.archive_soft_delete_days <= 90)
    error_message = "archive_soft_delete_days must be 0 or between 7 and 90."
  }
}

variable "temp_delete_after_days" {
  description = "Age in days after which objects under temp/ in the Dataflow bucket are deleted (staging/ is kept: running jobs need it)."
  type        = number
  default     = 7

  validation {
    condition     = var.temp_delete_after_days >= 1
    error_message = "temp_delete_after_days must be >= 1."
  }
}

variable "access_log_retention_days" {
  description = "Age in days after which the buckets' usage and storage logs are deleted from the log bucket."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 1
    error_message = "access_log_retention_days must be >= 1."
  }
}

# --- Service accounts and access -----------------------------------------------

variable "dataflow_bigquery_job_user" {
  description = "Grant the Dataflow service account roles/bigquery.jobUser on the project: batch runs on Dataflow (replays of the archive) write by load jobs, which are BigQuery jobs. Set false for a streaming-only deployment (the Storage Write API and streaming inserts need only dataEditor on the dataset), or run batch jobs with --bigquery_write_method storage_write_api (or streaming_inserts)."
  type        = bool
  default     = true
}

variable "pipeline_deployers" {
  description = "IAM members (e.g. user:you@example.com, serviceAccount:ci@...) who run make deploy-pipeline: granted roles/dataflow.developer on the project and roles/iam.serviceAccountUser on the Dataflow service account only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.pipeline_deployers : can(regex("^(user|group|serviceAccount):.+$", m))])
    error_message = "Each deployer must be an IAM member such as user:you@example.com."
  }
}

variable "ip_mode" {
  description = "How the pipeline stores user_activity.ip_address: raw, truncate (default) or hash (keyed HMAC-SHA256, needs ip_hash_key_secret_version)."
  type        = string
  default     = "truncate"

  validation {
    condition     = contains(["raw", "truncate", "hash"], var.ip_mode)
    error_message = "ip_mode must be raw, truncate or hash."
  }

  validation {
    condition     = var.ip_mode != "hash" || var.ip_hash_key_secret_version != null
    error_message = "ip_mode = hash needs ip_hash_key_secret_version."
  }
}

variable "ip_hash_key_secret_version" {
  description = "Secret Manager secret version holding the IP hash key (projects/P/secrets/S/versions/V), used with ip_mode = hash. The Dataflow service account and pipeline_deployers get secretAccessor on that secret. null when not hashing."
  type        = string
  default     = null

  validation {
    condition     = var.ip_hash_key_secret_version == null ? true : can(regex("^projects/[^/]+/secrets/[^/]+/versions/[^/]+$", var.ip_hash_key_secret_version))
    error_message = "ip_hash_key_secret_version must be null or projects/PROJECT/secrets/SECRET/versions/VERSION."
  }
}

# --- Scheduled models ------------------------------------------------------------

variable "scheduled_models_enabled" {
  description = "Create the daily scheduled query: terraform/generated/daily_models.sql (rendered by python -m warehouse.render), every model in dependency order."
  type        = bool
  default     = true
}

variable "models_schedule" {
  description = "Schedule of the daily models scheduled query, in the BigQuery Data Transfer schedule syntax (UTC). BigQuery sets @run_date from it."
  type        = string
  default     = "every day 03:00"

  validation {
    condition     = can(regex("^every ", var.models_schedule)) || can(regex("^[0-9a-z, ]+ [0-9]{2}:[0-9]{2}$", var.models_schedule))
    error_message = "models_schedule must be a Data Transfer schedule such as \"every day 03:00\"."
  }
}

variable "models_lag_days" {
  description = "Days between a scheduled run and the day the models build: the script runs the model SQL with @run_date = the run's date minus this. 1 builds yesterday, complete at the schedule time."
  type        = number
  default     = 1

  validation {
    condition     = var.models_lag_days >= 0 && var.models_lag_days <= 30 && floor(var.models_lag_days) == var.models_lag_days
    error_message = "models_lag_days must be a whole number between 0 and 30."
  }
}

variable "late_data_horizon_days" {
  description = "How far back a scheduled run may rebuild the models: each run rebuilds from the earliest day whose raw rows or dead letters changed since the last successful run (late events, archive replays, a missed run), but never from before its day minus this many days. Later arrivals are counted in analytics.model_builds and raise the late-data alert. Must be shorter than the raw tables' partition expiration."
  type        = number
  default     = 7

  validation {
    condition     = var.late_data_horizon_days >= 1 && var.late_data_horizon_days <= 365 && floor(var.late_data_horizon_days) == var.late_data_horizon_days
    error_message = "late_data_horizon_days must be a whole number between 1 and 365 (and below the raw tables' partition expiration)."
  }
}

# --- Dataflow ----------------------------------------------------------------------

variable "dataflow_job_name" {
  description = "Name of the streaming Dataflow job (make deploy-pipeline and the optional Flex Template job); an in-place update needs the same name."
  type        = string
  default     = "eventharbor-streaming"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,62}[a-z0-9])?$", var.dataflow_job_name))
    error_message = "dataflow_job_name must be lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "dataflow_max_workers" {
  description = "Maximum number of Dataflow workers for autoscaling."
  type        = number
  default     = 3

  validation {
    condition     = var.dataflow_max_workers >= 1 && var.dataflow_max_workers <= 1000
    error_message = "dataflow_max_workers must be between 1 and 1000."
  }
}

variable "dataflow_machine_type" {
  description = "Worker machine type; null keeps Dataflow's default."
  type        = string
  default     = null

  validation {
    condition     = var.dataflow_machine_type == null ? true : can(regex("^[a-z0-9]+-[a-z0-9-]+$", var.dataflow_machine_type))
    error_message = "dataflow_machine_type must be null or a machine type such as n2-standard-2."
  }
}

variable "dataflow_subnetwork" {
  description = "Subnetwork of the Dataflow workers (regions/REGION/subnetworks/NAME or a full URL); null uses the default network. With private IPs it needs Private Google Access."
  type        = string
  default     = null

  validation {
    condition     = var.dataflow_subnetwork == null ? true : can(regex("(^|/)regions/[a-z]+-[a-z]+[0-9]+/subnetworks/[a-z]([-a-z0-9]*[a-z0-9])?$", var.dataflow_subnetwork))
    error_message = "dataflow_subnetwork must be null or regions/REGION/subnetworks/NAME (optionally prefixed by a URL or projects/PROJECT/)."
  }
}

variable "dataflow_use_public_ips" {
  description = "Give Dataflow workers public IPs. false (recommended in prod) needs a subnetwork with Private Google Access."
  type        = bool
  default     = true
}

variable "artifact_registry_enabled" {
  description = "Create a Docker Artifact Registry repository for the Flex Template image and let the Dataflow service account read it."
  type        = bool
  default     = false
}

variable "dataflow_job_enabled" {
  description = "Let Terraform run the streaming job from the Flex Template (google_dataflow_flex_template_job). Off by default: make deploy-pipeline submits it instead."
  type        = bool
  default     = false

  validation {
    condition     = !var.dataflow_job_enabled || var.artifact_registry_enabled || var.flex_template_image != null
    error_message = "dataflow_job_enabled needs artifact_registry_enabled = true or an explicit flex_template_image."
  }
}

variable "flex_template_image" {
  description = "Flex Template image (launcher and worker SDK container); null uses REGION-docker.pkg.dev/PROJECT/<name_prefix>/pipeline:latest."
  type        = string
  default     = null
}

variable "flex_template_spec_gcs_path" {
  description = "gs:// path of the Flex Template spec built by gcloud dataflow flex-template build; null uses gs://<temp bucket>/templates/<name_prefix>.json."
  type        = string
  default     = null

  validation {
    condition     = var.flex_template_spec_gcs_path == null ? true : can(regex("^gs://[a-z0-9][a-z0-9._-]+/.+\\.json$", var.flex_template_spec_gcs_path))
    error_message = "flex_template_spec_gcs_path must be null or gs://BUCKET/PATH.json."
  }
}

variable "dataflow_extra_parameters" {
  description = "Extra pipeline options for the Flex Template job, such as window_size_s or dedup_window_s, as strings keyed by option name without dashes."
  type        = map(string)
  default     = {}
}

# --- Monitoring ----------------------------------------------------------------------

variable "monitoring_enabled" {
  description = "Create the alert policies, the three scheduled BigQuery checks and the pipeline dashboard of monitoring.tf."
  type        = bool
  default     = true
}

variable "notification_channels" {
  description = "Cloud Monitoring notification channel ids (projects/P/notificationChannels/ID) every alert policy notifies; empty opens incidents without paging anyone."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", c))])
    error_message = "Each notification channel must be projects/PROJECT/notificationChannels/CHANNEL_ID."
  }
}

variable "alert_duration_seconds" {
  description = "How long a threshold must be exceeded before the backlog, Pub/Sub dead-letter and Dataflow freshness alerts fire, in seconds."
  type        = number
  default     = 300

  validation {
    condition     = var.alert_duration_seconds >= 0 && var.alert_duration_seconds <= 86400 && floor(var.alert_duration_seconds / 60) * 60 == var.alert_duration_seconds
    error_message = "alert_duration_seconds must be a whole number of minutes (a multiple of 60) between 0 and 86400."
  }
}

variable "backlog_max_age_seconds" {
  description = "Alert when the oldest unacknowledged message on a Dataflow subscription is older than this, in seconds (the backlog is not being drained)."
  type        = number
  default     = 600

  validation {
    condition     = var.backlog_max_age_seconds >= 60
    error_message = "backlog_max_age_seconds must be at least 60."
  }
}

variable "pubsub_dead_letter_max_messages" {
  description = "Alert when the Pub/Sub dead-letter hold subscription has more undelivered messages than this (messages the job kept failing to acknowledge)."
  type        = number
  default     = 0

  validation {
    condition     = var.pubsub_dead_letter_max_messages >= 0 && floor(var.pubsub_dead_letter_max_messages) == var.pubsub_dead_letter_max_messages
    error_message = "pubsub_dead_letter_max_messages must be a whole number >= 0."
  }
}

variable "dataflow_data_freshness_max_seconds" {
  description = "Alert when the streaming job's data freshness (job/data_watermark_age: how old the data not yet fully processed is) exceeds this, in seconds."
  type        = number
  default     = 600

  validation {
    condition     = var.dataflow_data_freshness_max_seconds >= 60
    error_message = "dataflow_data_freshness_max_seconds must be at least 60."
  }
}

variable "dataflow_system_lag_max_seconds" {
  description = "Alert when the streaming job's system lag (job/system_lag: the longest an element has waited or been processing) exceeds this, in seconds."
  type        = number
  default     = 300

  validation {
    condition     = var.dataflow_system_lag_max_seconds >= 30
    error_message = "dataflow_system_lag_max_seconds must be at least 30."
  }
}

variable "dataflow_job_absent_minutes" {
  description = "Alert when the streaming job has reported no metrics for this many minutes (cancelled, drained, or failed before launch)."
  type        = number
  default     = 15

  validation {
    condition     = var.dataflow_job_absent_minutes >= 5 && var.dataflow_job_absent_minutes <= 1440 && floor(var.dataflow_job_absent_minutes) == var.dataflow_job_absent_minutes
    error_message = "dataflow_job_absent_minutes must be a whole number between 5 and 1440."
  }
}

variable "dead_letter_rate_threshold" {
  description = "Alert when more than this share (0-1) of a stream's messages in the window became dead letters (events.dead_letter against the raw table)."
  type        = number
  default     = 0.05

  validation {
    condition     = var.dead_letter_rate_threshold > 0 && var.dead_letter_rate_threshold < 1
    error_message = "dead_letter_rate_threshold must be a share strictly between 0 and 1, e.g. 0.05."
  }
}

variable "dead_letter_rate_window_minutes" {
  description = "Window of the dead-letter rate check, in minutes: dead letters and loaded rows of the last this many minutes."
  type        = number
  default     = 60

  validation {
    condition     = var.dead_letter_rate_window_minutes >= 15 && var.dead_letter_rate_window_minutes <= 1440 && floor(var.dead_letter_rate_window_minutes) == var.dead_letter_rate_window_minutes
    error_message = "dead_letter_rate_window_minutes must be a whole number between 15 and 1440."
  }
}

variable "dead_letter_min_count" {
  description = "The dead-letter rate check ignores a stream with fewer dead letters than this in the window (a handful of bad messages on a quiet stream)."
  type        = number
  default     = 10

  validation {
    condition     = var.dead_letter_min_count >= 1 && floor(var.dead_letter_min_count) == var.dead_letter_min_count
    error_message = "dead_letter_min_count must be a whole number >= 1."
  }
}

variable "raw_table_stale_minutes" {
  description = "Alert when a raw table's newest row was processed more than this many minutes ago (no rows loaded)."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_table_stale_minutes >= 15 && floor(var.raw_table_stale_minutes) == var.raw_table_stale_minutes
    error_message = "raw_table_stale_minutes must be a whole number >= 15 (the checks run at most every 15 minutes)."
  }
}

variable "raw_tables_monitored" {
  description = "Raw tables (events.<stream>) the freshness check watches; leave out a stream that is legitimately quiet for long."
  type        = list(string)
  default     = ["orders", "inventory", "user_activity"]

  validation {
    condition     = length(var.raw_tables_monitored) > 0 && length(setsubtract(var.raw_tables_monitored, ["orders", "inventory", "user_activity"])) == 0
    error_message = "raw_tables_monitored must be a non-empty subset of orders, inventory and user_activity."
  }
}

variable "monitoring_check_schedule" {
  description = "Schedule of the scheduled BigQuery checks (dead-letter rate, raw-table freshness, late data), in the Data Transfer schedule syntax; at most every 15 minutes."
  type        = string
  default     = "every 15 minutes"

  validation {
    condition     = can(regex("^every ([1-9][0-9]*) (minutes|hours)$", var.monitoring_check_schedule)) && !can(regex("^every ([1-9]|1[0-4]) minutes$", var.monitoring_check_schedule))
    error_message = "monitoring_check_schedule must be \"every N minutes\" (N >= 15) or \"every N hours\"."
  }
}

variable "scheduled_query_failures_allowed" {
  description = "Alert when more than this many runs of the scheduled queries (models and checks) end FAILED or CANCELLED within an hour."
  type        = number
  default     = 0

  validation {
    condition     = var.scheduled_query_failures_allowed >= 0 && floor(var.scheduled_query_failures_allowed) == var.scheduled_query_failures_allowed
    error_message = "scheduled_query_failures_allowed must be a whole number >= 0."
  }
}
