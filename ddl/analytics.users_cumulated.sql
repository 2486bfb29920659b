-- Generated from schemas/analytics/users_cumulated.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.users_cumulated` (
  user_id STRING NOT NULL OPTIONS (description = "User identifier."),
  snapshot_date DATE NOT NULL OPTIONS (description = "The day this snapshot describes; the partitioning column."),
  dates_active ARRAY<DATE> OPTIONS (description = "Every day the user had activity, up to snapshot_date, newest first."),
  platform_dates ARRAY<STRUCT<platform STRING NOT NULL, dates_active ARRAY<DATE>>> OPTIONS (description = "Per platform (ordered by platform), the days the user was active on it, newest first."),
  datelist_int INT64 NOT NULL OPTIONS (description = "Bit mask of the last 32 days: bit 31 = snapshot_date, bit 31 - k = k days before (datelist_int in sql/rules.sql)."),
  is_daily_active BOOL NOT NULL OPTIONS (description = "Active on snapshot_date."),
  is_weekly_active BOOL NOT NULL OPTIONS (description = "Active in the 7 days up to and including snapshot_date (weekly_active_days in sql/rules.sql)."),
  is_monthly_active BOOL NOT NULL OPTIONS (description = "Active in the 28 days up to and including snapshot_date (monthly_active_days in sql/rules.sql).")
)
PARTITION BY snapshot_date
CLUSTER BY user_id
OPTIONS (
  description = "One row per user per day from the first activity: active dates, per-platform dates, a 32-day bit mask and activity flags.",
  require_partition_filter = FALSE
);
