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


def _fields(contract: compat.Contract, key: str, record: str = "") -> list[dict[str, Any]]:
    """The field list of table ``key``, or of the RECORD at dotted path ``record`` in it."""
    fields = contract[key]["schema"]
    for name in filter(None, record.split(".")):
        fields = field_named(fields, name)["fields"]
    return fields


def _at(contract: compat.Contract, key: str, path: str) -> dict[str, Any]:
    record, _, name = path.rpartition(".")
    return field_named(_fields(contract, key, record), name)


def _drop(contract: compat.Contract, key: str, path: str) -> None:
    record, _, name = path.rpartition(".")
    fields = _fields(contract, key, record)
    fields.remove(field_named(fields, name))


def _new(name: str, type_: str = "STRING", mode: str = "NULLABLE", **more: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "mode": mode, "description": f"New {name}.", **more}


def _set(key: str, path: str, attr: str, value: Any) -> Callable[[compat.Contract], None]:
    def change(c: compat.Contract) -> None:
        _at(c, key, path)[attr] = value

    return change


def _catalog(key: str, attr: str, value: Any) -> Callable[[compat.Contract], None]:
    def change(c: compat.Contract) -> None:
        c[key]["table"][attr] = value

    return change


def _rename(key: str, path: str, to: str) -> Callable[[compat.Contract], None]:
    return _set(key, path, "name", to)


def _append(key: str, record: str, field: dict[str, Any]) -> Callable[[compat.Contract], None]:
    def change(c: compat.Contract) -> None:
        _fields(c, key, record).append(field)

    return change


def _compare(baseline: compat.Contract, change: Callable[[compat.Contract], None]) -> compat.Report:
    current = copy.deepcopy(baseline)
    change(current)
    return compat.compare(baseline, current)


# (id, change, table, field, words the rule must contain)
BREAKING = [
    ("table-removed", lambda c: c.pop("events.orders"), "events.orders", None, "table removed"),
    (
        "field-removed",
        lambda c: _drop(c, "events.orders", "total_amount"),
        "events.orders",
        "total_amount",
        "removed or renamed",
    ),
    (
        "nested-field-removed",
        lambda c: _drop(c, "events.orders", "items.price"),
        "events.orders",
        "items.price",
        "removed or renamed",
    ),
    (
        "field-renamed",
        _rename("events.dead_letter", "payload", "raw_payload"),
        "events.dead_letter",
        "payload",
        "removed or renamed",
    ),
    (
        "type-changed",
        _set("events.orders", "total_amount", "type", "FLOAT"),
        "events.orders",
        "total_amount",
        "type changed NUMERIC -> FLOAT",
    ),
    (
        "nested-type-changed",
        _set("events.orders", "items.quantity", "type", "STRING"),
        "events.orders",
        "items.quantity",
        "type changed INTEGER -> STRING",
    ),
    (
        "record-respelled-struct",
        _set("events.orders", "shipping_address", "type", "STRUCT"),
        "events.orders",
        "shipping_address",
        "type respelled RECORD -> STRUCT",
    ),
    (
        "nullable-to-required",
        _set("events.dead_letter", "payload", "mode", "REQUIRED"),
        "events.dead_letter",
        "payload",
        "mode changed NULLABLE -> REQUIRED",
    ),
    (
        "repeated-to-nullable",
        _set("events.orders", "items", "mode", "NULLABLE"),
        "events.orders",
        "items",
        "mode changed REPEATED -> NULLABLE",
    ),
    (
        "nullable-to-repeated",
        _set("events.dead_letter", "attributes", "mode", "REPEATED"),
        "events.dead_letter",
        "attributes",
        "mode changed NULLABLE -> REPEATED",
    ),
    (
        "required-to-repeated",
        _set("events.orders", "status", "mode", "REPEATED"),
        "events.orders",
        "status",
        "mode changed REQUIRED -> REPEATED",
    ),
    (
        "added-required",
        _append("events.orders", "", _new("channel", mode="REQUIRED")),
        "events.orders",
        "channel",
        "added as REQUIRED",
    ),
    (
        "nested-added-required",
        _append("events.orders", "items", _new("discount", "NUMERIC", "REQUIRED")),
        "events.orders",
        "items.discount",
        "added as REQUIRED",
    ),
    (
        "field-attribute-changed",
        _set("events.orders", "status", "maxLength", "32"),
        "events.orders",
        "status",
        "attribute maxLength changed",
    ),
    (
        "partition-field-changed",
        _catalog("events.orders", "partition_field", "order_date"),
        "events.orders",
        None,
        "partition field changed event_date -> order_date",
    ),
    (
        "clustering-reordered",
        _catalog("events.orders", "clustering", ["status", "customer_id"]),
        "events.orders",
        None,
        "clustering changed",
    ),
    (
        "clustering-removed",
        lambda c: c["events.orders"]["table"].pop("clustering"),
        "events.orders",
        None,
        "clustering changed ['customer_id', 'status'] -> []",
    ),
    (
        "partition-filter-turned-on",
        _catalog("events.dead_letter", "require_partition_filter", True),
        "events.dead_letter",
        None,
        "require_partition_filter turned on",
    ),
    (
        "catalog-attribute-unknown",
        _catalog("events.orders", "labels", {"tier": "gold"}),
        "events.orders",
        None,
        "catalog attribute labels changed",
    ),
]


