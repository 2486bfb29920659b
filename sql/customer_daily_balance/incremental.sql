-- customer_daily_balance: incremental daily step.
--
-- Grain: one row per customer per day, from the day of the customer's first order to @run_date
--   (days without orders included; the lifetime totals carry forward).
-- Inputs: `analytics.customer_daily_balance` (yesterday's rows, balance_date = @run_date - 1),
--   `analytics.orders_first_seen` (orders first seen, or first seen cancelled, on @run_date;
--   built for @run_date just before this step).
-- Parameters: @run_date DATE, the day to build.
-- Definitions: an order counts on the day it is first seen, at its first event's total_amount
--   (orders_placed, order_value), and is taken back, at that same amount, on the day it is
--   first seen cancelled (cancelled_value), once. net_value = order_value - cancelled_value;
--   lifetime_orders and lifetime_value (lifetime net order value) are running sums.
-- Once only: orders_first_seen, its input, holds one row per order built from each event
--   once, so a copied order event places or cancels nothing twice; no raw table is read.
-- Idempotency: one MERGE that deletes the rows of balance_date = @run_date and inserts them
--   again, atomically; a rerun writes the same rows. Other days are not touched: after a late
--   event, rebuild from its day forward (see docs/models.md).
MERGE `analytics.customer_daily_balance` AS target
USING (
  WITH previous_day AS (
    SELECT customer_id, lifetime_orders, lifetime_value
    FROM `analytics.customer_daily_balance`
    WHERE balance_date = DATE_SUB(@run_date, INTERVAL 1 DAY)
  ),

  orders_placed AS (
    SELECT customer_id, COUNT(*) AS orders_placed, SUM(total_amount) AS order_value
    FROM `analytics.orders_first_seen`
    WHERE first_seen_date = @run_date
    GROUP BY customer_id
  ),

  orders_cancelled AS (
    SELECT customer_id, SUM(total_amount) AS cancelled_value
    FROM `analytics.orders_first_seen`
    WHERE cancelled_date = @run_date
    GROUP BY customer_id
  ),

  customers AS (
    SELECT customer_id FROM previous_day
    UNION DISTINCT
    SELECT customer_id FROM orders_placed
    UNION DISTINCT
    SELECT customer_id FROM orders_cancelled
  ),

  day_totals AS (
    SELECT
      customers.customer_id,
      COALESCE(orders_placed.orders_placed, 0) AS orders_placed,
      COALESCE(orders_placed.order_value, 0) AS order_value,
      COALESCE(orders_cancelled.cancelled_value, 0) AS cancelled_value,
      COALESCE(previous_day.lifetime_orders, 0) AS previous_lifetime_orders,
      COALESCE(previous_day.lifetime_value, 0) AS previous_lifetime_value
    FROM customers
    LEFT JOIN previous_day USING (customer_id)
    LEFT JOIN orders_placed USING (customer_id)
    LEFT JOIN orders_cancelled USING (customer_id)
  )

  SELECT
    customer_id,
    @run_date AS balance_date,
    orders_placed,
    order_value,
    cancelled_value,
    order_value - cancelled_value AS net_value,
    previous_lifetime_orders + orders_placed AS lifetime_orders,
    previous_lifetime_value + order_value - cancelled_value AS lifetime_value
  FROM day_totals
) AS today
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.balance_date = @run_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  customer_id, balance_date, orders_placed, order_value, cancelled_value, net_value,
  lifetime_orders, lifetime_value
) VALUES (
  today.customer_id, today.balance_date, today.orders_placed, today.order_value,
  today.cancelled_value, today.net_value, today.lifetime_orders, today.lifetime_value
);
