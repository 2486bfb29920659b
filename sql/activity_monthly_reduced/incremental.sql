-- activity_monthly_reduced: incremental daily step (reduced fact table).
--
-- Grain: one row per month_start, platform and activity_type that had any activity in the
--   month; daily_events and daily_unique_users hold one element per day of the month
--   (index = day of month - 1), 0 for days without activity or not built yet.
-- Inputs: `analytics.activity_monthly_reduced` (the rows of @run_date's month),
--   `events.user_activity` (partition event_date = @run_date only).
-- Parameters: @run_date DATE, the day to build.
-- Columns: daily_events[i] = user_activity events on day i + 1; daily_unique_users[i] = distinct
--   user_id on that day; platform = metadata.platform.
-- Once only: user_activity_once keeps each (event_date, event_id) once, its first copy
--   (warehouse/once.py), so a copy of an event adds nothing to daily_events or daily_unique_users.
-- Idempotency: one MERGE that rewrites the rows of @run_date's month with element
--   (day of month - 1) replaced by @run_date's counts (0 where none) and every other element
--   kept, atomically; a rerun writes the same rows, and only @run_date's element changes.
MERGE `analytics.activity_monthly_reduced` AS target
USING (
  WITH month_rows AS (
    SELECT platform, activity_type, daily_events, daily_unique_users
    FROM `analytics.activity_monthly_reduced`
    WHERE month_start = DATE_TRUNC(@run_date, MONTH)
  ),

  user_activity_once AS (
    SELECT metadata.platform AS platform, activity_type, user_id
    FROM `events.user_activity` AS raw_event
    WHERE event_date = @run_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  activity_of_today AS (
    SELECT platform, activity_type, COUNT(*) AS events, COUNT(DISTINCT user_id) AS unique_users
    FROM user_activity_once
    GROUP BY platform, activity_type
  ),

  month_combinations AS (
    SELECT
      platform,
      activity_type,
      month_rows.daily_events AS previous_events,
      month_rows.daily_unique_users AS previous_unique_users,
      COALESCE(activity_of_today.events, 0) AS events_today,
      COALESCE(activity_of_today.unique_users, 0) AS unique_users_today
    FROM month_rows
    FULL OUTER JOIN activity_of_today USING (platform, activity_type)
  ),

  day_slots AS (
    SELECT
      month_combinations.platform,
      month_combinations.activity_type,
      day_of_month,
      IF(
        day_of_month = EXTRACT(DAY FROM @run_date),
        month_combinations.events_today,
        COALESCE(month_combinations.previous_events[SAFE_ORDINAL(day_of_month)], 0)
      ) AS events,
      IF(
        day_of_month = EXTRACT(DAY FROM @run_date),
        month_combinations.unique_users_today,
        COALESCE(month_combinations.previous_unique_users[SAFE_ORDINAL(day_of_month)], 0)
      ) AS unique_users
    FROM month_combinations
    CROSS JOIN UNNEST(GENERATE_ARRAY(1, EXTRACT(DAY FROM LAST_DAY(@run_date)))) AS day_of_month
  )

  SELECT
    DATE_TRUNC(@run_date, MONTH) AS month_start,
    platform,
    activity_type,
    ARRAY_AGG(events ORDER BY day_of_month) AS daily_events,
    ARRAY_AGG(unique_users ORDER BY day_of_month) AS daily_unique_users
  FROM day_slots
  GROUP BY platform, activity_type
) AS month_rebuilt
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.month_start = DATE_TRUNC(@run_date, MONTH) THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  month_start, platform, activity_type, daily_events, daily_unique_users
) VALUES (
  month_rebuilt.month_start, month_rebuilt.platform, month_rebuilt.activity_type,
  month_rebuilt.daily_events, month_rebuilt.daily_unique_users
);
