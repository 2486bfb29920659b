"""Export BigQuery tables as JSON Lines: dates YYYY-MM-DD, timestamps RFC 3339, NUMERIC as decimal strings."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from transforms.times import rfc3339


def plain(value: Any) -> Any:
    """A BigQuery cell as plain JSON."""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text if text != "-0" else "0"
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def export_dataset(client, dataset: str, out_dir: Path) -> dict[str, int]:
    """Write ``<out_dir>/<dataset>.<table>.jsonl`` for every table; returns rows per table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for table in sorted(client.list_tables(dataset), key=lambda t: t.table_id):
        rows = client.query(f"SELECT * FROM `{dataset}.{table.table_id}` WHERE TRUE").result()
        lines = sorted(json.dumps(plain(dict(row)), sort_keys=True) for row in rows)
        (out_dir / f"{dataset}.{table.table_id}.jsonl").write_text("".join(f"{line}\n" for line in lines))
        counts[table.table_id] = len(lines)
    return counts
