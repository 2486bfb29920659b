"""Export BigQuery tables as JSON Lines: dates YYYY-MM-DD, timestamps RFC 3339, NUMERIC as decimal strings.

Tables are read through the BigQuery Storage Read API (Arrow over gRPC; bqemulator serves it on
its gRPC port), several tables at once, large tables split into several streams. Each cell is
converted by its column's BigQuery type, as the REST API and google-cloud-bigquery's row parsing
would have given it: ``TIMESTAMP`` -> RFC 3339 UTC, ``DATE`` -> ``YYYY-MM-DD``, ``NUMERIC`` ->
normalised decimal string, ``JSON`` -> the parsed value, a NULL ``REPEATED`` column -> ``[]``.
Lines are ``json.dumps(row, sort_keys=True)``, sorted. (One difference from that REST path: a
JSON field inside a STRUCT is written as its value too, where bqemulator's REST API gave it as a
string. No table of ``schemas/`` has one.)

``python -m localdev.export --bigquery-endpoint URL --storage-endpoint HOST:PORT`` exports from a
running emulator (``python -m localdev.stack --warehouse`` prints both endpoints), as ``make run``
does into ``.local/export/``.
"""

from __future__ import annotations

import base64
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.commands import ArgumentParser, CommandError, run_command
from transforms.times import rfc3339
from warehouse.clients import EMULATOR_PROJECT

# A stream the emulator answers in one ReadRows message of up to 65,536 rows, and it refuses to
# send a message over ~11 MB: streams are split until each holds at most this many bytes.
STREAM_BYTES = 4_000_000
MAX_STREAMS = 10  # what a read session asks for (bqemulator's own cap)
MAX_SPLIT_STREAMS = 256  # splitting stops there, however large the table
WORKERS = 4

_ENCODE = json.JSONEncoder(sort_keys=True).encode  # what json.dumps(row, sort_keys=True) does

Convert = Callable[[Any], Any]


