-- Generated from schemas/analytics/orders_first_seen.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.orders_first_seen` (
  order_id STRING NOT NULL OPTIONS (description = "Order identifier."),
  customer_id STRING NOT NULL OPTIONS (description = "Customer of the order's first event."),
  first_seen_date DATE NOT NULL OPTIONS (description = "UTC date of the order's first event (event_date); the partitioning column."),
  first_event_ts TIMESTAMP NOT NULL OPTIONS (description = "order_date of the order's first event (earliest order_date, ties broken by event_id)."),
  first_event_id STRING NOT NULL OPTIONS (description = "event_id of the order's first event."),
  total_amount NUMERIC NOT NULL OPTIONS (description = "total_amount of the order's first event: the value the order counts for."),
  cancelled_date DATE OPTIONS (description = "UTC date of the order's first cancelled event; NULL while never seen cancelled.")
)
PARTITION BY first_seen_date
CLUSTER BY customer_id, order_id
OPTIONS (
  description = "Supporting state: one row per order with the day it was first seen, its first event's total_amount and the day it was first seen cancelled.",
  require_partition_filter = FALSE
);
