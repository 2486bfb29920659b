"""flex-template/: its metadata against the pipeline's options and Terraform's job parameters, its
image against setup.py's Beam pin, and the launcher's argument handling.
"""

from __future__ import annotations

import importlib.util
import json
import re

from tests.terraform_hcl import ROOT, local_values
from tests.terraform_outputs import FAKE_OUTPUTS

FLEX_DIR = ROOT / "flex-template"


def _launcher():
    spec = importlib.util.spec_from_file_location("flex_launch", FLEX_DIR / "launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flex_template_metadata_matches_the_pipeline_options_and_terraform():
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.options import WRITE_METHODS, EventHarborOptions

    metadata = json.loads((FLEX_DIR / "metadata.json").read_text())
    assert metadata["name"] and metadata["description"] and metadata["streaming"] is True
    params = {p["name"]: p for p in metadata["parameters"]}
    for name, param in params.items():
        assert param.get("label") and len(param.get("helpText", "")) >= 20, f"{name} needs a label and help"
        for regex in param.get("regexes", []):
            re.compile(regex)
    # Every parameter is a pipeline option, except the one launch.py consumes.
    known = set(PipelineOptions([]).view_as(EventHarborOptions).get_all_options()) | {"ip_hash_key_secret"}
    assert set(params) <= known, sorted(set(params) - known)
    required = {n for n, p in params.items() if not p.get("isOptional")}
    assert required == {"subscriptions", "archive_root"}, required
    # Terraform's Flex Template job passes only declared parameters, including the required ones.
    parameters = local_values()["pipeline_parameters"]
    passed = set(re.findall(r"[{,]'?(\w+)'?[=:]", parameters.split("},", 1)[0])) | {"ip_hash_key_secret"}
    assert required <= passed <= set(params), (sorted(passed), sorted(params))
    assert re.fullmatch(params["subscriptions"]["regexes"][0], FAKE_OUTPUTS["subscriptions"])
    # A streaming job's write method can be chosen at launch; load jobs are batch only.
    method = params["bigquery_write_method"]["regexes"][0]
    assert [m for m in WRITE_METHODS if re.fullmatch(method, m)] == [
        "auto",
        "streaming_inserts",
        "storage_write_api",
    ]
    assert {"storage_write_shards", "storage_write_batch_rows", "storage_write_batch_wait_s"} <= set(params)


def test_flex_template_image_matches_setup_py_and_the_launcher_defaults():
    dockerfile = (FLEX_DIR / "Dockerfile").read_text()
    beam_pin = re.search(r'"apache-beam\[gcp\]==([\d.]+)"', (ROOT / "setup.py").read_text()).group(1)
    sdk = re.search(r"FROM apache/beam_python(\d+\.\d+)_sdk:([\d.]+)", dockerfile)
    assert sdk and sdk.group(2) == beam_pin, "the worker image's Beam must equal setup.py's apache-beam pin"
    launcher = re.search(r"python(\d)(\d+)-template-launcher-base", dockerfile)
    assert launcher and f"{launcher.group(1)}.{launcher.group(2)}" == sdk.group(1)
    for needed in ("setup.py", "schemas", "transforms", "pipeline", "flex-template/launch.py"):
        assert re.search(rf"^COPY {re.escape(needed)} ", dockerfile, flags=re.M), (
            f"Dockerfile must copy {needed}"
        )
    assert 'FLEX_TEMPLATE_PYTHON_PY_FILE="${WORKDIR}/launch.py"' in dockerfile

    launch = _launcher()
    assert launch.launcher_args(["--subscriptions=a"]) == (["--subscriptions=a", "--source=pubsub"], None)
    secret = "projects/p/secrets/ip-key/versions/3"
    assert launch.launcher_args(["--ip_hash_key_secret", secret, "--source", "pubsub"]) == (
        ["--source", "pubsub"],
        secret,
    )
    assert launch.launcher_args([f"--ip_hash_key_secret={secret}"])[1] == secret
