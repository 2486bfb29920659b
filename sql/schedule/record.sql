-- schedule/record: the build log row of a scheduled run (docs/models.md, "Late data"), written
--   after every model succeeded; the next run compares its counts with this row's.
--
-- Grain: one row per successful scheduled run, appended (a rerun of the same day adds a row).
-- Inputs: the script variables schedule/plan.sql set.
-- Parameters: eventharbor_started_at, eventharbor_run_date, eventharbor_build_through,
--   eventharbor_rebuild_from, eventharbor_plan, late_data_horizon_days,
--   eventharbor_partition_rows (script variables).
INSERT INTO `analytics.model_builds` (
  build_id, started_at, finished_at, run_date, built_through, rebuilt_from, mode, late_rows,
  rows_beyond_horizon, days_beyond_horizon, rows_in_expired_partitions, late_data_horizon_days,
  partition_rows
)
VALUES (
  GENERATE_UUID(),
  eventharbor_started_at,
  CURRENT_TIMESTAMP(),
  eventharbor_run_date,
  eventharbor_build_through,
  eventharbor_rebuild_from,
  IF(eventharbor_rebuild_from < eventharbor_build_through, 'range', 'daily'),
  eventharbor_plan.late_rows,
  eventharbor_plan.rows_beyond_horizon,
  eventharbor_plan.days_beyond_horizon,
  eventharbor_plan.rows_in_expired_partitions,
  late_data_horizon_days,
  eventharbor_partition_rows
);
