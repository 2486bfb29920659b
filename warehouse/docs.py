"""The generated regions of the docs: tables copied from ``sql/`` and ``schemas/``, never by hand.

A region is ``<!-- generated: <what> -->`` … ``<!-- end generated -->``; :func:`render_regions`
rewrites what is between the markers (``python -m warehouse.render``). ``<what>`` is one of:

- ``models``: the models in run order, their SQL files, what they read, partitioning, clustering;
- ``rules``: the definitions of ``sql/rules.sql``;
- ``columns <model>``: the columns of ``schemas/analytics/<model>.json``; ``columns events.<table>``
  those of ``schemas/events/<table>.json`` (``docs/contract.md``). A RECORD column is followed by
  one row per field inside it, named by its path (``items.price``);
- ``run order``: the numbered list of the models in run order;
- ``once only``: per model, how it counts each event and each rejected message once: the
  de-duplicated reads of the raw tables (:mod:`warehouse.once`) and the ``Once only:`` paragraph
  of its SQL header;
- ``pipeline options``: the pipeline's option tables (README.md), from its parser
  (:func:`pipeline.command_line.options_tables`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from schemas import table_spec
from warehouse import once, rules
from warehouse.graph import dependencies, model_names, tables_read
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


def _column_rows(fields: list[dict[str, Any]], prefix: str = "") -> list[str]:
    """One table row per field, then one per field inside a RECORD, named by its path (``a.b``)."""
    lines = []
    for field in fields:
        name = prefix + field["name"]
        lines.append(f"| `{name}` | {_cell(column_type(field))} | {_cell(field.get('description', ''))} |")
        if field["type"] == "RECORD":
            lines.extend(_column_rows(field["fields"], prefix=f"{name}."))
    return lines


def columns_table(table: str) -> str:
    """The columns of ``analytics.<table>``, or of ``<dataset>.<table>`` when ``table`` names one."""
    key = table if "." in table else f"analytics.{table}"
    lines = ["| column | type | meaning |", "|---|---|---|", *_column_rows(table_spec(key).schema)]
    return "\n".join(lines) + "\n"


def reads(model: str) -> list[str]:
    """What a model's SQL reads besides its own table: ``events.x`` tables and other models."""
    found = tables_read(model_sql(model).statement())
    named = {f"{d}.{t}" if d == "events" else t for d, t in found if (d, t) != ("analytics", model)}
    return sorted(named, key=lambda n: (not n.startswith("events."), n))


def models_table() -> str:
    lines = [
        "| # | model | SQL | reads | partitioned by | clustered by |",
        "|---|---|---|---|---|---|",
    ]
    for number, model in enumerate(model_names(), start=1):
        spec = table_spec(f"analytics.{model}")
        files = f"[`{model}.sql`](../{model_sql(model).relative_path})"
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
        lines.append(f"{number}. `{model}` (`{model_sql(model).relative_path}`)")
    return "\n".join(lines) + "\n"


def header_paragraph(text: str, label: str) -> str:
    """The ``-- <label>: ...`` paragraph of a SQL header (its continuation lines joined), or ''."""
    found: list[str] = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        if found and line.startswith("--   "):
            found.append(line[2:].strip())
        elif found:
            break
        elif line.startswith(f"-- {label}:"):
            found.append(line[len(f"-- {label}:") :].strip())
    return " ".join(found)


def once_only(model: str) -> str:
    """The ``Once only:`` paragraph of the model's SQL header."""
    return header_paragraph(model_sql(model).text(), "Once only")


def once_only_list() -> str:
    lines = []
    for model in model_names():
        statement = model_sql(model).statement()
        reads: dict[str, dict[str, None]] = {}
        for read in once.raw_reads(statement):
            reads.setdefault(read.table, {})[read.name or "?"] = None
        rejected = ("events", "dead_letter") in tables_read(statement)
        facts = [f"`events.{t}` as " + " / ".join(f"`{n}`" for n in names) for t, names in reads.items()]
        if rejected:
            facts.append(
                "`events.dead_letter` by `dead_letter_key`, first copies only (`is_first_rejection`)"
            )
        said = "raw reads: " + (", ".join(facts) if facts else "none")
        inputs = [f"[`{m}`](#{m})" for m in dependencies()[model]]
        if inputs:
            said += f"; built on {', '.join(inputs)}"
        lines.append(f"- [`{model}`](#{model}) ({said}): {_cell(once_only(model))}")
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
    if what == "once only":
        return once_only_list()
    if kind == "columns" and argument:
        return columns_table(argument)
    if what == "pipeline options":
        # Imported here: it loads Beam, which the model runner (importing this module) never needs.
        from pipeline.command_line import options_tables

        return options_tables()
    raise ValueError(f"unknown generated region {what!r}")


def render_regions(text: str, source: Path | str = "the document") -> str:
    """``text`` with every generated region rewritten; raises when it has none."""
    if not REGION.search(text):
        raise ValueError(f"{source} has no <!-- generated: ... --> region")
    return REGION.sub(lambda m: m.group(1) + region(m.group("what").strip()) + m.group(4), text)
