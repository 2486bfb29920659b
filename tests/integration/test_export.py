"""``make run``'s exports on the real BigQuery emulator: every column type as the README says
(dates ``YYYY-MM-DD``, timestamps RFC 3339 UTC, NUMERIC as decimal strings), read through the
Storage Read API, and the same bytes the REST API and google-cloud-bigquery's row parsing give."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal

import pytest
from google.cloud import bigquery

from localdev import export
from localdev import stack as localstack
from localdev.export import export_dataset
from pipeline.commands import CommandError
from transforms.times import rfc3339

SCHEMA = [
    bigquery.SchemaField("id", "INTEGER", mode="REQUIRED"),
    bigquery.SchemaField("day", "DATE"),
    bigquery.SchemaField("ts", "TIMESTAMP"),
    bigquery.SchemaField("amount", "NUMERIC"),
    bigquery.SchemaField("doc", "JSON"),
    bigquery.SchemaField("name", "STRING"),
    bigquery.SchemaField("ratio", "FLOAT"),
    bigquery.SchemaField("ok", "BOOLEAN"),
    bigquery.SchemaField("tags", "STRING", mode="REPEATED"),
    bigquery.SchemaField("days", "DATE", mode="REPEATED"),
    bigquery.SchemaField(
        "info",
        "RECORD",
        fields=[
            bigquery.SchemaField("seen", "TIMESTAMP"),
            bigquery.SchemaField("price", "NUMERIC"),
            bigquery.SchemaField("extra", "JSON"),
            bigquery.SchemaField("codes", "INTEGER", mode="REPEATED"),
            bigquery.SchemaField("place", "RECORD", fields=[bigquery.SchemaField("city", "STRING")]),
        ],
    ),
    bigquery.SchemaField(
        "lines",
        "RECORD",
        mode="REPEATED",
        fields=[
            bigquery.SchemaField("product", "STRING"),
            bigquery.SchemaField("price", "NUMERIC"),
            bigquery.SchemaField("shipped", "DATE"),
        ],
    ),
]

ROWS = [
    {
        "id": 1,
        "day": "2026-03-02",
        "ts": "2026-03-02T06:15:02.683000Z",
        "amount": "98.490",
        "doc": json.dumps({"b": [1, 2.5, None], "a": {"z": "é", "y": True}}),
        "name": "Desk Lamp",
        "ratio": 0.1,
        "ok": True,
        "tags": ["x", "y"],
        "days": ["2026-03-01", "2026-03-02"],
        "info": {
            "seen": "2026-03-02T06:15:02Z",
            "price": "45.000000000",
            "extra": json.dumps([1, "two"]),
            "codes": [3, 1],
            "place": {"city": "Lyon"},
        },
        "lines": [
            {"product": "prod-1", "price": "8.49", "shipped": "2026-03-02"},
            {"product": "prod-2", "price": "0", "shipped": None},
        ],
    },
    {  # every NULLABLE column NULL, every REPEATED one empty
        "id": 2,
        "day": None,
        "ts": None,
        "amount": None,
        "doc": None,
        "name": None,
        "ratio": None,
        "ok": None,
        "tags": [],
        "days": [],
        "info": None,
        "lines": [],
    },
    {  # the edges: first and last representable instants, zero and negative NUMERIC, scalar JSON
        "id": 3,
        "day": "0001-01-01",
        "ts": "0001-01-01T00:00:00Z",
        "amount": "-0.000000001",
        "doc": json.dumps("just a string"),
        "name": "",
        "ratio": -2.0,
        "ok": False,
        "tags": [],
        "days": ["9999-12-31"],
        "info": {
            "seen": "9999-12-31T23:59:59.999999Z",
            "price": "-0",
            "extra": None,
            "codes": [],
            "place": None,
        },
        "lines": [{"product": None, "price": "1200", "shipped": "1969-12-31"}],
    },
    {"id": 4, "ts": "1969-12-31T23:59:59.500000Z", "amount": "100.5", "doc": json.dumps(7), "tags": ["z"]},
]

EXPECTED = [
    {
        "amount": "98.49",
        "ts": "2026-03-02T06:15:02.683000Z",
        "day": "2026-03-02",
        "days": ["2026-03-01", "2026-03-02"],
        "doc": {"a": {"y": True, "z": "é"}, "b": [1, 2.5, None]},
        "id": 1,
        "info": {
            "seen": "2026-03-02T06:15:02Z",
            "codes": [3, 1],
            "extra": [1, "two"],
            "price": "45",
            "place": {"city": "Lyon"},
        },
        "lines": [
            {"shipped": "2026-03-02", "price": "8.49", "product": "prod-1"},
            {"shipped": None, "price": "0", "product": "prod-2"},
        ],
        "name": "Desk Lamp",
        "ok": True,
        "ratio": 0.1,
        "tags": ["x", "y"],
    },
    {
        "amount": None,
        "ts": None,
        "day": None,
        "days": [],
        "doc": None,
        "id": 2,
        "info": None,
        "lines": [],
        "name": None,
        "ok": None,
        "ratio": None,
        "tags": [],
    },
    {
        "amount": "-0.000000001",
        "ts": "0001-01-01T00:00:00Z",
        "day": "0001-01-01",
        "days": ["9999-12-31"],
        "doc": "just a string",
        "id": 3,
        "info": {
            "seen": "9999-12-31T23:59:59.999999Z",
            "codes": [],
            "extra": None,
            "price": "0",
            "place": None,
        },
        "lines": [{"shipped": "1969-12-31", "price": "1200", "product": None}],
        "name": "",
        "ok": False,
        "ratio": -2.0,
        "tags": [],
    },
    {
        "amount": "100.5",
        "ts": "1969-12-31T23:59:59.500000Z",
        "day": None,
        "days": [],
        "doc": 7,
        "id": 4,
        "info": None,
        "lines": [],
        "name": None,
        "ok": None,
        "ratio": None,
        "tags": ["z"],
    },
]


# bqemulator's REST API gives a JSON field inside a STRUCT as a STRING, so the REST path wrote it
# as a string where the export writes its value, as for a top-level JSON column. The comparisons
# with the REST path leave that one field out (no table of schemas/ has one).
REST_SCHEMA = [
    bigquery.SchemaField("info", "RECORD", fields=[f for f in field.fields if f.name != "extra"])
    if field.name == "info"
    else field
    for field in SCHEMA
]
REST_ROWS = [
    {**row, "info": {k: v for k, v in row["info"].items() if k != "extra"}} if row.get("info") else row
    for row in ROWS
]


def plain(value):
    """A cell as google-cloud-bigquery's REST row parsing gives it, as plain JSON: what the export
    wrote before it read through the Storage Read API."""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text if text != "-0" else "0"
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@pytest.fixture(scope="module")
def read_client(bigquery_emulator):
    return localstack.bigquery_read_client(bigquery_emulator.grpc_host)


def _dataset_with(bq_client, tables: dict[str, list[dict]], schema=SCHEMA) -> str:
    dataset = f"export_{uuid.uuid4().hex[:8]}"
    bq_client.create_dataset(dataset)
    for name, rows in tables.items():
        bq_client.create_table(bigquery.Table(f"{bq_client.project}.{dataset}.{name}", schema=schema))
        if rows:
            assert bq_client.insert_rows_json(f"{dataset}.{name}", rows) == []
    return dataset


def _through_rest(bq_client, dataset: str, table: str) -> str:
    """What the export wrote before it read through the Storage Read API."""
    rows = bq_client.query(f"SELECT * FROM `{dataset}.{table}` WHERE TRUE").result()
    return "".join(
        f"{line}\n" for line in sorted(json.dumps(plain(dict(row)), sort_keys=True) for row in rows)
    )


def test_every_column_type_is_exported_as_the_spec_says(bq_client, read_client, tmp_path):
    dataset = _dataset_with(bq_client, {"all_types": ROWS, "empty": []})

    counts = export_dataset(bq_client, read_client, dataset, tmp_path)

    assert counts == {"all_types": len(ROWS), "empty": 0}
    text = (tmp_path / f"{dataset}.all_types.jsonl").read_text()
    assert text == "".join(sorted(f"{json.dumps(row, sort_keys=True)}\n" for row in EXPECTED))
    assert (tmp_path / f"{dataset}.empty.jsonl").read_text() == ""


def test_the_export_writes_the_bytes_the_rest_api_and_its_row_parsing_gave(bq_client, read_client, tmp_path):
    dataset = _dataset_with(bq_client, {"all_types": REST_ROWS}, schema=REST_SCHEMA)

    export_dataset(bq_client, read_client, dataset, tmp_path)

    assert (tmp_path / f"{dataset}.all_types.jsonl").read_text() == _through_rest(
        bq_client, dataset, "all_types"
    )


def test_a_table_read_in_many_split_streams_exports_the_same_bytes(
    bq_client, read_client, tmp_path, monkeypatch
):
    rows = [
        {
            **ROWS[i % len(ROWS)],
            "id": i,
            "name": f"row {i}",
            "ts": f"2026-03-02T06:{i // 60:02d}:{i % 60:02d}.{i:06d}Z",
        }
        for i in range(40)
    ]
    dataset = _dataset_with(bq_client, {"many": rows}, schema=REST_SCHEMA)
    monkeypatch.setattr(export, "STREAM_BYTES", 100)  # split into 64 streams of 0 or 1 row
    monkeypatch.setattr(export, "MAX_SPLIT_STREAMS", 64)
    streams = []
    read_rows = read_client.read_rows
    monkeypatch.setattr(read_client, "read_rows", lambda name: streams.append(name) or read_rows(name))

    assert export_dataset(bq_client, read_client, dataset, tmp_path) == {"many": 40}

    text = (tmp_path / f"{dataset}.many.jsonl").read_text()
    assert len(text.splitlines()) == 40 and len(set(streams)) == 64
    assert text == _through_rest(bq_client, dataset, "many")


def test_the_command_exports_from_the_endpoints_localdev_stack_prints(
    bigquery_emulator, bq_client, tmp_path, capsys
):
    dataset = _dataset_with(bq_client, {"all_types": ROWS})
    argv = [
        f"--bigquery-endpoint=http://{bigquery_emulator.host}",
        f"--storage-endpoint={bigquery_emulator.grpc_host}",
        f"--dataset={dataset}",
        f"--out={tmp_path}",
    ]

    export.main(argv)

    assert f"{dataset}: 1 tables, {len(ROWS)} rows" in capsys.readouterr().out
    assert len((tmp_path / f"{dataset}.all_types.jsonl").read_text().splitlines()) == len(ROWS)
    with pytest.raises(CommandError, match=r"--dataset nope: no such dataset in project eventharbor-local"):
        export.main([*argv[:2], "--dataset=nope", f"--out={tmp_path}"])
