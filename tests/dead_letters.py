"""Dead-letter rows for the BigQuery sink tests, the event ids a dataset's dead_letter table holds, and
a streaming run whose one refused order must become a ``load_rejected`` dead letter."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from apache_beam.options.pipeline_options import PipelineOptions
from google.cloud import pubsub_v1

from localdev.stack import LocalStack
from tests.events import ORDER, changed
from tests.pipeline_runs import start_streaming, table_rows
from transforms.messages import Failure, Message
from transforms.rows import dead_letter_row

FAILED_AT = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
ALL = "event_date >= '1970-01-01'"  # every partition (the tables require a partition filter)


def dead_letter(event_id: str, payload_bytes: int = 10) -> dict:
    """A dead_letter row of an unparsable orders message of ``payload_bytes`` bytes."""
    message = Message(data=b"x" * payload_bytes, message_id=f"m-{event_id}")
    failure = Failure(message, "orders", "parse", "invalid_json", "not JSON", event_id)
    return dead_letter_row(failure, FAILED_AT)


def event_ids(stack: LocalStack, dataset: str) -> list[str]:
    """The event ids of ``dataset``'s dead_letter table, sorted."""
    return sorted(r["event_id"] for r in table_rows(stack, dataset, "dead_letter"))


def stream_one_refused_order(stack: LocalStack, options: PipelineOptions, topic: str, dataset: str) -> dict:
    """Run the streaming pipeline of ``options`` in this process and publish to ``topic`` (attribute
    ``origin=rejected``) an order ``evt-refused``, an order ``evt-accepted`` and a line that is not
    JSON; once ``dataset`` holds two dead letters and an order (or after 240 s), cancel it.

    Checks what every write path must give: the two dead letters, ``invalid_json`` and the
    refused order's ``load_rejected`` (stage load, stream orders, with the Pub/Sub metadata of
    the message as received), and ``evt-accepted`` alone loaded. Returns the refused order's row.
    """
    result = start_streaming(options)
    try:
        publisher = pubsub_v1.PublisherClient()
        path = publisher.topic_path(stack.project, topic)
        orders = [changed(ORDER, "event_id", event_id) for event_id in ("evt-refused", "evt-accepted")]
        for data in (*orders, b"{"):
            publisher.publish(path, data, origin="rejected").result(timeout=30)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not (
            len(table_rows(stack, dataset, "dead_letter")) >= 2 and table_rows(stack, dataset, "orders", ALL)
        ):
            time.sleep(2)
    finally:
        result.cancel()

    dead = {r["error_code"]: r for r in table_rows(stack, dataset, "dead_letter")}
    assert sorted(dead) == ["invalid_json", "load_rejected"]
    refused = dead["load_rejected"]
    assert (refused["stage"], refused["stream"], refused["event_id"]) == ("load", "orders", "evt-refused")
    assert refused["message_id"] and refused["publish_time"]
    assert refused["attributes"] == {"origin": "rejected"}
    assert [r["event_id"] for r in table_rows(stack, dataset, "orders", ALL)] == ["evt-accepted"]
    return refused
