-- churn_classification: incremental daily step (daily snapshot).
--
-- Grain: one row per user per snapshot_date, from the day of the user's first activity on
--   (exactly the rows of `analytics.users_cumulated`).
-- Inputs: `analytics.users_cumulated` (snapshot_date = @run_date only). Runs after
--   users_cumulated. Raw partitions are not read: users_cumulated.dates_active keeps every
--   active day, so the last active day survives the raw tables' 90-day expiration.
-- Parameters: @run_date DATE, the day to build.
-- Columns: last_active_date = newest element of dates_active; days_inactive =
--   @run_date - last_active_date; churn_status = active (< 7 days), soft_churn (7..13),
--   churned (14..29), hard_churn (>= 30).
-- Idempotency: one MERGE that deletes the rows of snapshot_date = @run_date and inserts them
--   again, atomically; a rerun writes the same rows. Other days are not touched.
MERGE `analytics.churn_classification` AS target
USING (
  WITH last_active_of_today AS (
    SELECT user_id, snapshot_date, dates_active[OFFSET(0)] AS last_active_date
    FROM `analytics.users_cumulated`
    WHERE snapshot_date = @run_date
  ),

  inactivity_of_today AS (
    SELECT
      user_id,
      snapshot_date,
      last_active_date,
      DATE_DIFF(snapshot_date, last_active_date, DAY) AS days_inactive
    FROM last_active_of_today
  )

  SELECT
    user_id,
    snapshot_date,
    last_active_date,
    days_inactive,
    CASE
      WHEN days_inactive < 7 THEN 'active'
      WHEN days_inactive < 14 THEN 'soft_churn'
      WHEN days_inactive < 30 THEN 'churned'
      ELSE 'hard_churn'
    END AS churn_status
  FROM inactivity_of_today
) AS today
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.snapshot_date = @run_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  user_id, snapshot_date, last_active_date, days_inactive, churn_status
) VALUES (
  today.user_id, today.snapshot_date, today.last_active_date, today.days_inactive, today.churn_status
);
