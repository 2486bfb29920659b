"""Counting progress bars (tqdm, on stderr) for long local runs: messages read, rows written.

Only built when ``--progress_every N`` asks for them (``make run`` does); a bar redraws every N
counts, so the cost per message is one integer add. tqdm is a local-run dependency (the ``local``
extra), not one the job ships to workers: it is imported only when a bar is built, and
:func:`check_progress_available` refuses ``--progress_every`` without it before the run starts.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any


def check_progress_available() -> str | None:
    """Why ``--progress_every`` cannot draw bars here, or None when it can."""
    if importlib.util.find_spec("tqdm") is None:
        return (
            "--progress_every draws progress bars with tqdm, a local-run dependency the job does not "
            "ship: pip install tqdm (or eventharbor[local]), or leave --progress_every unset"
        )
    return None


def counting_bar(desc: str, unit: str, every: int) -> Any:
    """An open-ended tqdm bar (no total) showing the count and its rate, redrawn every ``every``."""
    from tqdm import tqdm

    return tqdm(
        desc=desc,
        unit=unit,
        file=sys.stderr,
        miniters=every,
        mininterval=0,
        maxinterval=float("inf"),
        dynamic_ncols=False,
        ascii=True,
    )


def count_rows(bar: Any, rows: int, desc: str, every: int) -> Any:
    """Count ``rows`` on ``bar``, an open-ended bar of rows (``desc``) built on the first count;
    returns it. Without ``every`` there is no bar: None."""
    if not every:
        return None
    if bar is None:
        bar = counting_bar(desc, " rows", every)
    bar.update(rows)
    return bar
