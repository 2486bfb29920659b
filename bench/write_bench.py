"""Rows/s through the Storage Write API against streaming inserts (``insertAll``), on the emulator.

One local stack (:func:`localdev.stack.local_stack`: bqemulator through the project's launcher,
which fixes RECORD columns in its Write API), the same N raw rows (half ``orders``, half
``user_activity``: the generator's sample run through :func:`transforms.triage.triage`, each
``event_id`` once) written by each method into fresh tables, alternating methods for a few
rounds; each round's tables must then hold exactly the rows sent (count and distinct
``event_id`` per table), or the benchmark fails.

- **storage_write**: the pipeline's own path, :class:`pipeline.storage_writes.AppendBatches`
  driven by hand as ``tests/integration/test_storage_writes.py`` does, with what
  :class:`~pipeline.storage_writes.WriteStorageRows` puts in front of it: rows keyed by
  :func:`~pipeline.storage_writes.shard_of` over the default 4 shards, cut into batches of 500
  (:func:`~pipeline.storage_writes.slices`), each shard's stream and offset in its own state
  cell; requests cut at the default 9 MB of rows; one batch at a time, as the DoFn waits for
  each answer before it advances the offset.
- **insert_all**: :class:`pipeline.bigquery_writes.InsertRows` driven as a runner does (one
  bundle per table): 500-row requests, two in flight.

Both time the writes only: each DoFn's ``setup`` (the client) is outside the clock, the write
stream's creation inside it; each figure is the median of the rounds. The emulator spends its
own CPU per row on this machine (DuckDB), so the ratio says how the two clients and the
emulator's two APIs compare here, not what BigQuery costs per row.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from apache_beam.transforms import window

from bench.by_hand import State, counted
from localdev.stack import LocalStack, local_stack
from pipeline.bigquery_writes import BigQueryTarget, InsertRows, row_json
from pipeline.storage_writes import AppendBatches, shard_of, slices
from pipeline.write_protos import row_encoder
from schemas import load_schema

TABLES = ("orders", "user_activity")
ROWS = 20_000
ROUNDS = 3
COUNTERS = ("inserted", "requests", "retries", "refused")

Rows = dict[str, list[dict[str, Any]]]  # table -> its rows


def raw_rows(rows: int = ROWS) -> Rows:
    """``rows // 2`` valid rows of each of :data:`TABLES`, in arrival order, each ``event_id`` once,
    from the validation benchmark's generated sample run through the validation core."""
    from bench.validation_bench import NOW, SAMPLE_CONFIG
    from localdev.generator import generate
    from transforms.messages import Message, ValidEvent
    from transforms.triage import triage

    per_table = rows // len(TABLES)
    chosen: Rows = {table: [] for table in TABLES}
    seen: set[str] = set()
    for generated in generate(SAMPLE_CONFIG).messages:
        outcome = triage(Message(data=generated.data), NOW)
        if not isinstance(outcome, ValidEvent) or outcome.row is None or outcome.stream not in chosen:
            continue
        if outcome.event_id in seen or len(chosen[outcome.stream]) >= per_table:
            continue
        seen.add(outcome.event_id)
        chosen[outcome.stream].append(outcome.row)
        if all(len(kept) >= per_table for kept in chosen.values()):
            return chosen
    raise RuntimeError(f"the sample holds fewer than {per_table} rows of each of {TABLES}: {chosen.keys()}")


def _target(stack: LocalStack) -> BigQueryTarget:
    return BigQueryTarget(
        stack.project,
        stack.bigquery_endpoint,
        storage_write_api=True,
        storage_endpoint=stack.bigquery_storage_endpoint,
    )


def write_storage(stack: LocalStack, dataset: str, rows: Rows) -> dict[str, Any]:
    """Every table's rows through AppendBatches as WriteStorageRows feeds it (shards, 500-row
    batches, per-shard stream and offset); returns seconds and counts."""
    target = _target(stack)
    dofns = {}
    for table in rows:
        dofn = AppendBatches(f"{stack.project}:{dataset}.{table}", target, load_schema("events", table))
        dofns[table] = counted(dofn, (*COUNTERS, "recognised", "recreated"))
        dofn.setup()
    try:
        started = time.perf_counter()
        refused = streams = 0
        for table, table_rows in rows.items():
            by_shard: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for row in table_rows:
                by_shard[shard_of(row, target.write_shards)].append(row)
            states = {shard: (State(), State()) for shard in by_shard}  # (stream, offset)
            streams += len(states)
            for shard, shard_rows in sorted(by_shard.items()):
                for batch in slices((shard, shard_rows), target.batch_rows):
                    refused += len(list(dofns[table].process(batch, *states[shard])))
        seconds = time.perf_counter() - started
    finally:
        for dofn in dofns.values():
            dofn.teardown()
    return _summary(seconds, dofns, refused, streams=streams)


