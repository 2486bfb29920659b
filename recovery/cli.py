"""``python -m recovery``: the recovery tools, against the local emulators and real BigQuery alike.

    python -m recovery replay-dead-letters --project P --start 2026-11-01 --end 2026-11-03 \\
        [--code invalid_value ...] [--stream orders ...] [--dry-run] [--bigquery-endpoint URL]
    python -m recovery replay-archive --root gs://BUCKET/raw --start 2026-11-01 --end 2026-11-03 \\
        -- --project P [other pipeline options, e.g. --runner DataflowRunner ...]
    python -m recovery promote-field --table orders --field coupon_code --start 2026-11-01 \\
        --end 2026-11-30 [--dataset events] [--project P] [--dry-run] [--bigquery-endpoint URL]

Without ``--bigquery-endpoint`` the BigQuery client uses Application Default Credentials. Every
BigQuery request has a deadline (:mod:`warehouse.clients`). Errors end in one line through
:func:`pipeline.commands.run_command`: exit code 2 for a bad option, 1 for a failure at run time.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from datetime import datetime, timezone

from pipeline.commands import ArgumentParser, UsageError, iso_date
from pipeline.options import IP_HASH_KEY_ENV
from recovery import archive, dead_letters, promote
from schemas import STREAMS, UNKNOWN_STREAM
from transforms.errors import ERROR_CODES
from transforms.validation import IP_MODES
from warehouse.clients import refused, tool_client
from warehouse.render import raw_partition_expiration_days

PROJECT_HELP = "BigQuery project (default: the environment's; the emulator's with --bigquery-endpoint)"
ENDPOINT_HELP = "a local BigQuery emulator, e.g. http://127.0.0.1:9050 (default: BigQuery, with ADC)"


def parser() -> ArgumentParser:
    """The command line: three subcommands, each with its own options."""
    top = ArgumentParser(prog="python -m recovery", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True)

    about = "replay dead letters through today's validation"
    dl = commands.add_parser("replay-dead-letters", help=about, description=about)
    dl.add_argument("--project", help=PROJECT_HELP)
    dl.add_argument(
        "--dataset", default="events", help="dataset of dead_letter and the raw tables (default: %(default)s)"
    )
    dl.add_argument(
        "--start", type=iso_date, required=True, help="first day (UTC) the dead letters failed on"
    )
    dl.add_argument("--end", type=iso_date, required=True, help="last day (UTC), inclusive")
    dl.add_argument(
        "--code", action="append", default=[], choices=ERROR_CODES, help="error_code (repeatable)"
    )
    dl.add_argument(
        "--stream",
        action="append",
        default=[],
        choices=(*STREAMS, UNKNOWN_STREAM),
        help="stream (repeatable)",
    )
    dl.add_argument(
        "--ip-mode",
        default="truncate",
        choices=IP_MODES,
        help=f"as the pipeline's --ip_mode; hash reads its key from {IP_HASH_KEY_ENV} (default: %(default)s)",
    )
    dl.add_argument("--bigquery-endpoint", metavar="URL", help=ENDPOINT_HELP)
    dl.add_argument("--dry-run", action="store_true", help="validate and report; load and record nothing")

    about = "re-run the pipeline over the raw archive's days"
    ar = commands.add_parser("replay-archive", help=about, description=about)
    ar.add_argument("--root", required=True, help="the archive root: gs://BUCKET/raw or a local folder")
    ar.add_argument("--start", type=iso_date, required=True, help="first archive day (dt=)")
    ar.add_argument("--end", type=iso_date, required=True, help="last archive day, inclusive")
    ar.add_argument(
        "--partition-expiration-days",
        type=int,
        default=raw_partition_expiration_days(),
        help="the raw tables' partition expiration: a range starting before today minus this is refused "
        "(default: schemas/tables.json's, %(default)s)",
    )
    ar.add_argument("pipeline_args", nargs=argparse.REMAINDER, help="-- then the pipeline's options")

    about = "move a new typed field's past values from extra_fields into its column"
    pf = commands.add_parser("promote-field", help=about, description=about)
    pf.add_argument("--table", required=True, help=f"the raw table: {', '.join(STREAMS)}")
    pf.add_argument("--field", required=True, help="a top-level typed field of the table in schemas/")
    pf.add_argument("--start", type=iso_date, required=True, help="first event_date (partition)")
    pf.add_argument("--end", type=iso_date, required=True, help="last event_date, inclusive")
    pf.add_argument("--project", help=PROJECT_HELP)
    pf.add_argument("--dataset", default="events", help="dataset of the raw tables (default: %(default)s)")
    pf.add_argument("--bigquery-endpoint", metavar="URL", help=ENDPOINT_HELP)
    pf.add_argument("--dry-run", action="store_true", help="read and report; write nothing")
    return top


def _check_range(args: argparse.Namespace) -> None:
    if args.end < args.start:
        raise UsageError(f"--end {args.end} is before --start {args.start}")


def _promote_field(args: argparse.Namespace) -> int:
    """The promote-field subcommand: one line per day with work, then the summary."""
    _check_range(args)
    kind = promote.typed_kind(args.table, args.field)
    client = tool_client(args.project, args.bigquery_endpoint)
    report = promote.promote(
        client,
        args.project or client.project,
        args.dataset,
        args.table,
        args.field,
        args.start,
        args.end,
        dry_run=args.dry_run,
        kind=kind,
        progress=print,
    )
    for line in report.summary():
        print(line)
    return 0


def _replay_dead_letters(args: argparse.Namespace) -> dict:
    _check_range(args)
    key = os.environ.get(IP_HASH_KEY_ENV)
    if args.ip_mode == "hash" and not key:
        raise UsageError(f"--ip-mode hash needs the key in {IP_HASH_KEY_ENV}")
    client = tool_client(args.project, args.bigquery_endpoint)
    selection = dead_letters.Selection(args.start, args.end, tuple(args.code), tuple(args.stream))
    return dead_letters.replay(
        client,
        args.dataset,
        selection,
        ip_mode=args.ip_mode,
        ip_key=key.encode() if key else None,
        dry_run=args.dry_run,
    )


def _replay_archive(args: argparse.Namespace) -> dict:
    archive.check_within_expiration(
        args.start, datetime.now(timezone.utc).date(), args.partition_expiration_days
    )
    extra = [a for a in args.pipeline_args if a != "--"]
    return archive.replay_archive(args.root, args.start, args.end, extra)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module's docstring); errors raise, :func:`run_command` ends them."""
    from google.api_core.exceptions import GoogleAPICallError

    args = parser().parse_args(argv)
    try:
        if args.command == "promote-field":
            return _promote_field(args)
        if args.command == "replay-dead-letters":
            result = _replay_dead_letters(args)
        else:
            result = _replay_archive(args)
    except GoogleAPICallError as exc:
        raise refused(exc, args.command) from exc
    print(json.dumps(result, indent=2, default=str))
    return 0
