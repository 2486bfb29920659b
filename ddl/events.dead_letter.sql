-- Generated from schemas/events/dead_letter.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `events.dead_letter` (
  failed_at TIMESTAMP NOT NULL OPTIONS (description = "When the message was rejected (UTC); the partitioning column is DATE(failed_at)."),
  stream STRING NOT NULL OPTIONS (description = "orders, inventory, user_activity, or unknown when the stream could not be told."),
  stage STRING NOT NULL OPTIONS (description = "parse, validate or load."),
  error_code STRING NOT NULL OPTIONS (description = "Stable machine-readable reason (docs/contract.md, Rejections): payload_too_large, invalid_encoding, invalid_json, nesting_too_deep, not_an_object, invalid_envelope, unknown_event_type, missing_field, wrong_type, invalid_value, bad_timestamp, future_timestamp, amount_mismatch, load_rejected, internal_error."),
  error_message STRING NOT NULL OPTIONS (description = "Human-readable reason naming the field and the problem."),
  payload STRING OPTIONS (description = "The message data as received (base64 when not UTF-8; truncated past 1 MiB)."),
  payload_encoding STRING NOT NULL OPTIONS (description = "utf-8 or base64."),
  payload_truncated BOOL NOT NULL OPTIONS (description = "True when payload was cut at 1 MiB; the full message is in the raw archive."),
  attributes JSON OPTIONS (description = "Pub/Sub message attributes."),
  message_id STRING OPTIONS (description = "Pub/Sub message id (or that of the archive envelope the message was replayed from); NULL for a plain JSON Lines line."),
  publish_time TIMESTAMP OPTIONS (description = "Pub/Sub publish time."),
  event_id STRING OPTIONS (description = "Event id when it could be determined."),
  message_time TIMESTAMP OPTIONS (description = "The message's own time (UTC), by which every count of rejections is dated: the Pub/Sub publish_time when there is one, else the event's own time (order_date / timestamp) when it can be read and is not in the future, else failed_at. NULL only on rows written before the column existed (read them as failed_at).")
)
PARTITION BY DATE(failed_at)
CLUSTER BY stream, error_code
OPTIONS (
  description = "Every rejected message with its stage, error code and reason.",
  require_partition_filter = FALSE,
  partition_expiration_days = 90
);
