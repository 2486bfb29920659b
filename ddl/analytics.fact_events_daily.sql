-- Generated from schemas/analytics/fact_events_daily.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.fact_events_daily` (
  date DATE NOT NULL OPTIONS (description = "The day (UTC): event_date of raw rows, DATE(COALESCE(message_time, failed_at)) of a rejected message's first dead_letter row; the partitioning column."),
  stream STRING NOT NULL OPTIONS (description = "orders, inventory or user_activity (dead_letter rows may also say unknown)."),
  event_type STRING NOT NULL OPTIONS (description = "orders: status; inventory: reason; user_activity: activity_type; '(all)' for the stream's total row, the only row carrying errors."),
  total_events INT64 NOT NULL OPTIONS (description = "Events of the stream's raw table this day with this event type, each event_id once ('(all)': every event of the stream that day)."),
  error_events INT64 OPTIONS (description = "'(all)' row: rejected messages of this stream whose message time (dead_letter.message_time) is this day, each once (dead_letter rows with the same dead_letter_key, sql/rules.sql, count once, on the day of the first by message time; 0 when none); NULL on event-type rows (a rejected message has no trusted event type)."),
  unique_sessions INT64 OPTIONS (description = "user_activity only: distinct metadata.session_id with an event of this type this day ('(all)': any event); NULL for other streams."),
  avg_session_duration_s FLOAT64 OPTIONS (description = "user_activity only: average over those sessions of the session's span this day (max - min timestamp of all its events that day), in seconds; NULL for other streams.")
)
PARTITION BY date
CLUSTER BY stream, event_type
OPTIONS (
  description = "One row per day, stream and event type (plus an '(all)' row per stream): raw events, dead-letter errors, sessions.",
  require_partition_filter = FALSE
);
