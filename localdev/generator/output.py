"""Where a sample goes: JSON Lines files per arrival day with the manifest, or Pub/Sub."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from concurrent import futures as concurrent
from pathlib import Path

from localdev.generator.sample import SOURCE, Sample, SampleMessage
from localdev.stack import MIXED
from pipeline.commands import CommandError

# A topic check answers within this; every publish is acknowledged within PUBLISHED_WITHIN_S.
ANSWER_WITHIN_S = 20
PUBLISHED_WITHIN_S = 60


def write_files(sample: Sample, out_dir: Path) -> list[Path]:
    """``events-YYYY-MM-DD.jsonl`` per arrival day (binary, one message a line) and manifest.json.

    Earlier ``events-*.jsonl`` files in ``out_dir`` are removed first, so the directory holds
    exactly this sample.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("events-*.jsonl"):
        stale.unlink()
    written = []
    for day, lines in sorted(sample.by_day().items()):
        path = out_dir / f"events-{day.isoformat()}.jsonl"
        with path.open("wb") as handle:
            handle.writelines(line + b"\n" for line in lines)
        written.append(path)
    (out_dir / "manifest.json").write_text(json.dumps(sample.manifest, indent=2) + "\n")
    return written


def topic_for(message: SampleMessage, topic: str = MIXED, per_stream: bool = False) -> str:
    """``topic``, or with ``per_stream`` the message's stream when the pipeline can tell it."""
    return message.stream if per_stream and message.stream else topic


def publish(
    messages: Iterable[SampleMessage], project: str, topic: str = MIXED, per_stream: bool = False
) -> int:
    """Publish in order to ``topic``, or per stream to orders / inventory / user_activity.

    With ``per_stream``, messages whose stream cannot be told still go to ``topic``. Every
    message is published, envelope lookalikes included: as Pub/Sub data they are plain objects
    without ``event_type`` (``SampleMessage.pubsub_error_code``; the manifest's
    ``rejected_on_pubsub``). Every message carries the attribute ``source=eventharbor-generate``.
    Returns the count.
    """
    from google.api_core import exceptions, retry
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import pubsub_v1

    endpoint = os.environ.get("PUBSUB_EMULATOR_HOST") or "pubsub.googleapis.com"
    messages = list(messages)
    try:
        publisher = pubsub_v1.PublisherClient()
    except DefaultCredentialsError:
        raise CommandError(
            f"no Google Cloud credentials to publish to Pub/Sub in {project}: run `gcloud auth "
            "application-default login`, or set PUBSUB_EMULATOR_HOST to publish to the local emulator"
        ) from None
    paths = [publisher.topic_path(project, topic_for(m, topic, per_stream)) for m in messages]
    for path in sorted(set(paths)):
        try:
            # The default retry would try UNAVAILABLE for ten minutes, whatever the timeout.
            publisher.get_topic(topic=path, retry=retry.Retry(timeout=ANSWER_WITHIN_S), timeout=10)
        except exceptions.NotFound:
            raise CommandError(
                f"Pub/Sub topic {path} does not exist at {endpoint}: create it "
                "(`python -m localdev.stack` creates the local topics; terraform/ the cloud ones)"
            ) from None
        except (exceptions.GoogleAPICallError, exceptions.RetryError) as error:
            raise CommandError(
                f"Pub/Sub at {endpoint} does not answer for {path} ({type(error).__name__}); start the "
                "emulator (`python -m localdev.stack`) or unset PUBSUB_EMULATOR_HOST for Google Cloud"
            ) from None
    pending = [
        publisher.publish(path, message.data, source=SOURCE)
        for path, message in zip(paths, messages, strict=True)
    ]
    deadline = time.monotonic() + PUBLISHED_WITHIN_S
    try:
        for future in pending:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
    except (concurrent.TimeoutError, exceptions.GoogleAPICallError) as error:
        unacknowledged = sum(not f.done() or f.exception() is not None for f in pending)
        raise CommandError(
            f"Pub/Sub at {endpoint} acknowledged {len(pending) - unacknowledged} of {len(pending)} "
            f"messages within {PUBLISHED_WITHIN_S} s ({type(error).__name__}); the rest may be lost: "
            "publish the sample again (the pipeline drops the duplicates)"
        ) from None
    return len(pending)
