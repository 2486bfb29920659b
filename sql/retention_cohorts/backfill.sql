-- retention_cohorts: backfill over a date range (cohort retention triangle).
--
-- Grain: one row per cohort_date and day_n (0..30) for every cohort with at least one user;
--   the row (cohort_date, day_n) describes day cohort_date + day_n.
-- Inputs: `analytics.users_cumulated` (snapshot_date BETWEEN @start_date AND @end_date). Runs
--   after users_cumulated.
-- Parameters: @start_date DATE, @end_date DATE (inclusive).
-- History before @start_date: none needed beyond users_cumulated, whose dates_active keeps each
--   user's first active day; each day D of the range fills its diagonal from the snapshot of D
--   alone, so this equals the incremental step replayed day by day.
-- Columns: as in incremental.sql; the snapshot of D gives the rows (D - n, n) for n in 0..30.
-- Idempotency: one MERGE deletes every row with cohort_date + day_n in [@start_date, @end_date]
--   and inserts the rebuilt ones atomically; rows of other days are not touched.
MERGE `analytics.retention_cohorts` AS target
USING (
  WITH cohort_users_in_range AS (
    SELECT
      snapshot_date,
      (SELECT MIN(active_date) FROM UNNEST(dates_active) AS active_date) AS cohort_date,
      is_daily_active
    FROM `analytics.users_cumulated`
    WHERE snapshot_date BETWEEN @start_date AND @end_date
  ),

  recent_cohort_users AS (
    SELECT cohort_date, DATE_DIFF(snapshot_date, cohort_date, DAY) AS day_n, is_daily_active
    FROM cohort_users_in_range
    WHERE DATE_DIFF(snapshot_date, cohort_date, DAY) <= 30
  ),

  diagonals AS (
    SELECT cohort_date, day_n, COUNT(*) AS users, SUM(IF(is_daily_active, 1, 0)) AS retained
    FROM recent_cohort_users
    GROUP BY cohort_date, day_n
  )

  SELECT cohort_date, day_n, users, retained, retained / users AS rate
  FROM diagonals
) AS rebuilt
ON FALSE
WHEN NOT MATCHED BY SOURCE
  AND target.cohort_date BETWEEN DATE_SUB(@start_date, INTERVAL 30 DAY) AND @end_date
  AND target.day_n BETWEEN DATE_DIFF(@start_date, target.cohort_date, DAY)
    AND DATE_DIFF(@end_date, target.cohort_date, DAY)
  THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  cohort_date, day_n, users, retained, rate
) VALUES (
  rebuilt.cohort_date, rebuilt.day_n, rebuilt.users, rebuilt.retained, rebuilt.rate
);
