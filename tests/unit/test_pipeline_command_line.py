"""``python -m pipeline.main``'s command line: --help lists EventHarbor's options with their defaults,
--help-all Beam's too; an unknown option stops the run naming the nearest known one, while every
option the deploy script, the Flex Template and Beam/Dataflow pass goes through; README's option
tables are generated from the same parser."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from pipeline import main
from pipeline.command_line import (
    LAUNCHER_ENV,
    PROG,
    check_known_options,
    eventharbor_groups,
    help_text,
    options_parser,
)
from pipeline.commands import UsageError, run_command
from warehouse import docs

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FLEX_DIR = ROOT / "flex-template"


def eventharbor_actions():
    return [action for _, actions in eventharbor_groups() for action in actions]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_help_all_adds_beams_options_by_class():
    text = flat(help_text(["--help-all"]))
    for group in ("Beam: StandardOptions:", "Beam: GoogleCloudOptions:", "Beam: WorkerOptions:"):
        assert group in text, group
    for option in ("--runner", "--temp_location", "--sdk_container_image", "--experiments", "--setup_file"):
        assert f" {option} " in text, option
    assert "EventHarbor: input:" in text and " --progress_every " in text


def test_main_answers_help_without_running(monkeypatch, capsys):
    monkeypatch.setattr(main, "run", lambda argv: pytest.fail("--help must not run the pipeline"))
    assert run_command(main.main, PROG, ["--input=x", "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: {PROG}")


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--inptu", "events.jsonl"], "unknown option --inptu (did you mean --input?)"),
        (["--project=p", "--inptu=events.jsonl"], "unknown option --inptu (did you mean --input?)"),
        (["--dedup_window_S=5"], "unknown option --dedup_window_S (did you mean --dedup_window_s?)"),
        (["--runer=DirectRunner"], "unknown option --runer (did you mean --runner?)"),
        (["--temp_locaton", "gs://b/tmp"], "unknown option --temp_locaton (did you mean --temp_location?)"),
        (["--hepl"], "unknown option --hepl (did you mean --help?)"),
        (["--zzzzqqqqxx"], f"unknown option --zzzzqqqqxx (`{PROG} --help` lists the options)"),
        (["--window_size_s=abc"], "argument --window_size_s: invalid int value: 'abc'"),
        (["--streaming", "true"], "unexpected argument 'true': every argument is an option"),
    ],
)
def test_unknown_options_and_bad_values_stop_before_anything_runs(argv, line, monkeypatch, capsys):
    monkeypatch.setattr(main, "PipelineOptions", lambda argv: pytest.fail("reached the options"))
    assert run_command(main.main, PROG, argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{PROG}: error: {line}"), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_option_errors_end_in_one_line_with_exit_code_2(capsys):
    assert run_command(main.main, PROG, ["--project=p"]) == 2
    assert (
        capsys.readouterr().err
        == f"{PROG}: error: --source files needs --input 'path/*.jsonl' (local paths or gs:// globs)\n"
    )


DEPLOY_ARGV = [
    # scripts/deploy_pipeline.sh (make deploy-pipeline), every flag it may pass.
    *("--runner", "DataflowRunner", "--project", "my-proj", "--region", "us-central1"),
    *("--job_name", "eventharbor-streaming", "--streaming", "--enable_streaming_engine"),
    *("--setup_file", "./setup.py", "--temp_location", "gs://b/tmp", "--staging_location", "gs://b/staging"),
    *("--service_account_email", "sa@my-proj.iam.gserviceaccount.com", "--max_num_workers", "3"),
    *("--source", "pubsub", "--subscriptions", "projects/my-proj/subscriptions/orders-dataflow"),
    *(
        "--dataset",
        "events",
        "--dead_letter_table",
        "dead_letter",
        "--metrics_table",
        "realtime_event_metrics",
    ),
    *("--archive_root", "gs://b/raw", "--ip_mode", "truncate", "--worker_machine_type", "n2-standard-2"),
    *("--subnetwork", "regions/us-central1/subnetworks/s", "--no_use_public_ips"),
    *("--dataflow_kms_key", "projects/p/locations/l/keyRings/r/cryptoKeys/k", "--update"),
    *("--window_size_s", "120", "--allowed_lateness_s", "600"),
]
BEAM_ARGV = [
    # What the Flex Template launcher and Dataflow users add, in both --opt=value and --opt value forms.
    "--runner=DataflowRunner",
    "--project=my-proj",
    "--region=us-central1",
    "--temp_location=gs://b/tmp",
    "--template_location=gs://b/templates/job_object",
    "--sdk_container_image=us-central1-docker.pkg.dev/my-proj/eventharbor/pipeline:latest",
    "--setup_file=/template/setup.py",
    "--experiments=use_runner_v2",
    "--experiments",
    "enable_data_sampling",
    "--dataflow_service_options=enable_prime",
    "--dataflow_service_options",
    "streaming_mode_exactly_once",
    "--labels=env=prod",
    "--save_main_session",
    "--dry_run=True",
    "--no_auth",
]


def test_the_deploy_scripts_options_are_known():
    check_known_options(DEPLOY_ARGV)
    known = {option for action in options_parser()._actions for option in action.option_strings}
    script = (ROOT / "scripts" / "deploy_pipeline.sh").read_text()
    passed = set(re.findall(r"(?<![\w-])--[a-z][a-z_]+", script))
    assert passed and passed <= known, sorted(passed - known)
    assert passed <= set(DEPLOY_ARGV), sorted(passed - set(DEPLOY_ARGV))


@pytest.mark.parametrize("form", ["--opt=value", "--opt value"])
def test_the_flex_templates_and_beams_options_are_known(form):
    spec = importlib.util.spec_from_file_location("flex_launch_cli", FLEX_DIR / "launch.py")
    launch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launch)
    examples = {"source": "pubsub", "ip_mode": "hash", "bigquery_write_method": "storage_write_api"}
    metadata = json.loads((FLEX_DIR / "metadata.json").read_text())
    parameters = [f"--{p['name']}={examples.get(p['name'], '7')}" for p in metadata["parameters"]]
    argv = [*BEAM_ARGV, *parameters]
    if form == "--opt value":
        argv = [part for arg in argv for part in (arg.split("=", 1) if "=" in arg else [arg])]
    args, secret = launch.launcher_args(argv)
    assert secret == "7" and not any("ip_hash_key_secret" in arg for arg in args)
    check_known_options(args)
    check_known_options(BEAM_ARGV)


def test_check_known_options_raises_a_usage_error():
    with pytest.raises(UsageError, match=r"unknown option --Input \(did you mean --input\?\)"):
        check_known_options(["--Input=x"])
    check_known_options([])


def test_launched_from_the_flex_template_only_a_misspelling_of_ours_stops_the_job(monkeypatch, caplog):
    monkeypatch.setenv(LAUNCHER_ENV, "flex-template")
    check_known_options(["--launcher_only_flag=1", "--input=x"])  # Google's own: passed, logged
    assert "--launcher_only_flag=1" in caplog.text
    with pytest.raises(UsageError, match=r"--dedup_window_S \(did you mean --dedup_window_s\?\)"):
        check_known_options(["--dedup_window_S=5"])
    monkeypatch.delenv(LAUNCHER_ENV)
    with pytest.raises(UsageError, match="unknown option --launcher_only_flag"):
        check_known_options(["--launcher_only_flag=1"])


def test_the_readme_option_tables_are_generated_and_fresh():
    text = README.read_text()
    assert docs.render_regions(text, source="README.md") == text, (
        "run `make ddl` (python -m warehouse.render)"
    )
    region = text.split("<!-- generated: pipeline options -->\n", 1)[1].split("<!-- end generated -->")[0]
    rows = dict(re.findall(r"^\| `(--\w+)` \| ([^|]+) \|", region, flags=re.M))
    for action in eventharbor_actions():
        name = action.option_strings[0]
        assert name in rows, name
        expected = "—" if action.default is None else str(action.default)
        assert rows[name].strip().strip("`") == expected, (name, rows[name])
    assert {"--progress_every", "--bigquery_write_method"} <= set(rows)
