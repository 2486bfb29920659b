"""A fault-injecting HTTP proxy in front of bqemulator.

bqemulator answers a bad row in ``insertAll`` with HTTP 500 (which clients retry
as transient) instead of BigQuery's per-row ``invalid`` error. This proxy gives
the pipeline BigQuery's real answers: rows whose ``event_id`` is marked are held
back from the emulator and reported in ``insertErrors`` exactly as BigQuery
reports a row it refuses (reason ``invalid``) or one it could not write this
time (reason ``backendError``, for the first few attempts); the first few
``insertAll`` calls can also be answered with HTTP 503 as a whole. Everything
else passes through unchanged.

For the streaming fault tests it can also make the sink slow (``insert_delay_s``: every
``insertAll`` answer is held back that long) and, while the emulator behind it is down, answer
every request with HTTP 503 as BigQuery's front end does (counted in ``unreachable_answers``),
so the pipeline's endpoint stays the same across an emulator restart.

Load jobs (resumable uploads of newline-delimited JSON) into ``table`` get BigQuery's answers
where the emulator's differ: a job keeps the id its client chose (the emulator makes up its own;
the proxy maps one to the other, in answers and in job lookups), and a second job with an id
already used is refused with HTTP 409. A line holding a rejected ``event_id`` is made invalid,
so the emulator fails the whole job as BigQuery would; the first ``failed_loads`` jobs come back
failed with a transient ``backendError`` without running; the first ``hidden_job_lookups``
lookups of a job that exists answer 404, as a lookup racing the job's creation can.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INVALID = ("invalid", "total_amount", "Invalid NUMERIC value: refused by the test's fault proxy")
BACKEND_ERROR = ("backendError", "", "Backend error. Please try again (the test's fault proxy).")
UNAVAILABLE = {
    "error": {
        "code": 503,
        "message": "The service is currently unavailable (the test's fault proxy).",
        "errors": [{"reason": "backendError", "message": "The service is currently unavailable."}],
        "status": "UNAVAILABLE",
    }
}

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "accept-encoding"}


def reply(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str = "",
    headers: dict[str, str] | None = None,
) -> None:
    """Answer ``handler``'s request: ``status``, ``headers`` and ``body`` (JSON unless
    ``content_type`` says otherwise)."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type or "application/json")
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def reply_json(handler: BaseHTTPRequestHandler, status: int, answer: dict) -> None:
    """Answer ``handler``'s request with ``status`` and ``answer`` as JSON."""
    reply(handler, status, json.dumps(answer).encode())


