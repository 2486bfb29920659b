"""Command-line options of the EventHarbor pipeline (beside Beam's standard ones)."""

from __future__ import annotations

import os

from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions, StandardOptions

from pipeline.commands import UsageError
from pipeline.progress import check_progress_available
from pipeline.storage_writes import DEFAULT_BATCH_ROWS, DEFAULT_BATCH_WAIT_S, DEFAULT_SHARDS
from transforms import known_fields
from transforms.validation import IP_MODES

IP_HASH_KEY_ENV = "EVENTHARBOR_IP_HASH_KEY"
WRITE_METHODS = ("auto", "file_loads", "streaming_inserts", "storage_write_api")
# The title of each group of EventHarbor's options starts with this (Beam's groups do not).
GROUP_PREFIX = "EventHarbor: "


class EventHarborOptions(PipelineOptions):
    """EventHarbor's options, in the groups ``python -m pipeline.main --help`` and the README's
    Configuration tables show (:mod:`pipeline.command_line`)."""

    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        group = parser.add_argument_group(f"{GROUP_PREFIX}input")
        group.add_argument(
            "--source",
            choices=("files", "pubsub"),
            default="files",
            help="files: batch over --input; pubsub: streaming from --subscriptions (sets --streaming).",
        )
        group.add_argument(
            "--input",
            help="Comma-separated file globs (local or gs://) of JSON Lines events or raw-archive envelopes "
            "(.gz read transparently). Used with --source files. A glob that matches no file stops the "
            "run before it starts, naming the glob.",
        )
        group.add_argument(
            "--subscriptions",
            help="Comma-separated Pub/Sub subscription paths (projects/P/subscriptions/S): one per stream "
            "or one mixed; events are routed by their event_type. Used with --source pubsub.",
        )

        group = parser.add_argument_group(f"{GROUP_PREFIX}BigQuery tables")
        group.add_argument("--bq_project", help="Project of the BigQuery datasets (default: --project).")
        group.add_argument(
            "--dataset", default="events", help="Dataset of the raw, dead-letter and metrics tables."
        )
        group.add_argument("--dead_letter_table", default="dead_letter", help="Table for rejected messages.")
        group.add_argument(
            "--metrics_table", default="realtime_event_metrics", help="Table for sliding-window counts."
        )

        group = parser.add_argument_group(f"{GROUP_PREFIX}BigQuery writes")
        group.add_argument(
            "--bigquery_write_method",
            choices=WRITE_METHODS,
            default="auto",
            help="How rows reach BigQuery: file_loads (load jobs: atomic, no streaming-insert charge; "
            "batch only), storage_write_api (the Storage Write API: COMMITTED streams with offsets "
            "held in Beam state, exactly once per batch, half the price of streaming inserts), "
            "streaming_inserts (insertAll with event_id as insertId) or auto (the default: "
            "file_loads in batch, storage_write_api in streaming).",
        )
        group.add_argument(
            "--storage_write_shards",
            type=int,
            default=DEFAULT_SHARDS,
            help="storage_write_api: write streams per table (rows are sharded by a hash of their "
            "event_id); each shard appends its batches in order.",
        )
        group.add_argument(
            "--storage_write_batch_rows",
            type=int,
            default=DEFAULT_BATCH_ROWS,
            help="storage_write_api: rows per batch (one AppendRows request unless over ~9 MB).",
        )
        group.add_argument(
            "--storage_write_batch_wait_s",
            type=float,
            default=DEFAULT_BATCH_WAIT_S,
            help="storage_write_api: how long at most a batch gathers rows before it is appended, s.",
        )

        group = parser.add_argument_group(f"{GROUP_PREFIX}raw archive")
        group.add_argument(
            "--archive_root",
            help="Raw archive root, gs://BUCKET/raw or a local directory. Every message is written there "
            "as received. Leave unset only for replays that must not archive again.",
        )
        group.add_argument(
            "--archive_window_s",
            type=int,
            default=60,
            help="Streaming: archive file window, seconds (one file per folder per window).",
        )

        group = parser.add_argument_group(f"{GROUP_PREFIX}IP addresses")
        group.add_argument(
            "--ip_mode",
            choices=IP_MODES,
            default="truncate",
            help="user_activity.ip_address: raw, truncate (zero the last IPv4 octet / last 80 IPv6 bits; "
            "the default) or hash (HMAC-SHA256 with --ip_hash_key).",
        )
        group.add_argument(
            "--ip_hash_key",
            help=f"Secret key for --ip_mode hash (or set {IP_HASH_KEY_ENV}; the variable keeps it out of "
            "the job's visible options).",
        )

        group = parser.add_argument_group(f"{GROUP_PREFIX}windows and de-duplication")
        group.add_argument(
            "--window_size_s",
            type=int,
            default=60,
            help="Sliding event-time window length of realtime_event_metrics, seconds.",
        )
        group.add_argument("--window_period_s", type=int, default=10, help="Sliding window period, seconds.")
        group.add_argument(
            "--allowed_lateness_s",
            type=int,
            default=600,
            help="How long after a window ends late events still update its count, seconds.",
        )
        group.add_argument(
            "--early_firing_s",
            type=int,
            default=0,
            help="Streaming: processing-time delay between early (speculative) panes of a sliding "
            "window, seconds; 0 (the default) writes none: a complete window lands every period.",
        )
        group.add_argument(
            "--batch_window_s",
            type=int,
            default=3600,
            help="Batch (a replay of history): tumbling window length of realtime_event_metrics, "
            "seconds; 0 writes the streaming job's sliding windows instead.",
        )
        group.add_argument(
            "--dedup_window_s",
            type=int,
            default=600,
            help="Streaming: how long an event_id is remembered for de-duplication, seconds. "
            "Batch runs de-duplicate over the whole input.",
        )

        group = parser.add_argument_group(f"{GROUP_PREFIX}local runs and dry runs")
        group.add_argument(
            "--bigquery_endpoint",
            help="BigQuery REST endpoint for local runs (e.g. http://127.0.0.1:9050 for bqemulator); "
            "unset for real BigQuery.",
        )
        group.add_argument(
            "--bigquery_storage_endpoint",
            help="gRPC host:port of an emulator's BigQuery Storage API (bqemulator's --grpc-port) for "
            "local runs with storage_write_api; unset for real BigQuery. Needed with "
            "--bigquery_endpoint when rows go by the Storage Write API.",
        )
        group.add_argument(
            "--output_dir",
            help="Batch dry run: write every table's rows as JSON Lines under this directory (local or "
            "gs://) instead of BigQuery.",
        )
        group.add_argument("--summary_path", help="Batch: write the reconciliation summary JSON here.")
        group.add_argument(
            "--progress_every",
            type=int,
            default=0,
            help="Batch on the DirectRunner: print read/written counts to stderr every N messages "
            "(0, the default: off; never useful on Dataflow, where the job page shows them).",
        )


