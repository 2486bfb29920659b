"""The validation core against the usual Python validators, on the same generated lines.

``python -m bench.validation_bench`` prints one table; ``run()`` returns the figures (for the
``make bench`` harness). The sample is ~100,000 lines from ``localdev.generator`` (seeded, so the
same every run), the generator's few percent of defective messages included, as in production.
Every validator is timed on the same lines in the same process, best of ``repeat`` passes:

- ``json.loads``: bare parsing, no validation (floats as float): the floor;
- ``pydantic``: a v2 discriminated union (on ``event_type``) of the three contracts, validated
  from the bytes with ``model_validate_json``;
- ``jsonschema``: a Draft 2020-12 schema of the contracts, validator class built once, applied
  to ``json.loads(line, parse_float=Decimal)``;
- ``msgspec``: tagged-union ``Struct`` types with ``Meta`` constraints, decoded from the bytes;
- ``triage``: our core (parse, validate, normalise and shape the BigQuery row), as the pipeline
  calls it on a ``Message`` (built before timing, as the source builds it).

Times are the process's CPU time (``time.process_time``), taken round-robin chunk by chunk
(``CHUNK_LINES`` lines, every validator in turn), and each chunk's best of ``repeat`` passes
summed: on a shared machine a neighbour's load neither counts nor favours one validator. What
each baseline cannot express is listed in ``LIMITS`` and printed under the table; the accepted
counts show they judge the sample alike. ``--profile`` prints pyinstrument's call tree of
``triage`` over the sample.
"""

from __future__ import annotations

import gc
import ipaddress
import json
import platform
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from importlib.metadata import version
from typing import Annotated, Any, Literal

import jsonschema
import msgspec
import pydantic
from pydantic import AfterValidator, BaseModel, Field, RootModel, StrictInt, StrictStr, StringConstraints
from pyinstrument import Profiler

from localdev.generator import GeneratorConfig, generate
from pipeline.commands import ArgumentParser, run_command
from transforms.messages import Message, ValidEvent
from transforms.times import EPOCH
from transforms.triage import triage
from transforms.vocabulary import ACTIVITY_TYPES, INVENTORY_REASONS, ORDER_STATUSES, PLATFORMS

SEED = 42
SAMPLE_SIZE = 100_000
CHUNK_LINES = 5_000  # lines timed at a time (see run)
# 36 days of a busier shop than the default: a little over SAMPLE_SIZE messages, no 1 MiB line.
SAMPLE_CONFIG = GeneratorConfig(
    seed=SEED, start=date(2026, 10, 1), days=36, orders_per_day=160, sessions_per_day=160, max_oversized=0
)
# The day after the sample, as tests/unit/test_generator_meets_pipeline.py: future defects stay future.
NOW = SAMPLE_CONFIG.end + timedelta(days=1)
FUTURE_LIMIT = NOW + timedelta(days=1)
INT64_MAX = 2**63 - 1
EPOCH_MS_MIN, EPOCH_MS_MAX = -62_135_596_800_000, 253_402_300_799_999
AMOUNT_TOLERANCE = Decimal("0.01")
POSITIVE_REASONS = ("restock", "return")
COUNTRY_PATTERN = r"^[A-Za-z]{2}$"
RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"

LIMITS = {
    "json.loads": "parses only; no contract at all",
    "pydantic": "country by pattern, not the ISO list; Decimal from a JSON number goes through a float "
    "(exact to ~17 digits); no 1 MiB, nesting or NUMERIC-scale limits; no row shaping",
    "jsonschema": "no amount sum, no future-timestamp rule, no UTC normalisation, no impossible dates "
    "(pattern only); country by pattern; no 1 MiB or nesting limits; no row shaping",
    "msgspec": "rules beyond Meta (sums, signs, IP, timestamps, money >= 0) in __post_init__; "
    "country by pattern; no 1 MiB or nesting limits; no row shaping",
    "triage": "the whole contract (docs/contract.md), the exact error code and message, and the row",
    "triage, unknown keys": "triage on the same lines, each with one key the contract does not know "
    "(kept in extra_fields): the lenient decode and the walk that splits known from unknown",
}


