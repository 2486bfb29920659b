"""A table's rows as protocol buffers for the BigQuery Storage Write API, built from ``schemas/``.

:func:`row_encoder` builds, once per table, a proto2 message type from the table's BigQuery JSON
schema at run time (``descriptor_pb2`` + ``message_factory.GetMessageClass``, no ``.proto`` file,
no code generation) and returns a :class:`RowEncoder` holding its ``DescriptorProto`` (the
``writer_schema`` of an AppendRows request) and a function serialising one JSON-ready row (as
:mod:`transforms.rows` shapes them) into the message's bytes.

The mapping (accepted by BigQuery, as documented for the Write API, and by bqemulator 1.4):

========================  =======================================================
BigQuery column           proto field
========================  =======================================================
STRING, JSON              ``string`` (JSON as its JSON text)
INTEGER / INT64           ``int64``
FLOAT / FLOAT64           ``double``
BOOLEAN / BOOL            ``bool``
NUMERIC, BIGNUMERIC       ``string``: fixed-point decimal text, as the rows hold it
TIMESTAMP                 ``int64``: microseconds since the Unix epoch (UTC)
DATE                      ``int32``: days since 1970-01-01
BYTES                     ``bytes``
RECORD / STRUCT           a message: a nested type of the root message, named uniquely
REPEATED                  ``repeated`` of the element's type
========================  =======================================================

Every non-repeated field is ``optional`` (proto2), REQUIRED columns too: presence carries NULL,
and BigQuery, not the client, enforces REQUIRED (a missing REQUIRED value is then a row error,
which becomes a ``load_rejected`` dead letter, instead of an exception in the pipeline). A NULL
(``None`` or an absent key) leaves the field unset; a NULL REPEATED column is an empty list.
Keys that are not columns (``_received``, the message as received) are never encoded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto

PROTO_TYPES: dict[str, int] = {
    "STRING": _F.TYPE_STRING,
    "JSON": _F.TYPE_STRING,
    "INTEGER": _F.TYPE_INT64,
    "INT64": _F.TYPE_INT64,
    "FLOAT": _F.TYPE_DOUBLE,
    "FLOAT64": _F.TYPE_DOUBLE,
    "BOOLEAN": _F.TYPE_BOOL,
    "BOOL": _F.TYPE_BOOL,
    "NUMERIC": _F.TYPE_STRING,
    "BIGNUMERIC": _F.TYPE_STRING,
    "TIMESTAMP": _F.TYPE_INT64,
    "DATE": _F.TYPE_INT32,
    "BYTES": _F.TYPE_BYTES,
}
RECORD_TYPES = ("RECORD", "STRUCT")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class UnsupportedColumn(ValueError):
    """A column type this mapping has no proto type for; the message names the column."""


def timestamp_micros(value: Any) -> int:
    """Microseconds since the epoch of an RFC 3339 text (``...Z`` or an offset) or a datetime;
    a naive datetime is taken as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    if not isinstance(value, datetime):
        raise TypeError(f"a TIMESTAMP must be RFC 3339 text or a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def date_days(value: Any) -> int:
    """Days since 1970-01-01 of an ISO date text or a date."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise TypeError(f"a DATE must be ISO text or a date, got {type(value).__name__}")
    return value.toordinal() - _EPOCH_ORDINAL


def numeric_text(value: Any) -> str:
    """Fixed-point decimal text (``transforms.rows`` writes NUMERIC so already)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"a NUMERIC must be decimal text or a number, got {type(value).__name__}")
    return format(Decimal(str(value)), "f")


def _same(value: Any) -> Any:
    return value


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "TIMESTAMP": timestamp_micros,
    "DATE": date_days,
    "NUMERIC": numeric_text,
    "BIGNUMERIC": numeric_text,
}


def _kind(column: dict[str, Any], path: str) -> str:
    kind = str(column["type"]).upper()
    if kind not in PROTO_TYPES and kind not in RECORD_TYPES:
        raise UnsupportedColumn(f"column {path!r} has type {kind}, which the Storage Write mapping lacks")
    return kind


