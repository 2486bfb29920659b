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
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence

DEBUG_ENV = "EVENTHARBOR_DEBUG"
USAGE_EXIT = 2
RUNTIME_EXIT = 1
INTERRUPTED_EXIT = 130


class UsageError(ValueError):
    """A bad option or argument: what is wrong with it and what to write instead (exit code 2)."""


class CommandError(RuntimeError):
    """An expected failure at run time, already phrased for the user (exit code 1)."""


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
