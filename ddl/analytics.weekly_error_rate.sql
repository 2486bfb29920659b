-- Generated from schemas/analytics/weekly_error_rate.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.weekly_error_rate` (
  week DATE NOT NULL OPTIONS (description = "The Monday (UTC) of the ISO week; the partitioning column."),
  stream STRING NOT NULL OPTIONS (description = "orders, inventory or user_activity, or unknown for rejected messages whose stream cannot be told."),
  messages INT64 NOT NULL OPTIONS (description = "Messages of the stream that week: events loaded plus messages rejected, each once (fact_events_daily '(all)' rows: total_events + error_events)."),
  dead_letters INT64 NOT NULL OPTIONS (description = "Rejected messages of the stream that week, each once, on the day of its message time (dead_letter.message_time)."),
  error_rate FLOAT64 OPTIONS (description = "dead_letters / messages.")
)
PARTITION BY week
CLUSTER BY stream
OPTIONS (
  description = "One row per ISO week and stream: messages, dead letters and their rate (the seeds' historical error indicator).",
  require_partition_filter = FALSE
);
