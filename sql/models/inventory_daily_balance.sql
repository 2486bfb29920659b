-- inventory_daily_balance: the days [@start_date, @end_date]; the daily step runs it for one
--   day.
--
-- Grain: one row per product per warehouse per day, from the day of the pair's first inventory
--   event to @end_date; days without events are included (opening = closing, movements 0).
-- Inputs: `analytics.inventory_daily_balance` (the rows of @start_date - 1: opening
--   quantities), `events.inventory` (partitions event_date BETWEEN @start_date AND @end_date).
-- Parameters: @start_date DATE, @end_date DATE (inclusive); the daily step has both = the day.
-- History before @start_date: the closing_quantity already in the table for @start_date - 1 is
--   the opening quantity on @start_date (such a pair gets a row for every day of the range);
--   with no such row a pair starts at 0 on its first event in the range. Raw partitions expire
--   (partition_expiration_days, schemas/tables.json), so stock levels are carried in this table,
--   never recomputed from all raw history. A day depends only on the rows of the day before,
--   so a range equals its days run one by one from @start_date.
-- Definitions: restocked, sold, returned and damaged are the signed sums of quantity_change
--   per reason (sold and damaged are <= 0); net_change is their sum; opening_quantity is the
--   day before's closing_quantity (0 for a pair first seen that day); closing_quantity =
--   opening_quantity + net_change; is_low_stock = is_low_stock(closing_quantity), sql/rules.sql.
-- Once only: inventory_once keeps each (event_date, event_id) once, its first copy
--   (warehouse/once.py): a movement loaded twice moves the stock once, so no copy is carried
--   forward in the balances either.
-- Idempotency: one MERGE deletes every row of balance_date in [@start_date, @end_date] and
--   inserts the rebuilt rows atomically; rows outside the range are not touched: after a late
--   event, rebuild from its day forward (see docs/models.md).
MERGE `analytics.inventory_daily_balance` AS target
USING (
  WITH opening_balances AS (
    SELECT product_id, warehouse_id, closing_quantity AS opening_quantity
    FROM `analytics.inventory_daily_balance`
    WHERE balance_date = DATE_SUB(@start_date, INTERVAL 1 DAY)
  ),

  inventory_once AS (
    SELECT product_id, warehouse_id, event_date, reason, quantity_change
    FROM `events.inventory` AS raw_event
    WHERE event_date BETWEEN @start_date AND @end_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  movements_by_day AS (
    SELECT
      product_id,
      warehouse_id,
      event_date AS balance_date,
      SUM(IF(reason = 'restock', quantity_change, 0)) AS restocked,
      SUM(IF(reason = 'sale', quantity_change, 0)) AS sold,
      SUM(IF(reason = 'return', quantity_change, 0)) AS returned,
      SUM(IF(reason = 'damage', quantity_change, 0)) AS damaged,
      SUM(quantity_change) AS net_change
    FROM inventory_once
    GROUP BY product_id, warehouse_id, event_date
  ),

  pair_first_days AS (
    SELECT product_id, warehouse_id, MIN(first_day) AS first_day
    FROM (
      SELECT product_id, warehouse_id, @start_date AS first_day FROM opening_balances
      UNION ALL
      SELECT product_id, warehouse_id, balance_date FROM movements_by_day
    )
    GROUP BY product_id, warehouse_id
  ),

  pair_days AS (
    SELECT pair_first_days.product_id, pair_first_days.warehouse_id, balance_date
    FROM pair_first_days
    CROSS JOIN UNNEST(GENERATE_DATE_ARRAY(pair_first_days.first_day, @end_date)) AS balance_date
  ),

  day_movements AS (
    SELECT
      pair_days.product_id,
      pair_days.warehouse_id,
      pair_days.balance_date,
      COALESCE(movements_by_day.restocked, 0) AS restocked,
      COALESCE(movements_by_day.sold, 0) AS sold,
      COALESCE(movements_by_day.returned, 0) AS returned,
      COALESCE(movements_by_day.damaged, 0) AS damaged,
      COALESCE(movements_by_day.net_change, 0) AS net_change
    FROM pair_days
    LEFT JOIN movements_by_day
      ON movements_by_day.product_id = pair_days.product_id
      AND movements_by_day.warehouse_id = pair_days.warehouse_id
      AND movements_by_day.balance_date = pair_days.balance_date
  ),

  closing_balances AS (
    SELECT
      day_movements.*,
      COALESCE(opening_balances.opening_quantity, 0) + SUM(day_movements.net_change) OVER (
        PARTITION BY day_movements.product_id, day_movements.warehouse_id
        ORDER BY day_movements.balance_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS closing_quantity
    FROM day_movements
    LEFT JOIN opening_balances
      ON opening_balances.product_id = day_movements.product_id
      AND opening_balances.warehouse_id = day_movements.warehouse_id
  )

  SELECT
    product_id,
    warehouse_id,
    balance_date,
    closing_quantity - net_change AS opening_quantity,
    restocked,
    sold,
    returned,
    damaged,
    net_change,
    closing_quantity,
    is_low_stock(closing_quantity) AS is_low_stock
  FROM closing_balances
) AS rebuilt
ON FALSE
WHEN NOT MATCHED BY SOURCE AND target.balance_date BETWEEN @start_date AND @end_date THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  product_id, warehouse_id, balance_date, opening_quantity, restocked, sold, returned, damaged,
  net_change, closing_quantity, is_low_stock
) VALUES (
  rebuilt.product_id, rebuilt.warehouse_id, rebuilt.balance_date, rebuilt.opening_quantity,
  rebuilt.restocked, rebuilt.sold, rebuilt.returned, rebuilt.damaged, rebuilt.net_change,
  rebuilt.closing_quantity, rebuilt.is_low_stock
);
