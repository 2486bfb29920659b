-- products_scd: incremental daily step (SCD type 2).
--
-- Grain: one row per product per validity period [valid_from, valid_to); valid_to is the first
--   day the version no longer holds, NULL (and is_current) while it is current. A new version
--   starts only on a day when product_name or unit_price differs from the version before.
-- Inputs: `analytics.products_scd` (the versions valid on @run_date - 1), `events.orders`
--   (partition event_date = @run_date only).
-- Parameters: @run_date DATE, the day to apply.
-- Attributes on a day D with order events containing the product: product_name and
--   unit_price (the item's price) of the product's line in the latest such order event (latest
--   order_date, then highest event_id; if the event lists the product twice, its last line).
--   A product without order events on D keeps its version.
-- Once only: order_events keeps each (event_date, event_id) once, its first copy
--   (warehouse/once.py), before its items are unnested, so a copy never changes which event of a
--   day is the latest.
-- Idempotency: one MERGE that rolls the table back to the end of @run_date - 1 and applies
--   @run_date: it deletes every version still open on or after @run_date (valid_to IS NULL or
--   valid_to >= @run_date, which includes versions that start on or after @run_date) and
--   inserts them again as of @run_date: the version valid the day before, closed at @run_date
--   when an attribute changed (plus the new version) or still open. A rerun gives the same rows.
--   Rerunning an old day drops the versions of the days after it: replay forward from that
--   day (backfill --start <day> --end <today>), as for late data.
MERGE `analytics.products_scd` AS target
USING (
  WITH versions_of_yesterday AS (
    SELECT product_id, product_name, unit_price, valid_from
    FROM `analytics.products_scd`
    WHERE valid_from < @run_date AND (valid_to IS NULL OR valid_to >= @run_date)
  ),

  order_events AS (
    SELECT order_date, event_id, items
    FROM `events.orders` AS raw_event
    WHERE event_date = @run_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  order_lines AS (
    SELECT
      line.product_id,
      line.product_name,
      line.price,
      order_events.order_date,
      order_events.event_id,
      line_number AS line_number
    FROM order_events
    CROSS JOIN UNNEST(order_events.items) AS line WITH OFFSET AS line_number
  ),

  attributes_of_today AS (
    SELECT
      product_id,
      ARRAY_AGG(
        STRUCT(product_name AS product_name, price AS unit_price)
        ORDER BY order_date DESC, event_id DESC, line_number DESC
        LIMIT 1
      )[OFFSET(0)] AS attributes
    FROM order_lines
    GROUP BY product_id
  ),

  compared AS (
    SELECT
      versions_of_yesterday.product_id AS open_product_id,
      attributes_of_today.product_id AS today_product_id,
      attributes_of_today.product_id IS NOT NULL
      AND (
        versions_of_yesterday.product_id IS NULL
        OR versions_of_yesterday.product_name IS DISTINCT FROM attributes_of_today.attributes.product_name
        OR versions_of_yesterday.unit_price IS DISTINCT FROM attributes_of_today.attributes.unit_price
      ) AS starts_new_version
    FROM versions_of_yesterday
    FULL OUTER JOIN attributes_of_today USING (product_id)
  ),

  previous_versions AS (
    SELECT
      versions_of_yesterday.product_id,
      versions_of_yesterday.product_name,
      versions_of_yesterday.unit_price,
      versions_of_yesterday.valid_from,
      IF(compared.starts_new_version, @run_date, NULL) AS valid_to,
      NOT compared.starts_new_version AS is_current
    FROM versions_of_yesterday
    JOIN compared ON compared.open_product_id = versions_of_yesterday.product_id
  ),

  new_versions AS (
    SELECT
      attributes_of_today.product_id,
      attributes_of_today.attributes.product_name,
      attributes_of_today.attributes.unit_price,
      @run_date AS valid_from,
      CAST(NULL AS DATE) AS valid_to,
      TRUE AS is_current
    FROM attributes_of_today
    JOIN compared ON compared.today_product_id = attributes_of_today.product_id
    WHERE compared.starts_new_version
  )

  SELECT * FROM previous_versions
  UNION ALL
  SELECT * FROM new_versions
) AS versions
ON FALSE
WHEN NOT MATCHED BY SOURCE AND (target.valid_to IS NULL OR target.valid_to >= @run_date) THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  product_id, product_name, unit_price, valid_from, valid_to, is_current
) VALUES (
  versions.product_id, versions.product_name, versions.unit_price, versions.valid_from,
  versions.valid_to, versions.is_current
);
