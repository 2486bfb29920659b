-- Generated from schemas/analytics/products_scd.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.products_scd` (
  product_id STRING NOT NULL OPTIONS (description = "Product identifier."),
  product_name STRING NOT NULL OPTIONS (description = "Product name on the latest order event containing the product (as of the version's days)."),
  unit_price NUMERIC NOT NULL OPTIONS (description = "Unit price on the latest order event containing the product (as of the version's days)."),
  valid_from DATE NOT NULL OPTIONS (description = "First day this version holds; the partitioning column."),
  valid_to DATE OPTIONS (description = "First day this version no longer holds (exclusive end); NULL while current."),
  is_current BOOL NOT NULL OPTIONS (description = "True for the product's current version (valid_to IS NULL).")
)
PARTITION BY valid_from
CLUSTER BY product_id
OPTIONS (
  description = "SCD type 2 product history: name and unit price, one row per product per validity period.",
  require_partition_filter = FALSE
);
