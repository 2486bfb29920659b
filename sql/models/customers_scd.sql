-- customers_scd: the days [@start_date, @end_date] (SCD type 2); the daily step runs it for one
--   day.
--
-- Grain: one row per customer per validity period [valid_from, valid_to); valid_to is the first
--   day the version no longer holds, NULL (and is_current) while it is current. A new version
--   starts only on a day when a tracked attribute (country, city, customer_tier, is_active)
--   differs from the day before.
-- Inputs: `analytics.customers_scd` (the versions valid on @start_date - 1),
--   `analytics.customer_daily_balance` (balance_date in the range: which customers exist and
--   their lifetime net order value; built for the range just before this step),
--   `events.orders` (partitions event_date BETWEEN @start_date - (active_window_days - 1) AND
--   @end_date: the range plus the days before it that the is_active rule looks at).
-- Parameters: @start_date DATE, @end_date DATE (inclusive); the daily step has both = the day.
-- Attributes on a day D:
--   country, city   the shipping address of the customer's latest order event on D (latest
--                   order_date, ties broken by the highest event_id); unchanged on days
--                   without order events.
--   customer_tier   customer_tier(lifetime net order value as of D), sql/rules.sql
--                   (customer_daily_balance.lifetime_value).
--   is_active       the customer has an order event (any status) in the active_window_days days
--                   up to D, [D - (active_window_days - 1), D] (sql/rules.sql).
-- Method: the attributes of every customer on every day of the range, preceded by the version
--   valid on @start_date - 1 (history before the range is taken from the table as it is; with
--   none, the build starts from nothing); streak detection (a new version where a tracked
--   attribute differs from the previous day) groups the days into versions; valid_to is the
--   next version's valid_from.
-- Once only: the order events it reads keep each (event_date, event_id) once, its first copy
--   (warehouse/once.py), for the address and is_active; customer_tier comes from
--   customer_daily_balance, which holds each event once.
-- Idempotency: one MERGE rolls the table back to the end of @start_date - 1 (deletes every
--   version with valid_to IS NULL or valid_to >= @start_date) and inserts the rebuilt versions,
--   so a range equals its days run one by one. Versions after @end_date are dropped: rerunning
--   an old day drops the versions of the days after it, so replay forward from that day
--   (backfill --start <day> --end <today>), as for late data.
MERGE `analytics.customers_scd` AS target
USING (
  WITH versions_before_start AS (
    SELECT customer_id, country, city, customer_tier, is_active, valid_from
    FROM `analytics.customers_scd`
    WHERE valid_from < @start_date AND (valid_to IS NULL OR valid_to >= @start_date)
  ),

  daily_balances AS (
    SELECT customer_id, balance_date, lifetime_value
    FROM `analytics.customer_daily_balance`
    WHERE balance_date BETWEEN @start_date AND @end_date
  ),

  order_events AS (
    SELECT customer_id, event_date, order_date, event_id, shipping_address
    FROM `events.orders` AS raw_event
    WHERE event_date BETWEEN DATE_SUB(@start_date, INTERVAL (active_window_days - 1) DAY) AND @end_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  daily_addresses AS (
    SELECT
      customer_id,
      event_date,
      ARRAY_AGG(shipping_address ORDER BY order_date DESC, event_id DESC LIMIT 1)[OFFSET(0)] AS address
    FROM order_events
    WHERE event_date >= @start_date
    GROUP BY customer_id, event_date
  ),

  order_days AS (
    SELECT DISTINCT customer_id, event_date
    FROM order_events
  ),

  daily_activity AS (
    SELECT
      daily_balances.customer_id,
      daily_balances.balance_date,
      COUNT(order_days.event_date) > 0 AS is_active
    FROM daily_balances
    LEFT JOIN order_days
      ON order_days.customer_id = daily_balances.customer_id
      AND order_days.event_date
        BETWEEN DATE_SUB(daily_balances.balance_date, INTERVAL (active_window_days - 1) DAY)
        AND daily_balances.balance_date
    GROUP BY daily_balances.customer_id, daily_balances.balance_date
  ),

  daily_attributes AS (
    SELECT
      daily_balances.customer_id,
      daily_balances.balance_date AS attribute_date,
      COALESCE(
        LAST_VALUE(daily_addresses.address.country IGNORE NULLS) OVER customer_days,
        versions_before_start.country
      ) AS country,
      COALESCE(
        LAST_VALUE(daily_addresses.address.city IGNORE NULLS) OVER customer_days,
        versions_before_start.city
      ) AS city,
      customer_tier(daily_balances.lifetime_value) AS customer_tier,
      daily_activity.is_active,
      CAST(NULL AS DATE) AS open_valid_from
    FROM daily_balances
    LEFT JOIN daily_addresses
      ON daily_addresses.customer_id = daily_balances.customer_id
      AND daily_addresses.event_date = daily_balances.balance_date
    LEFT JOIN daily_activity
      ON daily_activity.customer_id = daily_balances.customer_id
      AND daily_activity.balance_date = daily_balances.balance_date
    LEFT JOIN versions_before_start
      ON versions_before_start.customer_id = daily_balances.customer_id
    WINDOW customer_days AS (
      PARTITION BY daily_balances.customer_id
      ORDER BY daily_balances.balance_date
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
  ),

  history AS (
    SELECT
      customer_id,
      DATE_SUB(@start_date, INTERVAL 1 DAY) AS attribute_date,
      country,
      city,
      customer_tier,
      is_active,
      valid_from AS open_valid_from
    FROM versions_before_start
    UNION ALL
    SELECT customer_id, attribute_date, country, city, customer_tier, is_active, open_valid_from
    FROM daily_attributes
  ),

  changes AS (
    SELECT
      history.*,
      LAG(attribute_date) OVER customer_history IS NULL
      OR LAG(country) OVER customer_history IS DISTINCT FROM country
      OR LAG(city) OVER customer_history IS DISTINCT FROM city
      OR LAG(customer_tier) OVER customer_history IS DISTINCT FROM customer_tier
      OR LAG(is_active) OVER customer_history IS DISTINCT FROM is_active AS starts_new_version
    FROM history
    WINDOW customer_history AS (PARTITION BY customer_id ORDER BY attribute_date)
  ),

  streaks AS (
    SELECT
      changes.*,
      SUM(IF(starts_new_version, 1, 0)) OVER (
        PARTITION BY customer_id ORDER BY attribute_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS streak
    FROM changes
  ),

  versions AS (
    SELECT
      customer_id,
      streak,
      ANY_VALUE(country) AS country,
      ANY_VALUE(city) AS city,
      ANY_VALUE(customer_tier) AS customer_tier,
      ANY_VALUE(is_active) AS is_active,
      COALESCE(MIN(open_valid_from), MIN(attribute_date)) AS valid_from
    FROM streaks
    GROUP BY customer_id, streak
  ),

  closed_versions AS (
    SELECT
      versions.*,
      LEAD(valid_from) OVER (PARTITION BY customer_id ORDER BY valid_from) AS valid_to
    FROM versions
  )

  SELECT
    customer_id,
    country,
    city,
    customer_tier,
    is_active,
    valid_from,
    valid_to,
    valid_to IS NULL AS is_current
  FROM closed_versions
) AS versions
ON FALSE
WHEN NOT MATCHED BY SOURCE AND (target.valid_to IS NULL OR target.valid_to >= @start_date) THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  customer_id, country, city, customer_tier, is_active, valid_from, valid_to, is_current
) VALUES (
  versions.customer_id, versions.country, versions.city, versions.customer_tier,
  versions.is_active, versions.valid_from, versions.valid_to, versions.is_current
);
