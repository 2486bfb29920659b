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
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
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
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.table = table
        self.reject_event_ids = set(reject_event_ids)
        self.transient_event_ids = dict(transient_event_ids or {})
        self.unavailable_requests = unavailable_requests
        self.insert_delay_s = insert_delay_s
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

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _forward(self, body: bytes | None) -> tuple[int, bytes, str]:
                request = urllib.request.Request(
                    proxy.upstream + self.path,
                    data=body,
                    method=self.command,
                    headers={k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS},
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        return response.status, response.read(), response.headers.get("Content-Type", "")
                except urllib.error.HTTPError as exc:
                    return exc.code, exc.read(), exc.headers.get("Content-Type", "")
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    with proxy._lock:
                        proxy.unreachable_answers += 1
                    return 503, json.dumps(UNAVAILABLE).encode(), "application/json"

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type or "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                errors: list[dict] = []
                route = self.path.split("?")[0]
                is_insert = self.command == "POST" and route.endswith("/insertAll")
                if body and self.command == "POST" and route.endswith(f"/tables/{proxy.table}/insertAll"):
                    with proxy._lock:
                        if proxy.unavailable_answers < proxy.unavailable_requests:
                            proxy.unavailable_answers += 1
                            self._reply(503, json.dumps(UNAVAILABLE).encode(), "application/json")
                            return
                        body, errors = proxy._insert_all(body)
                status, payload, content_type = self._forward(body)
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
                self._reply(status, payload, content_type)

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
