"""Valid sample events of each stream, as producers send them, for the tests."""

from __future__ import annotations

import copy
import json
from typing import Any

from localdev.samples import DROP, sample, set_path

# The events of localdev.samples with the tests' own event ids, each with a difference of its own:
# one price a JSON number (json.dumps writes no Decimal); inventory without an event_id (the
# pipeline derives one); user_activity with a field the contract does not know (kept in extra_fields).
ORDER: dict[str, Any] = sample("orders", "evt-order-1", **{"items.1.price": 7.25})
INVENTORY: dict[str, Any] = sample("inventory", None)
USER_ACTIVITY: dict[str, Any] = sample("user_activity", "evt-ua-1", client_version="7.1")


def encode(obj: Any) -> bytes:
    return json.dumps(obj).encode("utf-8")


def changed(base: dict[str, Any], path: str, value: Any = None, *, delete: bool = False) -> bytes:
    """``base`` with the dotted ``path`` (list indexes as numbers) set to ``value`` or deleted."""
    obj = copy.deepcopy(base)
    set_path(obj, path, DROP if delete else value)
    return encode(obj)


def value_paths(obj: Any, prefix: tuple = (), first: int | None = None) -> list[tuple]:
    """Every path (keys and list indexes) in a parsed event, containers included, depth first;
    ``first`` caps the elements walked in each list (a huge array: its first ones). A list of
    (key, value) pairs written as an object with repeated keys (``localdev.fuzz.Pairs``) is a leaf."""
    from localdev.fuzz import Pairs

    if isinstance(obj, dict):
        items: Any = obj.items()
    elif isinstance(obj, list) and not isinstance(obj, Pairs):
        items = enumerate(obj[:first])
    else:
        items = ()
    paths = []
    for key, child in items:
        paths.append((*prefix, key))
        paths.extend(value_paths(child, (*prefix, key), first))
    return paths
