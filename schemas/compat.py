"""Refuse breaking changes to the table contract: ``schemas/`` against ``schemas/released.json``.

``schemas/released.json`` is the contract as last released: per table key (``events.orders``)
its ``tables.json`` entry and its BigQuery JSON schema. ``python -m schemas.compat --check``
(run by ``make lint``) compares the current ``schemas/`` with it, like a schema registry's
BACKWARD check, and exits 1 naming every violation; ``--release`` moves the baseline to the
current schemas. docs/schema-evolution.md explains how to make a breaking change on purpose.

Every table of the baseline is checked. Refused:

* a table removed;
* a field removed (a rename is a removal plus an addition);
* a field's type changed (INTEGER/INT64, FLOAT/FLOAT64 and BOOLEAN/BOOL are the same type);
* RECORD respelled STRUCT or back: the same BigQuery type, but the google Terraform provider
  compares the two words as different types and replaces the table (see below);
* a mode changed from NULLABLE to REQUIRED; REPEATED changed to or from anything;
* a field added as REQUIRED (inside a *new* RECORD, REQUIRED subfields are fine);
* any other attribute of a field changed (``policyTags``, ``maxLength``, ...: not checked here,
  so not passed either);
* the partition field changed, the clustering changed, ``require_partition_filter`` turned on,
  or any other catalog attribute changed except the description and the partition expiration.

Allowed: adding NULLABLE or REPEATED fields anywhere (nested in records too), adding tables,
relaxing REQUIRED to NULLABLE, description changes, partition expiration changes. The field
rules are BigQuery's own: an existing table can only gain NULLABLE or REPEATED columns and relax
REQUIRED to NULLABLE in place; any other change of a column needs a new table and a copy of
the data ("Modifying table schemas", https://cloud.google.com/bigquery/docs/managing-table-schemas).
New columns land at the end of the live table or record whatever their place in the file.

They are also at least as strict as the google provider's ``google_bigquery_table``, which
applies a schema change in place only when ``resourceBigQueryTableSchemaIsChangeable``
(hashicorp/terraform-provider-google, google/services/bigquery/resource_bigquery_table.go)
says so and otherwise replaces the table, which loses its data: every change passed here is one
it applies in place.

Only the standard library is used.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from dataclasses import field as _field
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent
BASELINE_NAME = "released.json"
CATALOG_NAME = "tables.json"
DOC = "docs/schema-evolution.md"

# A contract: {"dataset.table": {"table": <tables.json entry>, "schema": [<BigQuery fields>]}}.
Contract = dict[str, dict[str, Any]]

_ALIASES = {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN", "STRUCT": "RECORD"}
_FIELD_KEYS = {"name", "type", "mode", "description", "fields"}
_CATALOG_RULES = {"partition_field", "clustering", "require_partition_filter"}
_CATALOG_FREE = {"description", "partition_expiration_days"}

# Kinds of compatible change, as counted in the summary.
ADDED_FIELD = "field added"
ADDED_TABLE = "table added"
RELAXED = "relaxed to NULLABLE"
OTHER = "other"


@dataclass(frozen=True)
class Violation:
    """One breaking change: the table, the field's dotted path (None for the table) and the rule."""

    table: str
    rule: str
    field: str | None = None
    why: str = ""

    def __str__(self) -> str:
        where = f"{self.table}: field {self.field}" if self.field else self.table
        return f"{where}: {self.rule}" + (f" ({self.why})" if self.why else "")


@dataclass
class Report:
    """The result of comparing the released contract with the current one."""

    tables: int
    violations: list[Violation] = _field(default_factory=list)
    changes: list[tuple[str, str]] = _field(default_factory=list)  # (kind, line), compatible

    @property
    def compatible(self) -> bool:
        return not self.violations

    def count(self, kind: str) -> int:
        return Counter(kind_ for kind_, _ in self.changes)[kind]

    def summary(self) -> str:
        parts = []
        for kind, singular, plural in (
            (ADDED_FIELD, "field added", "fields added"),
            (ADDED_TABLE, "table added", "tables added"),
            (RELAXED, "field relaxed to NULLABLE", "fields relaxed to NULLABLE"),
            (OTHER, "description or expiration changed", "descriptions or expirations changed"),
        ):
            n = self.count(kind)
            if n:
                parts.append(f"{n} {singular if n == 1 else plural}")
        since = f"{', '.join(parts)} since" if parts else "unchanged since the release"
        return f"{self.tables} tables; {since}"


# --------------------------------------------------------------------------------------
# Reading and writing contracts
# --------------------------------------------------------------------------------------


