"""checkov's static security scan of terraform/: no failed check, and every skip carries its reason."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.terraform_hcl import ROOT, TF_DIR, tf_files


def test_checkov_finds_nothing_and_every_skip_has_a_reason():
    checkov = Path(sys.executable).parent / "checkov"
    assert checkov.exists(), f"{checkov} missing: install the dev extras (pip install -e '.[dev]')"
    # Without --quiet: the report must list the skipped checks so their reasons can be checked.
    result = subprocess.run(
        [
            str(checkov),
            "-d",
            str(TF_DIR),
            "--framework",
            "terraform",
            "--compact",
            "--skip-download",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.stdout.strip(), (
        f"checkov printed no report (exit {result.returncode}): {result.stderr[-2000:]}"
    )
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    summary, results = report["summary"], report["results"]
    failed = [f"{c['check_id']} {c['resource']} {c['check_name']}" for c in results["failed_checks"]]
    assert not failed, "checkov findings:\n" + "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= 30 and summary["passed"] >= 20, summary
    assert result.returncode == 0, result.stderr[-2000:]
    for check in results["skipped_checks"]:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason) >= 30, (
            f"{check['check_id']} on {check['resource']} skipped without a written reason"
        )
    for path in tf_files():
        for line in path.read_text().splitlines():
            if "checkov:skip=" in line:
                assert re.search(r"checkov:skip=CKV2?_[A-Z]+_\d+:\S.{29,}", line), (
                    f"{path.name}: {line.strip()}"
                )
