-- weekly_error_rate: the weeks (Monday to Sunday, as ISO weeks) that hold a day of
--   [@start_date, @end_date] (the seeds' historical indicator); the daily step runs it for one
--   day, rebuilding that day's week.
--
-- Grain: one row per week and stream with any message that week.
-- Inputs: `analytics.fact_events_daily` '(all)' rows (partitions date from
--   monday_of(@start_date) to sunday_of(@end_date) only: constant bounds, so pruned).
-- Parameters: @start_date DATE, @end_date DATE (inclusive); the daily step has both = the day.
-- Columns: week = monday_of (sql/rules.sql), the Monday (UTC) of the week; messages = events
--   loaded plus messages rejected that week (total_events + error_events of the stream's
--   '(all)' rows, so the pipeline's duplicates are not messages); dead_letters = the rejected
--   ones, dated by their message time (a replay of history puts its rejections in their own
--   weeks); error_rate = dead_letters / messages. Streams are as in fact_events_daily: rejected
--   messages whose stream cannot be told are stream 'unknown' (error_rate 1).
-- History before @start_date: the days of @start_date's week before it, from fact_events_daily
--   (a week is always rebuilt whole, so a range equals its days run one by one once each day's
--   fact_events_daily is built, which the run order guarantees).
-- Once only: fact_events_daily counts each event_id once and each rejected message once, on the
--   day of its message time; a week sums those days.
-- Idempotency: one MERGE deletes every row of the weeks rebuilt and inserts the rebuilt ones
--   atomically; a rerun writes the same rows, other weeks are not touched.
MERGE `analytics.weekly_error_rate` AS target
USING (
  WITH days_by_stream AS (
    SELECT
      monday_of(date) AS week,
      stream,
      total_events,
      COALESCE(error_events, 0) AS error_events
    FROM `analytics.fact_events_daily`
    WHERE
      date BETWEEN monday_of(@start_date) AND sunday_of(@end_date)
      AND event_type = '(all)'
  )

  SELECT
    week,
    stream,
    SUM(total_events) + SUM(error_events) AS messages,
    SUM(error_events) AS dead_letters,
    SAFE_DIVIDE(SUM(error_events), SUM(total_events) + SUM(error_events)) AS error_rate
  FROM days_by_stream
  GROUP BY week, stream
) AS rebuilt
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.week BETWEEN monday_of(@start_date) AND monday_of(@end_date) THEN DELETE
WHEN NOT MATCHED THEN INSERT (week, stream, messages, dead_letters, error_rate)
VALUES (rebuilt.week, rebuilt.stream, rebuilt.messages, rebuilt.dead_letters, rebuilt.error_rate);
