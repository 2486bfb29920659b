-- Generated from schemas/analytics/funnel_daily.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `analytics.funnel_daily` (
  date DATE NOT NULL OPTIONS (description = "The day (UTC); the partitioning column."),
  viewed_users INT64 NOT NULL OPTIONS (description = "Distinct users with a view_product event this day."),
  carted_users INT64 NOT NULL OPTIONS (description = "Of viewed_users, those with an add_to_cart event the same day."),
  ordered_users INT64 NOT NULL OPTIONS (description = "Of carted_users, those (user_id = customer_id) with an order first seen the same day (orders_first_seen.first_seen_date)."),
  view_to_cart_rate FLOAT64 OPTIONS (description = "carted_users / viewed_users; NULL when viewed_users = 0."),
  cart_to_order_rate FLOAT64 OPTIONS (description = "ordered_users / carted_users; NULL when carted_users = 0.")
)
PARTITION BY date
CLUSTER BY date
OPTIONS (
  description = "One row per day: a strict same-day funnel view_product -> add_to_cart -> order, with step conversion rates.",
  require_partition_filter = FALSE
);
