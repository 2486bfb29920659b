"""A copy of schemas/ to change freely, and the edits the schema-contract tests make to its files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from schemas import compat


def copy_schemas(parent: Path) -> Path:
    """A copy of schemas/ (catalog, table schemas, baseline) as ``parent/schemas``."""
    target = parent / "schemas"
    target.mkdir()
    shutil.copy(compat.SCHEMA_DIR / compat.CATALOG_NAME, target)
    shutil.copy(compat.SCHEMA_DIR / compat.BASELINE_NAME, target)
    for dataset in {key.split(".", 1)[0] for key in json.loads((target / compat.CATALOG_NAME).read_text())}:
        shutil.copytree(compat.SCHEMA_DIR / dataset, target / dataset)
    return target


def edit_json(path: Path, change: Callable[[Any], Any]) -> None:
    """Apply ``change`` to the JSON held in ``path`` (in place) and write it back."""
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2) + "\n")


def field_named(fields: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The one field called ``name`` in a BigQuery field list."""
    [found] = [f for f in fields if f["name"] == name]
    return found
