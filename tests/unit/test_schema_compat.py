"""schemas/compat.py: breaking changes to the released table contract are refused, compatible ones pass.

The rule tests change an in-memory copy of the committed baseline (schemas/released.json), so
they do not depend on the schemas being edited in the working tree; the committed baseline is
then checked against the current schemas, and release and check run on a tmp copy. The command
line, in processes of its own: tests/infra/test_schema_compat_command.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from schemas import compat
from tests.schema_copies import copy_schemas, edit_json, field_named

BASELINE_FILE = compat.SCHEMA_DIR / compat.BASELINE_NAME


@pytest.fixture(scope="module")
def baseline() -> compat.Contract:
    return compat.load_baseline(BASELINE_FILE)


ORDERS, DEAD_LETTER = "events.orders", "events.dead_letter"

# A change to a contract, made at a table and, for a change to a field, the field's dotted path.
Change = Callable[[compat.Contract, str, str | None], None]


def _fields(contract: compat.Contract, key: str, record: str = "") -> list[dict[str, Any]]:
    """The field list of table ``key``, or of the RECORD at dotted path ``record`` in it."""
    fields = contract[key]["schema"]
    for name in filter(None, record.split(".")):
        fields = field_named(fields, name)["fields"]
    return fields


def _at(contract: compat.Contract, key: str, path: str) -> dict[str, Any]:
    record, _, name = path.rpartition(".")
    return field_named(_fields(contract, key, record), name)


def _new(name: str, type_: str = "STRING", mode: str = "NULLABLE", **more: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "mode": mode, "description": f"New {name}.", **more}


def _removed(contract: compat.Contract, key: str, path: str) -> None:
    record, _, name = path.rpartition(".")
    fields = _fields(contract, key, record)
    fields.remove(field_named(fields, name))


def _table_removed(contract: compat.Contract, key: str, _: None) -> None:
    contract.pop(key)


def _field(**attrs: Any) -> Change:
    """The field's attributes set as given."""

    def change(c: compat.Contract, key: str, path: str) -> None:
        _at(c, key, path).update(attrs)

    return change


DROPPED = object()  # _catalog(attr=DROPPED): the attribute taken out of the table's catalog entry


def _catalog(**attrs: Any) -> Change:
    """The table's catalog entry with the attributes set as given (or taken out)."""

    def change(c: compat.Contract, key: str, _: None) -> None:
        entry = c[key]["table"]
        entry.update(attrs)
        for attr in [a for a, value in attrs.items() if value is DROPPED]:
            del entry[attr]

    return change


def _copy_of(source: str) -> Change:
    """The table as a new copy of table ``source``."""

    def change(c: compat.Contract, key: str, _: None) -> None:
        c[key] = copy.deepcopy(c[source])

    return change


def _appended(field: dict[str, Any]) -> Change:
    """``field`` (named as the path's last part) appended to the record that holds the path."""

    def change(c: compat.Contract, key: str, path: str) -> None:
        _fields(c, key, path.rpartition(".")[0]).append(field)

    return change


def _added(path: str, type_: str = "STRING", mode: str = "NULLABLE", **more: Any) -> tuple[str, Change]:
    """The path and the change that adds the field there, as :func:`_new` describes it."""
    return path, _appended(_new(path.rpartition(".")[2], type_, mode, **more))


def _compare(baseline: compat.Contract, *changes: tuple[str, str | None, Change]) -> compat.Report:
    """The baseline against a copy with each (table, field, change) made in turn."""
    current = copy.deepcopy(baseline)
    for key, path, change in changes:
        change(current, key, path)
    return compat.compare(baseline, current)


def _cases(by_table: dict[str, list[tuple]]) -> list:
    """``table -> [(id, field, change, *expected)]`` as parameters (table, field, change, *expected)."""
    return [pytest.param(table, *case[1:], id=case[0]) for table, cases in by_table.items() for case in cases]


