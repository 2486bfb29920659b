-- users_cumulated: the days [@start_date, @end_date] (cumulative table); the daily step runs it
--   for one day.
--
-- Grain: one row per user per snapshot_date, from the day of the user's first activity to
--   @end_date (a user without activity on a day still gets that day's snapshot).
-- Inputs: `analytics.users_cumulated` (the snapshot of @start_date - 1), `events.user_activity`
--   (partitions event_date BETWEEN @start_date AND @end_date).
-- Parameters: @start_date DATE, @end_date DATE (inclusive); the daily step has both = the day.
-- History before @start_date: the snapshot already in the table for @start_date - 1 supplies
--   each user's earlier dates_active and platform_dates (such a user gets a snapshot for every
--   day of the range); with none, the build starts from nothing. A snapshot depends only on
--   the snapshot of the day before and the day's activity, so a range equals its days run one
--   by one.
-- Columns: dates_active = the active days up to the snapshot's day D, newest first (those in
--   [@start_date, D] followed by the opening snapshot's); platform_dates = the same per
--   metadata.platform, one entry per platform the user was ever active on, ordered by platform;
--   datelist_int, the bit mask of the days up to the snapshot's day, and is_daily_active (the
--   newest bit), is_weekly_active (weekly_active_days) and is_monthly_active
--   (monthly_active_days) as defined in sql/rules.sql.
-- Once only: user_activity_once keeps each (event_date, event_id) once, its first copy
--   (warehouse/once.py): a copy adds no active day or platform.
-- Idempotency: one MERGE deletes every snapshot of snapshot_date in [@start_date, @end_date] and
--   inserts the rebuilt ones atomically; snapshots outside the range are not touched: after a
--   late event, rebuild from its day forward (see docs/models.md).
MERGE `analytics.users_cumulated` AS target
USING (
  WITH opening_snapshots AS (
    SELECT user_id, dates_active, platform_dates
    FROM `analytics.users_cumulated`
    WHERE snapshot_date = DATE_SUB(@start_date, INTERVAL 1 DAY)
  ),

  user_activity_once AS (
    SELECT user_id, metadata.platform AS platform, event_date
    FROM `events.user_activity` AS raw_event
    WHERE event_date BETWEEN @start_date AND @end_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  activity_days AS (
    SELECT DISTINCT user_id, platform, event_date AS active_date
    FROM user_activity_once
  ),

  user_active_dates AS (
    SELECT DISTINCT user_id, active_date
    FROM activity_days
  ),

  opening_platform_dates AS (
    SELECT opening_snapshots.user_id, platform_entry.platform, platform_entry.dates_active
    FROM opening_snapshots
    CROSS JOIN UNNEST(opening_snapshots.platform_dates) AS platform_entry
  ),

  user_first_days AS (
    SELECT user_id, MIN(first_day) AS first_day
    FROM (
      SELECT user_id, @start_date AS first_day FROM opening_snapshots
      UNION ALL
      SELECT user_id, active_date FROM user_active_dates
    )
    GROUP BY user_id
  ),

  user_days AS (
    SELECT user_first_days.user_id, snapshot_date
    FROM user_first_days
    CROSS JOIN UNNEST(GENERATE_DATE_ARRAY(user_first_days.first_day, @end_date)) AS snapshot_date
  ),

  dates_in_range AS (
    SELECT
      user_days.user_id,
      user_days.snapshot_date,
      ARRAY_AGG(user_active_dates.active_date IGNORE NULLS ORDER BY user_active_dates.active_date DESC)
        AS dates_active
    FROM user_days
    LEFT JOIN user_active_dates
      ON user_active_dates.user_id = user_days.user_id
      AND user_active_dates.active_date <= user_days.snapshot_date
    GROUP BY user_days.user_id, user_days.snapshot_date
  ),

  user_platforms AS (
    SELECT user_id, platform FROM opening_platform_dates
    UNION DISTINCT
    SELECT user_id, platform FROM activity_days
  ),

  platform_dates_in_range AS (
    SELECT
      user_days.user_id,
      user_days.snapshot_date,
      user_platforms.platform,
      ARRAY_AGG(activity_days.active_date IGNORE NULLS ORDER BY activity_days.active_date DESC)
        AS dates_active
    FROM user_days
    JOIN user_platforms ON user_platforms.user_id = user_days.user_id
    LEFT JOIN activity_days
      ON activity_days.user_id = user_days.user_id
      AND activity_days.platform = user_platforms.platform
      AND activity_days.active_date <= user_days.snapshot_date
    GROUP BY user_days.user_id, user_days.snapshot_date, user_platforms.platform
  ),

  platform_dates AS (
    SELECT
      platform_dates_in_range.user_id,
      platform_dates_in_range.snapshot_date,
      platform_dates_in_range.platform,
      ARRAY_CONCAT(
        COALESCE(platform_dates_in_range.dates_active, ARRAY<DATE>[]),
        COALESCE(opening_platform_dates.dates_active, ARRAY<DATE>[])
      ) AS dates_active
    FROM platform_dates_in_range
    LEFT JOIN opening_platform_dates
      ON opening_platform_dates.user_id = platform_dates_in_range.user_id
      AND opening_platform_dates.platform = platform_dates_in_range.platform
  ),

  platform_dates_by_user_day AS (
    SELECT
      user_id,
      snapshot_date,
      ARRAY_AGG(
        STRUCT(platform AS platform, dates_active AS dates_active) ORDER BY platform
      ) AS platform_dates
    FROM platform_dates
    WHERE ARRAY_LENGTH(dates_active) > 0
    GROUP BY user_id, snapshot_date
  ),

  snapshots AS (
    SELECT
      dates_in_range.user_id,
      dates_in_range.snapshot_date,
      ARRAY_CONCAT(
        COALESCE(dates_in_range.dates_active, ARRAY<DATE>[]),
        COALESCE(opening_snapshots.dates_active, ARRAY<DATE>[])
      ) AS dates_active,
      platform_dates_by_user_day.platform_dates
    FROM dates_in_range
    LEFT JOIN opening_snapshots USING (user_id)
    LEFT JOIN platform_dates_by_user_day
      ON platform_dates_by_user_day.user_id = dates_in_range.user_id
      AND platform_dates_by_user_day.snapshot_date = dates_in_range.snapshot_date
  ),

  snapshots_with_datelist AS (
    SELECT
      snapshots.*,
      datelist_int(snapshots.snapshot_date, snapshots.dates_active) AS datelist_int
    FROM snapshots
  )

  SELECT
    user_id,
    snapshot_date,
    dates_active,
    platform_dates,
    datelist_int,
    datelist_active_within(datelist_int, 1) AS is_daily_active,
    datelist_active_within(datelist_int, weekly_active_days) AS is_weekly_active,
    datelist_active_within(datelist_int, monthly_active_days) AS is_monthly_active
  FROM snapshots_with_datelist
) AS rebuilt
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.snapshot_date BETWEEN @start_date AND @end_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  user_id, snapshot_date, dates_active, platform_dates, datelist_int, is_daily_active,
  is_weekly_active, is_monthly_active
) VALUES (
  rebuilt.user_id, rebuilt.snapshot_date, rebuilt.dates_active, rebuilt.platform_dates,
  rebuilt.datelist_int, rebuilt.is_daily_active, rebuilt.is_weekly_active, rebuilt.is_monthly_active
);
