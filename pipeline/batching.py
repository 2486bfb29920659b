"""Cutting a sequence into consecutive runs bounded in count and in size (requests, load jobs,
UPDATE statements): one rule for every writer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def bounded_runs(
    items: Iterable[T], max_items: int | None, max_size: int, size: Callable[[T], int]
) -> Iterator[list[T]]:
    """Consecutive runs of ``items``, in order, of at most ``max_items`` items (None: any number)
    whose ``size`` adds up to at most ``max_size`` (an item larger than ``max_size`` goes alone)."""
    run: list[T] = []
    total = 0
    for item in items:
        length = size(item)
        if run and ((max_items is not None and len(run) >= max_items) or total + length > max_size):
            yield run
            run, total = [], 0
        run.append(item)
        total += length
    if run:
        yield run
