"""Stable dead-letter error codes and the failure record every stage emits.

Codes are part of the product's contract (docs/contract.md, "Rejections"): extend, never rename.
"""

from __future__ import annotations

from dataclasses import dataclass

INVALID_ENCODING = "invalid_encoding"
INVALID_JSON = "invalid_json"
NOT_AN_OBJECT = "not_an_object"
UNKNOWN_EVENT_TYPE = "unknown_event_type"
MISSING_FIELD = "missing_field"
WRONG_TYPE = "wrong_type"
INVALID_VALUE = "invalid_value"
BAD_TIMESTAMP = "bad_timestamp"
FUTURE_TIMESTAMP = "future_timestamp"
AMOUNT_MISMATCH = "amount_mismatch"
PAYLOAD_TOO_LARGE = "payload_too_large"
LOAD_REJECTED = "load_rejected"
NESTING_TOO_DEEP = "nesting_too_deep"
INVALID_ENVELOPE = "invalid_envelope"
INTERNAL_ERROR = "internal_error"

ERROR_CODES = (
    INVALID_ENCODING,
    INVALID_JSON,
    NOT_AN_OBJECT,
    UNKNOWN_EVENT_TYPE,
    MISSING_FIELD,
    WRONG_TYPE,
    INVALID_VALUE,
    BAD_TIMESTAMP,
    FUTURE_TIMESTAMP,
    AMOUNT_MISMATCH,
    PAYLOAD_TOO_LARGE,
    LOAD_REJECTED,
    NESTING_TOO_DEEP,
    INVALID_ENVELOPE,
    INTERNAL_ERROR,
)

# Codes an input can earn: every code but the sink's and our own bugs'.
INPUT_ERROR_CODES = tuple(c for c in ERROR_CODES if c not in (LOAD_REJECTED, INTERNAL_ERROR))

STAGE_PARSE = "parse"
STAGE_VALIDATE = "validate"
STAGE_LOAD = "load"


@dataclass(frozen=True)
class Rejection(Exception):
    """Why one message was refused: a code from ``ERROR_CODES`` and a message naming the field."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
