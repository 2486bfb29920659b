-- Generated from schemas/events/inventory.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `events.inventory` (
  inventory_id STRING NOT NULL OPTIONS (description = "Inventory movement identifier."),
  product_id STRING NOT NULL OPTIONS (description = "Product identifier."),
  warehouse_id STRING NOT NULL OPTIONS (description = "Warehouse identifier."),
  quantity_change INT64 NOT NULL OPTIONS (description = "Signed change in units, -100..100, never 0."),
  reason STRING NOT NULL OPTIONS (description = "restock or return (> 0), sale or damage (< 0)."),
  timestamp TIMESTAMP NOT NULL OPTIONS (description = "Time of the movement, normalised to UTC."),
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
CLUSTER BY product_id, warehouse_id
OPTIONS (
  description = "Validated inventory movements, one row per distinct event_id.",
  require_partition_filter = TRUE,
  partition_expiration_days = 90
);
