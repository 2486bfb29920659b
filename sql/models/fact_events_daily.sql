-- fact_events_daily: the days [@start_date, @end_date] (daily fact table); the daily step runs it
--   for one day.
--
-- Grain: one row per date, stream and event_type with any raw rows that day, plus one
--   event_type = '(all)' row per stream with any raw or dead-letter rows that day.
-- Inputs: `events.orders`, `events.inventory`, `events.user_activity` (partitions event_date
--   BETWEEN @start_date AND @end_date only), `events.dead_letter` (failed_at from the UTC day
--   dead_letter_window_days + 1 before @start_date on, i.e. its partitions DATE(failed_at) >=
--   @start_date - dead_letter_window_days - 1; sql/rules.sql). A dead letter is dated by its
--   message time: failed_at is never earlier than its message day - 1 (publish_time <= failed_at;
--   an accepted event time is at most a day ahead), so that read holds every row whose message
--   day is in [@start_date - dead_letter_window_days, @end_date]. It has no upper bound: a replay
--   may reject a message long after its time. COALESCE(message_time, failed_at) dates the rows
--   written before the column existed (NULL message_time) by failed_at.
-- Parameters: @start_date DATE, @end_date DATE (inclusive); the daily step has both = the day.
-- Columns: event_type = status (orders), reason (inventory), activity_type (user_activity);
--   total_events = events that day. A rejected message has no trusted event type, so
--   error_events (rejected messages of the stream whose message time is that day, UTC) is on the
--   '(all)' row only, NULL on event-type rows; the '(all)' row's total_events is the stream's total. For
--   user_activity: unique_sessions = distinct metadata.session_id with an event of the type
--   ('(all)': any event); avg_session_duration_s = average, over those sessions, of the
--   session's span that day (max - min timestamp of all its events of the day), in seconds;
--   both NULL for the other streams. Sessions are per day (a session crossing midnight UTC
--   counts on both days, each with its span within that day).
-- Once only: orders_once, inventory_once and user_activity_once each keep each (event_date,
--   event_id) once, its first copy (warehouse/once.py), for total_events, unique_sessions and the
--   session spans; error_events counts each rejected message (dead_letter_key) once, on the day of
--   its message time (copies of a Pub/Sub message share their publish time, so their day): a dead
--   letter whose previous copy has its message time in the dead_letter_window_days days before its
--   own message day is a copy (is_first_rejection), hence the read of that window before the range.
-- History before @start_date: only the dead letters of the window; each day depends only on its
--   own partitions and the dead letters of the window before it, so a range equals its days run
--   one by one. A message rejected after its day was built (a replay of history) lands on its
--   message day: rebuild from that day, as for late data.
-- Idempotency: one MERGE deletes every row of date in [@start_date, @end_date] and inserts the
--   rebuilt ones atomically; a rerun writes the same rows, rows outside the range are not touched.
MERGE `analytics.fact_events_daily` AS target
USING (
  WITH orders_once AS (
    SELECT event_date, status
    FROM `events.orders` AS raw_event
    WHERE event_date BETWEEN @start_date AND @end_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  inventory_once AS (
    SELECT event_date, reason
    FROM `events.inventory` AS raw_event
    WHERE event_date BETWEEN @start_date AND @end_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  user_activity_once AS (
    SELECT event_date, activity_type, metadata.session_id AS session_id, timestamp
    FROM `events.user_activity` AS raw_event
    WHERE event_date BETWEEN @start_date AND @end_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  raw_events_in_range AS (
    SELECT event_date AS day, 'orders' AS stream, status AS event_type
    FROM orders_once
    UNION ALL
    SELECT event_date AS day, 'inventory' AS stream, reason AS event_type
    FROM inventory_once
    UNION ALL
    SELECT event_date AS day, 'user_activity' AS stream, activity_type AS event_type
    FROM user_activity_once
  ),

  activity_in_range AS (
    SELECT event_date AS day, activity_type, session_id, timestamp
    FROM user_activity_once
  ),

  dead_letters_in_window AS (
    SELECT
      stream,
      COALESCE(message_time, failed_at) AS message_time,
      LAG(COALESCE(message_time, failed_at)) OVER (
        PARTITION BY dead_letter_key(message_id, payload, payload_encoding)
        ORDER BY COALESCE(message_time, failed_at), failed_at, stream
      ) AS previous_copy_message_time
    FROM `events.dead_letter`
    WHERE failed_at >= TIMESTAMP(DATE_SUB(@start_date, INTERVAL dead_letter_window_days + 1 DAY))
  ),

  errors_by_day AS (
    SELECT DATE(message_time) AS day, stream, COUNT(*) AS error_events
    FROM dead_letters_in_window
    WHERE DATE(message_time) BETWEEN @start_date AND @end_date
      AND is_first_rejection(message_time, previous_copy_message_time, dead_letter_window_days)
    GROUP BY day, stream
  ),

  session_spans AS (
    SELECT day, session_id, TIMESTAMP_DIFF(MAX(timestamp), MIN(timestamp), MICROSECOND) AS duration_us
    FROM activity_in_range
    GROUP BY day, session_id
  ),

  activity_type_sessions AS (
    SELECT DISTINCT day, activity_type AS event_type, session_id
    FROM activity_in_range
    UNION ALL
    SELECT DISTINCT day, '(all)' AS event_type, session_id
    FROM activity_in_range
  ),

  activity_session_facts AS (
    SELECT
      activity_type_sessions.day,
      activity_type_sessions.event_type,
      COUNT(*) AS unique_sessions,
      AVG(session_spans.duration_us) / 1000000 AS avg_session_duration_s
    FROM activity_type_sessions
    JOIN session_spans USING (day, session_id)
    GROUP BY activity_type_sessions.day, activity_type_sessions.event_type
  ),

  event_counts AS (
    SELECT day, stream, event_type, COUNT(*) AS total_events
    FROM raw_events_in_range
    GROUP BY day, stream, event_type
    UNION ALL
    SELECT day, stream, '(all)' AS event_type, COUNT(*) AS total_events
    FROM raw_events_in_range
    GROUP BY day, stream
  ),

  stream_totals AS (
    SELECT day, stream, event_type, total_events, CAST(NULL AS INT64) AS error_events
    FROM event_counts
    WHERE event_type != '(all)'
    UNION ALL
    SELECT
      day,
      stream,
      '(all)' AS event_type,
      COALESCE(event_counts.total_events, 0) AS total_events,
      COALESCE(errors_by_day.error_events, 0) AS error_events
    FROM (SELECT * FROM event_counts WHERE event_type = '(all)') AS event_counts
    FULL OUTER JOIN errors_by_day USING (day, stream)
  )

  SELECT
    stream_totals.day AS date,
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
    ON activity_session_facts.day = stream_totals.day
    AND stream_totals.stream = 'user_activity'
    AND activity_session_facts.event_type = stream_totals.event_type
) AS rebuilt
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.date BETWEEN @start_date AND @end_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  date, stream, event_type, total_events, error_events, unique_sessions, avg_session_duration_s
) VALUES (
  rebuilt.date, rebuilt.stream, rebuilt.event_type, rebuilt.total_events, rebuilt.error_events,
  rebuilt.unique_sessions, rebuilt.avg_session_duration_s
);
