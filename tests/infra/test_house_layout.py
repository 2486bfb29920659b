"""The house rules a reviewer checks by hand, held here: production modules stay small enough to
read in one sitting, and nothing of the job's install set is local-only."""

from __future__ import annotations

import ast
import re
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


def test_tests_keep_to_their_kind_and_share_only_helper_modules():
    """tests/unit starts no process and opens no socket (tools go to tests/infra, emulators to
    tests/integration), and no test module imports another: what tests share is a helper module."""
    tests = tracked_python("tests")
    unit = [f for f in tests if f.parent.name == "unit"]
    assert unit
    spawning = [
        f.name for f in unit if re.search(r"^\s*(import|from) (subprocess|socket)\b", f.read_text(), re.M)
    ]
    assert not spawning, f"move to tests/infra/ (or tests/integration/): {spawning}"
    importing = [
        f.relative_to(ROOT).as_posix()
        for f in tests
        if re.search(r"^\s*from tests\.(unit|infra|integration)\b|^\s*import test_", f.read_text(), re.M)
    ]
    assert not importing, f"share helpers through tests/<helper>.py instead: {importing}"
