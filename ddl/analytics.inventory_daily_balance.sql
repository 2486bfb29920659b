-- Generated from schemas/analytics/inventory_daily_balance.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.inventory_daily_balance` (
  product_id STRING NOT NULL OPTIONS (description = "Product identifier."),
  warehouse_id STRING NOT NULL OPTIONS (description = "Warehouse identifier."),
  balance_date DATE NOT NULL OPTIONS (description = "The day (UTC); the partitioning column."),
  opening_quantity INT64 NOT NULL OPTIONS (description = "Closing quantity of the day before (0 on the first day)."),
  restocked INT64 NOT NULL OPTIONS (description = "Sum of restock quantity_change this day (>= 0)."),
  sold INT64 NOT NULL OPTIONS (description = "Sum of sale quantity_change this day (<= 0)."),
  returned INT64 NOT NULL OPTIONS (description = "Sum of return quantity_change this day (>= 0)."),
  damaged INT64 NOT NULL OPTIONS (description = "Sum of damage quantity_change this day (<= 0)."),
  net_change INT64 NOT NULL OPTIONS (description = "restocked + sold + returned + damaged."),
  closing_quantity INT64 NOT NULL OPTIONS (description = "opening_quantity + net_change."),
  is_low_stock BOOL NOT NULL OPTIONS (description = "closing_quantity < 10 (is_low_stock in sql/rules.sql).")
)
PARTITION BY balance_date
CLUSTER BY product_id, warehouse_id
OPTIONS (
  description = "One row per product, warehouse and day from the first movement: opening, movements by reason, closing and low-stock flag.",
  require_partition_filter = FALSE
);
