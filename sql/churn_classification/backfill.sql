-- churn_classification: backfill over a date range (daily snapshot).
--
-- Grain: one row per user per snapshot_date, from the day of the user's first activity to
--   @end_date (exactly the rows of `analytics.users_cumulated`).
-- Inputs: `analytics.users_cumulated` (snapshot_date BETWEEN @start_date AND @end_date). Runs
--   after users_cumulated.
-- Parameters: @start_date DATE, @end_date DATE (inclusive).
-- History before @start_date: none needed beyond what users_cumulated already holds (its
--   dates_active carries every earlier active day); each day depends only on its own snapshot,
--   so this equals the incremental step replayed day by day.
-- Columns: as in incremental.sql.
-- Idempotency: one MERGE deletes every row of snapshot_date in [@start_date, @end_date] and
--   inserts the rebuilt ones atomically; rows outside the range are not touched.
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
    CASE
      WHEN days_inactive < 7 THEN 'active'
      WHEN days_inactive < 14 THEN 'soft_churn'
      WHEN days_inactive < 30 THEN 'churned'
      ELSE 'hard_churn'
    END AS churn_status
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
