"""The Dataflow submission path builds the real job offline (``--dry_run``: nothing is submitted)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.dataflow.internal import apiclient

from pipeline.main import build_pipeline

ROOT = Path(__file__).resolve().parents[2]
SUBSCRIPTIONS = ",".join(
    f"projects/acme-data/subscriptions/{name}-dataflow" for name in ("orders", "inventory", "user_activity")
)


def dry_run_job():
    options = PipelineOptions(
        [
            "--runner=DataflowRunner",
            "--project=acme-data",
            "--region=europe-west1",
            "--job_name=eventharbor-streaming",
            "--streaming",
            "--enable_streaming_engine",
            f"--setup_file={ROOT / 'setup.py'}",
            "--temp_location=gs://acme-data-dataflow/temp",
            "--staging_location=gs://acme-data-dataflow/staging",
            "--service_account_email=eventharbor-dataflow@acme-data.iam.gserviceaccount.com",
            "--max_num_workers=4",
            "--source=pubsub",
            f"--subscriptions={SUBSCRIPTIONS}",
            "--archive_root=gs://acme-data-archive/raw",
            "--no_auth",
            "--dry_run=True",
            "--sdk_location=container",
        ]
    )
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, options)
    return pipeline.run().job


def job_environment(job):
    """The worker environment Beam's Dataflow client would send with the job (built offline)."""
    return apiclient.Environment(
        packages=[],
        options=job.options,
        environment_version="8",
        proto_pipeline_staged_url="gs://acme-data-dataflow/staging/pipeline.pb",
        proto_pipeline=job.proto_pipeline,
    ).proto


def test_dry_run_builds_a_streaming_job_with_every_step():
    job = dry_run_job()

    assert job.proto.type.name == "JOB_TYPE_STREAMING"
    assert job.proto.name == "eventharbor-streaming"
    environment = job_environment(job)
    assert environment.service_account_email == "eventharbor-dataflow@acme-data.iam.gserviceaccount.com"
    assert "enable_streaming_engine" in environment.experiments
    names = {t.unique_name for t in job.proto_pipeline.components.transforms.values()}
    for step in (
        "ReadPubSub/Read_orders-dataflow",
        "ReadPubSub/Read_inventory-dataflow",
        "ReadPubSub/Read_user_activity-dataflow",
        "ParseAndValidate/Triage",
        "Archive/WriteFiles",
        "Deduplicate/DropRepeatedIds",
        "WriteEvents/Write_orders",
        "WriteEvents/Write_inventory",
        "WriteEvents/Write_user_activity",
        "Write_dead_letter",
        "RealtimeMetrics/SlidingWindows",
        "Write_realtime_event_metrics",
    ):
        assert step in names, f"missing step {step}"


def test_job_options_carry_the_setup_file_and_worker_limits():
    environment = job_environment(dry_run_job())
    options = dict(environment.sdk_pipeline_options["options"])
    assert options["setup_file"] == str(ROOT / "setup.py")
    assert options["max_num_workers"] == 4
    assert options["subscriptions"] == SUBSCRIPTIONS
    assert options["source"] == "pubsub"


def test_setup_file_ships_the_packages_and_schemas(tmp_path):
    subprocess.run(
        [sys.executable, "setup.py", "-q", "sdist", "--dist-dir", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    [archive] = tmp_path.glob("eventharbor-*.tar.gz")
    with tarfile.open(archive) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for required in (
        "pipeline/main.py",
        "transforms/validation.py",
        "schemas/catalog.py",
        "schemas/tables.json",
        "schemas/events/orders.json",
        "schemas/events/dead_letter.json",
    ):
        assert required in names, required
    shipped = {name.split("/", 1)[0] for name in names if name.endswith(".py") and "/" in name}
    assert shipped == {"pipeline", "transforms", "schemas"}, "local tooling must not reach the workers"
