-- Generated from schemas/events/orders.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `events.orders` (
  order_id STRING NOT NULL OPTIONS (description = "Order identifier."),
  customer_id STRING NOT NULL OPTIONS (description = "Customer identifier; shares its id space with user_activity.user_id."),
  order_date TIMESTAMP NOT NULL OPTIONS (description = "Time of this order event, normalised to UTC."),
  status STRING NOT NULL OPTIONS (description = "pending, processing, shipped, delivered or cancelled."),
  items ARRAY<STRUCT<product_id STRING NOT NULL, product_name STRING NOT NULL, quantity INT64 NOT NULL, price NUMERIC NOT NULL>> OPTIONS (description = "Order lines (at least one)."),
  shipping_address STRUCT<street STRING NOT NULL, city STRING NOT NULL, country STRING NOT NULL> NOT NULL OPTIONS (description = "Where the order ships."),
  total_amount NUMERIC NOT NULL OPTIONS (description = "Order total (>= 0); equals the sum of quantity x price within 0.01."),
  event_id STRING NOT NULL OPTIONS (description = "Unique event id: the producer's, or a SHA-256 of the canonical payload."),
  event_type STRING NOT NULL OPTIONS (description = "Stream the event was routed to."),
  processed_timestamp TIMESTAMP NOT NULL OPTIONS (description = "When the pipeline processed the event (UTC)."),
  event_date DATE NOT NULL OPTIONS (description = "UTC date of the event's own time; the partitioning column."),
  message_id STRING OPTIONS (description = "Pub/Sub message id of the message this row came from (or of the archive envelope it was replayed from); NULL for a plain JSON Lines line."),
  publish_time TIMESTAMP OPTIONS (description = "When Pub/Sub accepted the message (UTC); NULL for a plain JSON Lines line."),
  attributes JSON OPTIONS (description = "The message's Pub/Sub attributes, an object of strings; NULL for a plain JSON Lines line."),
  extra_fields JSON OPTIONS (description = "Every field the contract does not know, at any depth, as sent: the event with its known fields removed (array positions kept). NULL when there is none.")
)
PARTITION BY event_date
CLUSTER BY customer_id, status
OPTIONS (
  description = "Validated order events, one row per distinct event_id.",
  require_partition_filter = TRUE,
  partition_expiration_days = 90
);