def sample(size: int = SAMPLE_SIZE) -> tuple[list[bytes], int]:
    """The first ``size`` generated messages' data, in arrival order, and how many of them the
    generator promises are valid (as Pub/Sub data)."""
    messages = generate(SAMPLE_CONFIG).messages[:size]
    return [m.data for m in messages], sum(m.pubsub_error_code is None for m in messages)


# --- shared rules ----------------------------------------------------------------------------------


def to_utc(moment: datetime | int) -> datetime:
    """Epoch milliseconds or an aware time -> UTC; ValueError past the future-timestamp limit."""
    if isinstance(moment, int):
        if not EPOCH_MS_MIN <= moment <= EPOCH_MS_MAX:
            raise ValueError("epoch milliseconds out of range")
        moment = EPOCH + timedelta(milliseconds=moment)
    moment = moment.astimezone(timezone.utc)
    if moment > FUTURE_LIMIT:
        raise ValueError("more than 1 day in the future")
    return moment


def check_total(total: Decimal, items: list[Any]) -> None:
    """ValueError when ``total`` is not the sum of quantity x price within 0.01."""
    computed = sum((item.quantity * item.price for item in items), Decimal(0))
    if abs(total - computed) > AMOUNT_TOLERANCE:
        raise ValueError(f"total_amount {total} but the items add up to {computed}")


def check_sign(change: int, reason: str) -> None:
    """ValueError when ``change`` is 0 or its sign does not fit ``reason``."""
    if change == 0 or (change > 0) != (reason in POSITIVE_REASONS):
        raise ValueError(f"quantity_change {change} does not fit reason {reason}")


# --- pydantic v2 ---------------------------------------------------------------------------------

PyText = Annotated[StrictStr, StringConstraints(pattern=r"\S")]
PyMoney = Annotated[Decimal, Field(ge=0, allow_inf_nan=False, max_digits=38, decimal_places=9)]
PyTimestamp = Annotated[
    Annotated[StrictInt, Field(ge=EPOCH_MS_MIN, le=EPOCH_MS_MAX)]
    | Annotated[pydantic.AwareDatetime, Field(le=FUTURE_LIMIT)],
    Field(union_mode="left_to_right"),
    AfterValidator(to_utc),
]


class PyItem(BaseModel):
    product_id: PyText
    product_name: PyText
    quantity: Annotated[StrictInt, Field(ge=1, le=INT64_MAX)]
    price: PyMoney


class PyAddress(BaseModel):
    street: PyText
    city: PyText
    country: Annotated[StrictStr, StringConstraints(pattern=COUNTRY_PATTERN)]


class PyEvent(BaseModel):
    event_id: Annotated[StrictStr, StringConstraints(pattern=r"\S", max_length=128)] | None = None


class PyOrder(PyEvent):
    event_type: Literal["order"]
    order_id: PyText
    customer_id: PyText
    order_date: PyTimestamp
    status: Literal[ORDER_STATUSES]
    items: Annotated[list[PyItem], Field(min_length=1)]
    shipping_address: PyAddress
    total_amount: PyMoney

    @pydantic.model_validator(mode="after")
    def _total(self) -> PyOrder:
        check_total(self.total_amount, self.items)
        return self


class PyInventory(PyEvent):
    event_type: Literal["inventory"]
    inventory_id: PyText
    product_id: PyText
    warehouse_id: PyText
    quantity_change: Annotated[StrictInt, Field(ge=-100, le=100)]
    reason: Literal[INVENTORY_REASONS]
    timestamp: PyTimestamp

    @pydantic.model_validator(mode="after")
    def _sign(self) -> PyInventory:
        check_sign(self.quantity_change, self.reason)
        return self


class PyMetadata(BaseModel):
    session_id: PyText
    platform: Literal[PLATFORMS]


