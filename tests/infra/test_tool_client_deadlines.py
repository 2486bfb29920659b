"""warehouse.clients: every request of a tool client has a deadline, and an endpoint that does not
answer ends in one CommandError naming it; retries are said. Against loopback sockets and a tiny
HTTP server in a thread (no emulator), with the deadlines shortened to a second or two."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from localdev.stack import free_port
from pipeline.commands import CommandError
from tests.fault_proxy import reply_json
from warehouse import clients, runner

ADVICE = "is the emulator running? `python -m localdev.stack --warehouse` opens the last run's warehouse"


@pytest.fixture(autouse=True)
def short_deadlines(monkeypatch):
    monkeypatch.setattr(clients, "CONNECT_PATIENCE_SECONDS", 2.0)
    monkeypatch.setattr(clients, "ANSWER_SECONDS", 1.0)
    monkeypatch.setattr(clients, "REQUEST_SECONDS", 1.0)


Answer = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def server() -> Iterator[Callable[[Answer], str]]:
    """Start an HTTP server whose every request is answered by the given function; its URL."""
    started: list[ThreadingHTTPServer] = []

    def start(answer: Answer) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                answer(self)

            do_POST = do_GET

            def log_message(self, *args) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        started.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


def _datasets(handler: BaseHTTPRequestHandler) -> None:
    reply_json(handler, 200, {"kind": "bigquery#datasetList", "datasets": []})


def test_a_closed_port_is_tried_again_out_loud_then_named_in_one_line():
    url, said = f"http://127.0.0.1:{free_port()}", []
    started = time.monotonic()
    with pytest.raises(CommandError) as stopped:
        clients.tool_client(endpoint=url, say=said.append)
    assert time.monotonic() - started < 5
    assert str(stopped.value) == (
        f"BigQuery at {url} did not accept a connection in 2 s (connection refused); {ADVICE}"
    )
    assert said and all(
        line.startswith(f"BigQuery at {url}: connection refused; trying again") for line in said
    )


def test_a_socket_that_accepts_and_never_answers_is_named_after_the_answer_deadline():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(CommandError) as stopped:
            clients.tool_client(endpoint=url, say=pytest.fail)
    assert time.monotonic() - started < 5
    assert (
        str(stopped.value) == f"BigQuery at {url} accepted the connection but did not answer in 1 s; {ADVICE}"
    )


def test_an_endpoint_that_hangs_up_without_answering_is_named(server):
    def hang_up(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True

    url = server(hang_up)
    with pytest.raises(CommandError, match=rf"^BigQuery at {url} did not answer \(remote end closed"):
        clients.tool_client(endpoint=url, say=pytest.fail)


def test_a_request_the_library_sends_without_a_timeout_gets_the_request_deadline(server):
    """The runner's query (jobs.insert, no timeout of the library's own) stops after
    REQUEST_SECONDS instead of waiting for ever, once the endpoint answered the first request."""

    def answer_then_hang(handler: BaseHTTPRequestHandler) -> None:
        if handler.command == "GET":
            _datasets(handler)
        else:
            time.sleep(3)

    url = server(answer_then_hang)
    client = clients.tool_client(endpoint=url, say=pytest.fail)
    started = time.monotonic()
    with pytest.raises(CommandError) as stopped:
        runner.execute(client, runner.plan_day("2026-11-03", models=["orders_first_seen"]))
    assert time.monotonic() - started < 3
    assert str(stopped.value) == f"BigQuery at {url} did not answer a request in 1 s; {ADVICE}"


def test_an_answer_the_client_retries_is_said(server):
    answers = iter([503])

    def unavailable_once(handler: BaseHTTPRequestHandler) -> None:
        if "maxResults=1" in handler.path:  # tool_client's first request
            _datasets(handler)
        elif next(answers, 200) == 503:
            reply_json(handler, 503, {"error": {"code": 503, "message": "restarting", "errors": []}})
        else:
            _datasets(handler)

    url = server(unavailable_once)
    said: list[str] = []
    client = clients.tool_client(endpoint=url, say=said.append)
    assert list(client.list_datasets()) == []
    assert said == [f"BigQuery at {url} answered 503 Service Unavailable; the BigQuery client tries again"]


def test_a_refused_step_is_one_line_naming_the_step(server):
    def refuse_jobs(handler: BaseHTTPRequestHandler) -> None:
        if handler.command == "GET":
            _datasets(handler)
            return
        error = {"code": 404, "message": "Not found: Table p:events.orders\nat [3:5]", "errors": []}
        reply_json(
            handler,
            404,
            {"error": {**error, "errors": [{"reason": "notFound", "message": error["message"]}]}},
        )

    client = clients.tool_client(endpoint=server(refuse_jobs), say=pytest.fail)
    steps = runner.plan_day("2026-11-03", models=["orders_first_seen"])
    with pytest.raises(CommandError) as stopped:
        runner.execute(client, steps)
    assert str(stopped.value) == (
        "step 1/1, 2026-11-03 orders_first_seen (day): BigQuery refused it: 404 Not found: Table "
        "p:events.orders"
    )
