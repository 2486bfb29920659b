"""Flex Template entry point: ``python -m pipeline.main`` with the template's parameters.

Two things only the template needs:

- ``--source`` defaults to ``pubsub``: a job launched from this template is the streaming job.
- ``--ip_hash_key_secret projects/P/secrets/S/versions/V`` is read from Secret Manager, as the
  job's service account, into ``EVENTHARBOR_IP_HASH_KEY`` (what ``--ip_mode hash`` uses), so
  the key itself never appears among the job's visible options.
"""

from __future__ import annotations

import base64
import os
import runpy
import sys

from pipeline.options import IP_HASH_KEY_ENV

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
    response.raise_for_status()
    # Like the deploy script's $(gcloud secrets versions access ...): trailing newlines dropped.
    return base64.b64decode(response.json()["payload"]["data"]).decode("utf-8").rstrip("\r\n")


def main(argv: list[str]) -> None:
    args, secret = launcher_args(argv)
    if secret:
        os.environ[IP_HASH_KEY_ENV] = access_secret(secret)
    sys.argv = [sys.argv[0], *args]
    runpy.run_module("pipeline.main", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
