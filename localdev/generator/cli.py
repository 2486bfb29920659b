"""``python -m localdev.generator``: flags -> GeneratorConfig, files and/or Pub/Sub, a summary line.

The only output besides the files and messages is a one-line summary of the counts on stderr
(and a warning when the range reaches the future).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from localdev.generator.assemble import generate
from localdev.generator.output import publish, write_files
from localdev.generator.sample import GeneratorConfig, Sample, default_start
from localdev.stack import MIXED
from pipeline.commands import ArgumentParser


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


# The GeneratorConfig fields set by a flag of the same name: (field, parse, metavar, help).
CONFIG_FLAGS: tuple[tuple[str, Callable[[str], Any], str, str], ...] = (
    ("days", _count(1), "N", "event days"),
    ("customers", _count(1), "N", "customers, who are also the users"),
    ("products", _count(1), "N", "products"),
    ("warehouses", _count(1), "N", "warehouses holding stock"),
    ("orders_per_day", _count(0), "N", "new orders a day, ±20%%"),
    ("sessions_per_day", _count(0), "N", "browsing sessions a day besides the one before each order, ±20%%"),
    (
        "bad_fraction",
        _fraction,
        "F",
        "malformed messages as a fraction of valid events; when > 0, at least one per error code",
    ),
    ("duplicate_fraction", _fraction, "F", "byte-identical re-sends as a fraction of valid events"),
    (
        "late_fraction",
        _fraction,
        "F",
        "fraction of valid events that arrive 2 h to 2 days late, on a later day",
    ),
    ("max_oversized", _count(0), "N", "at most N payload_too_large messages, each > 1 MiB"),
)


def parser() -> argparse.ArgumentParser:
    d = GeneratorConfig()
    p = ArgumentParser(
        prog="python -m localdev.generator",
        description="Generate a deterministic, coherent sample of order, inventory and user-activity "
        "events (with duplicates, late arrivals and malformed messages) as JSON Lines files and/or "
        "Pub/Sub messages. Prints a one-line summary to stderr.",
    )
    add = p.add_argument
    add(
        "--seed",
        type=int,
        default=d.seed,
        help="random seed; the same flags give byte-identical output (default: %(default)s)",
    )
    add(
        "--start", type=_day, metavar="YYYY-MM-DD", help="first event day (default: 7 days before today, UTC)"
    )
    for field, parse, metavar, text in CONFIG_FLAGS:
        flag = "--" + field.replace("_", "-")
        add(
            flag,
            type=parse,
            default=getattr(d, field),
            metavar=metavar,
            help=f"{text} (default: %(default)s)",
        )
    add(
        "--out",
        type=Path,
        metavar="DIR",
        help="write DIR/events-YYYY-MM-DD.jsonl per arrival day and DIR/manifest.json",
    )
    add(
        "--pubsub-project",
        metavar="PROJECT",
        help="publish the messages in order to Pub/Sub in PROJECT (honours PUBSUB_EMULATOR_HOST)",
    )
    add(
        "--topic",
        default=MIXED,
        help="topic for every message, or with --per-stream-topics for those "
        "whose stream cannot be told (default: %(default)s)",
    )
    add(
        "--per-stream-topics",
        action="store_true",
        help="publish to the topics orders / inventory / user_activity by stream",
    )
    return p


def config_from(args: argparse.Namespace) -> GeneratorConfig:
    """The sample the parsed flags ask for."""
    chosen = {field: getattr(args, field) for field, *_ in CONFIG_FLAGS}
    return GeneratorConfig(seed=args.seed, start=args.start or default_start(), **chosen)


def summary(sample: Sample) -> str:
    m = sample.manifest
    valid = ", ".join(f"{n} {stream}" for stream, n in m["valid_unique"].items())
    last = date.fromisoformat(m["start"]) + timedelta(days=m["days"] - 1)
    return (
        f"generated {m['messages']} messages for {m['start']}..{last.isoformat()}: {valid} valid; "
        f"{m['duplicates']} duplicates, {m['late']} late, {sum(m['rejected'].values())} malformed"
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.out is None and args.pubsub_project is None:
        p.error("give --out DIR and/or --pubsub-project PROJECT")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        p.error(f"--out {args.out} is a file; give a folder (it is created if missing)")
    config = config_from(args)
    if config.end > datetime.now(timezone.utc) + timedelta(days=1):
        print(
            "warning: events more than 1 day ahead of now will be rejected as future_timestamp",
            file=sys.stderr,
        )
    sample = generate(config)
    if args.out is not None:
        write_files(sample, args.out)
    if args.pubsub_project:
        publish(sample.messages, args.pubsub_project, args.topic, args.per_stream_topics)
    print(summary(sample), file=sys.stderr)
    return 0
