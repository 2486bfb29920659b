-- schedule/plan: which days a scheduled run builds, so late data heals itself (docs/models.md,
--   "Late data"). The scheduled-query script (terraform/generated/daily_models.sql) runs these
--   statements first, then every model once over eventharbor_rebuild_from ..
--   eventharbor_build_through (rebuild_from <= build_through: the run's day alone when nothing
--   before it needs building); then schedule/record.sql logs the run.
--
-- Grain: no table is written; the statements set the script's eventharbor_* variables.
-- Inputs: `analytics.model_builds` (the last successful run: what it built and the rows it
--   counted); `events.INFORMATION_SCHEMA.PARTITIONS` (rows per partition of the raw tables:
--   metadata, no table data is read); `events.dead_letter` (message_time of the dead letters the
--   table holds, to count them by the day of their message).
-- Parameters (script variables the script declares): eventharbor_run_date (@run_date minus
--   models_lag_days), late_data_horizon_days, raw_partition_expiration_days.
-- How a change is found: the run counts the rows of every day (raw partitions, dead letters by
--   message day) and compares them with the counts the last successful run saw before it built.
--   A day whose count moved got rows after it was built (late events, an archive replay, a
--   dead letter of an old message): the run rebuilds from the earliest such day. A count is
--   taken before the models run, so a row landing during a run is found by the next one. The
--   first run (no build row yet) builds from the earliest day with rows within the horizon.
-- Horizon: never rebuild before eventharbor_build_through - late_data_horizon_days; what needed
--   it is counted (rows_beyond_horizon, days_beyond_horizon) and alerted on, never silent. Rows in
--   raw partitions older than the partition expiration are counted apart
--   (rows_in_expired_partitions): BigQuery deletes them.
-- A failed run writes no build row, so the next run starts from the last successful one.

SET eventharbor_previous_through = (
  SELECT built_through FROM `analytics.model_builds` ORDER BY finished_at DESC, build_id DESC LIMIT 1
);

SET eventharbor_previous_rows = COALESCE(
  (SELECT partition_rows FROM `analytics.model_builds` ORDER BY finished_at DESC, build_id DESC LIMIT 1), []
);

-- A run for a day before what is built (a manual run for a past date) rebuilds up to what is
-- built, so no later day is left stale.
SET eventharbor_build_through = GREATEST(
  eventharbor_run_date, COALESCE(eventharbor_previous_through, eventharbor_run_date)
);

-- Dead letters are read from the day before the expiration window (a message fails at most a day
-- before its time), and days before it share its count, whatever dates producers send.
SET eventharbor_oldest_counted_day = DATE_SUB(
  eventharbor_build_through, INTERVAL raw_partition_expiration_days + 1 DAY
);

-- The view is read alone into a variable: bqemulator cannot expand it inside a larger query
-- (docs/emulator-gaps.md); BigQuery reads it the same either way.
SET eventharbor_partitions = ARRAY(
  SELECT AS STRUCT table_name, partition_id, total_rows
  FROM `events.INFORMATION_SCHEMA.PARTITIONS`
);

SET eventharbor_partition_rows = ARRAY(
  WITH raw_partition_rows AS (
    SELECT
      raw_partition.table_name AS source,
      raw_partition.total_rows AS row_count,
      SAFE.PARSE_DATE('%Y%m%d', raw_partition.partition_id) AS day
    FROM UNNEST(eventharbor_partitions) AS raw_partition
    WHERE raw_partition.table_name IN ('orders', 'inventory', 'user_activity')
  ),

  dead_letter_rows AS (
    SELECT
      'dead_letter' AS source,
      DATE(COALESCE(message_time, failed_at)) AS day,
      COUNT(*) AS row_count
    FROM `events.dead_letter`
    WHERE failed_at >= TIMESTAMP(eventharbor_oldest_counted_day)
    GROUP BY day
  ),

  every_source AS (
    SELECT source, day, row_count FROM raw_partition_rows
    UNION ALL
    SELECT source, day, row_count FROM dead_letter_rows
  ),

  -- Days before the expiration window share one count (eventharbor_oldest_counted_day), which
  -- keeps the array (a script variable, and a column of the build log) small.
  bounded_days AS (
    SELECT
      source,
      row_count,
      GREATEST(day, eventharbor_oldest_counted_day) AS day
    FROM every_source
    WHERE day <= eventharbor_build_through
  )

  SELECT AS STRUCT source, day, SUM(row_count) AS row_count
  FROM bounded_days
  GROUP BY source, day
  ORDER BY source, day
);

