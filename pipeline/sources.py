"""Sources: files (JSON Lines or raw-archive envelopes, batch) and Pub/Sub (streaming)."""

from __future__ import annotations

from collections.abc import Iterator

import apache_beam as beam
from apache_beam.coders import BytesCoder
from apache_beam.io import ReadFromPubSub
from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.textio import ReadFromTextWithFilename

from pipeline.options import OptionsError
from pipeline.progress import counting_bar
from transforms.messages import INVALID_ENVELOPE_ATTRIBUTE, InvalidEnvelope, Message, envelope_of
from transforms.validation import MAX_PAYLOAD_BYTES

SOURCE_FILE_ATTRIBUTE = "source_file"
# An envelope holds at most a 1 MiB payload, as base64 or escaped JSON text; a longer
# envelope-shaped line stays data and is rejected as payload_too_large.
MAX_ENVELOPE_BYTES = 8 * MAX_PAYLOAD_BYTES


def line_to_message(filename: str, line: bytes) -> Message:
    """A file line -> Message: an archive envelope is unwrapped, any other line is the data itself.

    An envelope-shaped line that cannot be unwrapped stays as read, marked with why, so the
    parse stage dead-letters it as ``invalid_envelope`` with the line as its payload.
    """
    envelope = envelope_of(line, MAX_ENVELOPE_BYTES)
    if envelope is None:
        return Message(data=line, attributes={SOURCE_FILE_ATTRIBUTE: filename})
    try:
        return Message.from_envelope(envelope)
    except InvalidEnvelope as exc:
        return Message(
            data=line, attributes={SOURCE_FILE_ATTRIBUTE: filename, INVALID_ENVELOPE_ATTRIBUTE: str(exc)}
        )


def file_line_message(element: tuple[str, bytes]) -> Message | None:
    """A (filename, line) of an input file -> its Message; None for a blank line (not a message)."""
    filename, line = element
    return line_to_message(filename, line) if line.strip() else None


class LineToMessage(beam.DoFn):
    """File lines -> Messages (blank lines are not messages and are skipped)."""

    def process(self, element: tuple[str, bytes]) -> Iterator[Message]:
        message = file_line_message(element)
        if message is not None:
            yield message


class ReadProgress(beam.DoFn):
    """Count the messages read on a tqdm bar on stderr (per worker), for long local runs.

    Only in the graph when ``--progress_every`` asks for it (``make run`` does).
    """

    def __init__(self, every: int = 1000) -> None:
        self.every = every
        self.bar = None

    def setup(self) -> None:
        self.bar = counting_bar("read", " messages", self.every)

    def process(self, message: Message | tuple[str, bytes]) -> Iterator[Message | tuple[str, bytes]]:
        self.bar.update(1)
        yield message

    def teardown(self) -> None:
        if self.bar is not None:
            self.bar.close()


def pubsub_to_message(pubsub_message) -> Message:
    return Message(
        data=pubsub_message.data or b"",
        attributes=dict(pubsub_message.attributes or {}),
        message_id=pubsub_message.message_id,
        publish_time=pubsub_message.publish_time,
    )


def input_patterns(value: str) -> list[str]:
    """``--input``'s comma-separated globs."""
    return [p.strip() for p in value.split(",") if p.strip()]


def check_inputs_exist(patterns: list[str]) -> None:
    """Fail naming every ``--input`` glob that matches no file (Beam would stop with a traceback)."""
    try:
        results = FileSystems.match(patterns, limits=[1] * len(patterns))
    except BeamIOError as exc:
        raise OptionsError(f"--input: cannot list {', '.join(patterns)}: {exc}") from None
    empty = [result.pattern for result in results if not result.metadata_list]
    if empty:
        raise OptionsError(f"--input: no file matches {', '.join(empty)}; check the path or the glob")


class ReadFiles(beam.PTransform):
    """Comma-separated globs -> Messages; with ``lines``, their (filename, line) pairs instead,
    for a next step that makes each its message itself (``file_line_message``), one step less."""

    def __init__(self, patterns: str, progress_every: int = 0, lines: bool = False) -> None:
        super().__init__()
        self.patterns = input_patterns(patterns)
        self.progress_every = progress_every
        self.lines = lines

    def expand(self, pipeline):
        reads = [
            pipeline | f"ReadFiles{i}" >> ReadFromTextWithFilename(pattern, coder=BytesCoder())
            for i, pattern in enumerate(self.patterns)
        ]
        lines = reads[0] if len(reads) == 1 else reads | "AllFiles" >> beam.Flatten()
        messages = lines if self.lines else lines | "ToMessage" >> beam.ParDo(LineToMessage())
        if self.progress_every:
            messages = messages | "Progress" >> beam.ParDo(ReadProgress(self.progress_every))
        return messages


class ReadSubscriptions(beam.PTransform):
    """Comma-separated subscription paths -> Messages, timestamped at publish time."""

    def __init__(self, subscriptions: str) -> None:
        super().__init__()
        self.subscriptions = [s.strip() for s in subscriptions.split(",") if s.strip()]

    def expand(self, pipeline):
        reads = [
            pipeline
            | f"Read_{path.rsplit('/', 1)[-1]}" >> ReadFromPubSub(subscription=path, with_attributes=True)
            for path in self.subscriptions
        ]
        return reads | "AllSubscriptions" >> beam.Flatten() | "ToMessage" >> beam.Map(pubsub_to_message)
