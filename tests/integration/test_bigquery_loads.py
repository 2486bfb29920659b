"""Load jobs against the emulator, through the fault proxy (which answers as BigQuery does where the
emulator does not): rows load in jobs of at most max_rows, each once; a retried bundle finds the
job it ran; a transiently failed job runs as the next attempt and a lost answer is not a second
load; a job that fails for good sends its rows again by streaming inserts, which name the row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.bigquery_loads import LoadLine, LoadRows, RunLoadJobs, load_line
from pipeline.bigquery_writes import BigQueryTarget
from tests.dead_letters import dead_letter, event_ids
from tests.fault_proxy import FaultProxy
from tests.pipeline_runs import table_rows


def load_counters(result, table: str) -> dict[str, int]:
    query = MetricsFilter().with_namespace(f"eventharbor.bigquery.{table}")
    return {c.key.metric.name: c.committed for c in result.metrics().query(query)["counters"]}


def run_load_rows(rows: list[dict], table: str, target: BigQueryTarget, max_rows: int) -> dict[str, int]:
    """LoadRows over ``rows`` in a TestPipeline, none refused; returns the table's counters."""
    pipeline = TestPipeline()
    refused = pipeline | beam.Create(rows) | LoadRows(table, target, max_rows=max_rows)
    assert_that(refused, equal_to([]))
    result = pipeline.run()
    result.wait_until_finish()
    return load_counters(result, table.rpartition(".")[2])


def test_rows_load_in_jobs_of_at_most_max_rows_each_row_once(stack):
    dataset = stack.fresh_dataset()
    rows = [dead_letter(f"evt-{i:03d}") for i in range(25)]
    proxy = FaultProxy(stack.bigquery_endpoint, "dead_letter").start()
    try:
        counters = run_load_rows(
            rows, f"{stack.project}:{dataset}.dead_letter", BigQueryTarget(stack.project, proxy.url), 4
        )
    finally:
        proxy.stop()
    assert event_ids(stack, dataset) == [r["event_id"] for r in rows], "every row once"
    loaded = table_rows(stack, dataset, "dead_letter")
    assert all(r["attributes"] == {} for r in loaded), "a JSON column loads as JSON, not as a string of it"
    assert max(proxy.load_rows) <= 4 and sum(proxy.load_rows) == 25
    assert len(proxy.load_rows) >= 7, "at least ceil(25 / 4) jobs"
    assert (counters["rows_loaded"], counters["load_jobs"]) == (25, len(proxy.load_rows))
    assert counters.get("load_retries", 0) == 0 and counters.get("rows_resent", 0) == 0
    assert proxy.insert_calls == 0, "no streaming insert"


def lines_of(rows: list[dict]) -> list[LoadLine]:
    return [load_line(row) for row in rows]


@contextmanager
def proxied_load_jobs(stack, dataset: str, **faults: Any) -> Iterator[tuple[RunLoadJobs, FaultProxy]]:
    """A set-up RunLoadJobs into ``dataset.dead_letter`` through a FaultProxy with ``faults``
    (backing off 10 ms); torn down and stopped after."""
    proxy = FaultProxy(stack.bigquery_endpoint, "dead_letter", **faults).start()
    try:
        target = BigQueryTarget(stack.project, proxy.url)
        dofn = RunLoadJobs(f"{stack.project}:{dataset}.dead_letter", target, first_backoff_s=0.01)
        dofn.setup()
        yield dofn, proxy
        dofn.teardown()
    finally:
        proxy.stop()


def test_a_retried_bundle_finds_the_job_it_ran_and_loads_nothing_twice(stack):
    dataset = stack.fresh_dataset()
    rows = [dead_letter(f"evt-{i}") for i in range(5)]
    lines = lines_of(rows)
    with proxied_load_jobs(stack, dataset) as (dofn, proxy):
        assert list(dofn.process((0, [lines]))) == []
        half = len(lines) // 2
        again = [list(reversed(lines[half:])), lines[:half]]
        assert list(dofn.process((0, again))) == [], "the same shard, delivered again in other chunks"
    assert len(proxy.load_job_ids) == 1, "the second delivery found the job done and sent nothing"
    assert proxy.conflicts == 0
    assert event_ids(stack, dataset) == [r["event_id"] for r in rows]


def test_a_failed_job_runs_again_as_the_next_attempt(stack):
    dataset = stack.fresh_dataset()
    rows = [dead_letter(f"evt-{i}") for i in range(6)]
    with proxied_load_jobs(stack, dataset, failed_loads=1) as (dofn, proxy):
        assert list(dofn.process((0, [lines_of(rows)]))) == []
    first, second = proxy.load_job_ids
    assert first.endswith("_0") and second.endswith("_1"), "a failed job's rows go as the next attempt"
    assert first.rsplit("_", 1)[0] == second.rsplit("_", 1)[0], "of the same content"
    assert event_ids(stack, dataset) == [r["event_id"] for r in rows], "loaded once"


def test_a_job_not_found_but_taken_is_waited_for_not_loaded_twice(stack):
    """The lookup misses the job an earlier try created (its answer lost, say); BigQuery then
    refuses the new job's id with 409 and the job already there is the one waited for."""
    dataset = stack.fresh_dataset()
    rows = [dead_letter(f"evt-{i}") for i in range(3)]
    lines = lines_of(rows)
    with proxied_load_jobs(stack, dataset) as (dofn, proxy):
        assert list(dofn.process((0, [lines]))) == []
        proxy.hidden_job_lookups = 1
        assert list(dofn.process((0, [lines]))) == []
    assert proxy.conflicts == 1 and len(proxy.load_job_ids) == 1
    assert event_ids(stack, dataset) == [r["event_id"] for r in rows], "loaded once"


@pytest.mark.parametrize("max_rows", [100, 2])
def test_a_job_failed_for_good_sends_its_rows_by_streaming_inserts_which_name_the_refused_one(
    stack, max_rows
):
    dataset = stack.fresh_dataset()
    rows = [dead_letter(f"evt-{i}") for i in range(4)]
    proxy = FaultProxy(stack.bigquery_endpoint, "dead_letter", reject_event_ids={"evt-2"}).start()
    try:
        pipeline = TestPipeline()
        refused = (
            pipeline
            | beam.Create(rows)
            | LoadRows(
                f"{stack.project}:{dataset}.dead_letter",
                BigQueryTarget(stack.project, proxy.url),
                max_rows=max_rows,
            )
        )
        assert_that(refused | beam.Map(lambda failed: failed[1]["event_id"]), equal_to(["evt-2"]))
        result = pipeline.run()
        result.wait_until_finish()
    finally:
        proxy.stop()
    counters = load_counters(result, "dead_letter")
    assert len(proxy.refused) == 1, "refused once, never sent again"
    assert counters["rows_resent"] >= 1
    assert counters["rows_inserted"] + counters.get("rows_loaded", 0) == 3, "the others written once"
    assert event_ids(stack, dataset) == ["evt-0", "evt-1", "evt-3"]
