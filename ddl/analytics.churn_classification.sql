-- Generated from schemas/analytics/churn_classification.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.churn_classification` (
  user_id STRING NOT NULL OPTIONS (description = "User identifier."),
  snapshot_date DATE NOT NULL OPTIONS (description = "The day this classification describes; the partitioning column."),
  last_active_date DATE NOT NULL OPTIONS (description = "The user's latest active day up to snapshot_date."),
  days_inactive INT64 NOT NULL OPTIONS (description = "snapshot_date - last_active_date in days (0 when active on snapshot_date)."),
  churn_status STRING NOT NULL OPTIONS (description = "Status on days_inactive (churn_status in sql/rules.sql): active < 7 <= soft_churn < 14 <= churned < 30 <= hard_churn.")
)
PARTITION BY snapshot_date
CLUSTER BY churn_status, user_id
OPTIONS (
  description = "One row per user per day from the first activity: last active day, days inactive and churn status.",
  require_partition_filter = FALSE
);
