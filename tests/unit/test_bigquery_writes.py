"""The BigQuery write path's request building, byte accounting and retry classification.

What needs a service (batching across requests, retries, refusals) runs against the emulator and
the fault proxy in tests/integration/test_bigquery_inserts.py.
"""

from __future__ import annotations

import itertools
import json

import pytest
import requests
from apache_beam.io.gcp.bigquery_tools import RetryStrategy
from apache_beam.transforms.window import GlobalWindows
from google.api_core import exceptions

from pipeline.bigquery_writes import (
    ENVELOPE_BYTES,
    MAX_REQUEST_BYTES,
    MAX_REQUEST_ROWS,
    RECEIVED,
    BigQueryTarget,
    InsertRows,
    backoff_delays,
    http_error_is_transient,
    insert_entry,
    insert_id,
    request_body,
    request_errors,
    row_is_refused,
    row_json,
)
from transforms.rows import MAX_ROW_JSON_BYTES

ROW = {"event_id": "evt-1", "city": "Tromsø", "n": 3, RECEIVED: {"data": "{}", "message_id": "m-1"}}


def test_a_row_is_serialised_once_compact_and_without_its_received_envelope():
    text = row_json(ROW)
    assert text == '{"event_id":"evt-1","city":"Troms\\u00f8","n":3}'
    assert text.isascii(), "non-ASCII is escaped, so characters are bytes"
    assert RECEIVED in ROW, "the row itself keeps its envelope for a dead letter"
    with pytest.raises(ValueError):
        row_json({"x": float("nan")})  # BigQuery would refuse the whole request's JSON


def test_the_insert_id_is_the_event_id_else_a_hash_of_the_rows_json():
    assert insert_id(ROW, row_json(ROW)) == "evt-1"
    metric = {"stream": "orders", "occurrences": 2}
    same = insert_id(metric, row_json(metric))
    assert same == insert_id(dict(metric), row_json(dict(metric))) and len(same) == 64
    assert same != insert_id({**metric, "occurrences": 3}, row_json({**metric, "occurrences": 3}))
    assert insert_id({"event_id": ""}, "{}") != "", "an empty event_id is no id"


def test_the_request_body_is_exactly_the_bytes_counted():
    rows = [ROW, {"event_id": 'quo"te', "n": 1}, {"n": 2}]
    entries = [insert_entry(insert_id(r, row_json(r)), row_json(r)) for r in rows]
    body = request_body(entries)
    assert len(body) == ENVELOPE_BYTES + sum(len(e) for e in entries) + len(entries) - 1
    request = json.loads(body)
    assert request["skipInvalidRows"] is True
    assert [r["insertId"] for r in request["rows"]][:2] == ["evt-1", 'quo"te']
    assert [r["json"] for r in request["rows"]] == [
        {"event_id": "evt-1", "city": "Tromsø", "n": 3},
        {"event_id": 'quo"te', "n": 1},
        {"n": 2},
    ]


def test_limits_are_bigquerys():
    assert (MAX_REQUEST_BYTES, MAX_REQUEST_ROWS) == (10_000_000, 500)
    assert MAX_ROW_JSON_BYTES < MAX_REQUEST_BYTES - ENVELOPE_BYTES - 7 * 1024, (
        "a row fits with a long insertId"
    )


@pytest.mark.parametrize("reason", sorted(RetryStrategy._NON_TRANSIENT_ERRORS))
def test_a_row_error_beam_calls_non_transient_refuses_the_row(reason):
    assert row_is_refused([{"reason": reason, "message": "x"}])


@pytest.mark.parametrize(
    "reason", ["stopped", "backendError", "internalError", "timeout", "rateLimitExceeded"]
)
def test_stopped_and_transient_row_errors_are_sent_again(reason):
    assert not row_is_refused([{"reason": reason}])


def test_one_non_transient_error_among_a_rows_errors_refuses_it():
    assert row_is_refused([{"reason": "stopped"}, {"reason": "invalid", "location": "total_amount"}])


@pytest.mark.parametrize(
    ("code", "reasons", "transient"),
    [
        (400, ["invalid"], False),
        (401, [], False),
        (403, ["accessDenied"], False),
        (404, ["notFound"], False),
        (501, [], False),
        (403, ["rateLimitExceeded"], True),
        (403, ["quotaExceeded"], True),
        (408, [], True),
        (429, ["rateLimitExceeded"], True),
        (500, ["internalError"], True),
        (502, [], True),
        (503, ["backendError"], True),
        (504, [], True),
    ],
)
def test_a_failed_request_is_classified_by_its_status_as_beam_does(code, reasons, transient):
    assert http_error_is_transient(code, reasons) is transient


def test_request_errors_become_every_rows_errors():
    transient, errors = request_errors(
        exceptions.from_http_status(404, "Not found: Table p:d.t", errors=[{"reason": "notFound"}])
    )
    assert not transient
    assert errors == [
        {"reason": "notFound", "location": "request", "message": "HTTP 404: Not found: Table p:d.t"}
    ]
    assert request_errors(exceptions.from_http_status(503, "unavailable"))[0]
    assert request_errors(requests.exceptions.ConnectionError("refused")) == (
        True,
        [{"reason": "ConnectionError", "location": "request", "message": "refused"}],
    )
    assert request_errors(requests.exceptions.ReadTimeout("read timed out"))[0]


def test_backoff_doubles_to_its_cap_with_jitter_and_never_ends():
    delays = list(itertools.islice(backoff_delays(0.2, 30.0), 200))
    ceilings = [min(30.0, 0.2 * 2**i) for i in range(200)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays[-50:])) > 1, "jittered"


def test_a_row_too_large_for_a_request_is_refused_without_being_sent():
    # The endpoint is never contacted: nothing is pending when the bundle ends.
    dofn = InsertRows("p:d.orders", BigQueryTarget("p", "http://127.0.0.1:9"), max_row_bytes=100)
    dofn.setup()
    dofn.start_bundle()
    big = {"event_id": "evt-big", "payload": "x" * 100}
    dofn.process(big, GlobalWindows.windowed_value(big))
    [refused] = list(dofn.finish_bundle())
    table, row, [error] = refused.value.value
    assert (refused.tag, table, row) == ("refused", "p:d.orders", big)
    assert error["reason"] == "tooLarge"
    assert "the row is 135 bytes as JSON" in error["message"] and "MAX_ROW_JSON_BYTES" in error["message"]
    assert refused.value.windows == GlobalWindows.windowed_value(big).windows
    dofn.teardown()


def test_a_row_that_is_not_json_is_refused_without_being_sent():
    dofn = InsertRows("p:d.orders", BigQueryTarget("p", "http://127.0.0.1:9"))
    dofn.setup()
    dofn.start_bundle()
    bad = {"event_id": "evt-nan", "amount": float("inf")}
    dofn.process(bad, GlobalWindows.windowed_value(bad))
    [refused] = list(dofn.finish_bundle())
    assert refused.value.value[2][0]["reason"] == "notJson"
    dofn.teardown()
