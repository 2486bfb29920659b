"""Flex Template entry point: ``python -m pipeline.main`` with the template's parameters.

Two things only the template needs:

- ``--source`` defaults to ``pubsub``: a job launched from this template is the streaming job.
- ``--ip_hash_key_secret projects/P/secrets/S/versions/V`` is read from Secret Manager, as the
  job's service account, into ``EVENTHARBOR_IP_HASH_KEY`` (what ``--ip_mode hash`` uses), so
  the key itself never appears among the job's visible options.

Everything else goes to ``pipeline.main``, which refuses an option neither EventHarbor nor Beam
knows (naming the nearest one) before the job is built; launched from here, only one that looks
like a misspelling of EventHarbor's own, since Google's launcher may pass options of its own.
Errors end as one line in the launcher's console log (``pipeline/commands.py``).
"""

from __future__ import annotations

import base64
import os
import runpy
import sys
from collections.abc import Sequence

from pipeline.command_line import LAUNCHER_ENV
from pipeline.commands import CommandError, run_command
from pipeline.options import IP_HASH_KEY_ENV

PROG = "flex-template/launch.py"
SECRET_FLAG = "--ip_hash_key_secret"


def launcher_args(argv: list[str]) -> tuple[list[str], str | None]:
    """The pipeline's arguments (with ``--source`` defaulted) and the secret version, if given."""
    args: list[str] = []
    secret = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith(SECRET_FLAG + "="):
            secret = arg.split("=", 1)[1]
        elif arg == SECRET_FLAG and i + 1 < len(argv):
            secret = argv[i + 1]
            i += 1
        else:
            args.append(arg)
        i += 1
    if not any(a == "--source" or a.startswith("--source=") for a in args):
        args.append("--source=pubsub")
    return args, secret or None


def access_secret(version: str) -> str:
    """The payload of a Secret Manager secret version, read with Application Default Credentials."""
    import google.auth
    from google.auth.transport.requests import AuthorizedSession

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    response = AuthorizedSession(credentials).get(
        f"https://secretmanager.googleapis.com/v1/{version}:access", timeout=60
    )
    if not response.ok:
        hint = (
            "the job's service account needs roles/secretmanager.secretAccessor on it"
            if response.status_code == 403
            else "check that the secret version exists and is enabled"
        )
        raise CommandError(
            f"{SECRET_FLAG} {version}: Secret Manager answered HTTP {response.status_code}; {hint}"
        )
    # Like the deploy script's $(gcloud secrets versions access ...): trailing newlines dropped.
    return base64.b64decode(response.json()["payload"]["data"]).decode("utf-8").rstrip("\r\n")


def main(argv: Sequence[str]) -> None:
    args, secret = launcher_args(list(argv))
    if secret:
        os.environ[IP_HASH_KEY_ENV] = access_secret(secret)
    sys.argv = [sys.argv[0], *args]
    os.environ[LAUNCHER_ENV] = "flex-template"
    runpy.run_module("pipeline.main", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    sys.exit(run_command(main, PROG))
