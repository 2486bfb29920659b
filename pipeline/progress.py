"""Counting progress bars (tqdm, on stderr) for long local runs: messages read, rows written.

Only built when ``--progress_every N`` asks for them (``make run`` does); a bar redraws every N
counts, so the cost per message is one integer add.
"""

from __future__ import annotations

import sys

from tqdm import tqdm


def counting_bar(desc: str, unit: str, every: int) -> tqdm:
    """An open-ended bar (no total) showing the count and its rate, redrawn every ``every``."""
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
