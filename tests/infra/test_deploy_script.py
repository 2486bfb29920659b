"""scripts/deploy_pipeline.sh against stand-in Terraform outputs (a ``terraform`` on PATH that
answers ``output -raw``), and the Dataflow job it would submit, built for real with Beam's
``--dry_run``: nothing is submitted.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.terraform_hcl import DEPLOY_SCRIPT, ROOT
from tests.terraform_outputs import FAKE_OUTPUTS


def run_deploy_script(tmp_path: Path, outputs: dict[str, str], *args: str, **env: str):
    """Run the deploy script with DRY_RUN=1 and a `terraform` that answers `output -raw NAME`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    fake = bin_dir / "terraform"
    fake.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            f"""
            import json, sys
            args = sys.argv[1:]
            outputs = json.load(open({str(tmp_path / "outputs.json")!r}))
            if args[:1] != ["-chdir=terraform"] or args[1:3] != ["output", "-raw"] or args[3] not in outputs:
                print("Error: Output not found", file=sys.stderr)
                sys.exit(1)
            sys.stdout.write(outputs[args[3]])
            """
        )
    )
    fake.chmod(0o755)
    environment = {
        k: v for k, v in os.environ.items() if k not in {"PROJECT", "REGION", "JOB_NAME", "IP_MODE"}
    }
    environment.update({"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "DRY_RUN": "1", **env})
    return subprocess.run(
        ["bash", str(DEPLOY_SCRIPT), *args], capture_output=True, text=True, env=environment, timeout=60
    )


def flag(args: list[str], name: str) -> str:
    assert name in args, f"{name} missing from {args}"
    return args[args.index(name) + 1]


def test_deploy_script_is_strict_bash():
    text = DEPLOY_SCRIPT.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    assert os.access(DEPLOY_SCRIPT, os.X_OK), "scripts/deploy_pipeline.sh must be executable"
    assert subprocess.run(["bash", "-n", str(DEPLOY_SCRIPT)]).returncode == 0
    assert "terraform -chdir=" in text and "output -raw" in text


def test_deploy_script_submits_with_the_terraform_outputs(tmp_path):
    result = run_deploy_script(tmp_path, FAKE_OUTPUTS, "--window_size_s", "120")
    assert result.returncode == 0, result.stderr
    argv = shlex.split(result.stdout)
    assert argv[:3] == [".venv/bin/python", "-m", "pipeline.main"], argv
    args = argv[3:]
    assert flag(args, "--runner") == "DataflowRunner"
    assert flag(args, "--project") == "my-proj-123"
    assert flag(args, "--region") == "us-central1"
    assert flag(args, "--job_name") == "eventharbor-streaming"
    assert "--streaming" in args and "--enable_streaming_engine" in args
    assert flag(args, "--setup_file") == "./setup.py"
    assert flag(args, "--temp_location") == FAKE_OUTPUTS["temp_location"]
    assert flag(args, "--staging_location") == FAKE_OUTPUTS["staging_location"]
    assert flag(args, "--service_account_email") == FAKE_OUTPUTS["dataflow_service_account_email"]
    assert flag(args, "--max_num_workers") == "3"
    assert flag(args, "--source") == "pubsub"
    assert flag(args, "--subscriptions") == FAKE_OUTPUTS["subscriptions"]
    assert flag(args, "--dataset") == "events"
    assert flag(args, "--dead_letter_table") == "dead_letter"
    assert flag(args, "--metrics_table") == "realtime_event_metrics"
    assert flag(args, "--archive_root") == FAKE_OUTPUTS["archive_root"]
    assert flag(args, "--ip_mode") == "truncate"
    assert flag(args, "--subnetwork") == FAKE_OUTPUTS["dataflow_subnetwork"]
    assert "--no_use_public_ips" in args
    assert "--worker_machine_type" not in args and "--dataflow_kms_key" not in args
    assert args[-2:] == ["--window_size_s", "120"], "extra arguments go to the pipeline"

    overridden = run_deploy_script(
        tmp_path, FAKE_OUTPUTS, PROJECT="other-proj-9", REGION="europe-west1", UPDATE="1"
    )
    assert overridden.returncode == 0, overridden.stderr
    args = shlex.split(overridden.stdout)
    assert flag(args, "--project") == "other-proj-9" and flag(args, "--region") == "europe-west1"
    assert "--update" in args


def test_deploy_script_fails_clearly_without_terraform_outputs(tmp_path):
    missing = {k: v for k, v in FAKE_OUTPUTS.items() if k != "subscriptions"}
    result = run_deploy_script(tmp_path, missing)
    assert result.returncode != 0
    assert (
        "Terraform output 'subscriptions' is missing" in result.stderr
        and "make deploy-infra" in result.stderr
    )
    hashed = run_deploy_script(tmp_path, FAKE_OUTPUTS, IP_MODE="hash")
    assert hashed.returncode != 0 and "ip_hash_key_secret_version" in hashed.stderr


def test_submission_builds_the_streaming_dataflow_job_offline(tmp_path, monkeypatch, caplog):
    """The deploy script's exact command, built with Beam's --dry_run: nothing is submitted."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions
    from apache_beam.runners.dataflow.internal import apiclient

    from pipeline.main import build_pipeline

    result = run_deploy_script(tmp_path, FAKE_OUTPUTS)
    assert result.returncode == 0, result.stderr
    args = shlex.split(result.stdout)[3:] + ["--dry_run", "True", "--no_auth"]

    monkeypatch.chdir(ROOT)  # the script runs from the repository root (--setup_file ./setup.py)
    options = PipelineOptions(args)
    with caplog.at_level(logging.WARNING, logger="apache_beam.options.pipeline_options"):
        options.get_all_options()
    assert "Discarding unparseable args" not in caplog.text, caplog.text
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, options)
    job = pipeline.run().job

    assert job.proto.type.name == "JOB_TYPE_STREAMING"
    assert job.proto.name == "eventharbor-streaming"
    top_level = {
        t.unique_name for t in job.proto_pipeline.components.transforms.values() if "/" not in t.unique_name
    }
    expected = {"ReadPubSub", "ParseAndValidate", "Archive", "Deduplicate", "WriteEvents", "RealtimeMetrics"}
    assert expected <= top_level, sorted(top_level)
    staged = {
        dep.role_payload
        for env in job.proto_pipeline.components.environments.values()
        for dep in env.dependencies
    }
    assert any(b"workflow.tar.gz" in payload for payload in staged), "the --setup_file package is not staged"
    environment = apiclient.Environment(
        packages=[],
        options=job.options,
        environment_version="8",
        proto_pipeline_staged_url=FAKE_OUTPUTS["staging_location"] + "/pipeline.pb",
        proto_pipeline=job.proto_pipeline,
    ).proto
    assert environment.service_account_email == FAKE_OUTPUTS["dataflow_service_account_email"]
    assert "enable_streaming_engine" in environment.experiments
    assert job.options.view_as(GoogleCloudOptions).temp_location.startswith(FAKE_OUTPUTS["temp_location"])
    (pool,) = environment.worker_pools
    assert pool.autoscaling_settings.max_num_workers == 3
    assert pool.subnetwork == FAKE_OUTPUTS["dataflow_subnetwork"]
    assert pool.ip_configuration.name == "WORKER_IP_PRIVATE"