# table -> its breaking changes: (id, field, change, words the rule must contain); a change to the
# table itself names no field
BREAKING = {
    ORDERS: [
        ("table-removed", None, _table_removed, "table removed"),
        ("field-removed", "total_amount", _removed, "removed or renamed"),
        ("nested-field-removed", "items.price", _removed, "removed or renamed"),
        ("type-changed", "total_amount", _field(type="FLOAT"), "type changed NUMERIC -> FLOAT"),
        ("nested-type-changed", "items.quantity", _field(type="STRING"), "type changed INTEGER -> STRING"),
        (
            "record-respelled-struct",
            "shipping_address",
            _field(type="STRUCT"),
            "type respelled RECORD -> STRUCT",
        ),
        ("repeated-to-nullable", "items", _field(mode="NULLABLE"), "mode changed REPEATED -> NULLABLE"),
        ("required-to-repeated", "status", _field(mode="REPEATED"), "mode changed REQUIRED -> REPEATED"),
        ("added-required", *_added("channel", mode="REQUIRED"), "added as REQUIRED"),
        ("nested-added-required", *_added("items.discount", "NUMERIC", "REQUIRED"), "added as REQUIRED"),
        ("field-attribute-changed", "status", _field(maxLength="32"), "attribute maxLength changed"),
        (
            "partition-field-changed",
            None,
            _catalog(partition_field="order_date"),
            "partition field changed event_date -> order_date",
        ),
        ("clustering-reordered", None, _catalog(clustering=["status", "customer_id"]), "clustering changed"),
        (
            "clustering-removed",
            None,
            _catalog(clustering=DROPPED),
            "clustering changed ['customer_id', 'status'] -> []",
        ),
        (
            "catalog-attribute-unknown",
            None,
            _catalog(labels={"tier": "gold"}),
            "catalog attribute labels changed",
        ),
    ],
    DEAD_LETTER: [
        ("field-renamed", "payload", _field(name="raw_payload"), "removed or renamed"),
        ("nullable-to-required", "payload", _field(mode="REQUIRED"), "mode changed NULLABLE -> REQUIRED"),
        ("nullable-to-repeated", "attributes", _field(mode="REPEATED"), "mode changed NULLABLE -> REPEATED"),
        (
            "partition-filter-turned-on",
            None,
            _catalog(require_partition_filter=True),
            "require_partition_filter turned on",
        ),
    ],
}


@pytest.mark.parametrize(("table", "field", "change", "rule"), _cases(BREAKING))
def test_a_breaking_change_is_refused_naming_table_field_and_rule(baseline, table, field, change, rule):
    report = _compare(baseline, (table, field, change))
    assert not report.compatible
    matching = [v for v in report.violations if v.table == table and v.field == field and rule in v.rule]
    assert matching, [str(v) for v in report.violations]
    line = str(matching[0])
    where = f"{table}: field {field}: " if field else f"{table}: "
    assert line.startswith(where + rule.split(" ->")[0]), line


def test_a_rename_is_reported_as_a_removal_and_an_addition(baseline):
    report = _compare(baseline, (ORDERS, "customer_id", _field(name="customer_ref")))
    assert [str(v).split(" (")[0] for v in report.violations] == [
        "events.orders: field customer_id: removed or renamed",
        "events.orders: field customer_ref: added as REQUIRED",
    ]


def test_every_violation_is_listed_not_only_the_first(baseline):
    report = _compare(
        baseline,
        (ORDERS, "total_amount", _removed),
        (ORDERS, "items.price", _field(type="STRING")),
        ("events.inventory", None, _catalog(partition_field="movement_date")),
        ("analytics.products_scd", None, _table_removed),
    )
    assert {(v.table, v.field) for v in report.violations} == {
        ("events.orders", "total_amount"),
        ("events.orders", "items.price"),
        ("events.inventory", None),
        ("analytics.products_scd", None),
    }


# table -> its compatible changes: (id, field, change, the kinds of compatible change it makes)
ALLOWED = {
    ORDERS: [
        ("add-nullable", *_added("coupon_code"), {compat.ADDED_FIELD}),
        ("add-repeated", *_added("tags", mode="REPEATED"), {compat.ADDED_FIELD}),
        ("add-mode-omitted", "note", _appended({"name": "note", "type": "STRING"}), {compat.ADDED_FIELD}),
        ("add-nested-nullable", *_added("items.discount", "NUMERIC"), {compat.ADDED_FIELD}),
        ("add-nested-in-nested-record", *_added("shipping_address.floor"), {compat.ADDED_FIELD}),
        (
            "add-record-with-required-subfields",
            *_added("gift", "RECORD", fields=[_new("message", mode="REQUIRED"), _new("wrap", "BOOLEAN")]),
            {compat.ADDED_FIELD},
        ),
        ("required-relaxed", "status", _field(mode="NULLABLE"), {compat.RELAXED}),
        ("nested-required-relaxed", "items.price", _field(mode="NULLABLE"), {compat.RELAXED}),
        ("field-description", "status", _field(description="Order status."), {compat.OTHER}),
        ("table-description", None, _catalog(description="Orders."), {compat.OTHER}),
        ("partition-expiration", None, _catalog(partition_expiration_days=400), {compat.OTHER}),
        ("partition-expiration-off", None, _catalog(partition_expiration_days=None), {compat.OTHER}),
        ("partition-filter-turned-off", None, _catalog(require_partition_filter=False), set()),
        ("integer-spelled-int64", "items.quantity", _field(type="INT64"), set()),
        ("type-in-lower-case", "status", _field(type="string"), set()),
        ("fields-reordered", None, lambda c, key, _: c[key]["schema"].reverse(), set()),
        ("nothing", None, lambda *_: None, set()),
    ],
    "events.orders_v2": [
        ("add-table", None, _copy_of(ORDERS), {compat.ADDED_TABLE}),
    ],
}


