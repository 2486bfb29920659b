-- The business rules of the models, each defined once; no model SQL writes their numbers.
--
-- Windows (how many days back a rule looks) are script variables: one of them bounds the raw
-- partitions customers_scd reads, and BigQuery prunes partitions on a script variable as on a
-- query parameter. Classifications are temporary SQL functions. A function body uses only its
-- own arguments and literals (never a script variable).
--
-- Every model step is sent as a script: the definitions it uses (this file's statements, in this
-- order, all DECLAREs first as BigQuery requires), then the model's MERGE. The runner
-- (`python -m warehouse.runner`) and the daily scheduled query
-- (terraform/generated/daily_models.sql, rendered by `python -m warehouse.render`) build that
-- script with the same code. Each statement's comment says what it defines; docs/models.md's
-- table of rules is generated from these comments and definitions.
--
-- Once only (docs/contract.md#once-only, docs/models.md#once-only): a raw event is counted once
-- per (event_date, event_id), its first copy (earliest processed_timestamp); every read of a raw
-- table says so in its QUALIFY, checked by warehouse/once.py. A rejected message is counted once
-- per dead_letter_key, below.

-- customers_scd.is_active: an order event (any status) in the active_window_days days up to and
-- including the day, i.e. event_date in [day - (active_window_days - 1), day].
DECLARE active_window_days INT64 DEFAULT 30;

-- users_cumulated.is_weekly_active: activity in the weekly_active_days days up to and including
-- snapshot_date.
DECLARE weekly_active_days INT64 DEFAULT 7;

-- users_cumulated.is_monthly_active: activity in the monthly_active_days days up to and including
-- snapshot_date.
DECLARE monthly_active_days INT64 DEFAULT 28;

-- retention_cohorts: the triangle's day_n runs from 0 to retention_days.
DECLARE retention_days INT64 DEFAULT 30;

-- fact_events_daily.error_events, each rejected message once: a dead letter is a copy of an
-- earlier one (not counted again) when the copy before it with the same dead_letter_key has its
-- message time in the dead_letter_window_days days before its own message day; the models read
-- the dead letters of that many days before their range (failed_at from one day more before it,
-- as a message fails at most a day before its message time). It equals the partition expiration
-- of events.dead_letter (schemas/tables.json), so a copy is recognised as long as the table holds
-- the one before it.
DECLARE dead_letter_window_days INT64 DEFAULT 90;

-- customers_scd.customer_tier: the tier on lifetime net order value
-- (customer_daily_balance.lifetime_value).
CREATE TEMP FUNCTION customer_tier(lifetime_value NUMERIC) RETURNS STRING AS (
  CASE
    WHEN lifetime_value >= 5000 THEN 'platinum'
    WHEN lifetime_value >= 1000 THEN 'gold'
    WHEN lifetime_value >= 200 THEN 'silver'
    ELSE 'bronze'
  END
);

-- churn_classification.churn_status: the status on days_inactive, the days since the user's last
-- active day.
CREATE TEMP FUNCTION churn_status(days_inactive INT64) RETURNS STRING AS (
  CASE
    WHEN days_inactive < 7 THEN 'active'
    WHEN days_inactive < 14 THEN 'soft_churn'
    WHEN days_inactive < 30 THEN 'churned'
    ELSE 'hard_churn'
  END
);

-- inventory_daily_balance.is_low_stock: the day closes with less than this in stock.
CREATE TEMP FUNCTION is_low_stock(closing_quantity INT64) RETURNS BOOL AS (closing_quantity < 10);

-- users_cumulated.datelist_int: a bit mask of the 32 days up to snapshot_date, bit 31 =
-- snapshot_date, bit 31 - k = k days before; older active days are not in the mask.
CREATE TEMP FUNCTION datelist_int(snapshot_date DATE, dates_active ARRAY<DATE>) RETURNS INT64 AS ((
  SELECT COALESCE(BIT_OR(CAST(1 AS INT64) << (31 - DATE_DIFF(snapshot_date, active_date, DAY))), 0)
  FROM UNNEST(dates_active) AS active_date
  WHERE DATE_DIFF(snapshot_date, active_date, DAY) BETWEEN 0 AND 31
));

-- users_cumulated.is_*_active: whether a datelist_int mask has activity in its newest `days` days
-- (1 = the snapshot day itself); `days` is at most the mask's 32.
CREATE TEMP FUNCTION datelist_active_within(mask INT64, days INT64) RETURNS BOOL AS (
  mask >> (32 - days) > 0
);

-- events.dead_letter, which rejected message a row is: 'message_id:<message_id>', or, without a
-- message_id, 'payload_sha256:<lowercase hex SHA-256 of the payload bytes>' (the payload
-- base64-decoded when payload_encoding = 'base64', else its UTF-8 bytes). The same key as
-- recovery.dead_letters.dead_letter_key (checked on the emulator by
-- tests/integration/test_models_once_only.py).
CREATE TEMP FUNCTION dead_letter_key(
  message_id STRING, payload STRING, payload_encoding STRING
) RETURNS STRING AS (
  IF(
    COALESCE(message_id, '') != '',
    CONCAT('message_id:', message_id),
    CONCAT(
      'payload_sha256:',
      TO_HEX(
        IF(
          payload_encoding = 'base64',
          SHA256(FROM_BASE64(COALESCE(payload, ''))),
          SHA256(COALESCE(payload, ''))
        )
      )
    )
  )
);

-- fact_events_daily.error_events: whether a dead letter dated message_time (its
-- COALESCE(message_time, failed_at)) is the first copy of its rejected message, given the message
-- time of the copy before it (same dead_letter_key, ordered by message time, then failed_at): none,
-- or on a day more than window_days (dead_letter_window_days) before its own.
CREATE TEMP FUNCTION is_first_rejection(
  message_time TIMESTAMP, previous_copy_message_time TIMESTAMP, window_days INT64
) RETURNS BOOL AS (
  previous_copy_message_time IS NULL
  OR DATE(previous_copy_message_time) < DATE_SUB(DATE(message_time), INTERVAL window_days DAY)
);

-- weekly_error_rate.week: weeks run Monday to Sunday (as ISO weeks); the Monday of on_date's week.
-- Written with DAYOFWEEK (1 = Sunday) rather than DATE_TRUNC(day, ISOWEEK), which the local
-- emulator does not implement (docs/emulator-gaps.md); both give the same Monday.
CREATE TEMP FUNCTION monday_of(on_date DATE) RETURNS DATE AS (
  DATE_SUB(on_date, INTERVAL MOD(EXTRACT(DAYOFWEEK FROM on_date) + 5, 7) DAY)
);

-- weekly_error_rate: the Sunday that ends on_date's week.
CREATE TEMP FUNCTION sunday_of(on_date DATE) RETURNS DATE AS (
  DATE_ADD(on_date, INTERVAL 6 - MOD(EXTRACT(DAYOFWEEK FROM on_date) + 5, 7) DAY)
);
