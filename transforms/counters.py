"""The pipeline's Beam metric counters, in one place.

Run-wide counters live in namespace ``eventharbor``; per-stream ones in
``eventharbor.<stream>`` (orders, inventory, user_activity, unknown) with names
``read``, ``rejected_<code>``, ``duplicates``, ``sent``. ``pipeline.reconciliation``
reads them back into the run's summary.
"""

from __future__ import annotations

from functools import cache

from apache_beam.metrics import Metrics

NAMESPACE = "eventharbor"


# Cached: a Beam counter object resolves the current metrics container when incremented, so
# one object per name serves every bundle; creating one per element was a visible cost.
@cache
def counter(name: str):
    """A run-wide counter (``messages_in``, ``archived_messages``, ``internal_error_<stage>`` ...)."""
    return Metrics.counter(NAMESPACE, name)


@cache
def stream_counter(stream: str, name: str):
    """A per-stream counter: namespace ``eventharbor.<stream>``."""
    return Metrics.counter(f"{NAMESPACE}.{stream}", name)


def count_rejection(stream: str, code: str) -> None:
    stream_counter(stream, f"rejected_{code}").inc()