def _decimal(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def _timestamp(value: datetime | None) -> str | None:
    return None if value is None else rfc3339(value)


def _date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _numeric(value: Decimal | None) -> str | None:
    return None if value is None else _decimal(value)


def _json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def _bytes(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode("ascii")


def _time(value: time | None) -> str | None:
    return None if value is None else value.isoformat()


_SCALARS: dict[str, Convert | None] = {  # None: the Arrow value is already the JSON value
    "STRING": None,
    "INTEGER": None,
    "INT64": None,
    "FLOAT": None,
    "FLOAT64": None,
    "BOOLEAN": None,
    "BOOL": None,
    "TIMESTAMP": _timestamp,
    "DATETIME": _timestamp,  # as rfc3339 writes a naive datetime
    "DATE": _date,
    "NUMERIC": _numeric,
    "BIGNUMERIC": _numeric,
    "JSON": _json,
    "BYTES": _bytes,
    "TIME": _time,
}


def converter(field) -> Convert | None:
    """How to turn one Arrow cell of ``field`` (a ``bigquery.SchemaField``) into its JSON value;
    None when the cell is already it."""
    kind = field.field_type.upper()
    if kind in ("RECORD", "STRUCT"):
        scalar = _record(field.fields)
    elif kind in _SCALARS:
        scalar = _SCALARS[kind]
    else:
        raise ValueError(f"cannot export column {field.name!r} of type {field.field_type}")
    if field.mode == "REPEATED":  # BigQuery has no NULL array, only an empty one
        if scalar is None:
            return lambda items: [] if items is None else items
        return lambda items: [] if items is None else [scalar(item) for item in items]
    return scalar


def _record(fields) -> Convert | None:
    converters = [(f.name, converter(f)) for f in fields]
    if all(convert is None for _, convert in converters):
        return None

    def convert(value: dict | None) -> dict | None:
        if value is None:
            return None
        return {
            name: value.get(name) if convert is None else convert(value.get(name))
            for name, convert in converters
        }

    return convert


def column_values(column, field) -> list:
    """The JSON values of one top-level Arrow column (a ``pyarrow.ChunkedArray``) of ``field``.

    TIMESTAMP and DATE columns, the bulk of the work, are formatted by Arrow itself, exactly as
    ``rfc3339`` and ``date.isoformat`` would; everything else cell by cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind, repeated = field.field_type.upper(), field.mode == "REPEATED"
    if kind == "TIMESTAMP" and not repeated and pa.types.is_timestamp(column.type) and column.type.tz:
        utc = column.cast(pa.timestamp("us", tz="UTC"))  # the same instants, printed in UTC
        full = pc.strftime(utc, format="%Y-%m-%dT%H:%M:%SZ")  # always 6 fractional digits
        whole = pc.binary_join_element_wise(pc.utf8_slice_codeunits(full, 0, 19), "Z", "")
        return pc.if_else(pc.equal(pc.subsecond(utc), 0), whole, full).to_pylist()
    if kind == "DATE" and not repeated and pa.types.is_date(column.type):
        return column.cast(pa.string()).to_pylist()
    values = column.to_pylist()
    convert = converter(field)
    return values if convert is None else [convert(v) for v in values]


def json_lines(table, schema) -> list[str]:
    """The rows of the Arrow ``table`` as unsorted JSON lines, by the BigQuery ``schema``."""
    columns = [column_values(table.column(field.name), field) for field in schema]
    names = [field.name for field in schema]
    return [_ENCODE(dict(zip(names, row, strict=True))) for row in zip(*columns, strict=True)]


def _streams(read_client, session) -> list[str]:
    """The session's stream names, split in halves until each holds about ``STREAM_BYTES`` at
    most (the session's size estimate over its streams) or there are ``MAX_SPLIT_STREAMS``."""
    names = [stream.name for stream in session.streams]
    if not names:
        return []
    per_stream = session.estimated_total_bytes_scanned / len(names)
    while per_stream > STREAM_BYTES and 2 * len(names) <= MAX_SPLIT_STREAMS:
        halves = []
        for name in names:
            split = read_client.split_read_stream(request={"name": name, "fraction": 0.5})
            halves += [split.primary_stream.name, split.remainder_stream.name]
        names, per_stream = halves, per_stream / 2
    return names


def read_table(read_client, project: str, table, pool: ThreadPoolExecutor | None = None) -> list:
    """The table's rows as Arrow tables, one per stream (read on ``pool`` when given)."""
    import pyarrow as pa
    from google.cloud.bigquery_storage_v1 import types

    session = read_client.create_read_session(
        parent=f"projects/{project}",
        read_session=types.ReadSession(
            table=f"projects/{table.project}/datasets/{table.dataset_id}/tables/{table.table_id}",
            data_format=types.DataFormat.ARROW,
        ),
        max_stream_count=MAX_STREAMS,
    )
    # The Arrow schema travels with the session, each ReadRows message carries one record batch.
    schema = pa.ipc.read_schema(pa.py_buffer(session.arrow_schema.serialized_schema))

    def read(name: str):
        batches = [
            pa.ipc.read_record_batch(pa.py_buffer(message.arrow_record_batch.serialized_record_batch), schema)
            for message in read_client.read_rows(name)
        ]
        return pa.Table.from_batches(batches, schema=schema)

    names = _streams(read_client, session)
    return list(pool.map(read, names)) if pool else [read(name) for name in names]


def export_table(client, read_client, table, out_dir: Path, pool: ThreadPoolExecutor | None = None) -> int:
    """Write ``<out_dir>/<dataset>.<table>.jsonl``; returns its rows."""
    schema = client.get_table(table).schema
    lines = []
    for part in read_table(read_client, client.project, table, pool):
        lines += json_lines(part, schema)
    lines.sort()
    (out_dir / f"{table.dataset_id}.{table.table_id}.jsonl").write_text(
        "".join(f"{line}\n" for line in lines)
    )
    return len(lines)


def export_dataset(
    client, read_client, dataset: str, out_dir: Path, workers: int = WORKERS
) -> dict[str, int]:
    """Write ``<out_dir>/<dataset>.<table>.jsonl`` for every table; returns rows per table.

    ``client`` (google-cloud-bigquery) lists the tables and gives their schemas; ``read_client``
    (a Storage Read API ``BigQueryReadClient``) reads their rows, ``workers`` tables at once.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = sorted(client.list_tables(dataset), key=lambda t: t.table_id)
    # Tables on one pool, their streams on another: a table's task waits on its streams.
    with ThreadPoolExecutor(workers) as table_pool, ThreadPoolExecutor(workers) as stream_pool:
        counts = table_pool.map(
            lambda table: export_table(client, read_client, table, out_dir, stream_pool), tables
        )
        return {table.table_id: n for table, n in zip(tables, counts, strict=True)}


DATASETS = ("events", "analytics")
ANSWER_WITHIN_S = 10


def check_endpoints(bigquery_endpoint: str, storage_endpoint: str, project: str) -> None:
    """Fail in one line, naming the option, when either endpoint does not answer."""
    import grpc

    url = f"{bigquery_endpoint.rstrip('/')}/bigquery/v2/projects/{project}/datasets"
    how = "start the emulator with `python -m localdev.stack --warehouse` and pass the endpoints it prints"
    try:
        with urllib.request.urlopen(url, timeout=ANSWER_WITHIN_S):
            pass
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CommandError(
            f"--bigquery-endpoint {bigquery_endpoint} does not answer ({reason}); {how}"
        ) from None
    with grpc.insecure_channel(storage_endpoint) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=ANSWER_WITHIN_S)
        except grpc.FutureTimeoutError:
            raise CommandError(
                f"--storage-endpoint {storage_endpoint} does not answer within {ANSWER_WITHIN_S} s; {how}"
            ) from None


def main(argv: Sequence[str] | None = None) -> None:
    parser = ArgumentParser(
        prog="python -m localdev.export",
        description="Export every table of BigQuery datasets as JSON Lines, one <dataset>.<table>.jsonl "
        "per table (what make run writes to .local/export/), from a running BigQuery emulator: "
        "`python -m localdev.stack --warehouse` opens make run's warehouse and prints both endpoints.",
    )
    parser.add_argument(
        "--bigquery-endpoint", required=True, metavar="URL", help="the emulator's REST API, http://host:port"
    )
    parser.add_argument(
        "--storage-endpoint",
        required=True,
        metavar="HOST:PORT",
        help="the emulator's gRPC port (the Storage Read API the rows are read with)",
    )
    parser.add_argument("--project", default=EMULATOR_PROJECT, help="default: %(default)s")
    parser.add_argument(
        "--dataset",
        action="append",
        dest="datasets",
        metavar="NAME",
        help=f"a dataset to export; repeat for more (default: {' and '.join(DATASETS)})",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(".local/export"), help="folder to write (default .local/export)"
    )
    args = parser.parse_args(argv)
    from google.api_core.exceptions import NotFound

    from localdev.stack import bigquery_client, bigquery_read_client

    check_endpoints(args.bigquery_endpoint, args.storage_endpoint, args.project)
    client = bigquery_client(args.bigquery_endpoint, args.project)
    read_client = bigquery_read_client(args.storage_endpoint)
    datasets = args.datasets or DATASETS
    for dataset in datasets:
        try:
            client.get_dataset(dataset)
        except NotFound:
            raise CommandError(f"--dataset {dataset}: no such dataset in project {args.project}") from None
    for dataset in datasets:
        counts = export_dataset(client, read_client, dataset, args.out)
        print(f"{dataset}: {len(counts)} tables, {sum(counts.values()):,} rows -> {args.out}/")


if __name__ == "__main__":
    sys.exit(run_command(main, "python -m localdev.export"))
