"""The local emulators work with the official Google clients."""

from __future__ import annotations

import uuid

from google.cloud import bigquery, pubsub_v1

from localdev import stack as localstack
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


def test_bigquery_insert_and_query_nested_numeric_row(bq_client):
    dataset = f"ls_{uuid.uuid4().hex[:8]}"
    bq_client.create_dataset(dataset)
    bq_client.create_table(bigquery_table(table_spec("events.orders"), bq_client.project, dataset=dataset))
    row = {
        "order_id": "o-1",
        "customer_id": "c-1",
        "order_date": "2026-11-01T10:00:00Z",
        "status": "pending",
        "items": [{"product_id": "p-1", "product_name": "Mug", "quantity": 3, "price": "4.10"}],
        "shipping_address": {"street": "1 Main St", "city": "Oslo", "country": "NO"},
        "total_amount": "12.30",
        "event_id": "e-1",
        "event_type": "order",
        "processed_timestamp": "2026-11-01T10:00:01Z",
        "event_date": "2026-11-01",
    }
    assert bq_client.insert_rows_json(f"{dataset}.orders", [row], row_ids=["e-1"]) == []

    query = (
        f"SELECT order_id, total_amount, shipping_address.city AS city, "
        f"(SELECT SUM(it.quantity * it.price) FROM UNNEST(items) AS it) AS computed "
        f"FROM {dataset}.orders WHERE event_date = @day"
    )
    config = bigquery.QueryJobConfig(
        query_parameters=[bigquery.ScalarQueryParameter("day", "DATE", "2026-11-01")]
    )
    rows = [dict(r) for r in bq_client.query(query, job_config=config).result()]

    assert len(rows) == 1
    assert rows[0]["order_id"] == "o-1"
    assert rows[0]["city"] == "Oslo"
    assert str(rows[0]["total_amount"].normalize()) == "12.3"
    assert rows[0]["computed"] == rows[0]["total_amount"]


def test_pubsub_publish_and_pull(pubsub_emulator):
    project = localstack.PROJECT
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(project, f"t-{uuid.uuid4().hex[:8]}")
    subscription = subscriber.subscription_path(project, f"s-{uuid.uuid4().hex[:8]}")
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=subscription, topic=topic)

    message_id = publisher.publish(topic, b'{"event_type": "order"}', origin="test").result(timeout=30)
    response = subscriber.pull(subscription=subscription, max_messages=10, timeout=30)

    assert len(response.received_messages) == 1
    message = response.received_messages[0].message
    assert message.data == b'{"event_type": "order"}'
    assert message.attributes["origin"] == "test"
    assert message.message_id == message_id
    subscriber.acknowledge(subscription=subscription, ack_ids=[response.received_messages[0].ack_id])


def test_storage_write_and_read_object(storage_emulator):
    client = localstack.storage_client()
    bucket = client.create_bucket(f"b-{uuid.uuid4().hex[:8]}")
    bucket.blob("raw/orders/dt=2026-11-01/part.jsonl").upload_from_string('{"a": 1}\n')

    names = [b.name for b in client.list_blobs(bucket.name, prefix="raw/")]

    assert names == ["raw/orders/dt=2026-11-01/part.jsonl"]
    assert bucket.blob(names[0]).download_as_bytes() == b'{"a": 1}\n'


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
