-- users_cumulated: incremental daily step (cumulative table).
--
-- Grain: one row per user per snapshot_date, from the day of the user's first activity on
--   (a user without activity on a day still gets that day's snapshot, carried forward).
-- Inputs: `analytics.users_cumulated` (yesterday's snapshot, snapshot_date = @run_date - 1),
--   `events.user_activity` (partition event_date = @run_date only).
-- Parameters: @run_date DATE, the day to build.
-- Columns: dates_active = yesterday's dates_active with @run_date prepended when the user had
--   activity today (newest first); platform_dates = the same per metadata.platform, one entry
--   per platform the user was ever active on, ordered by platform; datelist_int, the bit mask
--   of the days up to @run_date, and is_daily_active (the newest bit), is_weekly_active
--   (weekly_active_days) and is_monthly_active (monthly_active_days) as defined in sql/rules.sql.
-- Once only: user_activity_once keeps each (event_date, event_id) once, its first copy
--   (warehouse/once.py): a copy adds no active day or platform.
-- Idempotency: one MERGE that deletes the snapshot of @run_date and inserts it again,
--   atomically; a rerun writes the same rows. Other days are not touched: after a late event,
--   rebuild from its day forward (see docs/models.md).
MERGE `analytics.users_cumulated` AS target
USING (
  WITH yesterday AS (
    SELECT user_id, dates_active, platform_dates
    FROM `analytics.users_cumulated`
    WHERE snapshot_date = DATE_SUB(@run_date, INTERVAL 1 DAY)
  ),

  user_activity_once AS (
    SELECT user_id, metadata.platform AS platform
    FROM `events.user_activity` AS raw_event
    WHERE event_date = @run_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  platforms_of_today AS (
    SELECT DISTINCT user_id, platform
    FROM user_activity_once
  ),

  users_of_today AS (
    SELECT DISTINCT user_id
    FROM platforms_of_today
  ),

  platform_dates_of_yesterday AS (
    SELECT yesterday.user_id, platform_entry.platform, platform_entry.dates_active
    FROM yesterday
    CROSS JOIN UNNEST(yesterday.platform_dates) AS platform_entry
  ),

  platform_dates AS (
    SELECT
      user_id,
      platform,
      ARRAY_CONCAT(
        IF(platforms_of_today.user_id IS NULL, ARRAY<DATE>[], [@run_date]),
        COALESCE(platform_dates_of_yesterday.dates_active, ARRAY<DATE>[])
      ) AS dates_active
    FROM platform_dates_of_yesterday
    FULL OUTER JOIN platforms_of_today USING (user_id, platform)
  ),

  platform_dates_by_user AS (
    SELECT
      user_id,
      ARRAY_AGG(
        STRUCT(platform AS platform, dates_active AS dates_active) ORDER BY platform
      ) AS platform_dates
    FROM platform_dates
    GROUP BY user_id
  ),

  dates_by_user AS (
    SELECT
      user_id,
      ARRAY_CONCAT(
        IF(users_of_today.user_id IS NULL, ARRAY<DATE>[], [@run_date]),
        COALESCE(yesterday.dates_active, ARRAY<DATE>[])
      ) AS dates_active
    FROM yesterday
    FULL OUTER JOIN users_of_today USING (user_id)
  ),

  snapshots AS (
    SELECT
      dates_by_user.user_id,
      dates_by_user.dates_active,
      platform_dates_by_user.platform_dates,
      datelist_int(@run_date, dates_by_user.dates_active) AS datelist_int
    FROM dates_by_user
    LEFT JOIN platform_dates_by_user USING (user_id)
  )

  SELECT
    user_id,
    @run_date AS snapshot_date,
    dates_active,
    platform_dates,
    datelist_int,
    datelist_active_within(datelist_int, 1) AS is_daily_active,
    datelist_active_within(datelist_int, weekly_active_days) AS is_weekly_active,
    datelist_active_within(datelist_int, monthly_active_days) AS is_monthly_active
  FROM snapshots
) AS today
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.snapshot_date = @run_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  user_id, snapshot_date, dates_active, platform_dates, datelist_int, is_daily_active,
  is_weekly_active, is_monthly_active
) VALUES (
  today.user_id, today.snapshot_date, today.dates_active, today.platform_dates, today.datelist_int,
  today.is_daily_active, today.is_weekly_active, today.is_monthly_active
);
