"""What the local stack creates on the emulators: the datasets and tables of ``schemas/`` (and the
columns a kept warehouse lacks), and the Pub/Sub topics and subscriptions."""

from __future__ import annotations

from schemas import STREAMS, TableSpec, all_tables, bigquery_table, load_schema, schema_fields
from schemas.ddl import column_type
from warehouse.clients import EMULATOR_PROJECT

PROJECT = EMULATOR_PROJECT
MIXED = "events"  # the topic (and subscription) every stream's events may share


def create_tables(client, project: str = PROJECT, datasets: dict[str, str] | None = None) -> None:
    """Create the datasets and every table of ``schemas/`` through the BigQuery API.

    ``datasets`` maps the schema's dataset names to the names to create
    (default: ``events`` and ``analytics`` as they are), so tests can isolate.
    """
    for logical, actual in (datasets or {"events": "events", "analytics": "analytics"}).items():
        client.create_dataset(f"{project}.{actual}", exists_ok=True)
        for spec in all_tables(logical):
            table = client.create_table(bigquery_table(spec, project, dataset=actual), exists_ok=True)
            add_new_columns(client, table, spec)


def add_new_columns(client, table, spec: TableSpec) -> list[str]:
    """Give an existing local table the columns ``schemas/`` added since it was created (a
    compatible change adds NULLABLE columns only); returns their names.

    The emulator keeps a table's schema twice, and each call reaches one: ``update_table`` its
    metadata (what ``get_table`` answers), ``ALTER TABLE … ADD COLUMN`` its DuckDB storage (what
    queries and inserts see). On BigQuery the ALTER alone does both.
    """
    have = {f.name for f in table.schema}
    fields = [f for f in load_schema(spec.dataset, spec.table) if f["name"] not in have]
    if not fields:
        return []
    for column in fields:
        if column.get("mode", "NULLABLE") == "REQUIRED":
            raise ValueError(
                f"{spec.schema_path}: column {column['name']!r} is REQUIRED, but the local table "
                f"{table.full_table_id} exists without it; add new columns as NULLABLE (make lint "
                "says why), or start a fresh local warehouse (make run without KEEP=1)"
            )
    table.schema = [
        *table.schema,
        *(f for f in schema_fields(spec.dataset, spec.table) if f.name not in have),
    ]
    client.update_table(table, ["schema"])
    name = f"`{table.project}.{table.dataset_id}.{table.table_id}`"
    for column in fields:
        # The emulator's bare NUMERIC keeps 3 decimals; BigQuery's keeps 9 (38 digits in all).
        kind = "NUMERIC(38, 9)" if column_type(column) == "NUMERIC" else column_type(column)
        client.query(f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {column['name']} {kind}").result()
    return [column["name"] for column in fields]


def create_topics(project: str = PROJECT) -> dict[str, str]:
    """One topic and subscription per stream plus a mixed one; returns stream -> subscription path."""
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    subscriptions = {}
    with subscriber:
        for name in (*STREAMS, MIXED):
            topic = publisher.topic_path(project, name)
            subscription = subscriber.subscription_path(project, f"{name}-pipeline")
            publisher.create_topic(name=topic)
            subscriber.create_subscription(name=subscription, topic=topic, ack_deadline_seconds=60)
            subscriptions[name] = subscription
    return subscriptions
