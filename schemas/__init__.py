"""The one source of truth for every EventHarbor table.

Each table has a BigQuery JSON schema file, ``schemas/<dataset>/<table>.json``
(the format ``bq mk --schema`` and Terraform's ``schema = file(...)`` read),
and an entry in ``schemas/tables.json`` giving its partitioning, clustering and
partition expiration. Row shaping, table creation, ``ddl/`` and Terraform all
derive from these files.
"""

from schemas.catalog import (
    TableSpec,
    all_tables,
    bigquery_table,
    load_schema,
    schema_fields,
    table_spec,
)
from schemas.streams import EVENT_TYPE_BY_STREAM, STREAM_BY_EVENT_TYPE, STREAMS, UNKNOWN_STREAM

__all__ = [
    "EVENT_TYPE_BY_STREAM",
    "STREAMS",
    "STREAM_BY_EVENT_TYPE",
    "UNKNOWN_STREAM",
    "TableSpec",
    "all_tables",
    "bigquery_table",
    "load_schema",
    "schema_fields",
    "table_spec",
]
