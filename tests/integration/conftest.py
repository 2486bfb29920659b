"""Fixtures of the integration tests: the real local emulators (never mocks).

Each emulator is started once per test session on a free loopback port and
stopped by its process id at the end. A missing emulator fails the tests that
need it with a message saying how to install it; nothing is skipped. Only
tests/integration/ sees these fixtures: unit and infra tests never start an emulator.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev import stack as localstack
from localdev.stack import Emulator, LocalStack


def _started(emulator_factory) -> Iterator[Emulator]:
    try:
        emulator = emulator_factory()
    except localstack.EmulatorNotFound as exc:
        pytest.fail(str(exc), pytrace=False)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def emulator_logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("emulator-logs")


@pytest.fixture(scope="session")
def bigquery_emulator(emulator_logs) -> Iterator[Emulator]:
    """bqemulator (DuckDB-backed BigQuery REST API), ephemeral."""
    yield from _started(lambda: localstack.bigquery_emulator(emulator_logs))


@pytest.fixture(scope="session")
def pubsub_emulator(emulator_logs) -> Iterator[Emulator]:
    """Google's official Pub/Sub emulator; sets PUBSUB_EMULATOR_HOST for the session."""
    for emulator in _started(lambda: localstack.pubsub_emulator(emulator_logs)):
        os.environ["PUBSUB_EMULATOR_HOST"] = emulator.host
        yield emulator
        os.environ.pop("PUBSUB_EMULATOR_HOST", None)


@pytest.fixture(scope="session")
def storage_emulator(emulator_logs) -> Iterator[Emulator]:
    """gcp-storage-emulator, in memory; sets STORAGE_EMULATOR_HOST for the session."""
    for emulator in _started(lambda: localstack.storage_emulator(emulator_logs)):
        os.environ["STORAGE_EMULATOR_HOST"] = f"http://{emulator.host}"
        saved = localstack.connect_beam_gcs_anonymously()
        yield emulator
        localstack.restore_beam_gcs_credentials(saved)
        os.environ.pop("STORAGE_EMULATOR_HOST", None)


@pytest.fixture(scope="session")
def bq_client(bigquery_emulator):
    """An official google-cloud-bigquery client pointed at the emulator."""
    return localstack.bigquery_client(f"http://{bigquery_emulator.host}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory, pubsub_emulator, bigquery_emulator, storage_emulator) -> LocalStack:
    """All three emulators with topics, subscriptions, bucket, datasets and tables created."""
    emulators = {"pubsub": pubsub_emulator, "bigquery": bigquery_emulator, "storage": storage_emulator}
    return LocalStack(root=tmp_path_factory.mktemp("stack"), emulators=emulators).start()
