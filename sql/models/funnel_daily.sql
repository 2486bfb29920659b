-- funnel_daily: the days [@start_date, @end_date] (daily funnel); the daily step runs it for one
--   day.
--
-- Grain: one row per date, every built day (zeros when nothing happened).
-- Inputs: `events.user_activity` (partitions event_date BETWEEN @start_date AND @end_date only,
--   view_product and add_to_cart events), `analytics.orders_first_seen` (orders with
--   first_seen_date in the range). Runs after orders_first_seen.
-- Parameters: @start_date DATE, @end_date DATE (inclusive); the daily step has both = the day.
-- Columns: a strict same-day funnel, user_id = customer_id: viewed_users = distinct users with
--   a view_product event that day; carted_users = those of them with an add_to_cart event that
--   day; ordered_users = those of them with an order first seen that day (a new order, counted
--   even if later cancelled; status updates of older orders do not count). Steps are matched
--   by day, not by time of day. view_to_cart_rate = carted_users / viewed_users,
--   cart_to_order_rate = ordered_users / carted_users (FLOAT64, NULL when the denominator is 0).
-- History before @start_date: none needed; each day depends only on its own partition and the
--   orders first seen that day, so a range equals its days run one by one.
-- Once only: user_activity_once keeps each (event_date, event_id) once, its first copy
--   (warehouse/once.py), before the funnel's activity types are picked; ordered_users comes from
--   orders_first_seen, which holds each event once.
-- Idempotency: one MERGE deletes every row of date in [@start_date, @end_date] and inserts the
--   rebuilt ones atomically; a rerun writes the same rows, rows outside the range are not touched.
MERGE `analytics.funnel_daily` AS target
USING (
  WITH days_in_range AS (
    SELECT day
    FROM UNNEST(GENERATE_DATE_ARRAY(@start_date, @end_date)) AS day
  ),

  user_activity_once AS (
    SELECT event_date, user_id, activity_type
    FROM `events.user_activity` AS raw_event
    WHERE event_date BETWEEN @start_date AND @end_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  activity_steps_by_day AS (
    SELECT
      event_date AS day,
      user_id,
      COUNTIF(activity_type = 'view_product') > 0 AS viewed,
      COUNTIF(activity_type = 'add_to_cart') > 0 AS added_to_cart
    FROM user_activity_once
    WHERE activity_type IN ('view_product', 'add_to_cart')
    GROUP BY event_date, user_id
  ),

  customers_ordering_by_day AS (
    SELECT DISTINCT first_seen_date AS day, customer_id AS user_id
    FROM `analytics.orders_first_seen`
    WHERE first_seen_date BETWEEN @start_date AND @end_date
  ),

  user_steps_by_day AS (
    SELECT
      activity_steps_by_day.day,
      activity_steps_by_day.user_id,
      activity_steps_by_day.viewed,
      activity_steps_by_day.viewed AND activity_steps_by_day.added_to_cart AS carted,
      activity_steps_by_day.viewed AND activity_steps_by_day.added_to_cart
        AND customers_ordering_by_day.user_id IS NOT NULL AS ordered
    FROM activity_steps_by_day
    LEFT JOIN customers_ordering_by_day USING (day, user_id)
  ),

  step_counts_by_day AS (
    SELECT
      days_in_range.day,
      COUNTIF(user_steps_by_day.viewed) AS viewed_users,
      COUNTIF(user_steps_by_day.carted) AS carted_users,
      COUNTIF(user_steps_by_day.ordered) AS ordered_users
    FROM days_in_range
    LEFT JOIN user_steps_by_day USING (day)
    GROUP BY days_in_range.day
  )

  SELECT
    day AS date,
    viewed_users,
    carted_users,
    ordered_users,
    SAFE_DIVIDE(carted_users, viewed_users) AS view_to_cart_rate,
    SAFE_DIVIDE(ordered_users, carted_users) AS cart_to_order_rate
  FROM step_counts_by_day
) AS rebuilt
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.date BETWEEN @start_date AND @end_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  date, viewed_users, carted_users, ordered_users, view_to_cart_rate, cart_to_order_rate
) VALUES (
  rebuilt.date, rebuilt.viewed_users, rebuilt.carted_users, rebuilt.ordered_users,
  rebuilt.view_to_cart_rate, rebuilt.cart_to_order_rate
);
