"""A NULLABLE field added to a copy of ``schemas/`` is checked by type and loaded as a column with
no other edit: the copy is imported by a Python process of its own (the schemas load at import).
The rest of ``transforms.known_fields``: tests/unit/test_known_fields.py."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.events import ORDER

ROOT = Path(__file__).resolve().parents[2]


ADDED_FIELDS = [
    {"name": "coupon_code", "type": "STRING", "mode": "NULLABLE", "description": "Coupon."},
    {"name": "discount", "type": "NUMERIC", "mode": "NULLABLE", "description": "Discount."},
    {"name": "gift", "type": "BOOLEAN", "mode": "NULLABLE", "description": "Gift."},
    {"name": "promised_on", "type": "DATE", "mode": "NULLABLE", "description": "Promise."},
    {"name": "loyalty_points", "type": "INTEGER", "mode": "NULLABLE", "description": "Points."},
    {"name": "paid_at", "type": "TIMESTAMP", "mode": "NULLABLE", "description": "Payment."},
    {"name": "context", "type": "JSON", "mode": "NULLABLE", "description": "Context."},
]
PROBE = """
import json, sys
from datetime import datetime, timezone
from transforms.messages import Message
from transforms.triage import triage
now = datetime(2026, 11, 2, 12, tzinfo=timezone.utc)
out = {}
for name, data in json.loads(sys.stdin.read()).items():
    fast, precise = (triage(Message(data.encode()), now, fast=f) for f in (True, False))
    assert repr(fast) == repr(precise), (name, fast, precise)
    out[name] = fast.row if hasattr(fast, "row") else {"code": fast.code, "reason": fast.reason}
print(json.dumps(out))
"""


def test_a_nullable_field_added_to_a_copy_of_the_schemas_loads_as_a_column_with_no_other_edit(tmp_path):
    for package in ("schemas", "transforms"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    schema_file = tmp_path / "schemas" / "events" / "orders.json"
    schema = json.loads(schema_file.read_text())
    address = next(f for f in schema if f["name"] == "shipping_address")
    address["fields"].append(
        {"name": "floor", "type": "INTEGER", "mode": "NULLABLE", "description": "Floor."}
    )
    schema_file.write_text(json.dumps(schema + ADDED_FIELDS, indent=2))
    order = copy.deepcopy(ORDER)
    order["shipping_address"]["floor"] = 3
    added = {
        "coupon_code": "WINTER",
        "discount": "-2.50",
        "gift": True,
        "promised_on": "2026-11-05",
        "loyalty_points": 120,
        "paid_at": "2026-11-01T10:20:00+02:00",
        "context": {"ab_test": "b", "score": 0.5},
        "still_unknown": 1,
    }
    cases = {
        "added": json.dumps({**order, **added}),
        "absent": json.dumps(ORDER),
        "wrong": json.dumps({**ORDER, "discount": "lots"}),
        "nested_wrong": json.dumps(
            {**order, "shipping_address": {**order["shipping_address"], "floor": "3rd"}}
        ),
    }
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        input=json.dumps(cases),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    row = rows["added"]
    assert list(row)[-len(ADDED_FIELDS) :] == [f["name"] for f in ADDED_FIELDS]  # the schema's order
    assert {f["name"]: row[f["name"]] for f in ADDED_FIELDS} == {
        "coupon_code": "WINTER",
        "discount": "-2.50",
        "gift": True,
        "promised_on": "2026-11-05",
        "loyalty_points": 120,
        "paid_at": "2026-11-01T08:20:00Z",
        "context": '{"ab_test":"b","score":0.5}',
    }
    assert row["shipping_address"]["floor"] == 3
    assert json.loads(row["extra_fields"]) == {"still_unknown": 1}
    assert rows["absent"]["coupon_code"] is None and rows["absent"]["extra_fields"] is None
    assert rows["wrong"] == {
        "code": "wrong_type",
        "reason": "field 'discount' must be a decimal number, got string \"lots\"",
    }
    assert rows["nested_wrong"]["code"] == "wrong_type"
    assert "field 'shipping_address.floor' must be an integer" in rows["nested_wrong"]["reason"]
