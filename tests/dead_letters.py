"""Dead-letter rows for the BigQuery sink tests, and the event ids a dataset's dead_letter table holds."""

from __future__ import annotations

from datetime import datetime, timezone

from localdev.stack import LocalStack
from tests.pipeline_runs import table_rows
from transforms.messages import Failure, Message
from transforms.rows import dead_letter_row

FAILED_AT = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def dead_letter(event_id: str, payload_bytes: int = 10) -> dict:
    """A dead_letter row of an unparsable orders message of ``payload_bytes`` bytes."""
    message = Message(data=b"x" * payload_bytes, message_id=f"m-{event_id}")
    failure = Failure(message, "orders", "parse", "invalid_json", "not JSON", event_id)
    return dead_letter_row(failure, FAILED_AT)


def event_ids(stack: LocalStack, dataset: str) -> list[str]:
    """The event ids of ``dataset``'s dead_letter table, sorted."""
    return sorted(r["event_id"] for r in table_rows(stack, dataset, "dead_letter"))
