"""The house rules a reviewer checks by hand, held here: production modules stay small enough to
read in one sitting, and nothing of the job's install set is local-only."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("pipeline", "transforms", "schemas", "warehouse", "recovery", "localdev", "bench")
MAX_LINES = 600


def tracked_python(*folders: str) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--", *(f"{folder}/*.py" for folder in folders)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed]


def test_no_production_module_is_over_600_lines():
    files = tracked_python(*PRODUCTION)
    assert len(files) > 50
    long = {
        f.relative_to(ROOT).as_posix(): n for f in files if (n := len(f.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these into modules of their own size: {long}"


def test_the_job_installs_nothing_local_only():
    """setup.py's install_requires (what Dataflow workers install) holds no emulator, test or
    progress-bar package: those are the ``local`` and ``dev`` extras."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    lists = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id in ("RUNTIME", "JOB_PACKAGES")
    }
    runtime = {
        requirement.split("[")[0].split("=")[0].split(">")[0].split("<")[0]
        for requirement in lists["RUNTIME"]
    }
    assert runtime == {
        "apache-beam",
        "google-cloud-bigquery",
        "google-cloud-bigquery-storage",
        "google-cloud-pubsub",
        "google-cloud-storage",
        "msgspec",
    }
    assert lists["JOB_PACKAGES"] == ["pipeline", "transforms", "schemas"]