@pytest.mark.parametrize(("table", "field", "change", "kinds"), _cases(ALLOWED))
def test_a_compatible_change_passes(baseline, table, field, change, kinds):
    report = _compare(baseline, (table, field, change))
    assert report.compatible, [str(v) for v in report.violations]
    assert {kind for kind, _ in report.changes} == kinds


def test_aliases_are_the_same_type():
    old = {"t.x": {"table": {}, "schema": [_new("a", "INTEGER"), _new("b", "FLOAT"), _new("c", "BOOLEAN")]}}
    new = {"t.x": {"table": {}, "schema": [_new("a", "INT64"), _new("b", "FLOAT64"), _new("c", "BOOL")]}}
    assert compat.compare(old, new).compatible
    assert compat.compare(new, old).compatible


def test_nested_fields_follow_the_same_rules():
    def table(*subfields):
        return {"t.x": {"table": {}, "schema": [_new("r", "RECORD", fields=[*subfields])]}}

    old = table(_new("a"), _new("b", "RECORD", fields=[_new("c", mode="REPEATED")]))
    new = table(_new("a", mode="REQUIRED"), _new("b", "RECORD", fields=[_new("c"), _new("d")]))
    assert [str(v).split(" (")[0] for v in compat.compare(old, new).violations] == [
        "t.x: field r.a: mode changed NULLABLE -> REQUIRED",
        "t.x: field r.b.c: mode changed REPEATED -> NULLABLE",
    ]


def test_struct_respelled_record_is_refused_too():
    old = {"t.x": {"table": {}, "schema": [_new("r", "STRUCT", fields=[_new("a")])]}}
    new = {"t.x": {"table": {}, "schema": [_new("r", "RECORD", fields=[_new("a"), _new("b")])]}}
    assert [str(v).split(" (")[0] for v in compat.compare(old, new).violations] == [
        "t.x: field r: type respelled STRUCT -> RECORD"
    ]


def test_summary_counts_what_was_added_since(baseline):
    report = _compare(
        baseline,
        (ORDERS, *_added("coupon_code")),
        (ORDERS, *_added("items.discount", "NUMERIC")),
        (ORDERS, "status", _field(mode="NULLABLE")),
        ("events.orders_v2", None, _copy_of(ORDERS)),
    )
    assert report.summary() == (
        f"{len(baseline) + 1} tables; 2 fields added, 1 table added, 1 field relaxed to NULLABLE since"
    )
    assert _compare(baseline).summary() == f"{len(baseline)} tables; unchanged since the release"


# --------------------------------------------------------------------------------------
# The committed baseline and the current schemas
# --------------------------------------------------------------------------------------


def test_the_committed_baseline_passes_against_the_current_schemas(baseline):
    report = compat.compare(baseline, compat.load_contract())
    assert report.compatible, "\n".join(map(str, report.violations))


def test_the_committed_baseline_is_written_as_release_writes_it(baseline):
    assert BASELINE_FILE.read_text() == compat.dump_contract(baseline)
    for key, entry in baseline.items():
        assert set(entry) == {"table", "schema"}, key
        assert key.count(".") == 1, key


# --------------------------------------------------------------------------------------
# --release and --check on a tmp copy
# --------------------------------------------------------------------------------------


@pytest.fixture
def schemas_copy(tmp_path) -> Path:
    """A copy of schemas/ (catalog, table schemas, baseline) to change freely."""
    return copy_schemas(tmp_path)


def test_release_then_check_round_trips(schemas_copy, capsys):
    baseline = schemas_copy / compat.BASELINE_NAME
    edit_json(schemas_copy / "events" / "orders.json", lambda fields: fields.append(_new("coupon_code")))
    assert compat.release(schemas_copy, baseline) == 0
    out = capsys.readouterr().out
    assert "events.orders: field coupon_code added (STRING NULLABLE)" in out

    released = compat.load_baseline(baseline)
    assert released == compat.load_contract(schemas_copy)
    assert compat.compare(released, compat.load_contract(schemas_copy)).changes == []
    assert compat.check(schemas_copy, baseline) == 0
    assert "unchanged since the release" in capsys.readouterr().out

    assert compat.release(schemas_copy, baseline) == 0
    assert "nothing moved" in capsys.readouterr().out


def test_release_refuses_a_breaking_change_unless_accepted(schemas_copy, capsys):
    baseline = schemas_copy / compat.BASELINE_NAME
    before = baseline.read_text()
    edit_json(schemas_copy / compat.CATALOG_NAME, lambda catalog: catalog.pop("analytics.products_scd"))
    assert compat.release(schemas_copy, baseline) == 1
    assert "analytics.products_scd: table removed" in capsys.readouterr().out
    assert baseline.read_text() == before

    assert compat.release(schemas_copy, baseline, accept_breaking=True) == 0
    assert "BREAKING, accepted: analytics.products_scd: table removed" in capsys.readouterr().out
    assert compat.check(schemas_copy, baseline) == 0
