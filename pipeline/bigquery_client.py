"""The one place a google-cloud-bigquery client is built: real BigQuery, or an emulator endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from google.cloud import bigquery


def bigquery_client(
    project: str | None, endpoint: str | None = None, location: str | None = None
) -> bigquery.Client:
    """Application Default Credentials against BigQuery, or anonymous credentials against the
    local emulator at ``endpoint`` (``http://host:port``), which accepts any request."""
    from google.cloud import bigquery

    if not endpoint:
        return bigquery.Client(project=project, location=location)
    from google.auth.credentials import AnonymousCredentials

    return bigquery.Client(
        project=project,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": endpoint},
        location=location,
    )
