"""The command line of ``python -m pipeline.main``, read from the parsers Beam and EventHarbor define.

- :func:`help_text`: ``--help`` shows EventHarbor's options (:class:`~pipeline.options.EventHarborOptions`)
  in their groups, each with its default, and says where Beam's own options are; ``--help-all``
  adds those, one group per Beam options class (StandardOptions, GoogleCloudOptions, ...).
- :func:`check_known_options`: an option neither EventHarbor nor Beam defines (a misspelling, a
  wrong case) stops the run before any I/O, naming the nearest known option. Beam alone logs a
  warning, drops the option and runs on.
- :func:`options_tables`: the option tables of README.md's Configuration section (its generated
  region ``pipeline options``, rewritten by ``python -m warehouse.render``).
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import re
from collections.abc import Sequence

from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.commands import DEBUG_ENV, UsageError
from pipeline.options import GROUP_PREFIX, EventHarborOptions

PROG = "python -m pipeline.main"
# Set by flex-template/launch.py: unknown options not close to EventHarbor's pass with a warning.
LAUNCHER_ENV = "EVENTHARBOR_LAUNCHER"
logger = logging.getLogger(__name__)
HELP_FLAGS = ("-h", "--help")
HELP_ALL_FLAG = "--help-all"
DESCRIPTION = (
    "The EventHarbor pipeline: events from files (batch) or Pub/Sub (streaming) are validated and\n"
    "written to BigQuery's raw tables, rejected messages to dead_letter, every message to the raw\n"
    "archive, and sliding-window counts to realtime_event_metrics."
)
EPILOG = (
    "Beam's own options work as usual (--runner, --project, --region, --temp_location, --streaming,\n"
    f"--setup_file, --experiments, ...): {HELP_ALL_FLAG} lists them. An option neither EventHarbor nor\n"
    "Beam knows stops the run before it starts, naming the nearest known one."
)
_OPTION = r"(?<![\w`-])--[a-z][\w-]*\w"
_ENVIRONMENT_VARIABLE = re.compile(r"(?<![\w`])([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b")


class _DefaultsFormatter(argparse.RawDescriptionHelpFormatter):
    """Ends each option's help with its default, when it has one (not for switches or unset ones)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        unset = action.default is None or action.default is False or action.default is argparse.SUPPRESS
        if unset or "%(default)" in text:
            return text
        return f"{text} (default: %(default)s)"


def option_classes() -> list[type[PipelineOptions]]:
    """Every options class, each once, as Beam's own parser takes them
    (``PipelineOptions.get_all_options``: the direct subclasses, the first of a name wins)."""
    classes: dict[str, type[PipelineOptions]] = {}
    for cls in PipelineOptions.__subclasses__():
        classes.setdefault(str(cls), cls)
    return list(classes.values())