class PyUserActivity(PyEvent):
    event_type: Literal["user_activity"]
    user_id: PyText
    activity_type: Literal[ACTIVITY_TYPES]
    ip_address: pydantic.IPvAnyAddress
    user_agent: PyText
    timestamp: PyTimestamp
    metadata: PyMetadata


class PydanticEvent(RootModel):
    root: Annotated[PyOrder | PyInventory | PyUserActivity, Field(discriminator="event_type")]


def pydantic_check(line: bytes) -> bool:
    try:
        PydanticEvent.model_validate_json(line)
    except pydantic.ValidationError:
        return False
    return True


# --- jsonschema ------------------------------------------------------------------------------------

_TEXT = {"type": "string", "pattern": r"\S"}
_MONEY = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"},
    ]
}
_TIMESTAMP = {
    "anyOf": [
        {"type": "integer", "minimum": EPOCH_MS_MIN, "maximum": EPOCH_MS_MAX},
        {"type": "string", "pattern": RFC3339_PATTERN},
    ]
}


def _object(properties: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "object", "required": sorted(properties), "properties": properties, **more}


JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["event_type"],
    "properties": {
        "event_type": {"enum": ["order", "inventory", "user_activity"]},
        "event_id": {"type": ["string", "null"], "pattern": r"\S", "maxLength": 128},
    },
    "allOf": [
        {
            "if": {"properties": {"event_type": {"const": "order"}}},
            "then": _object(
                {
                    "order_id": _TEXT,
                    "customer_id": _TEXT,
                    "order_date": _TIMESTAMP,
                    "status": {"enum": list(ORDER_STATUSES)},
                    "items": {
                        "type": "array",
                        "minItems": 1,
                        "items": _object(
                            {
                                "product_id": _TEXT,
                                "product_name": _TEXT,
                                "quantity": {"type": "integer", "minimum": 1, "maximum": INT64_MAX},
                                "price": _MONEY,
                            }
                        ),
                    },
                    "shipping_address": _object(
                        {
                            "street": _TEXT,
                            "city": _TEXT,
                            "country": {"type": "string", "pattern": COUNTRY_PATTERN},
                        }
                    ),
                    "total_amount": _MONEY,
                }
            ),
        },
        {
            "if": {"properties": {"event_type": {"const": "inventory"}}},
            "then": _object(
                {
                    "inventory_id": _TEXT,
                    "product_id": _TEXT,
                    "warehouse_id": _TEXT,
                    "quantity_change": {
                        "type": "integer",
                        "minimum": -100,
                        "maximum": 100,
                        "not": {"const": 0},
                    },
                    "reason": {"enum": list(INVENTORY_REASONS)},
                    "timestamp": _TIMESTAMP,
                },
                **{
                    "if": {"properties": {"reason": {"enum": list(POSITIVE_REASONS)}}},
                    "then": {"properties": {"quantity_change": {"exclusiveMinimum": 0}}},
                    "else": {"properties": {"quantity_change": {"exclusiveMaximum": 0}}},
                },
            ),
        },
        {
            "if": {"properties": {"event_type": {"const": "user_activity"}}},
            "then": _object(
                {
                    "user_id": _TEXT,
                    "activity_type": {"enum": list(ACTIVITY_TYPES)},
                    "ip_address": {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
                    "user_agent": _TEXT,
                    "timestamp": _TIMESTAMP,
                    "metadata": _object({"session_id": _TEXT, "platform": {"enum": list(PLATFORMS)}}),
                }
            ),
        },
    ],
}


def jsonschema_checker() -> Callable[[bytes], bool]:
    """The schema's validator, built once, with the (cheap, ipaddress-based) IP format checks."""
    validator = jsonschema.Draft202012Validator(JSON_SCHEMA, format_checker=jsonschema.FormatChecker())

    def check(line: bytes) -> bool:
        try:
            obj = json.loads(line, parse_float=Decimal)
        except ValueError:
            return False
        return validator.is_valid(obj)

    return check


# --- msgspec ---------------------------------------------------------------------------------------

