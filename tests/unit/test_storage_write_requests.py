"""The Storage Write API sink's parts that need no service: answers and their classification,
request cutting, batch slices, and the bqemulator launcher's guard. What needs the emulator is in
tests/integration/test_storage_writes.py."""

from __future__ import annotations

import grpc
import pytest
from google.api_core import exceptions
from google.cloud.bigquery_storage_v1 import types
from google.rpc import status_pb2

from localdev import bqemulator_launcher
from pipeline.bigquery_writes import BigQueryTarget
from pipeline.storage_writes import (
    ALREADY_EXISTS,
    INVALID_ARGUMENT,
    NOT_FOUND,
    OK,
    TRANSIENT_CODES,
    UNAVAILABLE,
    AppendBatches,
    _Row,
    exception_answer,
    response_answer,
    slices,
    table_path,
)
from schemas import load_schema


def test_answers_of_responses():
    assert response_answer(types.AppendRowsResponse(append_result={"offset": 3})).code == OK
    exists = types.AppendRowsResponse(error=status_pb2.Status(code=6, message="Offset 0 already committed"))
    assert response_answer(exists).code == ALREADY_EXISTS
    named = types.AppendRowsResponse(
        error=status_pb2.Status(code=3, message="bad rows"),
        row_errors=[types.RowError(index=2, code=types.RowError.RowErrorCode.FIELDS_ERROR, message="no")],
    )
    answer = response_answer(named)
    assert answer.code == INVALID_ARGUMENT and answer.row_errors == {2: ("FIELDS_ERROR", "no")}


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (exceptions.ServiceUnavailable("down"), UNAVAILABLE),
        (exceptions.NotFound("Stream not found"), NOT_FOUND),
        (exceptions.AlreadyExists("Offset 0 already committed"), ALREADY_EXISTS),
        (exceptions.DeadlineExceeded("slow"), grpc.StatusCode.DEADLINE_EXCEEDED.value[0]),
        (exceptions.ResourceExhausted("quota"), grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]),
        (exceptions.TooManyRequests("quota"), grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]),
        (exceptions.InvalidArgument("bad"), INVALID_ARGUMENT),
        (ConnectionResetError("reset"), UNAVAILABLE),
    ],
)
def test_raised_errors_stand_for_their_codes(exc, code):
    assert exception_answer(exc).code == code


def test_transient_codes_are_the_ones_retried():
    assert {
        s.value[0]
        for s in (
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            grpc.StatusCode.ABORTED,
            grpc.StatusCode.INTERNAL,
            grpc.StatusCode.DEADLINE_EXCEEDED,
            grpc.StatusCode.CANCELLED,
        )
    } == TRANSIENT_CODES


def test_a_batch_is_cut_into_requests_under_the_byte_budget_the_same_way_every_time():
    dofn = AppendBatches(
        "p:d.orders", BigQueryTarget("p"), load_schema("events", "orders"), max_request_bytes=100
    )
    rows = [_Row(b"x" * size, {}) for size in (40, 40, 40, 100, 10, 90)]
    cut = [[len(r.data) for r in request] for request in dofn._requests(rows)]
    assert cut == [[40, 40], [40], [100], [10, 90]]
    assert cut == [[len(r.data) for r in request] for request in dofn._requests(rows)]


def test_slices_and_table_path():
    assert list(slices((3, iter(range(5))), 2)) == [(3, [0, 1]), (3, [2, 3]), (3, [4])]
    assert table_path("p:d.t") == "projects/p/datasets/d/tables/t"


def test_the_launcher_refuses_a_bqemulator_without_the_function_it_fixes(monkeypatch):
    import bqemulator.grpc_api.write_servicer as write_servicer

    monkeypatch.delattr(write_servicer, "_table_arrow_schema")
    with pytest.raises(SystemExit, match="_table_arrow_schema is gone.*1.4.0"):
        bqemulator_launcher.apply_fix()
