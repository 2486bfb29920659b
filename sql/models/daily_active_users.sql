-- daily_active_users: the days [@start_date, @end_date] (daily fact table); the daily step runs
--   it for one day.
--
-- Grain: one row per date and platform with any user activity that day.
-- Inputs: `events.user_activity` (partitions event_date BETWEEN @start_date AND @end_date only).
-- Parameters: @start_date DATE, @end_date DATE (inclusive); the daily step has both = the day.
-- Columns: platform = metadata.platform; dau = distinct user_id with any user_activity event
--   that day on that platform. A user active on two platforms counts once on each, so the sum
--   over platforms can exceed the day's distinct users.
-- History before @start_date: none needed; each day depends only on its own partition, so a
--   range equals its days run one by one.
-- Once only: user_activity_once keeps each (event_date, event_id) once, its first copy
--   (warehouse/once.py): a copy adds no user, and of two different events sharing an event_id on
--   one day only the first loaded counts.
-- Idempotency: one MERGE deletes every row of date in [@start_date, @end_date] and inserts the
--   rebuilt ones atomically; a rerun writes the same rows, rows outside the range are not touched.
MERGE `analytics.daily_active_users` AS target
USING (
  WITH user_activity_once AS (
    SELECT event_date, metadata.platform AS platform, user_id
    FROM `events.user_activity` AS raw_event
    WHERE event_date BETWEEN @start_date AND @end_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  platform_users_by_day AS (
    SELECT DISTINCT event_date, platform, user_id
    FROM user_activity_once
  )

  SELECT event_date AS date, platform, COUNT(*) AS dau
  FROM platform_users_by_day
  GROUP BY event_date, platform
) AS rebuilt
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.date BETWEEN @start_date AND @end_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (date, platform, dau) VALUES (rebuilt.date, rebuilt.platform, rebuilt.dau);
