"""The generator's independent contract checker (tests/generator_spec.py), on hand-written lines."""

from __future__ import annotations

import pytest

from tests.generator_spec import (
    INVENTORY,
    MIB,
    _arrays,
    _envelope,
    _line,
    depth,
    verdict,
)


@pytest.mark.parametrize(
    ("data", "code", "stream"),
    [
        (_line(INVENTORY), None, "inventory"),
        (_line({**INVENTORY, "padding": "x" * MIB}), "payload_too_large", None),
        (b'{"event_type":"inventory","warehouse_id":"\xff"}', "invalid_encoding", None),
        (_line({**INVENTORY, "warehouse_id": "wh-\ud800"}), "invalid_encoding", "inventory"),
        (_line(INVENTORY)[:-1], "invalid_json", None),
        (_line({**INVENTORY, "deep": _arrays(32)}), "nesting_too_deep", None),
        (_line([INVENTORY]), "not_an_object", None),
        (_line(_envelope()), None, "inventory"),
        (_line(_envelope(data="@@@", data_encoding="base64")), "invalid_envelope", None),
        (_line(_envelope(publish_time="yesterday")), "invalid_envelope", None),
        (_line(_envelope(attributes=["source"])), "invalid_envelope", None),
        (_line(_envelope(attributes={"n": 1})), "invalid_envelope", None),
        (_line({**INVENTORY, "event_type": "refund"}), "unknown_event_type", None),
        (_line({k: v for k, v in INVENTORY.items() if k != "reason"}), "missing_field", "inventory"),
        (_line({**INVENTORY, "quantity_change": "5"}), "wrong_type", "inventory"),
        (_line({**INVENTORY, "quantity_change": -5}), "invalid_value", "inventory"),
        (_line({**INVENTORY, "timestamp": "2026-03-02T10:00:00"}), "bad_timestamp", "inventory"),
        (_line({**INVENTORY, "timestamp": "2099-03-02T10:00:00Z"}), "future_timestamp", "inventory"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_checker_verdicts_follow_the_spec(data, code, stream):
    assert verdict(data) == (code, stream)


def test_checker_allows_32_levels_of_nesting_and_no_more():
    assert verdict(_line({**INVENTORY, "deep": _arrays(31)})) == (None, "inventory")
    assert verdict(_line({**INVENTORY, "deep": _arrays(32)})) == ("nesting_too_deep", None)


def test_checker_treats_an_envelope_lookalike_as_plain_data_on_pubsub():
    assert verdict(_line(_envelope(publish_time="yesterday")), as_file_line=False) == ("missing_field", None)
    assert verdict(_line(_envelope()), as_file_line=False) == ("missing_field", None)


def test_depth_counts_every_array_and_object_level():
    assert depth(1) == 0
    assert depth({"a": [1, {"b": []}]}) == 4
    assert depth(_arrays(40)) == 40
