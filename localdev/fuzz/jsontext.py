"""JSON text the standard library will not write: verbatim tokens, repeated keys, lone surrogates."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


class Raw(str):
    """A JSON token written verbatim (``NaN``, ``1e99999999999999999999``, a 5,000-digit integer)."""


class Pairs(list):
    """A JSON object as (key, value) pairs, so a key may appear twice."""


def dump(value: Any, ensure_ascii: bool = True) -> str:
    """JSON text of ``value``, with ``Raw`` tokens and ``Pairs`` objects as they are."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, (dict, Pairs)):
        pairs = value.items() if isinstance(value, dict) else value
        inner = ",".join(
            f"{json.dumps(str(k), ensure_ascii=ensure_ascii)}:{dump(v, ensure_ascii)}" for k, v in pairs
        )
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dump(v, ensure_ascii) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=ensure_ascii)


def to_bytes(text: str) -> bytes:
    """UTF-8, except that a lone surrogate becomes its (invalid) 3-byte form."""
    return text.encode("utf-8", "surrogatepass")
