-- products_scd: the days [@start_date, @end_date] (SCD type 2); the daily step runs it for one
--   day.
--
-- Grain: one row per product per validity period [valid_from, valid_to); valid_to is the first
--   day the version no longer holds, NULL (and is_current) while it is current. A new version
--   starts only on a day when product_name or unit_price differs from the version before.
-- Inputs: `analytics.products_scd` (the versions valid on @start_date - 1), `events.orders`
--   (partitions event_date BETWEEN @start_date AND @end_date).
-- Parameters: @start_date DATE, @end_date DATE (inclusive); the daily step has both = the day.
-- Attributes on a day D with order events containing the product: product_name and
--   unit_price (the item's price) of the product's line in the latest such order event (latest
--   order_date, then highest event_id; if the event lists the product twice, its last line).
--   A product without order events on D keeps its version.
-- Method: the attributes of every product on each day of the range it was ordered, preceded by
--   the version valid on @start_date - 1 (history before the range is taken from the table as
--   it is; with none, the build starts from nothing); streak detection (a new version where an
--   attribute differs from the previous observation) groups the days into versions; valid_to is
--   the next version's valid_from.
-- Once only: order_events keeps each (event_date, event_id) once, its first copy
--   (warehouse/once.py), before its items are unnested, so a copy never changes which event of a
--   day is the latest.
-- Idempotency: one MERGE rolls the table back to the end of @start_date - 1 (deletes every
--   version with valid_to IS NULL or valid_to >= @start_date) and inserts the rebuilt versions,
--   so a range equals its days run one by one. Versions after @end_date are dropped: rerunning
--   an old day drops the versions of the days after it, so replay forward from that day
--   (backfill --start <day> --end <today>), as for late data.
MERGE `analytics.products_scd` AS target
USING (
  WITH versions_before_start AS (
    SELECT product_id, product_name, unit_price, valid_from
    FROM `analytics.products_scd`
    WHERE valid_from < @start_date AND (valid_to IS NULL OR valid_to >= @start_date)
  ),

  order_events AS (
    SELECT event_date, order_date, event_id, items
    FROM `events.orders` AS raw_event
    WHERE event_date BETWEEN @start_date AND @end_date
    QUALIFY ROW_NUMBER() OVER (
      PARTITION BY event_date, event_id ORDER BY processed_timestamp, TO_JSON_STRING(raw_event)
    ) = 1
  ),

  order_lines AS (
    SELECT
      line.product_id,
      line.product_name,
      line.price,
      order_events.event_date,
      order_events.order_date,
      order_events.event_id,
      line_number AS line_number
    FROM order_events
    CROSS JOIN UNNEST(order_events.items) AS line WITH OFFSET AS line_number
  ),

  daily_attributes AS (
    SELECT
      product_id,
      event_date AS attribute_date,
      ARRAY_AGG(
        STRUCT(product_name AS product_name, price AS unit_price)
        ORDER BY order_date DESC, event_id DESC, line_number DESC
        LIMIT 1
      )[OFFSET(0)] AS attributes
    FROM order_lines
    GROUP BY product_id, event_date
  ),

  history AS (
    SELECT
      product_id,
      DATE_SUB(@start_date, INTERVAL 1 DAY) AS attribute_date,
      product_name,
      unit_price,
      valid_from AS open_valid_from
    FROM versions_before_start
    UNION ALL
    SELECT
      product_id,
      attribute_date,
      attributes.product_name,
      attributes.unit_price,
      CAST(NULL AS DATE) AS open_valid_from
    FROM daily_attributes
  ),

  changes AS (
    SELECT
      history.*,
      LAG(attribute_date) OVER product_history IS NULL
      OR LAG(product_name) OVER product_history IS DISTINCT FROM product_name
      OR LAG(unit_price) OVER product_history IS DISTINCT FROM unit_price AS starts_new_version
    FROM history
    WINDOW product_history AS (PARTITION BY product_id ORDER BY attribute_date)
  ),

  streaks AS (
    SELECT
      changes.*,
      SUM(IF(starts_new_version, 1, 0)) OVER (
        PARTITION BY product_id ORDER BY attribute_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS streak
    FROM changes
  ),

  versions AS (
    SELECT
      product_id,
      streak,
      ANY_VALUE(product_name) AS product_name,
      ANY_VALUE(unit_price) AS unit_price,
      COALESCE(MIN(open_valid_from), MIN(attribute_date)) AS valid_from
    FROM streaks
    GROUP BY product_id, streak
  ),

  closed_versions AS (
    SELECT
      versions.*,
      LEAD(valid_from) OVER (PARTITION BY product_id ORDER BY valid_from) AS valid_to
    FROM versions
  )

  SELECT
    product_id,
    product_name,
    unit_price,
    valid_from,
    valid_to,
    valid_to IS NULL AS is_current
  FROM closed_versions
) AS versions
ON FALSE
WHEN NOT MATCHED BY SOURCE AND (target.valid_to IS NULL OR target.valid_to >= @start_date) THEN DELETE
WHEN NOT MATCHED THEN INSERT (
  product_id, product_name, unit_price, valid_from, valid_to, is_current
) VALUES (
  versions.product_id, versions.product_name, versions.unit_price, versions.valid_from,
  versions.valid_to, versions.is_current
);
