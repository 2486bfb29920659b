"""What has landed in BigQuery, polled while a streaming pipeline runs: per event_id
(:func:`landed`), row counts only (:func:`held`), which ids are queryable (:func:`visible_ids`),
and :func:`wait_until` a condition holds."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from schemas import STREAMS

PARTITIONS = "event_date >= '1970-01-01'"


@dataclass(frozen=True)
class Landed:
    """What a dataset holds: rows and event_ids of the raw tables, dead letters."""

    raw_rows: dict[str, int]  # event_id -> rows in the raw tables
    dead_letter_ids: dict[str, int]  # event_id (or message_id) -> dead-letter rows
    dead_letter_codes: dict[str, int]

    @property
    def raw_total(self) -> int:
        return sum(self.raw_rows.values())

    @property
    def raw_duplicates(self) -> int:
        return self.raw_total - len(self.raw_rows)

    @property
    def dead_letters(self) -> int:
        return sum(self.dead_letter_ids.values())

    def ids(self) -> set[str]:
        return set(self.raw_rows) | set(self.dead_letter_ids)


def landed(client, dataset: str) -> Landed:
    """Count what the raw tables and dead_letter of ``dataset`` hold, per event_id."""
    union = " UNION ALL ".join(
        f"SELECT event_id FROM `{dataset}.{table}` WHERE {PARTITIONS}" for table in STREAMS
    )
    raw = {
        row["event_id"]: row["n"]
        for row in client.query(f"SELECT event_id, COUNT(*) AS n FROM ({union}) GROUP BY event_id").result()
    }
    dead: dict[str, int] = {}
    codes: dict[str, int] = {}
    query = f"SELECT COALESCE(event_id, message_id) AS id, error_code FROM `{dataset}.dead_letter`"
    for row in client.query(query).result():
        dead[row["id"]] = dead.get(row["id"], 0) + 1
        codes[row["error_code"]] = codes.get(row["error_code"], 0) + 1
    return Landed(raw, dead, dict(sorted(codes.items())))


def held(client, dataset: str) -> dict[str, dict[str, int]]:
    """Row counts only (cheap however long a run): ``{"loaded": {stream: rows in its raw table},
    "dead_letters": {error_code: rows}}``."""
    union = " UNION ALL ".join(
        f"SELECT '{table}' AS stream, COUNT(*) AS n FROM `{dataset}.{table}` WHERE {PARTITIONS}"
        for table in STREAMS
    )
    loaded = {row["stream"]: row["n"] for row in client.query(union).result()}
    query = f"SELECT error_code, COUNT(*) AS n FROM `{dataset}.dead_letter` GROUP BY error_code"
    codes = {row["error_code"]: row["n"] for row in client.query(query).result()}
    return {"loaded": {s: loaded.get(s, 0) for s in STREAMS}, "dead_letters": dict(sorted(codes.items()))}


def visible_ids(client, dataset: str, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` can be queried in the raw tables now."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    listed = ", ".join("'" + i.replace("\\", "\\\\").replace("'", "\\'") + "'" for i in wanted)
    union = " UNION ALL ".join(
        f"SELECT event_id FROM `{dataset}.{table}` WHERE {PARTITIONS} AND event_id IN ({listed})"
        for table in STREAMS
    )
    return {row["event_id"] for row in client.query(union).result()}


def wait_until(
    condition: Callable[[], Any],
    timeout_s: float,
    every_s: float = 2.0,
    what: str = "condition",
    check: Callable[[], None] | None = None,
) -> Any:
    """Poll ``condition`` until it is truthy (returned) or ``timeout_s`` passes (AssertionError).
    ``check`` runs before each poll (e.g. :meth:`StreamingPipeline.check`)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if check:
            check()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not met within {timeout_s:.0f}s")
        time.sleep(every_s)
