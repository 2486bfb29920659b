-- Generated from schemas/analytics/customers_scd.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.customers_scd` (
  customer_id STRING NOT NULL OPTIONS (description = "Customer identifier."),
  country STRING NOT NULL OPTIONS (description = "Shipping country of the customer's latest order event (as of the version's days)."),
  city STRING NOT NULL OPTIONS (description = "Shipping city of the customer's latest order event (as of the version's days)."),
  customer_tier STRING NOT NULL OPTIONS (description = "Tier on lifetime net order value (customer_tier in sql/rules.sql): bronze < 200 <= silver < 1000 <= gold < 5000 <= platinum."),
  is_active BOOL NOT NULL OPTIONS (description = "True when the customer had an order event in the 30 days up to and including the day (active_window_days in sql/rules.sql)."),
  valid_from DATE NOT NULL OPTIONS (description = "First day this version holds; the partitioning column."),
  valid_to DATE OPTIONS (description = "First day this version no longer holds (exclusive end); NULL while current."),
  is_current BOOL NOT NULL OPTIONS (description = "True for the customer's current version (valid_to IS NULL).")
)
PARTITION BY valid_from
CLUSTER BY customer_id
OPTIONS (
  description = "SCD type 2 customer history: country, city, tier and activity, one row per customer per validity period.",
  require_partition_filter = FALSE
);
