-- Generated from schemas/events/user_activity.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `events.user_activity` (
  user_id STRING NOT NULL OPTIONS (description = "User identifier; shares its id space with orders.customer_id."),
  activity_type STRING NOT NULL OPTIONS (description = "login, logout, view_product, add_to_cart or remove_from_cart."),
  ip_address STRING OPTIONS (description = "Client IP as configured by --ip_mode (raw, truncated or HMAC-SHA256 hash)."),
  user_agent STRING NOT NULL OPTIONS (description = "Client user agent."),
  timestamp TIMESTAMP NOT NULL OPTIONS (description = "Time of the activity, normalised to UTC."),
  metadata STRUCT<session_id STRING NOT NULL, platform STRING NOT NULL> NOT NULL OPTIONS (description = "Session context."),
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
CLUSTER BY user_id, activity_type
OPTIONS (
  description = "Validated user-activity events, one row per distinct event_id.",
  require_partition_filter = TRUE,
  partition_expiration_days = 90
);