def help_parser(with_beam: bool = False) -> argparse.ArgumentParser:
    """The parser whose help ``--help`` prints (EventHarbor's options), with Beam's for ``--help-all``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=f"%(prog)s [{HELP_FLAGS[1]} | {HELP_ALL_FLAG}] [--debug] [options]",
        description=DESCRIPTION,
        epilog=None if with_beam else EPILOG,
        formatter_class=_DefaultsFormatter,
        add_help=False,
        allow_abbrev=False,
    )
    group = parser.add_argument_group("help")
    group.add_argument(*HELP_FLAGS, action="store_true", help="show EventHarbor's options and exit")
    group.add_argument(HELP_ALL_FLAG, action="store_true", help="show Beam's options as well and exit")
    group.add_argument(
        "--debug", action="store_true", help=f"print the traceback of an error (or set {DEBUG_ENV}=1)"
    )
    EventHarborOptions._add_argparse_args(parser)
    if with_beam:
        for cls in option_classes():
            if cls.__module__.startswith("apache_beam."):
                cls._add_argparse_args(parser.add_argument_group(f"Beam: {cls.__name__}"))
    return parser


def wants_help(argv: Sequence[str]) -> bool:
    return any(arg in (*HELP_FLAGS, HELP_ALL_FLAG) for arg in argv)


def help_text(argv: Sequence[str]) -> str:
    """``--help``'s text, or ``--help-all``'s when ``argv`` asks for it."""
    return help_parser(with_beam=HELP_ALL_FLAG in argv).format_help()


def options_parser() -> argparse.ArgumentParser:
    """The parser Beam builds from every options class (EventHarbor's included) to read the command
    line, taken from ``get_all_options``; a bad value raises ``argparse.ArgumentError`` instead of
    exiting with Beam's whole usage."""
    built: list[argparse.ArgumentParser] = []
    PipelineOptions([]).get_all_options(add_extra_args_fn=built.append)
    parser = built[0]
    parser.exit_on_error = False
    return parser


def nearest_option(name: str, parser: argparse.ArgumentParser) -> str | None:
    """The known option closest to ``name`` (difflib), or None when none is close."""
    # Beam's own warning about unknown options reads the same private list of actions.
    known = [option for action in parser._actions for option in action.option_strings]
    found = difflib.get_close_matches(name, [*known, *HELP_FLAGS, HELP_ALL_FLAG], n=1)
    return found[0] if found else None


def check_known_options(argv: Sequence[str]) -> None:
    """Raise :class:`UsageError` for the first argument neither EventHarbor nor Beam defines, or an
    option with a value its type refuses, before anything is read or started."""
    parser = options_parser()
    try:
        _, unknown = parser.parse_known_args(list(argv))
    except argparse.ArgumentError as exc:
        raise UsageError(str(exc)) from None
    ours = {option for _, actions in eventharbor_groups() for a in actions for option in a.option_strings}
    lenient = os.environ.get(LAUNCHER_ENV) == "flex-template"
    for arg in unknown:
        if lenient and not _near_ours(arg, ours):
            # A Flex Template launch: Google's launcher may pass an option this Beam does not
            # define; Beam ignores it, and so does the check unless it looks like one of ours.
            logger.warning("%s: option %s is not one EventHarbor or Beam knows; ignored", PROG, arg)
            continue
        if not arg.startswith("-"):
            raise UsageError(
                f"unexpected argument {arg!r}: every argument is an option, --name=value or --name value "
                "(switches such as --streaming take no value)"
            )
        name = arg.split("=", 1)[0]
        nearest = nearest_option(name, parser)
        hint = f"did you mean {nearest}?" if nearest else f"`{PROG} {HELP_FLAGS[1]}` lists the options"
        raise UsageError(f"unknown option {name} ({hint})")


def _near_ours(arg: str, ours: set[str]) -> bool:
    """Whether ``arg`` is an option whose name is close to one of EventHarbor's (a misspelling)."""
    name = arg.split("=", 1)[0]
    return name.startswith("-") and bool(difflib.get_close_matches(name, sorted(ours), n=1))


def eventharbor_groups() -> list[tuple[str, list[argparse.Action]]]:
    """EventHarbor's option groups in the code's order: (title without the prefix, its options)."""
    parser = argparse.ArgumentParser(add_help=False)
    EventHarborOptions._add_argparse_args(parser)
    # argparse keeps each group's options in _group_actions; it offers no public way to list them.
    return [
        (group.title.removeprefix(GROUP_PREFIX), list(group._group_actions))
        for group in parser._action_groups
        if group.title and group.title.startswith(GROUP_PREFIX)
    ]


def _markdown(text: str, choices: Sequence[str]) -> str:
    """Help text as a table cell: options (with a value of ``choices`` after them, as in
    ``--ip_mode hash``) and environment variables as code, pipes escaped."""
    values = "|".join(re.escape(choice) for choice in choices)
    option = re.compile(rf"{_OPTION}(?: (?:{values})\b)?" if values else _OPTION)
    text = option.sub(lambda found: f"`{found.group(0)}`", text.replace("|", "\\|"))
    return _ENVIRONMENT_VARIABLE.sub(r"`\1`", text)


def _default_cell(default: object) -> str:
    if default is None:
        return "—"
    return f"`{default}`" if isinstance(default, str) else str(default)


def options_tables() -> str:
    """README.md's option tables: one per group of :class:`EventHarborOptions`, from its parser."""
    groups = eventharbor_groups()
    choices = sorted({str(c) for _, actions in groups for a in actions for c in a.choices or ()})
    blocks = []
    for title, actions in groups:
        rows = [f"**{title[:1].upper()}{title[1:]}**", "", "| option | default | meaning |", "|---|---|---|"]
        for action in actions:
            meaning = _markdown(action.help or "", choices)
            rows.append(f"| `{action.option_strings[0]}` | {_default_cell(action.default)} | {meaning} |")
        blocks.append("\n".join(rows))
    return "\n\n".join(blocks) + "\n"
