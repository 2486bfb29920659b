"""The generated regions of the docs: tables copied from ``sql/`` and ``schemas/``, never by hand.

A region is ``<!-- generated: <what> -->`` … ``<!-- end generated -->``; :func:`render_regions`
rewrites what is between the markers (``python -m warehouse.render``). ``<what>`` is one of:

- ``models``: the models in run order, their SQL files, what they read, partitioning, clustering;
- ``rules``: the definitions of ``sql/rules.sql``;
- ``columns <model>``: the columns of ``schemas/analytics/<model>.json``;
- ``run order``: the numbered list of the models in run order.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from schemas import table_spec
from warehouse import rules
from warehouse.graph import model_names, tables_read
from warehouse.sql import model_sql

REGION = re.compile(r"(<!-- generated: (?P<what>[^>]+?) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)
_TYPES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def column_type(field: dict[str, Any], top_level: bool = True) -> str:
    """``STRING NOT NULL``, ``ARRAY<DATE>``, ``ARRAY<STRUCT<platform STRING, …>>`` for a schema field."""
    if field["type"] == "RECORD":
        inner = ", ".join(f"{f['name']} {column_type(f, top_level=False)}" for f in field["fields"])
        base = f"STRUCT<{inner}>"
    else:
        base = _TYPES.get(field["type"], field["type"])
    if field.get("mode") == "REPEATED":
        return f"ARRAY<{base}>"
    if field.get("mode") == "REQUIRED" and top_level:
        return f"{base} NOT NULL"
    return base


def columns_table(model: str) -> str:
    lines = ["| column | type | meaning |", "|---|---|---|"]
    for field in table_spec(f"analytics.{model}").schema:
        lines.append(
            f"| `{field['name']}` | {_cell(column_type(field))} | {_cell(field.get('description', ''))} |"
        )
    return "\n".join(lines) + "\n"


def reads(model: str) -> list[str]:
    """What a model's SQL reads besides its own table: ``events.x`` tables and other models."""
    files = model_sql(model)
    found = set().union(*(tables_read(files.statement(kind)) for kind in files.kinds))
    named = {f"{d}.{t}" if d == "events" else t for d, t in found if (d, t) != ("analytics", model)}
    return sorted(named, key=lambda n: (not n.startswith("events."), n))


def models_table() -> str:
    lines = [
        "| # | model | SQL (`sql/<model>/`) | reads | partitioned by | clustered by |",
        "|---|---|---|---|---|---|",
    ]
    for number, model in enumerate(model_names(), start=1):
        spec = table_spec(f"analytics.{model}")
        files = ", ".join(f"`{kind}.sql`" for kind in model_sql(model).kinds)
        read = ", ".join(f"`{r}`" if r.startswith("events.") else f"[`{r}`](#{r})" for r in reads(model))
        clustered = ", ".join(f"`{c}`" for c in spec.clustering)
        partitioned = f"`{spec.partition_field}`"
        lines.append(f"| {number} | [`{model}`](#{model}) | {files} | {read} | {partitioned} | {clustered} |")
    return "\n".join(lines) + "\n"


def rules_table() -> str:
    lines = ["| rule | kind | definition | what it defines |", "|---|---|---|---|"]
    for found in rules.definitions():
        kind = "constant (`DECLARE`)" if found.kind == "constant" else "function (`CREATE TEMP FUNCTION`)"
        summary = rules.summary(found.name)
        definition = (
            f"`{_cell(summary)}`" if "SELECT" not in summary else "a subquery over the dates (see the file)"
        )
        lines.append(f"| `{found.name}` | {kind} | {definition} | {_cell(found.comment)} |")
    return "\n".join(lines) + "\n"


def run_order_list() -> str:
    lines = []
    for number, model in enumerate(model_names(), start=1):
        files = model_sql(model)
        lines.append(f"{number}. `{model}` (`sql/{model}/{files.day_kind}.sql`)")
    return "\n".join(lines) + "\n"


def region(what: str) -> str:
    """The text of one generated region."""
    kind, _, argument = what.partition(" ")
    if what == "models":
        return models_table()
    if what == "rules":
        return rules_table()
    if what == "run order":
        return run_order_list()
    if kind == "columns" and argument:
        return columns_table(argument)
    raise ValueError(f"unknown generated region {what!r}")


def render_regions(text: str, source: Path | str = "the document") -> str:
    """``text`` with every generated region rewritten; raises when it has none."""
    if not REGION.search(text):
        raise ValueError(f"{source} has no <!-- generated: ... --> region")
    return REGION.sub(lambda m: m.group(1) + region(m.group("what").strip()) + m.group(4), text)
