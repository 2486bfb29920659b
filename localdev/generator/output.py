"""Where a sample goes: JSON Lines files per arrival day with the manifest, or Pub/Sub."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from localdev.generator.sample import SOURCE, Sample, SampleMessage
from localdev.stack import MIXED


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
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    futures = []
    for message in messages:
        path = publisher.topic_path(project, topic_for(message, topic, per_stream))
        futures.append(publisher.publish(path, message.data, source=SOURCE))
    for future in futures:
        future.result(timeout=120)
    return len(futures)
