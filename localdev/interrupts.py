"""What SIGINT, SIGTERM and SIGHUP do to a local command that starts processes: every process it
started is stopped by its pid before it exits.

The emulators and the streaming pipeline run in sessions of their own (so a terminal's Ctrl-C
reaches the command only), and nothing but the command stops them. Python's defaults would leave
them running: SIGTERM and SIGHUP end the process at once, without running a ``finally``, and
SIGINT stays ignored when the command was started with it ignored (a background job of a
script, ``make soak &``).

:func:`stop_on_signals` (entered by :func:`localdev.stack.local_stack`, so by every command and
bench section that starts the emulators) makes each of the three raise :class:`Stopped`, a
``KeyboardInterrupt``, in the main thread: the ``finally`` blocks and context managers that stop
children by pid run, and :func:`pipeline.commands.run_command` ends with exit code 130. Once
stopping, a further signal is reported and ignored, so the stopping runs to its end (each stop
has its own timeout, then SIGKILL). An ignored SIGHUP (``nohup``) stays ignored.

``make stream`` drains on its first signal instead: :meth:`Interrupts.graceful`.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from tqdm import tqdm

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """A signal asked the command to stop; its text is the signal's name (``SIGTERM``)."""


class Interrupts:
    """The handler of SIGINT, SIGTERM and SIGHUP (see the module's docstring).

    By default a signal stops at once (raises :class:`Stopped`). After :meth:`graceful`, the
    first one only sets :attr:`requested` (the command finishes its work, then stops); after
    :meth:`at_once`, or on a second signal, they stop at once again. After :meth:`shield` (only
    processes are left to stop) a signal is reported and ignored.
    """

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.stopping = False
        self._graceful: str | None = None

    def graceful(self, what: str) -> None:
        """The first signal from now on sets :attr:`requested` and prints ``<SIGNAL>: <what>``."""
        self._graceful = what

    def at_once(self) -> None:
        """From now on a signal stops at once (raises :class:`Stopped`)."""
        self._graceful = None

    def shield(self) -> None:
        """Only processes are left to stop: a signal no longer interrupts that."""
        self.stopping = True

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.stopping:
            tqdm.write(f"{name}: already stopping what this command started, by pid", file=sys.stderr)
        elif self._graceful is not None and not self.requested.is_set():
            self.requested.set()
            tqdm.write(f"{name}: {self._graceful} (press Ctrl-C again to stop at once)", file=sys.stderr)
        else:
            self.stopping = True
            raise Stopped(name)


_installed: Interrupts | None = None


@contextmanager
def stop_on_signals() -> Iterator[Interrupts]:
    """Install :class:`Interrupts` for SIGINT, SIGTERM and SIGHUP for the ``with`` block, and put
    the previous handlers back after it. Inside another such block it changes nothing and yields
    the handler in place; outside the main thread (where Python runs no signal handler) it
    installs nothing and yields an :class:`Interrupts` no signal reaches."""
    global _installed
    if _installed is not None:
        yield _installed
        return
    if threading.current_thread() is not threading.main_thread():
        yield Interrupts()
        return
    interrupts = Interrupts()
    previous = {}
    for signum in SIGNALS:
        if signum == signal.SIGHUP and signal.getsignal(signum) == signal.SIG_IGN:
            continue  # nohup: the user asked to outlive the terminal
        previous[signum] = signal.signal(signum, interrupts.handle)
    _installed = interrupts
    try:
        yield interrupts
    finally:
        _installed = None
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def stopping_now() -> None:
    """Only processes are left to stop: from now on a signal to the command is reported and
    ignored (:meth:`Interrupts.shield` of the handler in place, if any)."""
    if _installed is not None:
        _installed.shield()
