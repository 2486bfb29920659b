-- retention_cohorts: incremental daily step (cohort retention triangle).
--
-- Grain: one row per cohort_date and day_n (0..30) for every cohort with at least one user;
--   the row (cohort_date, day_n) describes day cohort_date + day_n.
-- Inputs: `analytics.users_cumulated` (snapshot_date = @run_date only). Runs after
--   users_cumulated. A user's cohort is the oldest date of dates_active, which keeps every
--   active day, so cohorts survive the raw tables' 90-day expiration.
-- Parameters: @run_date DATE, the day to build.
-- Columns: on @run_date the diagonal becomes known: for n in 0..30 the row
--   (cohort_date = @run_date - n, day_n = n) with users = users of the cohort (every one of them
--   has a snapshot on @run_date), retained = those active on @run_date (is_daily_active), and
--   rate = retained / users (FLOAT64).
-- Idempotency: one MERGE that deletes the rows with cohort_date + day_n = @run_date (the
--   diagonal, cohort_date in [@run_date - 30, @run_date]) and inserts them again, atomically; a
--   rerun writes the same rows. Other diagonals are not touched.
MERGE `analytics.retention_cohorts` AS target
USING (
  WITH cohort_users_of_today AS (
    SELECT
      (SELECT MIN(active_date) FROM UNNEST(dates_active) AS active_date) AS cohort_date,
      is_daily_active
    FROM `analytics.users_cumulated`
    WHERE snapshot_date = @run_date
  ),

  recent_cohort_users AS (
    SELECT cohort_date, DATE_DIFF(@run_date, cohort_date, DAY) AS day_n, is_daily_active
    FROM cohort_users_of_today
    WHERE cohort_date >= DATE_SUB(@run_date, INTERVAL 30 DAY)
  ),

  diagonal AS (
    SELECT cohort_date, day_n, COUNT(*) AS users, SUM(IF(is_daily_active, 1, 0)) AS retained
    FROM recent_cohort_users
    GROUP BY cohort_date, day_n
  )

  SELECT cohort_date, day_n, users, retained, retained / users AS rate
  FROM diagonal
) AS today
ON FALSE
WHEN NOT MATCHED BY SOURCE
  AND target.cohort_date BETWEEN DATE_SUB(@run_date, INTERVAL 30 DAY) AND @run_date
  AND target.day_n = DATE_DIFF(@run_date, target.cohort_date, DAY)
  THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  cohort_date, day_n, users, retained, rate
) VALUES (
  today.cohort_date, today.day_n, today.users, today.retained, today.rate
);
