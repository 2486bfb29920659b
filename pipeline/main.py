"""EventHarbor pipeline entry point: ``python -m pipeline.main [options]`` (``--help`` lists them).

Batch over files on the DirectRunner, or streaming from Pub/Sub on Dataflow (or
the DirectRunner), with the same graph:

    read -> parse/validate -> archive (every message)
                           -> de-duplicate -> raw tables -> refused rows -> dead letters
                           -> failures ------------------------------------> dead letters
                           -> sliding-window metrics -> realtime_event_metrics
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipeline.bigquery_writes import BigQueryTarget
from pipeline.command_line import PROG, check_known_options, help_text, wants_help
from pipeline.commands import run_command
from pipeline.file_sink import FileTarget
from pipeline.options import bigquery_project, check_options, ip_hash_key, write_method
from pipeline.reconciliation import counters, format_summary, reconcile, write_summary
from pipeline.sinks import WriteEvents, failure_to_row, write_rows
from pipeline.sources import (
    ReadFiles,
    ReadSubscriptions,
    check_inputs_exist,
    file_line_message,
    input_patterns,
)
from transforms.archive import ArchiveRawMessages
from transforms.counters import NAMESPACE
from transforms.dedup import DeduplicateEvents
from transforms.parse import ParseAndValidate
from transforms.realtime_metrics import RealtimeEventMetrics
from transforms.times import utc_now


def count_dead_letter_write_failures(failed) -> None:
    Metrics.counter(NAMESPACE, "dead_letter_write_failed").inc()
    logging.error("dead-letter row could not be written (the message stays in the raw archive): %s", failed)


def build_pipeline(
    pipeline: beam.Pipeline, options: PipelineOptions, clock: Callable[[], datetime] = utc_now
) -> None:
    """Wire the whole graph onto ``pipeline`` from ``options``."""
    opts = check_options(options)
    streaming = options.view_as(StandardOptions).streaming
    project = bigquery_project(options)
    progress_every = opts.progress_every if opts.source == "files" else 0
    method = write_method(options)
    target = (
        FileTarget(opts.output_dir)
        if opts.output_dir
        else BigQueryTarget(
            project,
            opts.bigquery_endpoint,
            report_every=progress_every,
            load_jobs=method == "file_loads",
            storage_write_api=method == "storage_write_api",
            storage_endpoint=opts.bigquery_storage_endpoint,
            write_shards=opts.storage_write_shards,
            batch_rows=opts.storage_write_batch_rows,
            batch_wait_s=opts.storage_write_batch_wait_s,
        )
    )

    if opts.source == "pubsub":
        messages = pipeline | "ReadPubSub" >> ReadSubscriptions(opts.subscriptions)
        to_message = None
    else:
        # File lines become messages in the validation step itself: one step less per line.
        messages = pipeline | "ReadFiles" >> ReadFiles(opts.input, progress_every, lines=True)
        to_message = file_line_message

    valid, failures = messages | "ParseAndValidate" >> ParseAndValidate(
        opts.ip_mode, ip_hash_key(opts), clock, to_message
    )

    if opts.archive_root:
        _ = (valid, failures) | "Archive" >> ArchiveRawMessages(
            opts.archive_root, streaming, opts.archive_window_s
        )

    unique, unique_by_stream = valid | "Deduplicate" >> DeduplicateEvents(opts.dedup_window_s, streaming)
    refused = unique_by_stream | "WriteEvents" >> WriteEvents(project, opts.dataset, target)

    dead_letters = (
        failures | "FailureToRow" >> beam.Map(failure_to_row),
        refused,
    ) | "AllDeadLetters" >> beam.Flatten()
    dead_letters_refused = write_rows(
        dead_letters, f"{project}:{opts.dataset}.{opts.dead_letter_table}", target, schema_table="dead_letter"
    )
    _ = dead_letters_refused | "DeadLetterWriteFailed" >> beam.Map(count_dead_letter_write_failures)

    metric_rows = unique | "RealtimeMetrics" >> RealtimeEventMetrics(
        opts.window_size_s,
        opts.window_period_s,
        opts.allowed_lateness_s,
        opts.early_firing_s,
        streaming,
        opts.batch_window_s,
    )
    write_rows(
        metric_rows,
        f"{project}:{opts.dataset}.{opts.metrics_table}",
        target,
        schema_table="realtime_event_metrics",
    )


def run(argv: Sequence[str] | None = None, clock: Callable[[], datetime] = utc_now) -> dict | None:
    """Run the pipeline; for batch runs return (and print) the reconciliation summary.

    Unknown options and bad option values raise :class:`~pipeline.commands.UsageError` (an
    :class:`~pipeline.options.OptionsError` is one) before anything is read or started."""
    argv = list(sys.argv[1:] if argv is None else argv)
    check_known_options(argv)
    options = PipelineOptions(argv)
    opts = check_options(options)
    if opts.source == "files":
        check_inputs_exist(input_patterns(opts.input))
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, options, clock)
    # Everything alive now (Beam, the graph, schemas) lives as long as the run: out of the
    # collector's sight, a full collection does not walk it again and again. Unfrozen after.
    gc.freeze()
    try:
        result = pipeline.run()
        if options.view_as(StandardOptions).streaming:
            return None
        result.wait_until_finish()
    finally:
        gc.unfreeze()
    summary = reconcile(counters(result))
    print(format_summary(summary))
    if opts.summary_path:
        write_summary(summary, opts.summary_path)
    return summary


def main(argv: Sequence[str]) -> int:
    """``--help`` / ``--help-all``: print the options; anything else: :func:`run` with ``argv``."""
    if wants_help(argv):
        print(help_text(argv), end="")
        return 0
    run(argv)
    return 0


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.WARNING)
    sys.exit(run_command(main, PROG))
