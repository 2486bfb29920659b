-- activity_monthly_reduced: the days [@start_date, @end_date] (reduced fact table); the daily
--   step runs it for one day.
--
-- Grain: one row per month_start, platform and activity_type that had any activity in the
--   month; daily_events and daily_unique_users hold one element per day of the month
--   (index = day of month - 1), 0 for days without activity or not built yet.
-- Inputs: `analytics.activity_monthly_reduced` (the rows of the months the range touches),
--   `events.user_activity` (partitions event_date BETWEEN @start_date AND @end_date).
-- Parameters: @start_date DATE, @end_date DATE (inclusive); the daily step has both = the day.
-- Columns: daily_events[i] = user_activity events on day i + 1; daily_unique_users[i] = distinct
--   user_id on that day; platform = metadata.platform.
-- History outside the range: elements for days of the touched months outside
--   [@start_date, @end_date] keep the value already in the table (0 when none), so a range
--   equals its days run one by one, each replacing only its own element.
-- Once only: user_activity_once keeps each (event_date, event_id) once, its first copy
--   (warehouse/once.py), so a copy of an event adds nothing to daily_events or daily_unique_users.
-- Idempotency: one MERGE rewrites every row of the months the range touches, atomically:
--   elements of days in the range are recomputed (0 where no activity), the others kept.
MERGE `analytics.activity_monthly_reduced` AS target
USING (
  WITH existing_rows AS (
    SELECT month_start, platform, activity_type, daily_events, daily_unique_users
    FROM `analytics.activity_monthly_reduced`
    WHERE month_start BETWEEN DATE_TRUNC(@start_date, MONTH) AND DATE_TRUNC(@end_date, MONTH)
  ),

  user_activity_once AS (
    SELECT event_date, metadata.platform AS platform, activity_type, user_id
    FROM `events.user_activity` AS raw_event
    WHERE event_date BETWEEN @start_date AND @end_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  daily_activity AS (
    SELECT
      event_date,
      platform,
      activity_type,
      COUNT(*) AS events,
      COUNT(DISTINCT user_id) AS unique_users
    FROM user_activity_once
    GROUP BY event_date, platform, activity_type
  ),

  month_combinations AS (
    SELECT month_start, platform, activity_type FROM existing_rows
    UNION DISTINCT
    SELECT DATE_TRUNC(event_date, MONTH), platform, activity_type FROM daily_activity
  ),

  day_slots AS (
    SELECT
      month_combinations.month_start,
      month_combinations.platform,
      month_combinations.activity_type,
      day_of_month,
      DATE_ADD(month_combinations.month_start, INTERVAL day_of_month - 1 DAY) AS slot_date
    FROM month_combinations
    CROSS JOIN UNNEST(GENERATE_ARRAY(1, EXTRACT(DAY FROM LAST_DAY(month_combinations.month_start))))
      AS day_of_month
  ),

  slot_values AS (
    SELECT
      day_slots.month_start,
      day_slots.platform,
      day_slots.activity_type,
      day_slots.day_of_month,
      IF(
        day_slots.slot_date BETWEEN @start_date AND @end_date,
        COALESCE(daily_activity.events, 0),
        COALESCE(existing_rows.daily_events[SAFE_ORDINAL(day_slots.day_of_month)], 0)
      ) AS events,
      IF(
        day_slots.slot_date BETWEEN @start_date AND @end_date,
        COALESCE(daily_activity.unique_users, 0),
        COALESCE(existing_rows.daily_unique_users[SAFE_ORDINAL(day_slots.day_of_month)], 0)
      ) AS unique_users
    FROM day_slots
    LEFT JOIN existing_rows
      ON existing_rows.month_start = day_slots.month_start
      AND existing_rows.platform = day_slots.platform
      AND existing_rows.activity_type = day_slots.activity_type
    LEFT JOIN daily_activity
      ON daily_activity.event_date = day_slots.slot_date
      AND daily_activity.platform = day_slots.platform
      AND daily_activity.activity_type = day_slots.activity_type
  )

  SELECT
    month_start,
    platform,
    activity_type,
    ARRAY_AGG(events ORDER BY day_of_month) AS daily_events,
    ARRAY_AGG(unique_users ORDER BY day_of_month) AS daily_unique_users
  FROM slot_values
  GROUP BY month_start, platform, activity_type
) AS months_rebuilt
ON FALSE
WHEN NOT MATCHED BY SOURCE
  AND target.month_start BETWEEN DATE_TRUNC(@start_date, MONTH) AND DATE_TRUNC(@end_date, MONTH)
  THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  month_start, platform, activity_type, daily_events, daily_unique_users
) VALUES (
  months_rebuilt.month_start, months_rebuilt.platform, months_rebuilt.activity_type,
  months_rebuilt.daily_events, months_rebuilt.daily_unique_users
);
