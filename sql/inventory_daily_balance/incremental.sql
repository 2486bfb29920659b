-- inventory_daily_balance: incremental daily step.
--
-- Grain: one row per product per warehouse per day, from the day of the pair's first inventory
--   event to @run_date; days without events are included (opening = closing, movements 0).
-- Inputs: `analytics.inventory_daily_balance` (yesterday's rows, balance_date = @run_date - 1),
--   `events.inventory` (partition event_date = @run_date only).
-- Parameters: @run_date DATE, the day to build.
-- Definitions: restocked, sold, returned and damaged are the signed sums of quantity_change
--   per reason (sold and damaged are <= 0); net_change is their sum; opening_quantity is
--   yesterday's closing_quantity (0 for a pair first seen today); closing_quantity =
--   opening_quantity + net_change; is_low_stock = is_low_stock(closing_quantity), sql/rules.sql.
-- Once only: inventory_once keeps each (event_date, event_id) once, its first copy
--   (warehouse/once.py): a movement loaded twice moves the stock once, so no copy is carried
--   forward in the balances either.
-- Idempotency: one MERGE that deletes the rows of balance_date = @run_date and inserts them
--   again, atomically; a rerun writes the same rows. Other days are not touched: after a late
--   event, rebuild from its day forward (see docs/models.md).
MERGE `analytics.inventory_daily_balance` AS target
USING (
  WITH previous_day AS (
    SELECT product_id, warehouse_id, closing_quantity
    FROM `analytics.inventory_daily_balance`
    WHERE balance_date = DATE_SUB(@run_date, INTERVAL 1 DAY)
  ),

  inventory_once AS (
    SELECT product_id, warehouse_id, reason, quantity_change
    FROM `events.inventory` AS raw_event
    WHERE event_date = @run_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  movements AS (
    SELECT
      product_id,
      warehouse_id,
      SUM(IF(reason = 'restock', quantity_change, 0)) AS restocked,
      SUM(IF(reason = 'sale', quantity_change, 0)) AS sold,
      SUM(IF(reason = 'return', quantity_change, 0)) AS returned,
      SUM(IF(reason = 'damage', quantity_change, 0)) AS damaged,
      SUM(quantity_change) AS net_change
    FROM inventory_once
    GROUP BY product_id, warehouse_id
  ),

  day_balances AS (
    SELECT
      product_id,
      warehouse_id,
      COALESCE(previous_day.closing_quantity, 0) AS opening_quantity,
      COALESCE(movements.restocked, 0) AS restocked,
      COALESCE(movements.sold, 0) AS sold,
      COALESCE(movements.returned, 0) AS returned,
      COALESCE(movements.damaged, 0) AS damaged,
      COALESCE(movements.net_change, 0) AS net_change
    FROM previous_day
    FULL OUTER JOIN movements USING (product_id, warehouse_id)
  )

  SELECT
    product_id,
    warehouse_id,
    @run_date AS balance_date,
    opening_quantity,
    restocked,
    sold,
    returned,
    damaged,
    net_change,
    opening_quantity + net_change AS closing_quantity,
    is_low_stock(opening_quantity + net_change) AS is_low_stock
  FROM day_balances
) AS today
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.balance_date = @run_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  product_id, warehouse_id, balance_date, opening_quantity, restocked, sold, returned, damaged,
  net_change, closing_quantity, is_low_stock
) VALUES (
  today.product_id, today.warehouse_id, today.balance_date, today.opening_quantity, today.restocked,
  today.sold, today.returned, today.damaged, today.net_change, today.closing_quantity,
  today.is_low_stock
);