class FaultProxy:
    """Forward to ``upstream``, injecting faults into ``insertAll`` calls for ``table``.

    ``reject_event_ids``: rows refused for good. ``transient_event_ids``: event_id -> how many
    attempts get a per-row ``backendError`` before the row passes. ``unavailable_requests``: how
    many ``insertAll`` calls are answered with HTTP 503 before calls pass. ``insert_delay_s``: how
    long every ``insertAll`` answer (any table) is held back (settable while running).
    """

    def __init__(
        self,
        upstream: str,
        table: str,
        reject_event_ids: set[str] = frozenset(),
        transient_event_ids: dict[str, int] | None = None,
        unavailable_requests: int = 0,
        insert_delay_s: float = 0.0,
        failed_loads: int = 0,
        hidden_job_lookups: int = 0,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.table = table
        self.reject_event_ids = set(reject_event_ids)
        self.transient_event_ids = dict(transient_event_ids or {})
        self.unavailable_requests = unavailable_requests
        self.insert_delay_s = insert_delay_s
        self.failed_loads = failed_loads
        self.hidden_job_lookups = hidden_job_lookups
        self.load_job_ids: list[str] = []  # the client's job ids, in the order their uploads began
        self.load_rows: list[int] = []  # rows of each job that reached the emulator or failed
        self.conflicts = 0
        self._sessions: dict[str, str] = {}  # upload session -> the client's job id
        self._jobs: dict[str, str | dict] = {}  # client's job id -> the emulator's, or a failed job
        self.insert_calls = 0
        self.unreachable_answers = 0
        self.refused: list[dict] = []
        self.insert_ids: list[str] = []
        self.rows_seen: list[dict] = []
        self.attempts: Counter[str] = Counter()
        self.unavailable_answers = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FaultProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _insert_all(self, body: bytes) -> tuple[bytes, list[dict]]:
        """Split an insertAll request into the body to forward and the insertErrors to add."""
        request = json.loads(body)
        kept, errors = [], []
        for index, row in enumerate(request.get("rows", [])):
            self.insert_ids.append(row.get("insertId"))
            self.rows_seen.append(row.get("json", {}))
            event_id = row.get("json", {}).get("event_id")
            self.attempts[event_id] += 1
            if event_id in self.reject_event_ids:
                self.refused.append(row["json"])
                errors.append(_row_error(index, *INVALID))
            elif self.attempts[event_id] <= self.transient_event_ids.get(event_id, 0):
                errors.append(_row_error(index, *BACKEND_ERROR))
            else:
                kept.append((index, row))
        request["rows"] = [row for _, row in kept]
        return json.dumps(request).encode(), errors

    def _load_job(self, handler, body: bytes | None) -> tuple[int, bytes, dict[str, str]] | None:
        """The answer to a load job request into ``table`` (upload start, upload, job lookup);
        None for any other request."""
        route, _, query = handler.path.partition("?")
        params = urllib.parse.parse_qs(query)
        if handler.command == "POST" and params.get("uploadType") == ["resumable"] and body:
            return self._start_upload(handler, body)
        session = params.get("upload_id", [""])[0]
        if handler.command == "PUT" and session in self._sessions:
            return self._finish_upload(handler, body or b"", self._sessions[session])
        lookup = re.fullmatch(r"(.*/jobs/)([^/]+)", route)
        if handler.command == "GET" and lookup and lookup[2] in self._jobs:
            return self._look_up_job(handler, lookup[1], lookup[2], query)
        return None

    def _start_upload(self, handler, body: bytes) -> tuple[int, bytes, dict[str, str]] | None:
        metadata = json.loads(body)
        load = metadata.get("configuration", {}).get("load", {})
        if load.get("destinationTable", {}).get("tableId") != self.table:
            return None
        job = metadata.get("jobReference", {})
        with self._lock:
            if job.get("jobId") in self.load_job_ids:
                self.conflicts += 1
                return 409, json.dumps(_already_exists(job)).encode(), {}
            self.load_job_ids.append(job.get("jobId"))
        status, payload, headers = handler._forward(body)
        location = headers.get("Location", "")
        if status == 200 and location:
            session = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["upload_id"][0]
            self._sessions[session] = job.get("jobId")
            location = location.replace(self.upstream, self.url)
        return status, payload, {"Location": location} if location else {}

    def _finish_upload(self, handler, body: bytes, job_id: str) -> tuple[int, bytes, dict[str, str]]:
        for event_id in self.reject_event_ids:
            line = re.compile(rb'^(.*"event_id":' + re.escape(json.dumps(event_id).encode()) + rb".*)$", re.M)
            body = line.sub(_invalid_timestamp, body)  # same length: Content-Range stays right
        with self._lock:
            self.load_rows.append(body.count(b"\n"))
            failing = self.failed_loads > 0
            self.failed_loads -= failing
        if failing:
            failed = _failed_job(job_id)
            self._jobs[job_id] = failed
            return 200, json.dumps(failed).encode(), {}
        status, payload, _ = handler._forward(body)
        if status != 200:
            return status, payload, {}
        resource = json.loads(payload)
        self._jobs[job_id] = resource["jobReference"]["jobId"]
        return 200, json.dumps(_with_job_id(resource, job_id)).encode(), {}

    def _look_up_job(
        self, handler, prefix: str, job_id: str, query: str
    ) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            hidden = self.hidden_job_lookups > 0
            self.hidden_job_lookups -= hidden
        if hidden:
            message = f"Not found: Job {job_id} (hidden by the test's fault proxy)"
            return 404, json.dumps({"error": {"code": 404, "message": message}}).encode(), {}
        known = self._jobs[job_id]
        if isinstance(known, dict):
            return 200, json.dumps(known).encode(), {}
        status, payload, _ = handler._forward(None, f"{prefix}{known}" + (f"?{query}" if query else ""))
        if status != 200:
            return status, payload, {}
        return 200, json.dumps(_with_job_id(json.loads(payload), job_id)).encode(), {}

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _forward(self, body: bytes | None, path: str | None = None) -> tuple[int, bytes, Message]:
                request = urllib.request.Request(
                    proxy.upstream + (path or self.path),
                    data=body,
                    method=self.command,
                    headers={k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS},
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        return response.status, response.read(), response.headers
                except urllib.error.HTTPError as exc:
                    return exc.code, exc.read(), exc.headers
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    with proxy._lock:
                        proxy.unreachable_answers += 1
                    return 503, json.dumps(UNAVAILABLE).encode(), Message()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                errors: list[dict] = []
                route = self.path.split("?")[0]
                is_insert = self.command == "POST" and route.endswith("/insertAll")
                load_answer = proxy._load_job(self, body)
                if load_answer:
                    status, payload, headers = load_answer
                    reply(self, status, payload, headers=headers)
                    return
                if body and self.command == "POST" and route.endswith(f"/tables/{proxy.table}/insertAll"):
                    with proxy._lock:
                        if proxy.unavailable_answers < proxy.unavailable_requests:
                            proxy.unavailable_answers += 1
                            reply_json(self, 503, UNAVAILABLE)
                            return
                        body, errors = proxy._insert_all(body)
                status, payload, headers = self._forward(body)
                if is_insert:
                    with proxy._lock:
                        proxy.insert_calls += 1
                    if proxy.insert_delay_s > 0:
                        time.sleep(proxy.insert_delay_s)
                if errors and status == 200:
                    answer = json.loads(payload or b"{}")
                    answer.setdefault("kind", "bigquery#tableDataInsertAllResponse")
                    for error in answer.get("insertErrors", []):
                        error["index"] = _original_index(error["index"], errors)
                    answer["insertErrors"] = answer.get("insertErrors", []) + errors
                    payload = json.dumps(answer).encode()
                location = {"Location": headers["Location"]} if headers.get("Location") else {}
                reply(self, status, payload, headers.get("Content-Type", ""), location)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        return Handler


def _row_error(index: int, reason: str, location: str, message: str) -> dict:
    """One ``insertErrors`` entry, shaped as BigQuery sends it."""
    return {
        "index": index,
        "errors": [{"reason": reason, "location": location, "debugInfo": "", "message": message}],
    }


def _original_index(forwarded_index: int, refused: list[dict]) -> int:
    """Map an index in the forwarded rows back to the caller's row index."""
    index = forwarded_index
    for refused_index in sorted(e["index"] for e in refused):
        if refused_index <= index:
            index += 1
    return index


def _invalid_timestamp(line: re.Match) -> bytes:
    """The line with its processed_timestamp (events) or failed_at (dead letters) turned into
    as many ``?``, which no TIMESTAMP column takes."""
    return re.sub(
        rb'"(processed_timestamp|failed_at)":"([^"]*)"',
        lambda m: b'"%s":"%s"' % (m[1], b"?" * len(m[2])),
        line[1],
    )


def _already_exists(job: dict) -> dict:
    """BigQuery's answer to a job whose id is taken."""
    message = f"Already Exists: Job {job.get('projectId')}:{job.get('jobId')}"
    return {
        "error": {"code": 409, "message": message, "errors": [{"reason": "duplicate", "message": message}]}
    }


def _failed_job(job_id: str) -> dict:
    """A load job resource, done and failed with a transient ``backendError`` (BACKEND_ERROR)."""
    reason, _, message = BACKEND_ERROR
    error = {"reason": reason, "message": message}
    return {
        "kind": "bigquery#job",
        "id": job_id,
        "jobReference": {"jobId": job_id},
        "configuration": {"load": {}},
        "status": {"state": "DONE", "errorResult": error, "errors": [error]},
    }


def _with_job_id(resource: dict, job_id: str) -> dict:
    """A job resource from the emulator under the id its client chose."""
    reference = {**resource.get("jobReference", {}), "jobId": job_id}
    return {**resource, "jobReference": reference, "id": f"{reference.get('projectId')}:{job_id}"}
