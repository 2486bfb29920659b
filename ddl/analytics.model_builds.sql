-- Generated from schemas/analytics/model_builds.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.model_builds` (
  build_id STRING NOT NULL OPTIONS (description = "Unique id of the scheduled run (GENERATE_UUID())."),
  started_at TIMESTAMP NOT NULL OPTIONS (description = "When the run started (UTC), before it counted the raw rows."),
  finished_at TIMESTAMP NOT NULL OPTIONS (description = "When the run finished (UTC); a run that fails writes no row, so the next run catches up from the last row."),
  run_date DATE NOT NULL OPTIONS (description = "The day the run was scheduled to build: @run_date minus models_lag_days; the partitioning column."),
  built_through DATE NOT NULL OPTIONS (description = "The last day the models hold after the run: run_date, or the previous run's built_through when that is later (a run for a past date rebuilds up to it)."),
  rebuilt_from DATE NOT NULL OPTIONS (description = "The first day the run built: built_through for a one-day run; an earlier day when rows arrived late, a run was missed or a past date was run (never before built_through minus late_data_horizon_days)."),
  mode STRING NOT NULL OPTIONS (description = "daily (each model over built_through alone) or range (each model once over rebuilt_from .. built_through)."),
  late_rows INT64 NOT NULL OPTIONS (description = "Rows that changed days an earlier run built, within the horizon, since the previous run: the late data this run absorbed (0 on the first run)."),
  rows_beyond_horizon INT64 NOT NULL OPTIONS (description = "Rows that arrived since the previous run for days older than the horizon (before built_through minus late_data_horizon_days): not absorbed; they need a backfill. 0 on the first run."),
  days_beyond_horizon INT64 NOT NULL OPTIONS (description = "Days older than the horizon that needed a rebuild (rows arrived for them, or no run built them) and were not rebuilt: run a backfill over them."),
  rows_in_expired_partitions INT64 NOT NULL OPTIONS (description = "Raw rows that appeared since the previous run in partitions older than the raw tables' partition expiration (before built_through minus raw_partition_expiration_days): BigQuery deletes them; the raw archive keeps them."),
  late_data_horizon_days INT64 NOT NULL OPTIONS (description = "The horizon the run used: how many days before built_through it may rebuild (Terraform variable late_data_horizon_days)."),
  partition_rows ARRAY<STRUCT<source STRING NOT NULL, day DATE NOT NULL, row_count INT64 NOT NULL>> OPTIONS (description = "The rows of each day the run counted before building, which the next run compares with: raw tables by partition (INFORMATION_SCHEMA.PARTITIONS), dead letters by the day of their message_time.")
)
PARTITION BY run_date
OPTIONS (
  description = "The build log of the scheduled models: one row per successful scheduled run, with the days it built, the late rows it absorbed, the rows beyond the late-data horizon or in expired partitions it could not, and the row counts the next run compares with.",
  require_partition_filter = FALSE
);