class OptionsError(UsageError):
    """An option is missing or inconsistent; the message names it and says what to do (a usage
    error: ``python -m pipeline.main`` ends with it on one line, exit code 2)."""


def ip_hash_key(options: EventHarborOptions) -> bytes | None:
    key = options.ip_hash_key or os.environ.get(IP_HASH_KEY_ENV)
    return key.encode("utf-8") if key else None


def check_options(options: PipelineOptions) -> EventHarborOptions:
    """Validate option combinations up front, before any I/O."""
    opts = options.view_as(EventHarborOptions)
    if opts.source == "files" and not opts.input:
        raise OptionsError("--source files needs --input 'path/*.jsonl' (local paths or gs:// globs)")
    if opts.source == "pubsub":
        if not opts.subscriptions:
            raise OptionsError("--source pubsub needs --subscriptions projects/P/subscriptions/S[,...]")
        bad = [s for s in opts.subscriptions.split(",") if not s.strip().startswith("projects/")]
        if bad:
            raise OptionsError(f"--subscriptions must be full paths projects/P/subscriptions/S; got {bad}")
        options.view_as(StandardOptions).streaming = True
        if opts.output_dir:
            raise OptionsError("--output_dir is for batch runs (--source files); streaming writes BigQuery")
        if opts.bigquery_write_method == "file_loads":
            raise OptionsError(
                "--bigquery_write_method file_loads is for batch runs (--source files); streaming "
                "writes by storage_write_api or streaming_inserts (or leave it at auto)"
            )
    if (
        write_method(options) == "storage_write_api"
        and opts.bigquery_endpoint
        and not opts.bigquery_storage_endpoint
        and not opts.output_dir
    ):
        raise OptionsError(
            "--bigquery_endpoint (an emulator) with the Storage Write API (--bigquery_write_method "
            "storage_write_api, the streaming default) needs --bigquery_storage_endpoint host:port, "
            "the emulator's gRPC port (or --bigquery_write_method streaming_inserts)"
        )
    if opts.storage_write_shards < 1 or opts.storage_write_batch_rows < 1:
        raise OptionsError("--storage_write_shards and --storage_write_batch_rows must be >= 1")
    if opts.storage_write_batch_wait_s <= 0:
        raise OptionsError("--storage_write_batch_wait_s must be > 0")
    if opts.progress_every and (problem := check_progress_available()):
        raise OptionsError(problem)
    if opts.ip_mode == "hash" and not ip_hash_key(opts):
        raise OptionsError(
            f"--ip_mode hash needs --ip_hash_key or the {IP_HASH_KEY_ENV} environment variable"
        )
    if opts.window_period_s <= 0 or opts.window_size_s < opts.window_period_s:
        raise OptionsError("--window_size_s must be >= --window_period_s > 0")
    if opts.batch_window_s < 0 or opts.early_firing_s < 0:
        raise OptionsError("--batch_window_s and --early_firing_s must be >= 0 (0 turns them off)")
    if not (opts.bq_project or options.view_as(GoogleCloudOptions).project):
        raise OptionsError("set --project (or --bq_project) to the project that holds the BigQuery datasets")
    try:
        known_fields.check_schemas()
    except known_fields.SchemaProblem as exc:
        raise OptionsError(str(exc)) from None
    return opts


def write_method(options: PipelineOptions) -> str:
    """How rows go to BigQuery: ``--bigquery_write_method``, where auto means load jobs in batch
    and the Storage Write API in streaming."""
    method = options.view_as(EventHarborOptions).bigquery_write_method
    if method == "auto":
        return "storage_write_api" if options.view_as(StandardOptions).streaming else "file_loads"
    return method


def uses_load_jobs(options: PipelineOptions) -> bool:
    """Whether rows go to BigQuery by load jobs (:func:`write_method`)."""
    return write_method(options) == "file_loads"


def bigquery_project(options: PipelineOptions) -> str:
    return options.view_as(EventHarborOptions).bq_project or options.view_as(GoogleCloudOptions).project
