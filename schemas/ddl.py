"""Generate BigQuery ``CREATE TABLE`` DDL from ``schemas/``.

``python -m schemas.ddl`` rewrites ``ddl/<dataset>.<table>.sql``;
``python -m schemas.ddl --check`` exits 1 when a committed file differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from schemas.catalog import TableSpec, all_tables

DDL_DIR = Path(__file__).resolve().parents[1] / "ddl"
_TYPES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}


def _sql_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def column_type(field: dict[str, Any]) -> str:
    base = _TYPES.get(field["type"], field["type"])
    if base == "STRUCT":
        inner = ", ".join(f"{f['name']} {column_type(f)}" for f in field["fields"])
        base = f"STRUCT<{inner}>"
    if field.get("mode") == "REPEATED":
        return f"ARRAY<{base}>"
    if field.get("mode") == "REQUIRED":
        return f"{base} NOT NULL"
    return base


def create_table_ddl(spec: TableSpec) -> str:
    """The ``CREATE TABLE IF NOT EXISTS`` statement for one table, in the default project."""
    columns = ",\n".join(
        f"  {f['name']} {column_type(f)} OPTIONS (description = {_sql_string(f.get('description', ''))})"
        for f in spec.schema
    )
    if spec.partition_column_type() == "DATE":
        partition = spec.partition_field
    else:
        partition = f"DATE({spec.partition_field})"
    options = [f"description = {_sql_string(spec.description)}"]
    options.append(f"require_partition_filter = {str(spec.require_partition_filter).upper()}")
    if spec.partition_expiration_days:
        options.append(f"partition_expiration_days = {spec.partition_expiration_days}")
    lines = [
        f"-- Generated from schemas/{spec.dataset}/{spec.table}.json and schemas/tables.json"
        " by `python -m schemas.ddl`; do not edit.",
        f"CREATE TABLE IF NOT EXISTS `{spec.dataset}.{spec.table}` (",
        columns,
        ")",
        f"PARTITION BY {partition}",
    ]
    if spec.clustering:
        lines.append(f"CLUSTER BY {', '.join(spec.clustering)}")
    lines.append("OPTIONS (\n  " + ",\n  ".join(options) + "\n);")
    return "\n".join(lines) + "\n"


def expected_files() -> dict[Path, str]:
    return {DDL_DIR / f"{s.key}.sql": create_table_ddl(s) for s in all_tables()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.ddl", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming each file of ddl/ that is out of date",
    )
    args = parser.parse_args(argv)
    stale = [p for p, text in expected_files().items() if not p.exists() or p.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path} is out of date: run `python -m schemas.ddl`", file=sys.stderr)
        return 1 if stale else 0
    DDL_DIR.mkdir(exist_ok=True)
    for path, text in expected_files().items():
        path.write_text(text)
    print(f"wrote {len(expected_files())} files to {DDL_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
