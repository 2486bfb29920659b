-- orders_first_seen: the days [@start_date, @end_date]; the daily step runs it for one day.
--
-- Grain: one row per order (order_id). Supporting state for customer_daily_balance and
--   customers_scd: the raw orders partitions expire (partition_expiration_days,
--   schemas/tables.json), so "first seen" and "first seen cancelled" are remembered here, not
--   re-derived from raw history.
-- Inputs: `events.orders` (partitions event_date BETWEEN @start_date AND @end_date only).
-- Parameters: @start_date DATE, @end_date DATE (inclusive); the daily step has both = the day.
-- Columns: first_seen_date / first_event_ts / first_event_id / customer_id / total_amount come
--   from the order's first event, the earliest by (order_date, event_id); cancelled_date is
--   the day of the order's first event with status = 'cancelled'.
-- Once only: order_events keeps each (event_date, event_id) once, its first copy
--   (warehouse/once.py): a copy is never a new first event or cancellation, and of two different
--   events sharing an event_id on one day only the first loaded counts.
-- Idempotency: a single MERGE that keeps, per order, the minimum of what is stored and what
--   the range's events say (earliest first event, earliest cancelled day). A minimum is
--   idempotent and order-independent: rerunning a day or a range, or running days in any
--   order, gives the same table, a range equals its days run one by one, and a late event is
--   picked up by rerunning its day. State from before @start_date is kept as it is.
MERGE `analytics.orders_first_seen` AS target
USING (
  WITH order_events AS (
    SELECT order_id, customer_id, order_date, event_id, status, total_amount, event_date
    FROM `events.orders` AS raw_event
    WHERE event_date BETWEEN @start_date AND @end_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  first_events AS (
    SELECT
      order_id,
      ARRAY_AGG(
        STRUCT(
          customer_id AS customer_id,
          event_date AS event_date,
          order_date AS order_date,
          event_id AS event_id,
          total_amount AS total_amount
        )
        ORDER BY order_date, event_id
        LIMIT 1
      )[OFFSET(0)] AS first_event
    FROM order_events
    GROUP BY order_id
  ),

  first_cancellations AS (
    SELECT order_id, MIN(event_date) AS cancelled_date
    FROM order_events
    WHERE status = 'cancelled'
    GROUP BY order_id
  )

  SELECT
    first_events.order_id,
    first_events.first_event.customer_id AS customer_id,
    first_events.first_event.event_date AS first_seen_date,
    first_events.first_event.order_date AS first_event_ts,
    first_events.first_event.event_id AS first_event_id,
    first_events.first_event.total_amount AS total_amount,
    first_cancellations.cancelled_date
  FROM first_events
  LEFT JOIN first_cancellations USING (order_id)
) AS seen
ON target.order_id = seen.order_id
WHEN MATCHED AND (
  seen.first_event_ts < target.first_event_ts
  OR (seen.first_event_ts = target.first_event_ts AND seen.first_event_id < target.first_event_id)
) THEN UPDATE SET
  customer_id = seen.customer_id,
  first_seen_date = seen.first_seen_date,
  first_event_ts = seen.first_event_ts,
  first_event_id = seen.first_event_id,
  total_amount = seen.total_amount,
  cancelled_date = LEAST(
    COALESCE(target.cancelled_date, seen.cancelled_date),
    COALESCE(seen.cancelled_date, target.cancelled_date)
  )
WHEN MATCHED AND seen.cancelled_date < COALESCE(target.cancelled_date, DATE '9999-12-31') THEN UPDATE SET
  cancelled_date = seen.cancelled_date
WHEN NOT MATCHED THEN INSERT (
  order_id, customer_id, first_seen_date, first_event_ts, first_event_id, total_amount, cancelled_date
) VALUES (
  seen.order_id, seen.customer_id, seen.first_seen_date, seen.first_event_ts, seen.first_event_id,
  seen.total_amount, seen.cancelled_date
);
