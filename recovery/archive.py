"""Archive replay: re-run the pipeline over the raw archive for a range of days.

The archive holds every message as received under
``<root>/<stream|unknown>/dt=YYYY-MM-DD/hr=HH/*.jsonl.gz`` (``dt`` is the day the message was
published or read). Replaying a range feeds those envelopes to the batch pipeline, into the
existing tables, without deleting partitions first: rows already loaded are loaded again
(same ``event_id``, also sent as insertId) and the models count each ``event_id`` once, so
no model changes. The replay does not archive what it reads again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from apache_beam.io.filesystems import FileSystems

from pipeline.commands import UsageError


class NothingToReplay(UsageError):
    """No archive file exists for the requested days (check --root and the days)."""


class BeyondExpiration(UsageError):
    """The range starts on a day whose raw partitions have expired."""


def check_within_expiration(start: date, today: date, expiration_days: int) -> None:
    """Refuse a replay that starts on a day the raw tables no longer keep.

    BigQuery deletes a partition ``expiration_days`` after its day, and rows loaded into an expired
    partition are deleted too: a replay of such days would load nothing that stays, and the models
    could not count it. (Archive days are the days messages were published or read; events of a
    day can be older, and those are counted by the scheduled models as rows in expired partitions.)
    """
    first_kept = today - timedelta(days=expiration_days - 1)
    if start < first_kept:
        raise BeyondExpiration(
            f"--start {start} is before {first_kept}: the raw tables keep {expiration_days} days of "
            f"partitions (partition expiration), so BigQuery would delete what a replay of earlier "
            f"days loads. Replay from {first_kept}, or raise events_partition_expiration_days "
            f"(Terraform) and --partition-expiration-days first."
        )


def archive_globs(root: str, start: date, end: date) -> list[str]:
    """One glob per day of ``start``..``end`` that has archive files (every stream, every hour)."""
    if end < start:
        raise UsageError(f"--end {end} is before --start {start}")
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    patterns = [f"{root.rstrip('/')}/*/dt={day.isoformat()}/hr=*/*.jsonl.gz" for day in days]
    results = FileSystems.match(patterns, limits=[1] * len(patterns))
    found = [result.pattern for result in results if result.metadata_list]
    if not found:
        raise NothingToReplay(
            f"no archive files under {root} for {start} .. {end}; check --root and the days"
        )
    return found


def pipeline_argv(root: str, start: date, end: date, pipeline_args: Sequence[str]) -> list[str]:
    """The batch pipeline's options for the replay: the archive's files as input, no re-archiving."""
    if any(arg.startswith("--archive_root") for arg in pipeline_args):
        raise UsageError("an archive replay must not archive again: drop --archive_root")
    return ["--source=files", f"--input={','.join(archive_globs(root, start, end))}", *pipeline_args]


def replay_archive(root: str, start: date, end: date, pipeline_args: Sequence[str]) -> dict:
    """Run the batch pipeline over the archive's days; returns its reconciliation summary."""
    from pipeline import main

    return main.run(pipeline_argv(root, start, end, pipeline_args))
