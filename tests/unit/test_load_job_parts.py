"""Load jobs' pure parts: job ids from content, chunking by rows and bytes, shards, the lines
sent and the rows sent again; and which write method a run uses.

Jobs themselves (exactly once, retries, refusals) run against the emulator and the fault proxy
in tests/integration/test_bigquery_loads.py.
"""

from __future__ import annotations

import json
import re

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.bigquery_loads import (
    LoadLine,
    ToLoadLine,
    chunks,
    load_job_id,
    load_line,
    resent_row,
    shard_lines,
)
from pipeline.bigquery_writes import RECEIVED, REFUSED
from pipeline.options import OptionsError, check_options, uses_load_jobs, write_method
from tests.pipeline_argv import PUBSUB, streaming_options

TABLE = "proj.events.orders"


def test_a_job_id_follows_the_table_the_bytes_and_the_attempt_only():
    first = load_job_id(TABLE, b'{"a":1}\n', 0)
    assert first == load_job_id(TABLE, b'{"a":1}\n', 0), "a retried bundle finds its job"
    assert first != load_job_id(TABLE, b'{"a":2}\n', 0)
    assert first != load_job_id("proj.events.inventory", b'{"a":1}\n', 0)
    assert first != load_job_id(TABLE, b'{"a":1}\n', 1)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,1024}", first), "BigQuery's job id alphabet"
    assert first.startswith("eventharbor_load_orders_") and first.endswith("_0")


def lines(*texts: str) -> list[LoadLine]:
    return [LoadLine(text, None) for text in texts]


def test_chunks_hold_at_most_max_rows_and_max_bytes_and_keep_every_line_in_order():
    many = lines(*(f'{{"n":{i}}}' for i in range(10)))
    assert [len(c) for c in chunks(many, 3, 10_000)] == [3, 3, 3, 1]
    # each line is 8 bytes with its newline: 2 fit in 16 bytes, not in 15
    assert [len(c) for c in chunks(many, 100, 16)] == [2, 2, 2, 2, 2]
    assert [len(c) for c in chunks(many, 100, 15)] == [1] * 10
    assert [line for chunk in chunks(many, 4, 20) for line in chunk] == many
    huge = lines("x" * 50, "y")
    assert [len(c) for c in chunks(huge, 10, 20)] == [1, 1], "a line over max_bytes goes alone"
    assert list(chunks([], 3, 10)) == []


def shards_of(chunk: list[LoadLine], rows: int, max_rows: int) -> dict[str, int]:
    return {line.text: shard for shard, part in shard_lines(chunk, rows, max_rows) for line in part}


def test_a_shard_is_a_function_of_the_line_and_the_count():
    line = LoadLine('{"event_id":"e-1"}', None)
    assert list(shard_lines([line], 10, 100)) == [(0, [line])], "fewer rows than max_rows: one shard"
    many = lines(*(f'{{"n":{i}}}' for i in range(1000)))
    shards = shards_of(many, 1000, 100)
    assert set(shards.values()) == set(range(10)), "ceil(1000 / 100) shards, all used"
    # whatever chunks the lines come in, and whatever envelope they carry, each keeps its shard
    regrouped = {**shards_of(many[:300], 1000, 100), **shards_of(list(reversed(many[300:])), 1000, 100)}
    assert regrouped == shards
    assert shards_of([LoadLine(line.text, "{}")], 1000, 100) == shards_of([line], 1000, 100)


def test_lines_go_in_chunks_of_at_most_chunk_lines_and_the_bundle_s_rest():
    load = ToLoadLine(TABLE, chunk_lines=2)
    load.start_bundle()
    full = [chunk for n in range(5) for chunk in load.process({"n": n})]
    rest = [windowed.value for windowed in load.finish_bundle()]
    assert [len(c) for c in full] == [2, 2] and [len(c) for c in rest] == [1]
    assert [line.text for chunk in full + rest for line in chunk] == [f'{{"n":{n}}}' for n in range(5)]
    load.start_bundle()
    assert list(load.finish_bundle()) == [], "an empty bundle emits no chunk"


def test_to_row_makes_the_row_in_the_same_step():
    load = ToLoadLine(TABLE, to_row=lambda n: {"n": n})
    load.start_bundle()
    assert list(load.process(7)) == []
    [chunk] = [windowed.value for windowed in load.finish_bundle()]
    assert chunk == [LoadLine('{"n":7}', None)]


def test_a_row_becomes_its_json_and_its_envelope_and_comes_back_the_same():
    row = {"event_id": "e-1", "city": "Tromsø", "total": "12.50", RECEIVED: {"data": "{}", "message_id": "m"}}
    line = load_line(row)
    assert line.text == '{"event_id":"e-1","city":"Troms\\u00f8","total":"12.50"}', "the row as sent"
    assert json.loads(line.received) == row[RECEIVED]
    assert resent_row(line) == row
    bare = load_line({"n": 1})
    assert bare.received is None and resent_row(bare) == {"n": 1}


def test_a_row_that_is_not_json_is_refused_before_any_job():
    [refused] = ToLoadLine(TABLE).process({"x": float("nan")})
    assert refused.tag == REFUSED
    table, row, errors = refused.value
    assert table == TABLE and row["x"] != row["x"]
    assert errors[0]["reason"] == "notJson" and "cannot be sent as JSON" in errors[0]["message"]


@pytest.mark.parametrize(
    ("argv", "method"),
    [
        (["--source=files", "--input=x"], "file_loads"),
        (["--source=files", "--input=x", "--bigquery_write_method=streaming_inserts"], "streaming_inserts"),
        (["--source=files", "--input=x", "--bigquery_write_method=file_loads"], "file_loads"),
        (["--source=files", "--input=x", "--bigquery_write_method=storage_write_api"], "storage_write_api"),
        (PUBSUB, "storage_write_api"),
        ([*PUBSUB, "--bigquery_write_method=streaming_inserts"], "streaming_inserts"),
    ],
)
def test_batch_loads_by_jobs_and_streaming_by_the_storage_write_api_unless_told(argv, method):
    options = PipelineOptions([*argv, "--project=p"])
    check_options(options)
    assert write_method(options) == method
    assert uses_load_jobs(options) is (method == "file_loads")


def test_an_emulator_without_its_grpc_port_is_refused_for_the_storage_write_api():
    emulator = "--bigquery_endpoint=http://127.0.0.1:9050"
    with pytest.raises(OptionsError, match="--bigquery_storage_endpoint"):
        check_options(streaming_options(emulator))
    check_options(streaming_options(emulator, "--bigquery_write_method=streaming_inserts"))
    check_options(streaming_options(emulator, "--bigquery_storage_endpoint=127.0.0.1:9060"))


def test_load_jobs_in_streaming_are_refused_naming_the_option():
    with pytest.raises(OptionsError, match="--bigquery_write_method file_loads is for batch"):
        check_options(streaming_options("--bigquery_write_method=file_loads"))
