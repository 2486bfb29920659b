"""The catalogue of known inputs: one example of every input class the pipeline must
dead-letter (with its code) or load (``known_inputs``), built from the valid sample events of
:mod:`localdev.samples`.

``make fuzz`` starts with them; tests/integration/test_hostile_input.py sends each through the
pipeline on the emulators, from a file and as Pub/Sub data.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from localdev.fuzz.jsontext import Pairs, Raw, dump, to_bytes
from localdev.fuzz.values import nested
from localdev.samples import DROP, sample
from transforms import errors
from transforms.validation import MAX_PAYLOAD_BYTES

VALID = "valid"  # the expected "code" of an input that must be loaded


@dataclass(frozen=True)
class KnownInput:
    """One hostile input and what must become of it: a dead-letter ``code``, or ``VALID``.

    ``pubsub_code`` is the outcome when the same bytes arrive as a Pub/Sub message's data,
    where an envelope-shaped payload is just data (None: the same as from a file).
    """

    name: str
    line: bytes
    code: str
    pubsub_code: str | None = None

    @property
    def via_pubsub(self) -> str:
        return self.pubsub_code or self.code


def line_of(obj: Any, ensure_ascii: bool = True) -> bytes:
    return to_bytes(dump(obj, ensure_ascii))


def _envelope(data: Any, encoding: Any = "utf-8", **fields: Any) -> bytes:
    return line_of({"data": data, "data_encoding": encoding, **fields})


def _huge_order(event_id: str, copies: int) -> dict[str, Any]:
    item = {"product_id": "p-1", "product_name": "Mug", "quantity": 1, "price": "0.25"}
    return sample("orders", event_id, items=[item] * copies, total_amount=str(Decimal("0.25") * copies))


def known_inputs() -> list[KnownInput]:
    """Every input class the pipeline must dead-letter (with its code) or load, one example each."""
    order = sample("orders", "known-order-1")
    deep_field = sample("inventory", "known-deep-32")
    deep_field["extra"] = nested(random.Random(0), 31, 1)  # 32 levels with the event itself: allowed
    too_deep_field = sample("inventory", "x")
    too_deep_field["extra"] = nested(random.Random(0), 32, 1)  # 33 levels
    envelope_key_text = dump(sample("orders", "known-envelope-order"))
    cases = [
        KnownInput("valid order", line_of(order), VALID),
        KnownInput("valid inventory", line_of(sample("inventory", "known-inventory-1")), VALID),
        KnownInput("valid user_activity", line_of(sample("user_activity", "known-ua-1")), VALID),
        KnownInput(
            "valid, odd but valid Unicode (NUL, emoji, U+2028, RTL override)",
            line_of(
                sample("user_activity", "known-ua-unicode", user_agent="a\x00b \U0001f600 \u2028 \u202e"),
                False,
            ),
            VALID,
        ),
        KnownInput(
            "valid, IPv6 with a non-ASCII scope id",
            line_of(sample("user_activity", "known-ua-scope", ip_address="fe80::1%\u00e9th0")),
            VALID,
        ),
        KnownInput("valid, 32 levels of nesting in all", line_of(deep_field), VALID),
        KnownInput(
            "valid, the first instant of year 1: its sliding metric windows start before year 1",
            line_of(sample("inventory", "known-inventory-year-1-start", timestamp=-62_135_596_800_000)),
            VALID,
        ),
        KnownInput(
            "valid, an hour into year 1 (epoch ms -62135593200000)",
            line_of(sample("inventory", "known-inventory-year-1", timestamp=-62_135_593_200_000)),
            VALID,
        ),
        KnownInput(
            "valid, prices in exponent notation (1E+2, 0E+1000000)",
            line_of(
                sample(
                    "orders",
                    "known-order-exponents",
                    items=[
                        {"product_id": "p-1", "product_name": "Mug", "quantity": 2, "price": "1E+2"},
                        {
                            "product_id": "p-2",
                            "product_name": "Tea",
                            "quantity": 1,
                            "price": Raw("0E+1000000"),
                        },
                    ],
                    total_amount=Raw("2.0e2"),
                )
            ),
            VALID,
        ),
        KnownInput(
            "valid, items array of 6,000 (420 KB)", line_of(_huge_order("known-order-6000", 6_000)), VALID
        ),
        KnownInput(
            "valid, a user_agent of 900 KB",
            line_of(sample("user_activity", "known-ua-long", user_agent="\u00e9" * 450_000), False),
            VALID,
        ),
        KnownInput("valid, the same order re-sent (a duplicate)", line_of(order), VALID),
        KnownInput("100,000 nested [", b"[" * 100_000, errors.NESTING_TOO_DEEP),
        KnownInput('{"a": nested 50,000 deep', b'{"a":' * 50_000, errors.NESTING_TOO_DEEP),
        KnownInput("33 levels, inside a field", line_of(too_deep_field), errors.NESTING_TOO_DEEP),
        KnownInput(
            "lone surrogate escape in warehouse_id",
            line_of(sample("inventory", "x", warehouse_id="hw-\ud800")),
            errors.INVALID_ENCODING,
        ),
        KnownInput(
            "lone surrogate escape in items[1].product_name",
            line_of(sample("orders", "x", **{"items.1.product_name": "T\udfffea"})),
            errors.INVALID_ENCODING,
        ),
        KnownInput(
            "lone surrogate escape in a key",
            line_of({**sample("inventory", "x"), "\ud83d": 1}),
            errors.INVALID_ENCODING,
        ),
        KnownInput(
            "non-UTF-8 bytes", b'{"event_type": "order", "order_id": "\xff\xfe"}', errors.INVALID_ENCODING
        ),
        KnownInput(
            "a surrogate encoded as UTF-8 bytes (CESU-8)",
            line_of(sample("inventory", "x", warehouse_id="\ud800"), False),
            errors.INVALID_ENCODING,
        ),
        KnownInput("Latin-1 text", '{"event_type": "caf\u00e9"}'.encode("latin-1"), errors.INVALID_ENCODING),
        KnownInput("NaN", line_of(sample("inventory", "x", quantity_change=Raw("NaN"))), errors.INVALID_JSON),
        KnownInput(
            "-Infinity", line_of(sample("orders", "x", total_amount=Raw("-Infinity"))), errors.INVALID_JSON
        ),
        KnownInput("UTF-8 BOM before a valid event", b"\xef\xbb\xbf" + line_of(order), errors.INVALID_JSON),
        KnownInput("UTF-16 text", dump(order).encode("utf-16"), errors.INVALID_ENCODING),
        KnownInput(
            "a 5,000-digit integer",
            line_of(sample("inventory", "x", quantity_change=Raw("9" * 5000))),
            errors.INVALID_JSON,
        ),
        KnownInput(
            "exponent beyond Decimal (1e99999999999999999999)",
            line_of(sample("orders", "x", total_amount=Raw("1e99999999999999999999"))),
            errors.INVALID_JSON,
        ),
        KnownInput(
            "price 1E+999999999999999999 (beyond NUMERIC)",
            line_of(sample("orders", "x", **{"items.0.price": Raw("1E+999999999999999999")})),
            errors.INVALID_VALUE,
        ),
        KnownInput(
            "quantity 10**30 (beyond INT64)",
            line_of(sample("orders", "x", **{"items.0.quantity": 10**30})),
            errors.INVALID_VALUE,
        ),
        KnownInput(
            "quantity_change -2**63-1",
            line_of(sample("inventory", "x", quantity_change=-(2**63) - 1)),
            errors.INVALID_VALUE,
        ),
        KnownInput(
            "epoch ms past 9999-12-31",
            line_of(sample("inventory", "x", timestamp=253_402_300_800_000)),
            errors.BAD_TIMESTAMP,
        ),
        KnownInput(
            "9999-12-31T23:59:59-01:00 (past year 9999 in UTC)",
            line_of(sample("inventory", "x", timestamp="9999-12-31T23:59:59-01:00")),
            errors.BAD_TIMESTAMP,
        ),
        KnownInput(
            "0001-01-01T00:00:00+01:00 (before year 1 in UTC)",
            line_of(sample("user_activity", "x", timestamp="0001-01-01T00:00:00+01:00")),
            errors.BAD_TIMESTAMP,
        ),
        KnownInput(
            "a day after now",
            line_of(sample("inventory", "x", timestamp="2026-11-03T12:00:01Z")),
            errors.FUTURE_TIMESTAMP,
        ),
        KnownInput(
            "a raw control character in a string",
            line_of(order).replace(b"Oslo", b"Os\x01lo"),
            errors.INVALID_JSON,
        ),
        KnownInput("trailing data", line_of(order) + b" {}", errors.INVALID_JSON),
        KnownInput("non-breaking space only", "\u00a0".encode(), errors.INVALID_JSON),
        KnownInput(
            "duplicate key, the last one wins",
            line_of(Pairs([*sample("inventory", "x").items(), ("event_type", "bogus")])),
            errors.UNKNOWN_EVENT_TYPE,
        ),
        KnownInput("an array", b"[1, 2]", errors.NOT_AN_OBJECT),
        KnownInput("a string", b'"event"', errors.NOT_AN_OBJECT),
        KnownInput("an empty object", b"{}", errors.MISSING_FIELD),
        KnownInput(
            "an order without items", line_of(sample("orders", "x", items=DROP)), errors.MISSING_FIELD
        ),
        KnownInput("items is a string", line_of(sample("orders", "x", items="many")), errors.WRONG_TYPE),
        KnownInput(
            "amounts do not add up",
            line_of(sample("orders", "x", total_amount="15.47")),
            errors.AMOUNT_MISMATCH,
        ),
        KnownInput(
            "envelope, data not base64",
            _envelope("not*base64!", "base64"),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "envelope, bad publish_time",
            _envelope(envelope_key_text, publish_time="yesterday"),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "envelope, publish_time before year 1 in UTC",
            _envelope(envelope_key_text, publish_time="0001-01-01T00:00:00+01:00"),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "envelope, attributes an array",
            _envelope(envelope_key_text, attributes=["a"]),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "envelope, an attribute that is a number",
            _envelope(envelope_key_text, attributes={"k": 1}),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput("envelope, data a number", _envelope(17), errors.INVALID_ENVELOPE, errors.MISSING_FIELD),
        KnownInput(
            "envelope, data a lone surrogate",
            _envelope("\udc80"),
            errors.INVALID_ENVELOPE,
            errors.INVALID_ENCODING,  # as Pub/Sub data: a JSON object holding a lone surrogate
        ),
        KnownInput(
            "envelope, data_encoding latin-1",
            _envelope(envelope_key_text, "latin-1"),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "envelope, message_id a number",
            _envelope(envelope_key_text, message_id=5),
            errors.INVALID_ENVELOPE,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "valid envelope holding a valid order",
            _envelope(
                envelope_key_text,
                attributes={"origin": "archive"},
                message_id="m-1",
                publish_time="2026-11-01T09:00:00Z",
            ),
            VALID,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "valid envelope holding non-UTF-8 bytes",
            _envelope(base64.b64encode(b"\xff\xfe{}").decode(), "base64", message_id="m-2"),
            errors.INVALID_ENCODING,
            errors.MISSING_FIELD,
        ),
        KnownInput(
            "payload over 1 MiB",
            b'{"event_type": "order", "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}',
            errors.PAYLOAD_TOO_LARGE,
        ),
        KnownInput(
            "items array of 16,000 (over 1 MiB)", line_of(_huge_order("x", 16_000)), errors.PAYLOAD_TOO_LARGE
        ),
    ]
    return cases
