"""The repository's tracked files (``git ls-files``) point at docs/contract.md, the product's own
contract, never at a file outside the repository, and their links to it name its sections."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "contract.md"
# A pointer to the specification the product was first written from, which users do not have:
# its path beside the repository, or the capitalised word (as in "section 3 of the spec", written
# in capitals). Identifiers such as SPEC_TABLES or MSGSPEC_DECODER are not pointers: the word
# boundaries leave them out.
EXTERNAL_REFERENCE = re.compile(r"\.\./shared\b|\bSPEC\b")


def tracked_files() -> list[Path]:
    """The files git tracks in this checkout (skips outside a git checkout)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode("utf-8")
    return [ROOT / name for name in listed.split("\0") if name]


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_no_file_points_outside_the_repository():
    found = []
    for path in [*tracked_files(), CONTRACT]:
        if not path.is_file() or path == Path(__file__).resolve():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for number, line in enumerate(text.splitlines(), start=1):
            if EXTERNAL_REFERENCE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not found, "point at docs/contract.md instead:\n" + "\n".join(found)


def test_links_to_the_contract_name_its_sections():
    anchors = {anchor(h) for h in re.findall(r"^#+ (.+)$", CONTRACT.read_text(), flags=re.M)}
    broken = []
    for path in [*tracked_files(), CONTRACT]:
        if path.suffix not in {".md", ".py", ".sql", ".json"} or not path.is_file():
            continue
        for target in re.findall(r"contract\.md#([\w-]+)", path.read_text(errors="ignore")):
            if target not in anchors:
                broken.append(f"{path.relative_to(ROOT)}: contract.md#{target}")
    assert not broken, broken
