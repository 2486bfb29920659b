"""The BigQuery client of the command-line tools (model runner, recovery, local stack).

Real BigQuery with Application Default Credentials, or a local emulator at ``--bigquery-endpoint``
with anonymous credentials; there the project defaults to :data:`EMULATOR_PROJECT`, the one the
local stack creates everything in, so no credentials are looked up for it. The Dataflow job has
no such default: it is always given its project (``pipeline/bigquery_client.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.bigquery_client import bigquery_client

if TYPE_CHECKING:
    from google.cloud import bigquery

EMULATOR_PROJECT = "eventharbor-local"  # the project id local runs use; the emulators accept any


def tool_client(
    project: str | None = None, endpoint: str | None = None, location: str | None = None
) -> bigquery.Client:
    """A google-cloud-bigquery client: the emulator at ``endpoint`` (anonymous), else ADC."""
    return bigquery_client(project or (EMULATOR_PROJECT if endpoint else None), endpoint, location)
