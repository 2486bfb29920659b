"""Promoting a new typed field's past values out of ``extra_fields``: the pure part.

``plan_row`` decides each row with the pipeline's own rule (``known_fields.typed_value``) and
writes the value as text the UPDATE casts exactly; the refusals are one line naming the option.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from google.api_core.exceptions import BadRequest

from pipeline.commands import run_command
from recovery import cli
from recovery.promote import (
    Plan,
    PromotionError,
    _failure,
    chunks,
    plan_row,
    select_sql,
    typed_kind,
    update_sql,
)
from transforms.errors import Rejection
from transforms.known_fields import Known, known_fields


def extra(**keys) -> str:
    """``extra_fields`` as TO_JSON_STRING gives it (compact)."""
    return json.dumps(keys, separators=(",", ":"))


@pytest.mark.parametrize(
    "kind, text, value",
    [
        ("STRING", '"WINTER"', "WINTER"),
        ("STRING", '"é\\n"', "é\n"),
        ("INTEGER", "42", "42"),
        ("INT64", "-9223372036854775808", "-9223372036854775808"),
        ("BOOLEAN", "true", "true"),
        ("BOOL", "false", "false"),
        ("NUMERIC", "1.123456789", "1.123456789"),
        ("NUMERIC", '"12345678901234567890.123456789"', "12345678901234567890.123456789"),
        ("NUMERIC", "1E+2", "100"),
        ("NUMERIC", "100000000000000000000.0", "100000000000000000000.0"),
        ("TIMESTAMP", '"2026-11-01T10:15:00.5+02:00"', "2026-11-01 08:15:00.500000+00"),
        ("TIMESTAMP", "1762000000000", "2025-11-01 12:26:40.000000+00"),
        ("DATE", '"2026-11-01"', "2026-11-01"),
        ("JSON", '{"b":[1,"x"],"a":1.5}', '{"a":1.5,"b":[1,"x"]}'),
        ("JSON", '"text"', '"text"'),
        ("JSON", "123456789012345678901234567890", '"123456789012345678901234567890"'),
    ],
)
def test_a_valid_value_becomes_text_its_column_type_casts_exactly(kind, text, value):
    planned = plan_row(kind, "f", '{"f":' + text + ',"other":1}')

    assert planned == Plan(value, '{"other":1}')


@pytest.mark.parametrize(
    "kind, text, code",
    [
        ("STRING", "5", "wrong_type"),
        ("INTEGER", "5.0", "wrong_type"),
        ("INTEGER", "9223372036854775808", "invalid_value"),
        ("BOOLEAN", '"true"', "wrong_type"),
        ("NUMERIC", "0.0000000001", "invalid_value"),
        ("NUMERIC", '"ten"', "wrong_type"),
        ("TIMESTAMP", '"yesterday"', "bad_timestamp"),
        ("TIMESTAMP", '"2026-11-01T10:15:00"', "bad_timestamp"),
        ("DATE", '"2026-13-01"', "invalid_value"),
    ],
)
def test_a_value_not_of_the_type_stays_with_the_pipelines_error_code(kind, text, code):
    planned = plan_row(kind, "f", '{"f":' + text + "}")

    assert isinstance(planned, Rejection)
    assert planned.code == code
    assert "'f'" in planned.message


def test_the_rest_is_null_when_nothing_else_is_left():
    assert plan_row("STRING", "coupon_code", extra(coupon_code="WINTER")) == Plan("WINTER", None)


def test_a_json_null_removes_the_key_and_leaves_the_column_null():
    assert plan_row("STRING", "coupon_code", '{"coupon_code":null,"a":1}') == Plan(None, '{"a":1}')


def test_rows_without_the_top_level_key_have_nothing_to_do():
    assert plan_row("STRING", "coupon_code", None) is None
    assert plan_row("STRING", "coupon_code", extra(other=1)) is None
    assert plan_row("STRING", "coupon_code", '{"shipping_address":{"coupon_code":"X"}}') is None
    assert plan_row("STRING", "coupon_code", '{"Coupon_Code":"X"}') is None  # JSON keys are exact


def test_the_rest_keeps_every_other_key_and_exact_numbers():
    text = (
        '{"big":18446744073709551615,"coupon_code":"W","price":0.1,'
        '"shipping_address":{"floor":3},"items":[{},{"sku_color":"red"}],'
        '"wide":1.00000000000000000001}'
    )

    planned = plan_row("STRING", "coupon_code", text)

    assert isinstance(planned, Plan)
    # As the pipeline writes extra_fields: sorted keys, numbers BigQuery's JSON holds exactly kept
    # as numbers, a number it would round kept as its exact text.
    assert planned.rest == (
        '{"big":18446744073709551615,"items":[{},{"sku_color":"red"}],"price":0.1,'
        '"shipping_address":{"floor":3},"wide":"1.00000000000000000001"}'
    )


def test_the_update_casts_each_type_and_matches_rows_as_read():
    sql = update_sql("`p.d.orders`", "discount", "NUMERIC")

    assert "SET discount = PARSE_NUMERIC(u.value)" in sql
    assert "FROM UNNEST(@updates) AS u" in sql
    assert "t.event_date = @day" in sql and "TO_JSON_STRING(t.extra_fields) = u.extra" in sql
    assert sql.endswith("t.discount IS NULL")
    assert "PARSE_JSON(u.value)" in update_sql("`p.d.orders`", "meta", "JSON")
    assert "CAST(u.value AS TIMESTAMP)" in update_sql("`p.d.orders`", "seen", "TIMESTAMP")
    assert "JSON_QUERY(extra_fields, '$.discount') IS NOT NULL" in select_sql("`p.d.orders`", "discount")
    assert "event_date = @day" in select_sql("`p.d.orders`", "discount")


def test_chunks_hold_at_most_so_many_rows_and_characters():
    plan = Plan("v", None)
    rows = [(f"e{n}", "x" * 10, plan) for n in range(7)]

    assert [len(c) for c in chunks(rows, rows=3)] == [3, 3, 1]
    assert [len(c) for c in chunks(rows, rows=100, chars=26)] == [2, 2, 2, 1]
    assert [len(c) for c in chunks([("e", "x" * 100, plan)], chars=10)] == [1]  # a big row goes alone


def test_only_top_level_typed_fields_are_promoted():
    tree = {**known_fields("orders"), "coupon_code": Known("STRING", False, None)}

    assert typed_kind("orders", "coupon_code", tree) == "STRING"
    refusals = {
        "status": "rule field",
        "items.price": "replay the archive",
        "shipping_address.floor": "inside a record",
        "event_date": "pipeline fills",
        "no_such_field": "not a field of schemas/events/orders.json",
    }
    for field, words in refusals.items():
        with pytest.raises(PromotionError, match=words) as refused:
            typed_kind("orders", field, tree)
        assert str(refused.value).startswith(f"--field {field}")
        assert "\n" not in str(refused.value)
    with pytest.raises(PromotionError, match="--table 'order' is not a stream"):
        typed_kind("order", "coupon_code")


def test_the_streaming_buffer_refusal_says_to_promote_older_days():
    refused = BadRequest(
        "UPDATE or DELETE statement over table p.events.orders would affect rows in the streaming "
        "buffer, which is not supported"
    )

    error = _failure(refused, "p.events.orders", date(2026, 11, 30), "UPDATE")

    assert "\n" not in str(error)
    assert "streaming buffer" in str(error) and "--end 2026-11-29" in str(error)
    other = _failure(
        BadRequest("Unrecognized name: x\nmore"), "p.events.orders", date(2026, 11, 30), "SELECT"
    )
    assert str(other) == "p.events.orders 2026-11-30: BigQuery refused the SELECT: Unrecognized name: x"


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--table=orders", "--field=status"], "--field status: a rule field"),
        (["--table=orders", "--field=items.price"], "--field items.price: a field inside a record"),
        (["--table=orders", "--field=coupon_code"], "--field coupon_code: not a field of"),
        (["--table=order", "--field=coupon_code"], "--table 'order' is not a stream"),
        (["--table=orders", "--field=status", "--end=2026-10-01"], "--end 2026-10-01 is before --start"),
    ],
)
def test_the_command_refuses_with_one_line_naming_the_option(argv, words, capsys):
    status = run_command(
        cli.main, "python -m recovery", ["promote-field", "--start=2026-11-01", "--end=2026-11-30", *argv]
    )

    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("python -m recovery: error: ") and words in err
