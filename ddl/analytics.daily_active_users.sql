-- Generated from schemas/analytics/daily_active_users.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.daily_active_users` (
  date DATE NOT NULL OPTIONS (description = "The day (UTC event_date); the partitioning column."),
  platform STRING NOT NULL OPTIONS (description = "metadata.platform of the activity: web, mobile or tablet."),
  dau INT64 NOT NULL OPTIONS (description = "Distinct user_id with any user_activity event this day on this platform (a user active on two platforms counts on both).")
)
PARTITION BY date
CLUSTER BY platform
OPTIONS (
  description = "One row per day and platform: distinct users active that day on that platform.",
  require_partition_filter = FALSE
);
