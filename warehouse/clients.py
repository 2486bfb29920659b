"""The BigQuery client of the command-line tools (model runner, recovery, local stack).

Real BigQuery with Application Default Credentials, or a local emulator at ``--bigquery-endpoint``
with anonymous credentials; there the project defaults to :data:`EMULATOR_PROJECT`, the one the
local stack creates everything in, so no credentials are looked up for it. The Dataflow job has
no such default: it is always given its project (``pipeline/bigquery_client.py``).

Deadlines. An endpoint that does not answer ends the command with one line naming it and what to
do (:class:`pipeline.commands.CommandError`), where google-cloud-bigquery alone would retry for
ten minutes without a word, or wait forever on a socket that accepts and never answers:

- connecting: each attempt has :data:`CONNECT_SECONDS`; a refused or timed-out connection is tried
  again, said on stderr, for :data:`CONNECT_PATIENCE_SECONDS`, then the command stops;
- :func:`tool_client` asks the endpoint for one dataset name first: it must answer within
  :data:`ANSWER_SECONDS`;
- any other request has :data:`REQUEST_SECONDS` (30 minutes) to answer. Not less: the emulator runs
  a query inside the request that submits it, and one model step of a 60-day backfill takes
  minutes there (BigQuery itself answers each request in seconds; a job's runtime has no deadline);
- an answer BigQuery's client retries (429, 5xx) or a connection lost mid-request is said on
  stderr, so a long wait is never silent (for the requests it leaves to the deadlines above: a
  request the client library gives its own timeout is its business).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError

from pipeline.bigquery_client import bigquery_client
from pipeline.commands import CommandError, UsageError

if TYPE_CHECKING:
    from google.api_core.exceptions import GoogleAPICallError
    from google.cloud import bigquery

EMULATOR_PROJECT = "eventharbor-local"  # the project id local runs use; the emulators accept any
CONNECT_SECONDS = 10.0
CONNECT_PATIENCE_SECONDS = 20.0
ANSWER_SECONDS = 20.0
REQUEST_SECONDS = 30 * 60.0
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})  # what google-cloud-bigquery retries


def endpoint_name(endpoint: str | None) -> str:
    """How messages name the endpoint: the emulator's URL, or BigQuery's."""
    return f"BigQuery at {endpoint}" if endpoint else "BigQuery (bigquery.googleapis.com)"


def what_to_do(endpoint: str | None) -> str:
    """The advice for an endpoint that does not answer."""
    if endpoint:
        return (
            "is the emulator running? `python -m localdev.stack --warehouse` opens the last run's warehouse"
        )
    return "check the network connection (and HTTPS_PROXY, behind a proxy)"


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} minutes" if seconds >= 120 else f"{seconds:.0f} s"


def _say(line: str) -> None:
    """A line on stderr that leaves a progress bar intact."""
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


def tool_client(
    project: str | None = None,
    endpoint: str | None = None,
    location: str | None = None,
    say: Callable[[str], None] = _say,
) -> bigquery.Client:
    """A google-cloud-bigquery client: the emulator at ``endpoint`` (anonymous), else ADC; with
    the deadlines of the module's docstring, once the endpoint has answered (``say`` gets the
    lines about retries)."""
    try:
        client = bigquery_client(project or (EMULATOR_PROJECT if endpoint else None), endpoint, location)
    except OSError as exc:
        if type(exc) is not OSError:  # google-cloud's "Project was not passed" is a bare OSError
            raise
        raise UsageError(
            "--project: none given and none in the environment; pass --project, or run "
            "`gcloud config set project PROJECT`"
        ) from None
    # google-cloud's Client builds its requests session lazily as ``_http``: mount on it (not over
    # the adapter that carries a client certificate, under GOOGLE_API_USE_CLIENT_CERTIFICATE).
    session, deadlines = client._http, DeadlineAdapter(endpoint, say)
    for prefix in ("http://", "https://"):
        if not (prefix == "https://" and getattr(session, "is_mtls", False)):
            session.mount(prefix, deadlines)
    _check_answers(client, endpoint)
    return client


def _check_answers(client: bigquery.Client, endpoint: str | None) -> None:
    """Ask for one dataset name: any answer will do (an error is an answer too)."""
    from google.api_core.exceptions import GoogleAPICallError

    try:
        list(client.list_datasets(max_results=1, retry=None, timeout=(CONNECT_SECONDS, ANSWER_SECONDS)))
    except GoogleAPICallError:
        return
    except requests.exceptions.Timeout:
        raise CommandError(
            f"{endpoint_name(endpoint)} accepted the connection but did not answer in "
            f"{_duration(ANSWER_SECONDS)}; {what_to_do(endpoint)}"
        ) from None
    except requests.exceptions.RequestException as exc:
        raise CommandError(
            f"{endpoint_name(endpoint)} did not answer ({_why(exc)}); {what_to_do(endpoint)}"
        ) from None


def refused(exc: GoogleAPICallError, what: str) -> CommandError:
    """A BigQuery error answer as one line: ``what`` was refused, and the first line of BigQuery's
    reason (its error's own message, without the request's method and URL)."""
    reasons = [e.get("message") for e in exc.errors or [] if isinstance(e, dict) and e.get("message")]
    message = (reasons[0] if reasons else str(exc.message or exc)).strip().splitlines()[0]
    return CommandError(f"{what}: BigQuery refused it: {exc.code} {message}")


def _why(exc: requests.exceptions.RequestException) -> str:
    """The innermost reason of a requests error, e.g. 'connection refused', in a few words."""
    reason: BaseException = exc
    while reason.args and isinstance(reason.args[-1], BaseException):
        reason = reason.args[-1]  # requests' error wraps urllib3's, which may wrap another
    reason = getattr(reason, "reason", reason)
    cause = reason.__cause__ or reason.__context__
    words = getattr(cause, "strerror", None) or str(reason)
    return words.split(": ")[-1].lower() if words else type(reason).__name__


def _not_connected(exc: requests.exceptions.ConnectionError) -> str | None:
    """Why no connection was made ('connection refused', 'timed out'), or None when one was made
    (then the request may have reached the endpoint)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if not isinstance(reason, ConnectTimeoutError):
        return None
    cause = reason.__cause__ or reason.__context__
    return (getattr(cause, "strerror", None) or "timed out").lower()


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with the deadlines of the module's docstring, for one endpoint."""

    def __init__(self, endpoint: str | None, say: Callable[[str], None]) -> None:
        super().__init__()
        self.name, self.advice, self.say = endpoint_name(endpoint), what_to_do(endpoint), say

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        ours = timeout is None  # the client library sets none on most requests
        if ours:
            timeout = (CONNECT_SECONDS, REQUEST_SECONDS)
        give_up, pause = time.monotonic() + CONNECT_PATIENCE_SECONDS, 1.0
        while True:
            try:
                response = super().send(request, stream, timeout, verify, cert, proxies)
            except requests.exceptions.ConnectionError as exc:
                why = _not_connected(exc)
                if why is None:  # connected: the request may have arrived, the client library decides
                    if ours:
                        self.say(
                            f"{self.name}: connection lost ({_why(exc)}); the BigQuery client tries again"
                        )
                    raise
                left = give_up - time.monotonic()
                if left <= 0:
                    raise CommandError(
                        f"{self.name} did not accept a connection in {_duration(CONNECT_PATIENCE_SECONDS)} "
                        f"({why}); {self.advice}"
                    ) from None
                self.say(f"{self.name}: {why}; trying again for {left:.0f} s more")
                time.sleep(min(pause, left))
                pause *= 2
                continue
            except requests.exceptions.ReadTimeout:
                if not ours:
                    raise
                raise CommandError(
                    f"{self.name} did not answer a request in {_duration(timeout[1])}; {self.advice}"
                ) from None
            if ours and response.status_code in RETRIED_STATUSES:
                self.say(
                    f"{self.name} answered {response.status_code} {response.reason}; "
                    "the BigQuery client tries again"
                )
            return response
