-- Generated from schemas/events/realtime_event_metrics.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `events.realtime_event_metrics` (
  stream STRING NOT NULL OPTIONS (description = "orders, inventory or user_activity."),
  event_type STRING NOT NULL OPTIONS (description = "The status, reason or activity_type counted."),
  window_start TIMESTAMP NOT NULL OPTIONS (description = "Start of the sliding event-time window."),
  window_end TIMESTAMP NOT NULL OPTIONS (description = "End of the sliding event-time window (exclusive)."),
  occurrences INT64 NOT NULL OPTIONS (description = "Events in the window (the latest firing is the most complete)."),
  last_event_ts TIMESTAMP NOT NULL OPTIONS (description = "Latest event time seen in the window."),
  is_final BOOL NOT NULL OPTIONS (description = "False for early/late firings; true for the on-time firing at the watermark."),
  emitted_at TIMESTAMP NOT NULL OPTIONS (description = "When this pane was written.")
)
PARTITION BY DATE(window_start)
CLUSTER BY stream, event_type
OPTIONS (
  description = "Sliding event-time window counts per stream and event type.",
  require_partition_filter = FALSE,
  partition_expiration_days = 90
);
