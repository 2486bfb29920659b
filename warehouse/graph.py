"""The run order of the models, derived from the tables their SQL reads.

Every ``events.<table>`` / ``analytics.<table>`` reference of a model's files is found with
sqlglot (BigQuery dialect). A model depends on every other model whose ``analytics`` table it
reads; its own table (its state of the day before) is no dependency. :func:`run_order` sorts the
models so each runs after everything it reads: by depth (models reading no other model first),
then by name, so the order is stable and does not depend on the file system.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import sqlglot
from sqlglot import exp

from warehouse.sql import LOGICAL_DATASETS, model_files


def tables_read(sql: str) -> set[tuple[str, str]]:
    """``(dataset, table)`` of every logical-dataset table the SQL names, its MERGE target included."""
    found = set()
    for tree in sqlglot.parse(sql, read="bigquery"):
        if tree is None:
            continue
        for table in tree.find_all(exp.Table):
            if table.db in LOGICAL_DATASETS:
                found.add((table.db, table.name))
    return found


@cache
def dependencies() -> dict[str, tuple[str, ...]]:
    """``{model: models whose table it reads}``."""
    models = model_files()
    deps = {}
    for name, files in models.items():
        read = tables_read(files.statement())
        analytics = {table for dataset, table in read if dataset == "analytics"}
        unknown = sorted(analytics - set(models))
        if unknown:
            raise ValueError(f"{files.relative_path} reads analytics tables no model builds: {unknown}")
        deps[name] = tuple(sorted(analytics - {name}))
    return deps


def run_order(deps: Mapping[str, tuple[str, ...] | list[str]]) -> list[str]:
    """The models ordered so that each comes after its dependencies: by depth, then by name.

    Raises ``ValueError`` on a dependency cycle or on a dependency that is not a model.
    """
    missing = sorted({d for ds in deps.values() for d in ds} - set(deps))
    if missing:
        raise ValueError(f"dependencies that are not models: {missing}")
    order: list[str] = []
    placed: set[str] = set()
    while len(order) < len(deps):
        ready = sorted(m for m, ds in deps.items() if m not in placed and placed.issuperset(ds))
        if not ready:
            cycle = sorted(set(deps) - placed)
            raise ValueError(f"the models {cycle} depend on each other in a cycle")
        order += ready
        placed.update(ready)
    return order


@cache
def model_names() -> list[str]:
    """Every model, in run order (derived from the SQL)."""
    return run_order(dependencies())