MsText = Annotated[str, msgspec.Meta(min_length=1, pattern=r"\S")]
MsTimestamp = int | Annotated[datetime, msgspec.Meta(tz=True)]


def _money(value: Decimal) -> None:
    if not value.is_finite() or value < 0:
        raise ValueError(f"money must be a finite number >= 0, got {value}")


class MsItem(msgspec.Struct):
    product_id: MsText
    product_name: MsText
    quantity: Annotated[int, msgspec.Meta(ge=1, le=INT64_MAX)]
    price: Decimal

    def __post_init__(self) -> None:
        _money(self.price)


class MsAddress(msgspec.Struct):
    street: MsText
    city: MsText
    country: Annotated[str, msgspec.Meta(pattern=COUNTRY_PATTERN)]


class MsMetadata(msgspec.Struct):
    session_id: MsText
    platform: Literal[PLATFORMS]


class MsOrder(msgspec.Struct, tag_field="event_type", tag="order"):
    order_id: MsText
    customer_id: MsText
    order_date: MsTimestamp
    status: Literal[ORDER_STATUSES]
    items: Annotated[list[MsItem], msgspec.Meta(min_length=1)]
    shipping_address: MsAddress
    total_amount: Decimal
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None

    def __post_init__(self) -> None:
        _money(self.total_amount)
        check_total(self.total_amount, self.items)
        self.order_date = to_utc(self.order_date)


class MsInventory(msgspec.Struct, tag_field="event_type", tag="inventory"):
    inventory_id: MsText
    product_id: MsText
    warehouse_id: MsText
    quantity_change: Annotated[int, msgspec.Meta(ge=-100, le=100)]
    reason: Literal[INVENTORY_REASONS]
    timestamp: MsTimestamp
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None

    def __post_init__(self) -> None:
        check_sign(self.quantity_change, self.reason)
        self.timestamp = to_utc(self.timestamp)


class MsUserActivity(msgspec.Struct, tag_field="event_type", tag="user_activity"):
    user_id: MsText
    activity_type: Literal[ACTIVITY_TYPES]
    ip_address: str
    user_agent: MsText
    timestamp: MsTimestamp
    metadata: MsMetadata
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None

    def __post_init__(self) -> None:
        ipaddress.ip_address(self.ip_address)
        self.timestamp = to_utc(self.timestamp)


MSGSPEC_DECODER = msgspec.json.Decoder(MsOrder | MsInventory | MsUserActivity)


def msgspec_check(line: bytes) -> bool:
    try:
        MSGSPEC_DECODER.decode(line)
    except msgspec.MsgspecError:
        return False
    return True


# --- timing ----------------------------------------------------------------------------------------


