-- customer_daily_balance: the days [@start_date, @end_date]; the daily step runs it for one day.
--
-- Grain: one row per customer per day, from the day of the customer's first order to
--   @end_date (days without orders included; the lifetime totals carry forward).
-- Inputs: `analytics.customer_daily_balance` (the rows of @start_date - 1, the opening
--   lifetime totals), `analytics.orders_first_seen` (orders first seen, or first seen
--   cancelled, in the range; built for the range just before this step).
-- Parameters: @start_date DATE, @end_date DATE (inclusive); the daily step has both = the day.
-- History before @start_date: the rows already in the table for @start_date - 1 are the
--   opening state (a customer with such a row gets a row for every day of the range); with no
--   such rows the build starts from nothing. A day depends only on the rows of the day before,
--   so a range equals its days run one by one from @start_date.
-- Definitions: an order counts on the day it is first seen, at its first event's total_amount
--   (orders_placed, order_value), and is taken back, at that same amount, on the day it is
--   first seen cancelled (cancelled_value), once. net_value = order_value - cancelled_value;
--   lifetime_orders and lifetime_value (lifetime net order value) are running sums.
-- Once only: orders_first_seen, its input, holds one row per order built from each event
--   once, so a copied order event places or cancels nothing twice; no raw table is read.
-- Idempotency: one MERGE deletes every row of balance_date in [@start_date, @end_date] and
--   inserts the rebuilt rows atomically; rows outside the range are not touched: after a late
--   event, rebuild from its day forward (see docs/models.md).
MERGE `analytics.customer_daily_balance` AS target
USING (
  WITH opening_balances AS (
    SELECT customer_id, lifetime_orders, lifetime_value
    FROM `analytics.customer_daily_balance`
    WHERE balance_date = DATE_SUB(@start_date, INTERVAL 1 DAY)
  ),

  orders_placed_by_day AS (
    SELECT
      customer_id,
      first_seen_date AS balance_date,
      COUNT(*) AS orders_placed,
      SUM(total_amount) AS order_value
    FROM `analytics.orders_first_seen`
    WHERE first_seen_date BETWEEN @start_date AND @end_date
    GROUP BY customer_id, first_seen_date
  ),

  orders_cancelled_by_day AS (
    SELECT customer_id, cancelled_date AS balance_date, SUM(total_amount) AS cancelled_value
    FROM `analytics.orders_first_seen`
    WHERE cancelled_date BETWEEN @start_date AND @end_date
    GROUP BY customer_id, cancelled_date
  ),

  customer_first_days AS (
    SELECT customer_id, MIN(first_day) AS first_day
    FROM (
      SELECT customer_id, @start_date AS first_day FROM opening_balances
      UNION ALL
      SELECT customer_id, balance_date FROM orders_placed_by_day
      UNION ALL
      SELECT customer_id, balance_date FROM orders_cancelled_by_day
    )
    GROUP BY customer_id
  ),

  customer_days AS (
    SELECT customer_first_days.customer_id, balance_date
    FROM customer_first_days
    CROSS JOIN UNNEST(GENERATE_DATE_ARRAY(customer_first_days.first_day, @end_date)) AS balance_date
  ),

  day_totals AS (
    SELECT
      customer_days.customer_id,
      customer_days.balance_date,
      COALESCE(orders_placed_by_day.orders_placed, 0) AS orders_placed,
      COALESCE(orders_placed_by_day.order_value, 0) AS order_value,
      COALESCE(orders_cancelled_by_day.cancelled_value, 0) AS cancelled_value
    FROM customer_days
    LEFT JOIN orders_placed_by_day
      ON orders_placed_by_day.customer_id = customer_days.customer_id
      AND orders_placed_by_day.balance_date = customer_days.balance_date
    LEFT JOIN orders_cancelled_by_day
      ON orders_cancelled_by_day.customer_id = customer_days.customer_id
      AND orders_cancelled_by_day.balance_date = customer_days.balance_date
  ),

  running_totals AS (
    SELECT
      day_totals.*,
      SUM(orders_placed) OVER customer_history AS orders_to_date,
      SUM(order_value - cancelled_value) OVER customer_history AS net_value_to_date
    FROM day_totals
    WINDOW customer_history AS (
      PARTITION BY customer_id ORDER BY balance_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
  )

  SELECT
    running_totals.customer_id,
    running_totals.balance_date,
    running_totals.orders_placed,
    running_totals.order_value,
    running_totals.cancelled_value,
    running_totals.order_value - running_totals.cancelled_value AS net_value,
    COALESCE(opening_balances.lifetime_orders, 0) + running_totals.orders_to_date AS lifetime_orders,
    COALESCE(opening_balances.lifetime_value, 0) + running_totals.net_value_to_date AS lifetime_value
  FROM running_totals
  LEFT JOIN opening_balances USING (customer_id)
) AS rebuilt
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.balance_date BETWEEN @start_date AND @end_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  customer_id, balance_date, orders_placed, order_value, cancelled_value, net_value,
  lifetime_orders, lifetime_value
) VALUES (
  rebuilt.customer_id, rebuilt.balance_date, rebuilt.orders_placed, rebuilt.order_value,
  rebuilt.cancelled_value, rebuilt.net_value, rebuilt.lifetime_orders, rebuilt.lifetime_value
);
