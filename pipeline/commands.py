"""How every EventHarbor command ends: the result, or one line that says what is wrong and what to do.

Each entry point (``python -m pipeline.main``, ``localdev.*``, ``warehouse.runner``, ``recovery``,
``bench``) runs its ``main`` through :func:`run_command`:

- :class:`UsageError` (a bad option or argument): ``<prog>: error: <message>``, exit code 2;
- :class:`CommandError` and the errors a user can cause and fix (a missing or unreadable file, a
  folder where a file is expected, no Application Default Credentials, an endpoint that does not
  answer): ``<prog>: error: <message>``, exit code 1;
- Ctrl-C: exit code 130, no traceback.

The traceback is printed only with ``--debug`` (removed from the arguments before ``main`` sees
them) or ``EVENTHARBOR_DEBUG=1``. Anything else is a bug of ours and keeps its traceback.

:class:`ArgumentParser` is argparse's parser with its usage errors raised as :class:`UsageError`
(so they end in that one line too), and :func:`iso_date` the type of a ``YYYY-MM-DD`` option.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import NoReturn

DEBUG_ENV = "EVENTHARBOR_DEBUG"
USAGE_EXIT = 2
RUNTIME_EXIT = 1
INTERRUPTED_EXIT = 130


class UsageError(ValueError):
    """A bad option or argument: what is wrong with it and what to write instead (exit code 2)."""


class CommandError(RuntimeError):
    """An expected failure at run time, already phrased for the user (exit code 1)."""


ERRORS_HELP = (
    "An expected error ends the command with one line on stderr and exit code 2 (a bad option) or "
    f"1 (a failure at run time); --debug (or {DEBUG_ENV}=1) adds the traceback."
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, raising :class:`UsageError` for a usage error instead of printing the
    usage and exiting, so :func:`run_command` ends it in one line (exit code 2). An unknown option
    names the nearest known one. ``--help`` prints the help and exits 0, as always; its epilog
    says how errors end (:data:`ERRORS_HELP`) unless the parser is given another."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("epilog", ERRORS_HELP)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}{self._nearest(message)} (see `{self.prog} --help`)")

    def _nearest(self, message: str) -> str:
        """'; did you mean --x?' for the unrecognized options of an argparse message."""
        prefix = "unrecognized arguments: "
        if not message.startswith(prefix):
            return ""
        known = sorted(set(self._option_strings()))
        guesses = {}
        for word in message[len(prefix) :].split():
            name = word.split("=", 1)[0]
            if name.startswith("-") and (close := difflib.get_close_matches(name, known, n=1)):
                guesses[name] = close[0]
        if len(guesses) > 1:
            return (
                "; did you mean "
                + ", ".join(f"{right} (not {wrong})" for wrong, right in guesses.items())
                + "?"
            )
        return f"; did you mean {next(iter(guesses.values()))}?" if guesses else ""

    def _option_strings(self) -> Iterator[str]:
        """Every option of this parser and of its subcommands' parsers."""
        for action in self._actions:
            yield from action.option_strings
            choices = getattr(action, "choices", None)
            if isinstance(choices, dict):
                for sub in choices.values():
                    if isinstance(sub, ArgumentParser):
                        yield from sub._option_strings()


def iso_date(text: str) -> date:
    """An option's ``YYYY-MM-DD`` value (argparse ``type=``), or an error saying what was expected."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def explain(exc: BaseException) -> tuple[int, str] | None:
    """(exit code, one line) for an error a user can cause and fix, or None for a bug of ours."""
    if isinstance(exc, UsageError):
        return USAGE_EXIT, str(exc)
    if isinstance(exc, CommandError):
        return RUNTIME_EXIT, str(exc)
    if isinstance(exc, IsADirectoryError):
        return RUNTIME_EXIT, f"{exc.filename}: is a folder; give a file (or a glob such as 'folder/*.jsonl')"
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return RUNTIME_EXIT, f"{exc.filename}: no such file"
    if isinstance(exc, PermissionError) and exc.filename:
        return RUNTIME_EXIT, f"{exc.filename}: permission denied"
    name = type(exc).__name__
    if name == "DefaultCredentialsError":
        return RUNTIME_EXIT, (
            "no Google Cloud credentials: run `gcloud auth application-default login` (or set "
            "GOOGLE_APPLICATION_CREDENTIALS), or pass --bigquery-endpoint for the local emulator"
        )
    return None


def run_command(
    main: Callable[[Sequence[str]], int | None], prog: str, argv: Sequence[str] | None = None
) -> int:
    """Run ``main(argv)`` (``sys.argv[1:]`` by default) and turn its expected errors into one line
    on stderr and an exit code; returns the exit code (``main``'s, or 0 for None)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    args = [a for a in args if a != "--debug"]
    try:
        code = main(args)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return INTERRUPTED_EXIT
    except Exception as exc:
        explained = explain(exc)
        if explained is None:
            raise
        if debug:
            traceback.print_exc()
        code, line = explained
        hint = "" if debug else f" (--debug or {DEBUG_ENV}=1 shows the traceback)"
        print(f"{prog}: error: {line}{hint if code == RUNTIME_EXIT else ''}", file=sys.stderr)
        return code
    return 0 if code is None else int(code)
