-- fact_events_daily: incremental daily step (daily fact table).
--
-- Grain: one row per date, stream and event_type with any raw rows that day, plus one
--   event_type = '(all)' row per stream with any raw or dead-letter rows that day.
-- Inputs: `events.orders`, `events.inventory`, `events.user_activity` (partition
--   event_date = @run_date only), `events.dead_letter` (failed_at within the UTC day
--   @run_date, i.e. its partition DATE(failed_at) = @run_date).
-- Parameters: @run_date DATE, the day to build.
-- Columns: event_type = status (orders), reason (inventory), activity_type (user_activity);
--   total_events = raw rows that day. A rejected message has no trusted event type, so
--   error_events (dead_letter rows of the stream failed that day) is on the '(all)' row only,
--   NULL on event-type rows; the '(all)' row's total_events is the stream's total. For
--   user_activity: unique_sessions = distinct metadata.session_id with an event of the type
--   ('(all)': any event); avg_session_duration_s = average, over those sessions, of the
--   session's span that day (max - min timestamp of all its events of the day), in seconds;
--   both NULL for the other streams.
-- Idempotency: one MERGE that deletes the rows of date = @run_date and inserts them again,
--   atomically; a rerun writes the same rows. Other days are not touched.
MERGE `analytics.fact_events_daily` AS target
USING (
  WITH raw_events_of_today AS (
    SELECT 'orders' AS stream, status AS event_type
    FROM `events.orders`
    WHERE event_date = @run_date
    UNION ALL
    SELECT 'inventory' AS stream, reason AS event_type
    FROM `events.inventory`
    WHERE event_date = @run_date
    UNION ALL
    SELECT 'user_activity' AS stream, activity_type AS event_type
    FROM `events.user_activity`
    WHERE event_date = @run_date
  ),

  activity_of_today AS (
    SELECT activity_type, metadata.session_id AS session_id, timestamp
    FROM `events.user_activity`
    WHERE event_date = @run_date
  ),

  errors_of_today AS (
    SELECT stream, COUNT(*) AS error_events
    FROM `events.dead_letter`
    WHERE failed_at >= TIMESTAMP(@run_date) AND failed_at < TIMESTAMP(DATE_ADD(@run_date, INTERVAL 1 DAY))
    GROUP BY stream
  ),

  session_spans AS (
    SELECT session_id, TIMESTAMP_DIFF(MAX(timestamp), MIN(timestamp), MICROSECOND) AS duration_us
    FROM activity_of_today
    GROUP BY session_id
  ),

  activity_type_sessions AS (
    SELECT DISTINCT activity_type AS event_type, session_id
    FROM activity_of_today
    UNION ALL
    SELECT DISTINCT '(all)' AS event_type, session_id
    FROM activity_of_today
  ),

  activity_session_facts AS (
    SELECT
      activity_type_sessions.event_type,
      COUNT(*) AS unique_sessions,
      AVG(session_spans.duration_us) / 1000000 AS avg_session_duration_s
    FROM activity_type_sessions
    JOIN session_spans USING (session_id)
    GROUP BY activity_type_sessions.event_type
  ),

  event_counts AS (
    SELECT stream, event_type, COUNT(*) AS total_events
    FROM raw_events_of_today
    GROUP BY stream, event_type
    UNION ALL
    SELECT stream, '(all)' AS event_type, COUNT(*) AS total_events
    FROM raw_events_of_today
    GROUP BY stream
  ),

  stream_totals AS (
    SELECT stream, event_type, total_events, CAST(NULL AS INT64) AS error_events
    FROM event_counts
    WHERE event_type != '(all)'
    UNION ALL
    SELECT
      stream,
      '(all)' AS event_type,
      COALESCE(event_counts.total_events, 0) AS total_events,
      COALESCE(errors_of_today.error_events, 0) AS error_events
    FROM (SELECT * FROM event_counts WHERE event_type = '(all)') AS event_counts
    FULL OUTER JOIN errors_of_today USING (stream)
  )

  SELECT
    @run_date AS date,
    stream_totals.stream,
    stream_totals.event_type,
    stream_totals.total_events,
    stream_totals.error_events,
    IF(stream_totals.stream = 'user_activity', COALESCE(activity_session_facts.unique_sessions, 0), NULL)
      AS unique_sessions,
    IF(stream_totals.stream = 'user_activity', activity_session_facts.avg_session_duration_s, NULL)
      AS avg_session_duration_s
  FROM stream_totals
  LEFT JOIN activity_session_facts
    ON stream_totals.stream = 'user_activity'
    AND activity_session_facts.event_type = stream_totals.event_type
) AS today
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.date = @run_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  date, stream, event_type, total_events, error_events, unique_sessions, avg_session_duration_s
) VALUES (
  today.date, today.stream, today.event_type, today.total_events, today.error_events,
  today.unique_sessions, today.avg_session_duration_s
);
