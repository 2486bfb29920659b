-- Generated from schemas/events/realtime_event_metrics.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `events.realtime_event_metrics` (
  stream STRING NOT NULL OPTIONS (description = "orders, inventory or user_activity."),
  event_type STRING NOT NULL OPTIONS (description = "The status, reason or activity_type counted."),
  window_start TIMESTAMP NOT NULL OPTIONS (description = "Start of the event-time window (streaming: sliding; batch replays: tumbling, --batch_window_s)."),
  window_end TIMESTAMP NOT NULL OPTIONS (description = "End of the event-time window (exclusive)."),
  occurrences INT64 NOT NULL OPTIONS (description = "Events in the window (the latest firing is the most complete)."),
  last_event_ts TIMESTAMP NOT NULL OPTIONS (description = "Latest event time seen in the window."),
  pane_timing STRING NOT NULL OPTIONS (description = "EARLY, ON_TIME or LATE: which trigger firing wrote this row."),
  pane_index INT64 NOT NULL OPTIONS (description = "Firing number for the window (0 first); panes accumulate, so the highest index is the latest count.")
)
PARTITION BY DATE(window_start)
CLUSTER BY stream, event_type
OPTIONS (
  description = "Sliding event-time window counts per stream and event type.",
  require_partition_filter = FALSE,
  partition_expiration_days = 90
);
