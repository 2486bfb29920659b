"""Stand-ins for what a Beam runner gives a DoFn, to drive one by hand (the write benchmark, the
Storage Write API tests): counters whose counts can be read, and user state cells."""

from __future__ import annotations

from typing import Any, TypeVar

D = TypeVar("D")


class Count:
    """Stands in for a Beam counter on a DoFn driven by hand (so its counts can be read)."""

    def __init__(self) -> None:
        self.value = 0

    def inc(self, n: int = 1) -> None:
        self.value += n


class State:
    """Stands in for a Beam ReadModifyWrite state cell (one per shard, as the runner keeps)."""

    def __init__(self, value: Any = None) -> None:
        self.value = value

    def read(self) -> Any:
        return self.value

    def write(self, value: Any) -> None:
        self.value = value


def counted(dofn: D, names: tuple[str, ...]) -> D:
    """``dofn`` with each counter attribute in ``names`` replaced by a :class:`Count`."""
    for name in names:
        setattr(dofn, name, Count())
    return dofn
