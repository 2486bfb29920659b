"""Command lines for the pipeline's options in the tests that check them without running anything."""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions

# A streaming run: Pub/Sub in, its subscription named as the option wants it.
PUBSUB = ["--source=pubsub", "--subscriptions=projects/p/subscriptions/s"]


def streaming_options(*more: str) -> PipelineOptions:
    """The options of a streaming run of project ``p`` from Pub/Sub, with ``more`` options."""
    return PipelineOptions([*PUBSUB, "--project=p", *more])
