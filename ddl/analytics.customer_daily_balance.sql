-- Generated from schemas/analytics/customer_daily_balance.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.customer_daily_balance` (
  customer_id STRING NOT NULL OPTIONS (description = "Customer identifier."),
  balance_date DATE NOT NULL OPTIONS (description = "The day (UTC); the partitioning column."),
  orders_placed INT64 NOT NULL OPTIONS (description = "Orders first seen this day."),
  order_value NUMERIC NOT NULL OPTIONS (description = "Sum of the first-event total_amount of the orders first seen this day."),
  cancelled_value NUMERIC NOT NULL OPTIONS (description = "Sum of the first-event total_amount of the orders first seen cancelled this day (each order once)."),
  net_value NUMERIC NOT NULL OPTIONS (description = "order_value - cancelled_value."),
  lifetime_orders INT64 NOT NULL OPTIONS (description = "Orders first seen up to and including this day (cancelled orders included)."),
  lifetime_value NUMERIC NOT NULL OPTIONS (description = "Lifetime net order value: the sum of net_value up to and including this day.")
)
PARTITION BY balance_date
CLUSTER BY customer_id
OPTIONS (
  description = "One row per customer per day from the first order: orders placed, order, cancelled and net value, lifetime totals.",
  require_partition_filter = FALSE
);
