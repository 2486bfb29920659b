"""Load table schemas and table definitions from the files in ``schemas/``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from google.cloud import bigquery

SCHEMA_DIR = Path(__file__).resolve().parent
CATALOG_FILE = SCHEMA_DIR / "tables.json"
DAY_MS = 86_400_000


@dataclass(frozen=True)
class TableSpec:
    """One table: where its schema lives and how it is partitioned and clustered."""

    dataset: str
    table: str
    description: str
    partition_field: str
    require_partition_filter: bool
    partition_expiration_days: int | None
    clustering: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.dataset}.{self.table}"

    @property
    def schema_path(self) -> Path:
        return SCHEMA_DIR / self.dataset / f"{self.table}.json"

    @property
    def schema(self) -> list[dict[str, Any]]:
        return load_schema(self.dataset, self.table)

    def partition_column_type(self) -> str:
        for field in self.schema:
            if field["name"] == self.partition_field:
                return field["type"]
        raise KeyError(f"{self.schema_path}: no partition column {self.partition_field!r}")


@cache
def _catalog() -> dict[str, dict[str, Any]]:
    return json.loads(CATALOG_FILE.read_text())


def all_tables(dataset: str | None = None) -> list[TableSpec]:
    """Every table in ``tables.json``, optionally only those of one dataset."""
    specs = [table_spec(key) for key in _catalog()]
    return [s for s in specs if dataset is None or s.dataset == dataset]


def table_spec(key: str) -> TableSpec:
    """The spec of ``dataset.table`` as written in ``tables.json``."""
    try:
        entry = _catalog()[key]
    except KeyError:
        raise KeyError(f"{CATALOG_FILE}: no table {key!r}; known: {sorted(_catalog())}") from None
    dataset, table = key.split(".", 1)
    return TableSpec(
        dataset=dataset,
        table=table,
        description=entry["description"],
        partition_field=entry["partition_field"],
        require_partition_filter=entry["require_partition_filter"],
        partition_expiration_days=entry.get("partition_expiration_days"),
        clustering=tuple(entry.get("clustering", ())),
    )


@cache
def _schema_json(dataset: str, table: str) -> str:
    return (SCHEMA_DIR / dataset / f"{table}.json").read_text()


def load_schema(dataset: str, table: str) -> list[dict[str, Any]]:
    """The BigQuery JSON schema of a table, as a fresh list of dicts."""
    return json.loads(_schema_json(dataset, table))


def _to_field(field: dict[str, Any]) -> bigquery.SchemaField:
    return bigquery.SchemaField(
        field["name"],
        field["type"],
        mode=field.get("mode", "NULLABLE"),
        description=field.get("description"),
        fields=[_to_field(f) for f in field.get("fields", ())],
    )


def schema_fields(dataset: str, table: str) -> list[bigquery.SchemaField]:
    """The table's schema as google-cloud-bigquery ``SchemaField`` objects."""
    return [_to_field(f) for f in load_schema(dataset, table)]


def bigquery_table(
    spec: TableSpec,
    project: str,
    dataset: str | None = None,
    partition_expiration_days: int | None = None,
) -> bigquery.Table:
    """A ``bigquery.Table`` with the spec's schema, partitioning and clustering.

    ``dataset`` renames the dataset (the dataset name is configurable);
    ``partition_expiration_days`` overrides the catalog's default.
    """
    table = bigquery.Table(
        f"{project}.{dataset or spec.dataset}.{spec.table}",
        schema=schema_fields(spec.dataset, spec.table),
    )
    days = partition_expiration_days or spec.partition_expiration_days
    table.time_partitioning = bigquery.TimePartitioning(
        type_=bigquery.TimePartitioningType.DAY,
        field=spec.partition_field,
        expiration_ms=days * DAY_MS if days else None,
    )
    table.require_partition_filter = spec.require_partition_filter
    table.clustering_fields = list(spec.clustering) or None
    table.description = spec.description
    return table