def descriptor(schema: list[dict[str, Any]], name: str = "Row") -> descriptor_pb2.DescriptorProto:
    """The self-contained proto2 ``DescriptorProto`` of rows of ``schema``: every RECORD is a
    nested type of the root message named after its path (``Row__items``,
    ``Row__a__b``), which keeps names unique; fields are numbered in the schema's order."""
    root = descriptor_pb2.DescriptorProto(name=name)

    def fill(message: descriptor_pb2.DescriptorProto, columns: list[dict[str, Any]], path: str) -> None:
        for number, column in enumerate(columns, start=1):
            column_path = f"{path}{column['name']}"
            kind = _kind(column, column_path)
            field = message.field.add(name=column["name"], number=number)
            repeated = str(column.get("mode", "NULLABLE")).upper() == "REPEATED"
            field.label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
            if kind in RECORD_TYPES:
                nested_name = f"{name}__{column_path.replace('.', '__')}"
                fill(root.nested_type.add(name=nested_name), column["fields"], column_path + ".")
                field.type = _F.TYPE_MESSAGE
                field.type_name = nested_name  # resolved in the root message's scope
            else:
                field.type = PROTO_TYPES[kind]

    fill(root, schema, "")
    return root


def message_class(proto: descriptor_pb2.DescriptorProto) -> type:
    """The Python message class of ``proto``, in a descriptor pool of its own."""
    pool = descriptor_pool.DescriptorPool()
    file_proto = descriptor_pb2.FileDescriptorProto(name=f"eventharbor_{proto.name}.proto", syntax="proto2")
    file_proto.message_type.add().CopyFrom(proto)
    pool.Add(file_proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(proto.name))


_Filler = Callable[[Any, dict[str, Any]], None]


def _filler(columns: list[dict[str, Any]], path: str = "") -> _Filler:
    """The function setting a message's fields from one JSON-ready record of ``columns``."""
    steps: list[Callable[[Any, dict[str, Any]], None]] = []
    for column in columns:
        name = column["name"]
        kind = _kind(column, f"{path}{name}")
        repeated = str(column.get("mode", "NULLABLE")).upper() == "REPEATED"
        if kind in RECORD_TYPES:
            nested = _filler(column["fields"], f"{path}{name}.")
            if repeated:

                def step(msg, record, name=name, nested=nested):
                    values = record.get(name)
                    if values:
                        field = getattr(msg, name)
                        for value in values:
                            nested(field.add(), value)

            else:

                def step(msg, record, name=name, nested=nested):
                    value = record.get(name)
                    if value is not None:
                        sub = getattr(msg, name)
                        sub.SetInParent()  # an empty STRUCT is a value, not NULL
                        nested(sub, value)

        else:
            convert = _CONVERT.get(kind, _same)
            if repeated:

                def step(msg, record, name=name, convert=convert):
                    values = record.get(name)
                    if values:
                        getattr(msg, name).extend(convert(v) for v in values)

            elif convert is _same:

                def step(msg, record, name=name):
                    value = record.get(name)
                    if value is not None:
                        setattr(msg, name, value)

            else:

                def step(msg, record, name=name, convert=convert):
                    value = record.get(name)
                    if value is not None:
                        setattr(msg, name, convert(value))

        steps.append(step)

    def fill(msg: Any, record: dict[str, Any]) -> None:
        for step in steps:
            step(msg, record)

    return fill


@dataclass(frozen=True)
class RowEncoder:
    """One table's rows -> serialized proto messages, and the descriptor they were written with."""

    proto: descriptor_pb2.DescriptorProto
    message: type
    fill: _Filler

    def encode(self, row: dict[str, Any]) -> bytes:
        """The row's message as bytes. Raises TypeError or ValueError when a value does not fit
        its column (a text where a number goes, a TIMESTAMP that is not RFC 3339 ...)."""
        msg = self.message()
        self.fill(msg, row)
        return msg.SerializeToString()

    def decode(self, data: bytes) -> Any:
        """The message of ``data`` (tests and diagnostics)."""
        return self.message.FromString(data)


def row_encoder(schema: list[dict[str, Any]], name: str = "Row") -> RowEncoder:
    """The :class:`RowEncoder` of rows of ``schema`` (build it once per table)."""
    proto = descriptor(schema, name)
    return RowEncoder(proto, message_class(proto), _filler(schema))
