"""``python -m recovery``: the recovery tools, against the local emulators and real BigQuery alike.

    python -m recovery replay-dead-letters --project P --start 2026-11-01 --end 2026-11-03 \\
        [--code invalid_value ...] [--stream orders ...] [--dry-run] [--bigquery-endpoint URL]
    python -m recovery replay-archive --root gs://BUCKET/raw --start 2026-11-01 --end 2026-11-03 \\
        -- --project P [other pipeline options, e.g. --runner DataflowRunner ...]
    python -m recovery promote-field --table orders --field coupon_code --start 2026-11-01 \\
        --end 2026-11-30 [--dataset events] [--project P] [--dry-run] [--bigquery-endpoint URL]

Without ``--bigquery-endpoint`` the BigQuery client uses Application Default Credentials.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime, timezone

from pipeline.options import IP_HASH_KEY_ENV
from recovery import archive, dead_letters, promote
from schemas import STREAMS, UNKNOWN_STREAM
from transforms.errors import ERROR_CODES
from transforms.validation import IP_MODES
from warehouse.clients import tool_client
from warehouse.render import raw_partition_expiration_days


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m recovery", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True)

    dl = commands.add_parser("replay-dead-letters", help="replay dead letters through today's validation")
    dl.add_argument("--project", help="BigQuery project (default: the client's)")
    dl.add_argument("--dataset", default="events", help="dataset of dead_letter and the raw tables")
    dl.add_argument("--start", type=_day, required=True, help="first day (UTC) the dead letters failed on")
    dl.add_argument("--end", type=_day, required=True, help="last day (UTC), inclusive")
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
    dl.add_argument("--ip-mode", default="truncate", choices=IP_MODES, help="as the pipeline's --ip_mode")
    dl.add_argument("--bigquery-endpoint", help="a local emulator, e.g. http://127.0.0.1:9050")
    dl.add_argument("--dry-run", action="store_true", help="validate and report; load and record nothing")

    ar = commands.add_parser("replay-archive", help="re-run the pipeline over the raw archive's days")
    ar.add_argument("--root", required=True, help="the archive root: gs://BUCKET/raw or a local folder")
    ar.add_argument("--start", type=_day, required=True, help="first archive day (dt=)")
    ar.add_argument("--end", type=_day, required=True, help="last archive day, inclusive")
    ar.add_argument(
        "--partition-expiration-days",
        type=int,
        default=raw_partition_expiration_days(),
        help="the raw tables' partition expiration: a range starting before today minus this is refused "
        "(default: schemas/tables.json)",
    )
    ar.add_argument("pipeline_args", nargs=argparse.REMAINDER, help="-- then the pipeline's options")

    pf = commands.add_parser(
        "promote-field", help="move a new typed field's past values from extra_fields into its column"
    )
    pf.add_argument("--table", required=True, help=f"the raw table: {', '.join(STREAMS)}")
    pf.add_argument("--field", required=True, help="a top-level typed field of the table in schemas/")
    pf.add_argument("--start", type=_day, required=True, help="first event_date (partition)")
    pf.add_argument("--end", type=_day, required=True, help="last event_date, inclusive")
    pf.add_argument("--project", help="BigQuery project (default: the client's)")
    pf.add_argument("--dataset", default="events", help="dataset of the raw tables")
    pf.add_argument("--bigquery-endpoint", help="a local emulator, e.g. http://127.0.0.1:9050")
    pf.add_argument("--dry-run", action="store_true", help="read and report; write nothing")
    return top


def _promote_field(args: argparse.Namespace) -> int:
    """The promote-field subcommand: one line per day with work, then the summary."""
    if args.end < args.start:
        raise ValueError(f"--end {args.end} is before --start {args.start}")
    kind = promote.typed_kind(args.table, args.field)
    from google.auth.exceptions import DefaultCredentialsError

    try:
        client = tool_client(args.project, args.bigquery_endpoint)
    except DefaultCredentialsError:
        raise ValueError(
            "no Application Default Credentials: run `gcloud auth application-default login`, "
            "or pass --bigquery-endpoint for a local emulator"
        ) from None
    except OSError:  # the client found no project
        raise ValueError("--project: none given and none found in the environment") from None
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


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "promote-field":
            return _promote_field(args)
        if args.command == "replay-dead-letters":
            if args.end < args.start:
                raise ValueError(f"--end {args.end} is before --start {args.start}")
            key = os.environ.get(IP_HASH_KEY_ENV)
            if args.ip_mode == "hash" and not key:
                raise ValueError(f"--ip-mode hash needs the key in {IP_HASH_KEY_ENV}")
            client = tool_client(args.project, args.bigquery_endpoint)
            selection = dead_letters.Selection(args.start, args.end, tuple(args.code), tuple(args.stream))
            result = dead_letters.replay(
                client,
                args.dataset,
                selection,
                ip_mode=args.ip_mode,
                ip_key=key.encode() if key else None,
                dry_run=args.dry_run,
            )
        else:
            archive.check_within_expiration(
                args.start, datetime.now(timezone.utc).date(), args.partition_expiration_days
            )
            extra = [a for a in args.pipeline_args if a != "--"]
            result = archive.replay_archive(args.root, args.start, args.end, extra)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, default=str))
    return 0
