-- retention_cohorts: the days [@start_date, @end_date] (cohort retention triangle); the daily
--   step runs it for one day.
--
-- Grain: one row per cohort_date and day_n (0..retention_days, sql/rules.sql) for every cohort
--   with at least one user; the row (cohort_date, day_n) describes day cohort_date + day_n.
-- Inputs: `analytics.users_cumulated` (snapshot_date BETWEEN @start_date AND @end_date). Runs
--   after users_cumulated. A user's cohort is the oldest date of dates_active, which keeps every
--   active day, so cohorts survive the raw tables' 90-day expiration.
-- Parameters: @start_date DATE, @end_date DATE (inclusive); the daily step has both = the day.
-- Columns: on a day D the diagonal becomes known: for n in 0..retention_days the row
--   (cohort_date = D - n, day_n = n) with users = users of the cohort (every one of them has a
--   snapshot on D), retained = those active on D (is_daily_active), and rate = retained / users
--   (FLOAT64). Each day of the range fills its diagonal from its own snapshot alone.
-- History before @start_date: none needed beyond users_cumulated, so a range equals its days
--   run one by one.
-- Once only: users_cumulated, its input, holds each event once; no raw table is read.
-- Idempotency: one MERGE deletes every row with cohort_date + day_n in [@start_date, @end_date]
--   (the range's diagonals) and inserts the rebuilt ones atomically; a rerun writes the same
--   rows, other diagonals are not touched.
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
    WHERE DATE_DIFF(snapshot_date, cohort_date, DAY) <= retention_days
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
  AND target.cohort_date BETWEEN DATE_SUB(@start_date, INTERVAL retention_days DAY) AND @end_date
  AND target.day_n BETWEEN DATE_DIFF(@start_date, target.cohort_date, DAY)
    AND DATE_DIFF(@end_date, target.cohort_date, DAY)
  THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  cohort_date, day_n, users, retained, rate
) VALUES (
  rebuilt.cohort_date, rebuilt.day_n, rebuilt.users, rebuilt.retained, rebuilt.rate
);