@pytest.mark.parametrize(
    ("change", "table", "field", "rule"), [c[1:] for c in BREAKING], ids=[c[0] for c in BREAKING]
)
def test_a_breaking_change_is_refused_naming_table_field_and_rule(baseline, change, table, field, rule):
    report = _compare(baseline, change)
    assert not report.compatible
    matching = [v for v in report.violations if v.table == table and v.field == field and rule in v.rule]
    assert matching, [str(v) for v in report.violations]
    line = str(matching[0])
    where = f"{table}: field {field}: " if field else f"{table}: "
    assert line.startswith(where + rule.split(" ->")[0]), line


def test_a_rename_is_reported_as_a_removal_and_an_addition(baseline):
    report = _compare(baseline, _rename("events.orders", "customer_id", "customer_ref"))
    assert [str(v).split(" (")[0] for v in report.violations] == [
        "events.orders: field customer_id: removed or renamed",
        "events.orders: field customer_ref: added as REQUIRED",
    ]


def test_every_violation_is_listed_not_only_the_first(baseline):
    def many(c):
        _drop(c, "events.orders", "total_amount")
        _set("events.orders", "items.price", "type", "STRING")(c)
        _catalog("events.inventory", "partition_field", "movement_date")(c)
        c.pop("analytics.products_scd")

    report = _compare(baseline, many)
    assert {(v.table, v.field) for v in report.violations} == {
        ("events.orders", "total_amount"),
        ("events.orders", "items.price"),
        ("events.inventory", None),
        ("analytics.products_scd", None),
    }


# (id, change, the kinds of compatible change it makes)
ALLOWED = [
    ("add-nullable", _append("events.orders", "", _new("coupon_code")), {compat.ADDED_FIELD}),
    ("add-repeated", _append("events.orders", "", _new("tags", mode="REPEATED")), {compat.ADDED_FIELD}),
    (
        "add-mode-omitted",
        _append("events.orders", "", {"name": "note", "type": "STRING"}),
        {compat.ADDED_FIELD},
    ),
    (
        "add-nested-nullable",
        _append("events.orders", "items", _new("discount", "NUMERIC")),
        {compat.ADDED_FIELD},
    ),
    (
        "add-nested-in-nested-record",
        _append("events.orders", "shipping_address", _new("floor")),
        {compat.ADDED_FIELD},
    ),
    (
        "add-record-with-required-subfields",
        _append(
            "events.orders",
            "",
            _new("gift", "RECORD", fields=[_new("message", mode="REQUIRED"), _new("wrap", "BOOLEAN")]),
        ),
        {compat.ADDED_FIELD},
    ),
    (
        "add-table",
        lambda c: c.__setitem__("events.orders_v2", copy.deepcopy(c["events.orders"])),
        {compat.ADDED_TABLE},
    ),
    ("required-relaxed", _set("events.orders", "status", "mode", "NULLABLE"), {compat.RELAXED}),
    ("nested-required-relaxed", _set("events.orders", "items.price", "mode", "NULLABLE"), {compat.RELAXED}),
    ("field-description", _set("events.orders", "status", "description", "Order status."), {compat.OTHER}),
    ("table-description", _catalog("events.orders", "description", "Orders."), {compat.OTHER}),
    ("partition-expiration", _catalog("events.orders", "partition_expiration_days", 400), {compat.OTHER}),
    (
        "partition-expiration-off",
        _catalog("events.orders", "partition_expiration_days", None),
        {compat.OTHER},
    ),
    ("partition-filter-turned-off", _catalog("events.orders", "require_partition_filter", False), set()),
    ("integer-spelled-int64", _set("events.orders", "items.quantity", "type", "INT64"), set()),
    ("type-in-lower-case", _set("events.orders", "status", "type", "string"), set()),
    ("fields-reordered", lambda c: c["events.orders"]["schema"].reverse(), set()),
    ("nothing", lambda c: None, set()),
]


@pytest.mark.parametrize(("change", "kinds"), [c[1:] for c in ALLOWED], ids=[c[0] for c in ALLOWED])
def test_a_compatible_change_passes(baseline, change, kinds):
    report = _compare(baseline, change)
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
    def grow(c):
        _append("events.orders", "", _new("coupon_code"))(c)
        _append("events.orders", "items", _new("discount", "NUMERIC"))(c)
        _set("events.orders", "status", "mode", "NULLABLE")(c)
        c["events.orders_v2"] = copy.deepcopy(c["events.orders"])

    report = _compare(baseline, grow)
    assert report.summary() == (
        f"{len(baseline) + 1} tables; 2 fields added, 1 table added, 1 field relaxed to NULLABLE since"
    )
    assert (
        _compare(baseline, lambda c: None).summary() == f"{len(baseline)} tables; unchanged since the release"
    )


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