def contract_from(catalog: dict[str, dict[str, Any]], schemas: dict[str, list[dict[str, Any]]]) -> Contract:
    """The contract of a catalog (``tables.json``) and each table's schema, by table key."""
    return {key: {"table": entry, "schema": schemas[key]} for key, entry in catalog.items()}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"error: {_show(path)}: no such file") from None
    except json.JSONDecodeError as exc:
        raise SystemExit(f"error: {_show(path)}: not valid JSON: {exc}") from None


def load_contract(schemas_dir: Path = SCHEMA_DIR) -> Contract:
    """The current contract: ``<schemas_dir>/tables.json`` and ``<schemas_dir>/<dataset>/<table>.json``."""
    catalog = _read_json(schemas_dir / CATALOG_NAME)
    schemas = {}
    for key in catalog:
        dataset, table = key.split(".", 1)
        schemas[key] = _read_json(schemas_dir / dataset / f"{table}.json")
    return contract_from(catalog, schemas)


def load_baseline(path: Path) -> Contract:
    """The released contract written by ``--release``."""
    return _read_json(path)


def dump_contract(contract: Contract) -> str:
    """The baseline file's text: keys sorted, indented, one trailing newline (diffs well)."""
    return json.dumps(contract, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------------------


def _mode(f: dict[str, Any]) -> str:
    return str(f.get("mode") or "NULLABLE").upper()


def _spelling(f: dict[str, Any]) -> str:
    return str(f.get("type", "")).upper()


def _type(f: dict[str, Any]) -> str:
    spelling = _spelling(f)
    return _ALIASES.get(spelling, spelling)


def compare(released: Contract, current: Contract) -> Report:
    """Every breaking change from ``released`` to ``current``, and every compatible one."""
    report = Report(tables=len(current))
    for key in sorted(released):
        if key not in current:
            report.violations.append(
                Violation(key, "table removed", why="its data and every reader of it would go")
            )
            continue
        _compare_catalog(key, released[key]["table"], current[key]["table"], report)
        _compare_fields(key, "", released[key]["schema"], current[key]["schema"], report)
    for key in sorted(set(current) - set(released)):
        report.changes.append((ADDED_TABLE, f"{key}: table added"))
    return report


def _compare_catalog(key: str, old: dict[str, Any], new: dict[str, Any], report: Report) -> None:
    broken = report.violations.append
    if old.get("partition_field") != new.get("partition_field"):
        broken(
            Violation(
                key,
                f"partition field changed {old.get('partition_field')} -> {new.get('partition_field')}",
                why="the google provider replaces the table: time_partitioning.field forces a new one",
            )
        )
    old_clustering, new_clustering = list(old.get("clustering") or []), list(new.get("clustering") or [])
    if old_clustering != new_clustering:
        broken(
            Violation(
                key,
                f"clustering changed {old_clustering} -> {new_clustering}",
                why="the data already written stays clustered the old way",
            )
        )
    if not old.get("require_partition_filter") and new.get("require_partition_filter"):
        broken(
            Violation(
                key,
                "require_partition_filter turned on",
                why="every query without a partition filter would start failing",
            )
        )
    for attr in sorted((set(old) | set(new)) - _CATALOG_RULES - _CATALOG_FREE):
        if old.get(attr) != new.get(attr):
            broken(
                Violation(
                    key,
                    f"catalog attribute {attr} changed",
                    why="schemas/compat.py has no rule for it; release it on purpose",
                )
            )
    if old.get("description") != new.get("description"):
        report.changes.append((OTHER, f"{key}: table description changed"))
    if old.get("partition_expiration_days") != new.get("partition_expiration_days"):
        report.changes.append(
            (
                OTHER,
                f"{key}: partition expiration {old.get('partition_expiration_days')} -> "
                f"{new.get('partition_expiration_days')} days",
            )
        )


def _compare_fields(
    key: str, prefix: str, old_fields: list[dict[str, Any]], new_fields: list[dict[str, Any]], report: Report
) -> None:
    old_by_name = {f["name"]: f for f in old_fields}
    new_by_name = {f["name"]: f for f in new_fields}
    for name, old in old_by_name.items():
        path = prefix + name
        if name not in new_by_name:
            report.violations.append(
                Violation(key, "removed or renamed", path, why="a rename is a removal plus an addition")
            )
            continue
        _compare_field(key, path, old, new_by_name[name], report)
    for name, new in new_by_name.items():
        if name in old_by_name:
            continue
        path, mode = prefix + name, _mode(new)
        if mode == "REQUIRED":
            report.violations.append(
                Violation(
                    key,
                    "added as REQUIRED",
                    path,
                    why="the rows already written have no value; add it as NULLABLE or REPEATED",
                )
            )
        else:
            report.changes.append((ADDED_FIELD, f"{key}: field {path} added ({_spelling(new)} {mode})"))


def _compare_field(key: str, path: str, old: dict[str, Any], new: dict[str, Any], report: Report) -> None:
    broken = report.violations.append
    if _type(old) != _type(new):
        broken(
            Violation(
                key,
                f"type changed {_spelling(old)} -> {_spelling(new)}",
                path,
                why="a column's type cannot change in place",
            )
        )
    elif _spelling(old) != _spelling(new) and _type(old) == "RECORD":
        broken(
            Violation(
                key,
                f"type respelled {_spelling(old)} -> {_spelling(new)}",
                path,
                why="the same BigQuery type, but the google provider compares the words and "
                "would replace the table",
            )
        )
    old_mode, new_mode = _mode(old), _mode(new)
    if old_mode != new_mode:
        if "REPEATED" in (old_mode, new_mode):
            broken(
                Violation(
                    key,
                    f"mode changed {old_mode} -> {new_mode}",
                    path,
                    why="REPEATED cannot change to or from another mode",
                )
            )
        elif new_mode == "REQUIRED":
            broken(
                Violation(
                    key,
                    f"mode changed {old_mode} -> {new_mode}",
                    path,
                    why="the rows already written may be NULL",
                )
            )
        else:
            report.changes.append((RELAXED, f"{key}: field {path} relaxed {old_mode} -> {new_mode}"))
    for attr in sorted((set(old) | set(new)) - _FIELD_KEYS):
        if old.get(attr) != new.get(attr):
            broken(
                Violation(
                    key,
                    f"attribute {attr} changed",
                    path,
                    why="schemas/compat.py has no rule for it; release it on purpose",
                )
            )
    if (old.get("description") or "") != (new.get("description") or ""):
        report.changes.append((OTHER, f"{key}: field {path} description changed"))
    if _type(old) == _type(new) == "RECORD":
        _compare_fields(key, f"{path}.", old.get("fields") or [], new.get("fields") or [], report)


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def _show(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check(schemas_dir: Path, baseline: Path) -> int:
    if not baseline.exists():
        print(
            f"error: {_show(baseline)}: no released contract; create it with "
            "`python -m schemas.compat --release`",
            file=sys.stderr,
        )
        return 1
    report = compare(load_baseline(baseline), load_contract(schemas_dir))
    if report.compatible:
        print(f"schemas/ is compatible with the released contract ({report.summary()})")
        return 0
    for violation in report.violations:
        print(violation)
    n = len(report.violations)
    print(
        f"{n} breaking change{'s' if n != 1 else ''} to the released contract ({_show(baseline)}): "
        f"a released table only gains NULLABLE/REPEATED fields and relaxes REQUIRED; to change it, "
        f"add a new table version instead (see {DOC})."
    )
    return 1


def release(schemas_dir: Path, baseline: Path, accept_breaking: bool = False) -> int:
    current = load_contract(schemas_dir)
    text = dump_contract(current)
    if not baseline.exists():
        baseline.write_text(text)
        print(f"wrote {_show(baseline)}: a new baseline of {len(current)} tables")
        return 0
    report = compare(load_baseline(baseline), current)
    if report.violations and not accept_breaking:
        for violation in report.violations:
            print(violation)
        print(
            f"refusing to release {len(report.violations)} breaking change(s); when this release "
            f"retires a table on purpose, rerun with --accept-breaking (see {DOC})."
        )
        return 1
    if baseline.read_text() == text:
        print(f"nothing moved: {_show(baseline)} already matches schemas/ ({len(current)} tables)")
        return 0
    baseline.write_text(text)
    print(f"moved {_show(baseline)} to the current schemas ({len(current)} tables):")
    for violation in report.violations:
        print(f"  BREAKING, accepted: {violation}")
    for _, line in report.changes:
        print(f"  {line}")
    if not report.violations and not report.changes:
        print("  field order or formatting only")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m schemas.compat",
        description="Check schemas/ against the released table contract, or release it.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 on a breaking change (the default)")
    mode.add_argument("--release", action="store_true", help="rewrite the baseline from the current schemas")
    parser.add_argument(
        "--accept-breaking",
        action="store_true",
        help="with --release: release breaking changes too (a table retired on purpose)",
    )
    parser.add_argument(
        "--schemas-dir", type=Path, default=SCHEMA_DIR, help="the schemas directory (default: this package's)"
    )
    parser.add_argument(
        "--baseline", type=Path, help=f"the released contract (default: <schemas-dir>/{BASELINE_NAME})"
    )
    args = parser.parse_args(argv)
    if args.accept_breaking and not args.release:
        parser.error("--accept-breaking goes with --release")
    baseline = args.baseline or args.schemas_dir / BASELINE_NAME
    if args.release:
        return release(args.schemas_dir, baseline, args.accept_breaking)
    return check(args.schemas_dir, baseline)


if __name__ == "__main__":
    sys.exit(main())
