"""The local stack creates what the pipeline needs, from schemas/, on the real emulators."""

from __future__ import annotations

import os
import uuid

from localdev import stack as localstack
from localdev.stack import local_stack
from schemas import bigquery_table, table_spec


def test_bigquery_table_from_schemas_keeps_partitioning_and_clustering(bq_client):
    dataset = f"ls_{uuid.uuid4().hex[:8]}"
    bq_client.create_dataset(dataset)
    spec = table_spec("events.orders")
    bq_client.create_table(bigquery_table(spec, bq_client.project, dataset=dataset))

    table = bq_client.get_table(f"{dataset}.orders")

    assert table.time_partitioning.field == "event_date"
    assert table.time_partitioning.type_ == "DAY"
    assert table.time_partitioning.expiration_ms == 90 * 86_400_000
    assert table.clustering_fields == ["customer_id", "status"]
    assert [f.name for f in table.schema][:4] == ["order_id", "customer_id", "order_date", "status"]
    items = next(f for f in table.schema if f.name == "items")
    assert (items.field_type, items.mode) == ("RECORD", "REPEATED")
    assert [f.name for f in items.fields] == ["product_id", "product_name", "quantity", "price"]


def test_stack_creates_every_table_topic_and_bucket(stack):
    client = stack.bigquery_client()
    tables = {t.table_id for t in client.list_tables("events")}
    assert {"orders", "inventory", "user_activity", "dead_letter", "realtime_event_metrics"} <= tables
    assert set(stack.subscriptions) == {"orders", "inventory", "user_activity", "events"}
    assert localstack.storage_client().bucket(stack.bucket).exists()


def test_missing_emulator_error_says_how_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    try:
        localstack.pubsub_emulator_launcher()
    except localstack.EmulatorNotFound as exc:
        assert "gcloud components install pubsub-emulator" in str(exc)
    else:
        raise AssertionError("expected EmulatorNotFound with no gcloud on PATH")


def test_a_stack_started_and_stopped_inside_a_process_puts_the_environment_back(stack, tmp_path):
    """A test's own stack (make run's demo, say) must not leave the session's clients pointing
    at its stopped emulators."""
    before = {key: os.environ.get(key) for key in stack.env}
    with local_stack(tmp_path / "inner") as inner:
        assert (
            os.environ["PUBSUB_EMULATOR_HOST"]
            == inner.emulators["pubsub"].host
            != before["PUBSUB_EMULATOR_HOST"]
        )
    assert {key: os.environ.get(key) for key in stack.env} == before


def test_beam_writes_to_the_storage_emulator_without_looking_for_credentials(tmp_path, monkeypatch):
    """Beam's first GCS access would otherwise retry Application Default Credentials for ~23 s."""
    from apache_beam.internal.gcp import auth
    from apache_beam.io.filesystems import FileSystems

    def no_lookup(*args, **kwargs):
        raise AssertionError("Beam looked for Application Default Credentials")

    monkeypatch.setattr(auth._Credentials, "_credentials_init", False)  # as in a fresh process
    monkeypatch.setattr(auth._Credentials, "_credentials", None)
    monkeypatch.setattr(auth._Credentials, "_get_service_credentials", staticmethod(no_lookup))
    before = (auth._Credentials._credentials_init, auth._Credentials._credentials)
    with local_stack(tmp_path / "gcs") as inner:
        with FileSystems.create(f"gs://{inner.bucket}/raw/probe.txt") as handle:
            handle.write(b"archived")
        blob = localstack.storage_client(inner.project).bucket(inner.bucket).blob("raw/probe.txt")
        assert blob.download_as_bytes() == b"archived"
    assert (auth._Credentials._credentials_init, auth._Credentials._credentials) == before
