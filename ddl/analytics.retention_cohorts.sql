-- Generated from schemas/analytics/retention_cohorts.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.retention_cohorts` (
  cohort_date DATE NOT NULL OPTIONS (description = "The cohort: its users' first active day (oldest date in users_cumulated.dates_active); the partitioning column."),
  day_n INT64 NOT NULL OPTIONS (description = "Days since cohort_date, 0..30 (retention_days in sql/rules.sql); the row describes day cohort_date + day_n."),
  users INT64 NOT NULL OPTIONS (description = "Cohort size: users whose first active day is cohort_date."),
  retained INT64 NOT NULL OPTIONS (description = "Cohort users with activity on cohort_date + day_n (equals users for day_n = 0)."),
  rate FLOAT64 NOT NULL OPTIONS (description = "retained / users, a FLOAT64 ratio between 0 and 1.")
)
PARTITION BY cohort_date
CLUSTER BY day_n
OPTIONS (
  description = "One row per cohort (first active day) and day_n 0..30: cohort size, users active on cohort_date + day_n, and their ratio.",
  require_partition_filter = FALSE
);
