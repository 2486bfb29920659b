-- customers_scd: incremental daily step (SCD type 2).
--
-- Grain: one row per customer per validity period [valid_from, valid_to); valid_to is the first
--   day the version no longer holds, NULL (and is_current) while it is current. A new version
--   starts only on a day when a tracked attribute (country, city, customer_tier, is_active)
--   differs from the day before.
-- Inputs: `analytics.customers_scd` (the versions valid on @run_date - 1),
--   `analytics.customer_daily_balance` (balance_date = @run_date: which customers exist and
--   their lifetime net order value; built for @run_date just before this step),
--   `events.orders` (partitions event_date BETWEEN @run_date - (active_window_days - 1) AND
--   @run_date: the days the is_active rule looks at; the address comes from @run_date's
--   partition).
-- Parameters: @run_date DATE, the day to apply.
-- Attributes on a day D:
--   country, city   the shipping address of the customer's latest order event on D (latest
--                   order_date, ties broken by the highest event_id); unchanged on days
--                   without order events.
--   customer_tier   customer_tier(lifetime net order value as of D), sql/rules.sql
--                   (customer_daily_balance.lifetime_value).
--   is_active       the customer has an order event (any status) in the active_window_days days
--                   up to D, [D - (active_window_days - 1), D] (sql/rules.sql).
-- Once only: the order events it reads keep each (event_date, event_id) once, its first copy
--   (warehouse/once.py), for the address and is_active; customer_tier comes from
--   customer_daily_balance, which holds each event once.
-- Idempotency: one MERGE that rolls the table back to the end of @run_date - 1 and applies
--   @run_date: it deletes every version still open on or after @run_date (valid_to IS NULL or
--   valid_to >= @run_date, which includes versions that start on or after @run_date) and
--   inserts them again as of @run_date: the version valid the day before, closed at @run_date
--   when an attribute changed (plus the new version) or still open. A rerun gives the same rows.
--   Rerunning an old day drops the versions of the days after it: replay forward from that
--   day (backfill --start <day> --end <today>), as for late data.
MERGE `analytics.customers_scd` AS target
USING (
  WITH versions_of_yesterday AS (
    SELECT customer_id, country, city, customer_tier, is_active, valid_from
    FROM `analytics.customers_scd`
    WHERE valid_from < @run_date AND (valid_to IS NULL OR valid_to >= @run_date)
  ),

  balances_of_today AS (
    SELECT customer_id, lifetime_value
    FROM `analytics.customer_daily_balance`
    WHERE balance_date = @run_date
  ),

  recent_order_events AS (
    SELECT customer_id, event_date, order_date, event_id, shipping_address
    FROM `events.orders` AS raw_event
    WHERE event_date BETWEEN DATE_SUB(@run_date, INTERVAL (active_window_days - 1) DAY) AND @run_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  addresses_of_today AS (
    SELECT
      customer_id,
      ARRAY_AGG(shipping_address ORDER BY order_date DESC, event_id DESC LIMIT 1)[OFFSET(0)] AS address
    FROM recent_order_events
    WHERE event_date = @run_date
    GROUP BY customer_id
  ),

  active_customers AS (
    SELECT DISTINCT customer_id
    FROM recent_order_events
  ),

  attributes_of_today AS (
    SELECT
      balances_of_today.customer_id,
      COALESCE(addresses_of_today.address.country, versions_of_yesterday.country) AS country,
      COALESCE(addresses_of_today.address.city, versions_of_yesterday.city) AS city,
      customer_tier(balances_of_today.lifetime_value) AS customer_tier,
      active_customers.customer_id IS NOT NULL AS is_active
    FROM balances_of_today
    LEFT JOIN addresses_of_today USING (customer_id)
    LEFT JOIN versions_of_yesterday USING (customer_id)
    LEFT JOIN active_customers USING (customer_id)
  ),

  compared AS (
    SELECT
      versions_of_yesterday.customer_id AS open_customer_id,
      attributes_of_today.customer_id AS today_customer_id,
      versions_of_yesterday.valid_from AS open_valid_from,
      attributes_of_today.customer_id IS NOT NULL
      AND (
        versions_of_yesterday.customer_id IS NULL
        OR versions_of_yesterday.country IS DISTINCT FROM attributes_of_today.country
        OR versions_of_yesterday.city IS DISTINCT FROM attributes_of_today.city
        OR versions_of_yesterday.customer_tier IS DISTINCT FROM attributes_of_today.customer_tier
        OR versions_of_yesterday.is_active IS DISTINCT FROM attributes_of_today.is_active
      ) AS starts_new_version
    FROM versions_of_yesterday
    FULL OUTER JOIN attributes_of_today USING (customer_id)
  ),

  previous_versions AS (
    SELECT
      versions_of_yesterday.customer_id,
      versions_of_yesterday.country,
      versions_of_yesterday.city,
      versions_of_yesterday.customer_tier,
      versions_of_yesterday.is_active,
      versions_of_yesterday.valid_from,
      IF(compared.starts_new_version, @run_date, NULL) AS valid_to,
      NOT compared.starts_new_version AS is_current
    FROM versions_of_yesterday
    JOIN compared ON compared.open_customer_id = versions_of_yesterday.customer_id
  ),

  new_versions AS (
    SELECT
      attributes_of_today.customer_id,
      attributes_of_today.country,
      attributes_of_today.city,
      attributes_of_today.customer_tier,
      attributes_of_today.is_active,
      @run_date AS valid_from,
      CAST(NULL AS DATE) AS valid_to,
      TRUE AS is_current
    FROM attributes_of_today
    JOIN compared ON compared.today_customer_id = attributes_of_today.customer_id
    WHERE compared.starts_new_version
  )

  SELECT * FROM previous_versions
  UNION ALL
  SELECT * FROM new_versions
) AS versions
ON FALSE
WHEN NOT MATCHED BY SOURCE AND (target.valid_to IS NULL OR target.valid_to >= @run_date) THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  customer_id, country, city, customer_tier, is_active, valid_from, valid_to, is_current
) VALUES (
  versions.customer_id, versions.country, versions.city, versions.customer_tier,
  versions.is_active, versions.valid_from, versions.valid_to, versions.is_current
);
