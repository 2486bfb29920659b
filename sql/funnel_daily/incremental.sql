-- funnel_daily: incremental daily step (daily funnel).
--
-- Grain: one row per date, every built day (zeros when nothing happened).
-- Inputs: `events.user_activity` (partition event_date = @run_date only, view_product and
--   add_to_cart events), `analytics.orders_first_seen` (orders with first_seen_date =
--   @run_date). Runs after orders_first_seen.
-- Parameters: @run_date DATE, the day to build.
-- Columns: a strict same-day funnel, user_id = customer_id: viewed_users = distinct users with
--   a view_product event that day; carted_users = those of them with an add_to_cart event that
--   day; ordered_users = those of them with an order first seen that day (a new order, counted
--   even if later cancelled; status updates of older orders do not count). Steps are matched
--   by day, not by time of day. view_to_cart_rate = carted_users / viewed_users,
--   cart_to_order_rate = ordered_users / carted_users (FLOAT64, NULL when the denominator is 0).
-- Idempotency: one MERGE that deletes the row of date = @run_date and inserts it again,
--   atomically; a rerun writes the same row. Other days are not touched.
MERGE `analytics.funnel_daily` AS target
USING (
  WITH activity_steps_of_today AS (
    SELECT
      user_id,
      COUNTIF(activity_type = 'view_product') > 0 AS viewed,
      COUNTIF(activity_type = 'add_to_cart') > 0 AS added_to_cart
    FROM `events.user_activity`
    WHERE event_date = @run_date AND activity_type IN ('view_product', 'add_to_cart')
    GROUP BY user_id
  ),

  customers_ordering_today AS (
    SELECT DISTINCT customer_id AS user_id
    FROM `analytics.orders_first_seen`
    WHERE first_seen_date = @run_date
  ),

  user_steps_of_today AS (
    SELECT
      activity_steps_of_today.user_id,
      activity_steps_of_today.viewed,
      activity_steps_of_today.viewed AND activity_steps_of_today.added_to_cart AS carted,
      activity_steps_of_today.viewed AND activity_steps_of_today.added_to_cart
        AND customers_ordering_today.user_id IS NOT NULL AS ordered
    FROM activity_steps_of_today
    LEFT JOIN customers_ordering_today USING (user_id)
  ),

  step_counts AS (
    SELECT
      COUNTIF(viewed) AS viewed_users,
      COUNTIF(carted) AS carted_users,
      COUNTIF(ordered) AS ordered_users
    FROM user_steps_of_today
  )

  SELECT
    @run_date AS date,
    viewed_users,
    carted_users,
    ordered_users,
    SAFE_DIVIDE(carted_users, viewed_users) AS view_to_cart_rate,
    SAFE_DIVIDE(ordered_users, carted_users) AS cart_to_order_rate
  FROM step_counts
) AS today
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.date = @run_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  date, viewed_users, carted_users, ordered_users, view_to_cart_rate, cart_to_order_rate
) VALUES (
  today.date, today.viewed_users, today.carted_users, today.ordered_users, today.view_to_cart_rate,
  today.cart_to_order_rate
);