def write_insert_all(stack: LocalStack, dataset: str, rows: Rows) -> dict[str, Any]:
    """Every table's rows through InsertRows, one bundle per table (500-row requests, two in
    flight); returns seconds and counts."""
    target = BigQueryTarget(stack.project, stack.bigquery_endpoint)
    dofns = {}
    for table in rows:
        dofn = InsertRows(f"{stack.project}:{dataset}.{table}", target)
        dofns[table] = counted(dofn, COUNTERS)
        dofn.setup()
    try:
        started = time.perf_counter()
        refused = 0
        for table, table_rows in rows.items():
            dofn = dofns[table]
            dofn.start_bundle()
            for row in table_rows:
                dofn.process(row, window.GlobalWindows.windowed_value(row))
            refused += len(list(dofn.finish_bundle()))
        seconds = time.perf_counter() - started
    finally:
        for dofn in dofns.values():
            dofn.teardown()
    return _summary(seconds, dofns, refused)


def _summary(seconds: float, dofns: dict[str, Any], refused: int, **extra: Any) -> dict[str, Any]:
    counts = {name: sum(getattr(d, name).value for d in dofns.values()) for name in COUNTERS}
    if refused or counts["refused"]:
        raise RuntimeError(f"rows refused in a benchmark round: {counts}, {refused} refused outputs")
    return {
        "seconds": seconds,
        "rows_inserted": counts["inserted"],
        "requests": counts["requests"],
        "retries": counts["retries"],
        **extra,
    }


def reconcile(stack: LocalStack, dataset: str, rows: Rows) -> dict[str, int]:
    """Each table's row count, checked equal to the rows sent, each ``event_id`` once."""
    client = stack.bigquery_client()
    counts = {}
    for table, sent in rows.items():
        query = (
            f"SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS ids "
            f"FROM `{stack.project}.{dataset}.{table}` WHERE event_date >= '1970-01-01'"
        )
        [result] = list(client.query(query).result())
        if (result["n"], result["ids"]) != (len(sent), len(sent)):
            raise RuntimeError(
                f"{dataset}.{table} holds {result['n']} rows ({result['ids']} event ids), "
                f"{len(sent)} were sent"
            )
        counts[table] = result["n"]
    return counts


def bytes_per_row(rows: Rows) -> tuple[float, float]:
    """Mean serialized bytes a row: as the Write API's protocol buffer, and as insertAll's JSON."""
    proto = text = total = 0
    for table, kept in rows.items():
        encoder = row_encoder(load_schema("events", table))
        proto += sum(len(encoder.encode(row)) for row in kept)
        text += sum(len(row_json(row)) for row in kept)
        total += len(kept)
    return round(proto / total, 1), round(text / total, 1)


def run(rows: int = ROWS, rounds: int = ROUNDS, workdir: Path | None = None) -> dict[str, Any]:
    """The ``storage_write`` section of ``make bench``: medians over ``rounds`` alternating rounds."""
    data = raw_rows(rows)
    total = sum(len(kept) for kept in data.values())
    proto_bytes, json_bytes = bytes_per_row(data)
    writers = {"storage_write": write_storage, "insert_all": write_insert_all}
    runs: Rows = {name: [] for name in writers}
    with local_stack(workdir) as stack:
        for round_number in range(rounds):
            # Alternate which method goes first, so neither always meets a warmer emulator.
            order = list(writers) if round_number % 2 == 0 else list(reversed(writers))
            for name in order:
                dataset = stack.fresh_dataset(f"bench_{name}")
                result = writers[name](stack, dataset, data)
                result["tables"] = reconcile(stack, dataset, data)
                if result["rows_inserted"] != total:
                    raise RuntimeError(f"{name}: {result['rows_inserted']} rows written, {total} sent")
                runs[name].append(result)
    figures: dict[str, Any] = {"rows": total, "rows_by_table": {t: len(k) for t, k in data.items()}}
    for name, results in runs.items():
        seconds = statistics.median(r["seconds"] for r in results)
        figures[name] = {
            "seconds": round(seconds, 2),
            "rows_per_s": round(total / seconds),
            "rounds_s": [round(r["seconds"], 2) for r in results],
            "requests": results[0]["requests"],
            "retries": sum(r["retries"] for r in results),
            **({"streams": results[0]["streams"]} if "streams" in results[0] else {}),
        }
    figures["ratio"] = round(figures["storage_write"]["rows_per_s"] / figures["insert_all"]["rows_per_s"], 2)
    figures["proto_bytes_per_row"] = proto_bytes
    figures["json_bytes_per_row"] = json_bytes
    figures["rounds"] = rounds
    figures["reconciled"] = True  # every round's tables held exactly the rows sent (else raised)
    return figures
