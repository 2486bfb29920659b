-- daily_active_users: incremental daily step (daily fact table).
--
-- Grain: one row per date and platform with any user activity that day.
-- Inputs: `events.user_activity` (partition event_date = @run_date only).
-- Parameters: @run_date DATE, the day to build.
-- Columns: platform = metadata.platform; dau = distinct user_id with any user_activity event
--   that day on that platform. A user active on two platforms counts once on each, so the sum
--   over platforms can exceed the day's distinct users.
-- Idempotency: one MERGE that deletes the rows of date = @run_date and inserts them again,
--   atomically; a rerun writes the same rows. Other days are not touched.
MERGE `analytics.daily_active_users` AS target
USING (
  WITH platform_users_of_today AS (
    SELECT DISTINCT metadata.platform AS platform, user_id
    FROM `events.user_activity`
    WHERE event_date = @run_date
  )

  SELECT @run_date AS date, platform, COUNT(*) AS dau
  FROM platform_users_of_today
  GROUP BY platform
) AS today
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.date = @run_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (date, platform, dau) VALUES (today.date, today.platform, today.dau);