SET eventharbor_plan = (
  WITH bounds AS (
    SELECT
      DATE_SUB(eventharbor_build_through, INTERVAL late_data_horizon_days DAY) AS horizon_start,
      DATE_SUB(eventharbor_build_through, INTERVAL raw_partition_expiration_days DAY) AS expiration_start,
      LEAST(
        eventharbor_run_date,
        COALESCE(DATE_ADD(eventharbor_previous_through, INTERVAL 1 DAY), eventharbor_run_date)
      ) AS first_unbuilt_day
  ),

  -- The previous counts share out their old days as this run's do (eventharbor_partition_rows),
  -- so that the shared day moving on by a day between two runs is no change.
  count_changes AS (
    SELECT counted.source, counted.day, counted.row_count AS row_change
    FROM UNNEST(eventharbor_partition_rows) AS counted
    UNION ALL
    SELECT
      previous.source,
      GREATEST(previous.day, eventharbor_oldest_counted_day) AS day,
      -previous.row_count AS row_change
    FROM UNNEST(eventharbor_previous_rows) AS previous
  ),

  changed_days AS (
    SELECT source, day, SUM(row_change) AS row_change
    FROM count_changes
    -- Days already built; on the first run (no build row) every day with rows is unbuilt.
    WHERE COALESCE(day <= eventharbor_previous_through, TRUE)
    GROUP BY source, day
    HAVING SUM(row_change) != 0
  ),

  classified AS (
    SELECT
      changed_days.day,
      changed_days.row_change,
      bounds.first_unbuilt_day,
      eventharbor_previous_through IS NOT NULL AS has_built,
      changed_days.day >= bounds.horizon_start AS within_horizon,
      changed_days.source != 'dead_letter'
      AND changed_days.day < bounds.expiration_start AS in_expired_partition
    FROM changed_days CROSS JOIN bounds
  ),

  summary AS (
    SELECT
      MIN(IF(within_horizon, day, NULL)) AS first_changed_day,
      -- Late: rows that changed a day an earlier run built (none on the first run).
      COALESCE(SUM(IF(within_horizon AND day < first_unbuilt_day AND has_built, ABS(row_change), 0)), 0)
        AS late_rows,
      COALESCE(SUM(IF(NOT within_horizon AND NOT in_expired_partition, GREATEST(row_change, 0), 0)), 0)
        AS rows_beyond_horizon,
      COUNT(DISTINCT IF(NOT within_horizon AND NOT in_expired_partition AND row_change > 0, day, NULL))
        AS changed_days_beyond_horizon,
      COALESCE(SUM(IF(in_expired_partition, GREATEST(row_change, 0), 0)), 0) AS rows_in_expired_partitions
    FROM classified
  )

  SELECT AS STRUCT
    summary.late_rows,
    summary.rows_beyond_horizon,
    summary.rows_in_expired_partitions,
    GREATEST(
      LEAST(bounds.first_unbuilt_day, COALESCE(summary.first_changed_day, bounds.first_unbuilt_day)),
      bounds.horizon_start
    ) AS rebuild_from,
    summary.changed_days_beyond_horizon
    + GREATEST(DATE_DIFF(bounds.horizon_start, bounds.first_unbuilt_day, DAY), 0) AS days_beyond_horizon
  FROM bounds CROSS JOIN summary
);

SET eventharbor_rebuild_from = eventharbor_plan.rebuild_from;
