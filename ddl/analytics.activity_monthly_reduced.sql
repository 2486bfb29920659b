-- Generated from schemas/analytics/activity_monthly_reduced.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.activity_monthly_reduced` (
  month_start DATE NOT NULL OPTIONS (description = "First day of the month; the partitioning column."),
  platform STRING NOT NULL OPTIONS (description = "web, mobile or tablet."),
  activity_type STRING NOT NULL OPTIONS (description = "login, logout, view_product, add_to_cart or remove_from_cart."),
  daily_events ARRAY<INT64> OPTIONS (description = "Events per day; index = day of month - 1, one element per day of the month, 0 when none."),
  daily_unique_users ARRAY<INT64> OPTIONS (description = "Distinct users per day; index = day of month - 1, one element per day of the month, 0 when none.")
)
PARTITION BY month_start
CLUSTER BY platform, activity_type
OPTIONS (
  description = "One row per month, platform and activity type with daily event and unique-user arrays indexed by day of month - 1.",
  require_partition_filter = FALSE
);