def json_check(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def timed_pass(check: Callable[[Any], bool], items: list[Any]) -> tuple[float, int]:
    """(CPU seconds for one pass of ``check`` over ``items``, how many it accepted)."""
    started = time.process_time()
    accepted = sum(map(check, items))
    return time.process_time() - started, accepted


# What ``triage, unknown keys`` times: each line as a producer that added a field would send it.
UNKNOWN_KEYS = b'{"client_build": "2026.11.3", '


def with_unknown_key(line: bytes) -> bytes:
    """The line with one key the contract does not know, first in its object (a JSON object's
    line; others as they are)."""
    return UNKNOWN_KEYS + line[1:] if line.startswith(b"{") and not line.startswith(b"{}") else line


def validators() -> dict[str, tuple[Callable[[Any], bool], str]]:
    """name -> (check, what it takes: the line's bytes, its ``Message``, or the ``Message`` of the
    line with an unknown key, ``with_unknown_key``)."""

    def valid(message: Message) -> bool:
        return isinstance(triage(message, NOW), ValidEvent)

    return {
        "json.loads": (json_check, "line"),
        "pydantic": (pydantic_check, "line"),
        "jsonschema": (jsonschema_checker(), "line"),
        "msgspec": (msgspec_check, "line"),
        "triage": (valid, "message"),
        "triage, unknown keys": (valid, "message_unknown_keys"),
    }


def run(lines: list[bytes] | None = None, repeat: int = 3) -> dict[str, Any]:
    """Time every validator on ``lines`` (default: the generated sample); best of ``repeat``."""
    expected = None
    if lines is None:
        lines, expected = sample()
    inputs = {
        "line": lines,
        "message": [Message(data=line) for line in lines],
        "message_unknown_keys": [Message(data=with_unknown_key(line)) for line in lines],
    }
    checks = validators()
    starts = range(0, len(lines), CHUNK_LINES)
    best = {name: [float("inf")] * len(starts) for name in checks}
    accepted = {name: [0] * len(starts) for name in checks}
    # Round-robin at the grain of a chunk, each chunk's best pass counted: a neighbour's burst of
    # load (seconds long on a shared VM) slows every validator alike and none for long.
    for _ in range(repeat):
        for index, start in enumerate(starts):
            gc.collect()
            for name, (check, takes) in checks.items():
                items = inputs[takes][start : start + CHUNK_LINES]
                seconds, accepted[name][index] = timed_pass(check, items)
                best[name][index] = min(best[name][index], seconds)
    best = {name: sum(chunks) for name, chunks in best.items()}
    accepted = {name: sum(chunks) for name, chunks in accepted.items()}
    figures = {
        name: {
            "events_per_s": round(len(lines) / best[name]),
            "us_per_event": round(best[name] / len(lines) * 1e6, 2),
            "accepted": accepted[name],
        }
        for name in checks
    }
    for entry in figures.values():
        for baseline in ("pydantic", "jsonschema"):
            entry[f"vs_{baseline}"] = round(entry["events_per_s"] / figures[baseline]["events_per_s"], 2)
    return {
        "machine": f"{platform.processor() or platform.machine()}, Python {platform.python_version()}",
        "versions": {
            "pydantic": pydantic.VERSION,
            "jsonschema": version("jsonschema"),
            "msgspec": msgspec.__version__,
        },
        "lines": len(lines),
        "expected_valid": expected,
        "repeat": repeat,
        "validators": figures,
        "limits": LIMITS,
    }


def table(results: dict[str, Any]) -> str:
    """The figures as a fixed-width text table, with each baseline's limits under it."""
    head = f"{'validator':<22}{'events/s':>11}{'us/event':>10}{'accepted':>10}{'vs pydantic':>13}"
    promised = results["expected_valid"]
    rows = [
        f"{results['lines']:,} lines ({'' if promised is None else f'{promised:,} valid, '}"
        f"best of {results['repeat']}); {results['machine']}",
        head + f"{'vs jsonschema':>15}",
    ]
    for name, entry in results["validators"].items():
        rows.append(
            f"{name:<22}{entry['events_per_s']:>11,}{entry['us_per_event']:>10.2f}{entry['accepted']:>10,}"
            f"{entry['vs_pydantic']:>12.2f}x{entry['vs_jsonschema']:>14.2f}x"
        )
    rows += ["", *(f"{name}: {limit}" for name, limit in results["limits"].items())]
    return "\n".join(rows)


def profile(lines: list[bytes]) -> str:
    """pyinstrument's call tree (text) of ``triage`` over ``lines``: where its time goes."""
    messages = [Message(data=line) for line in lines]
    profiler = Profiler(interval=0.0005)
    with profiler:
        for message in messages:
            triage(message, NOW)
    return profiler.output_text(unicode=True, color=False)


def main(argv: list[str] | None = None) -> None:
    parser = ArgumentParser(prog="python -m bench.validation_bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=3, help="passes per validator; the best counts (default: %(default)s)"
    )
    parser.add_argument("--profile", action="store_true", help="profile triage instead of timing")
    args = parser.parse_args(argv)
    print(profile(sample()[0]) if args.profile else table(run(repeat=args.repeat)))


if __name__ == "__main__":
    sys.exit(run_command(main, "python -m bench.validation_bench"))
