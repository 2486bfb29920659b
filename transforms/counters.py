"""The pipeline's Beam metric counters, in one place (SPEC section 5.7).

Run-wide counters live in namespace ``eventharbor``; per-stream ones in
``eventharbor.<stream>`` (orders, inventory, user_activity, unknown) with names
``read``, ``rejected_<code>``, ``duplicates``, ``sent``. ``pipeline.reconciliation``
reads them back into the run's summary.
"""

from __future__ import annotations

from apache_beam.metrics import Metrics

NAMESPACE = "eventharbor"


def counter(name: str):
    """A run-wide counter (``messages_in``, ``archived_messages``, ``internal_error_<stage>`` ...)."""
    return Metrics.counter(NAMESPACE, name)


def stream_counter(stream: str, name: str):
    """A per-stream counter: namespace ``eventharbor.<stream>``."""
    return Metrics.counter(f"{NAMESPACE}.{stream}", name)


def count_rejection(stream: str, code: str) -> None:
    stream_counter(stream, f"rejected_{code}").inc()
