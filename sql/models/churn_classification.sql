-- churn_classification: the days [@start_date, @end_date] (daily snapshot); the daily step runs
--   it for one day.
--
-- Grain: one row per user per snapshot_date, from the day of the user's first activity on
--   (exactly the rows of `analytics.users_cumulated`).
-- Inputs: `analytics.users_cumulated` (snapshot_date BETWEEN @start_date AND @end_date). Runs
--   after users_cumulated. Raw partitions are not read: users_cumulated.dates_active keeps every
--   active day, so the last active day survives the raw tables' 90-day expiration.
-- Parameters: @start_date DATE, @end_date DATE (inclusive); the daily step has both = the day.
-- Columns: last_active_date = newest element of dates_active; days_inactive =
--   snapshot_date - last_active_date; churn_status = churn_status(days_inactive), sql/rules.sql.
-- History before @start_date: none needed beyond what users_cumulated already holds; each day
--   depends only on its own snapshot, so a range equals its days run one by one.
-- Once only: users_cumulated, its input, holds each event once; no raw table is read.
-- Idempotency: one MERGE deletes every row of snapshot_date in [@start_date, @end_date] and
--   inserts the rebuilt ones atomically; a rerun writes the same rows, rows outside the range
--   are not touched.
MERGE `analytics.churn_classification` AS target
USING (
  WITH last_active_in_range AS (
    SELECT user_id, snapshot_date, dates_active[OFFSET(0)] AS last_active_date
    FROM `analytics.users_cumulated`
    WHERE snapshot_date BETWEEN @start_date AND @end_date
  ),

  inactivity_in_range AS (
    SELECT
      user_id,
      snapshot_date,
      last_active_date,
      DATE_DIFF(snapshot_date, last_active_date, DAY) AS days_inactive
    FROM last_active_in_range
  )

  SELECT
    user_id,
    snapshot_date,
    last_active_date,
    days_inactive,
    churn_status(days_inactive) AS churn_status
  FROM inactivity_in_range
) AS rebuilt
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.snapshot_date BETWEEN @start_date AND @end_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  user_id, snapshot_date, last_active_date, days_inactive, churn_status
) VALUES (
  rebuilt.user_id, rebuilt.snapshot_date, rebuilt.last_active_date, rebuilt.days_inactive,
  rebuilt.churn_status
);
