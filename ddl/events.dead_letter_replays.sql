-- Generated from schemas/events/dead_letter_replays.json and schemas/tables.json by `python -m schemas.ddl`; do not edit.
CREATE TABLE IF NOT EXISTS `events.dead_letter_replays` (
  replay_id STRING NOT NULL OPTIONS (description = "One id per run of `python -m recovery replay-dead-letters`."),
  replayed_at TIMESTAMP NOT NULL OPTIONS (description = "When the dead letter was replayed (UTC)."),
  dead_letter_key STRING NOT NULL OPTIONS (description = "The rejected message: 'message_id:<id>', or 'payload_sha256:<hex>' when it has no message_id."),
  stream STRING NOT NULL OPTIONS (description = "The dead letter's stream (orders, inventory, user_activity or unknown)."),
  original_error_code STRING NOT NULL OPTIONS (description = "The dead letter's error_code."),
  outcome STRING NOT NULL OPTIONS (description = "loaded (now valid, inserted into its raw table), still_rejected (fails today's validation too), already_loaded (an earlier replay loaded it; nothing done) or not_replayable (payload truncated: replay it from the raw archive)."),
  error_code STRING OPTIONS (description = "For still_rejected: today's error_code."),
  error_message STRING OPTIONS (description = "For still_rejected and not_replayable: why."),
  event_id STRING OPTIONS (description = "For loaded: the event_id of the row inserted (also its insertId).")
)
PARTITION BY DATE(replayed_at)
CLUSTER BY outcome, original_error_code
OPTIONS (
  description = "What each dead-letter replay did with each dead letter it selected (python -m recovery replay-dead-letters).",
  require_partition_filter = FALSE
);
