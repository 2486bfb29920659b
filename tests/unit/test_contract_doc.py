"""docs/contract.md is the product's own contract: the repository points at it, never at a file
outside it, and it names every error code and every stream the code defines."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from schemas import EVENT_TYPE_BY_STREAM, STREAMS
from transforms.errors import ERROR_CODES

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "contract.md"
HEADINGS = (
    "Events",
    "Unknown fields and lineage",
    "Rejections",
    "Message time",
    "Once only",
    "Tables",
    "Changing the contract",
)
# A pointer to the specification the product was first written from, which users do not have:
# its path beside the repository, or the capitalised word (as in "section 3 of the spec", written
# in capitals). Identifiers such as SPEC_TABLES or MSGSPEC_DECODER are not pointers: the word
# boundaries leave them out.
EXTERNAL_REFERENCE = re.compile(r"\.\./shared\b|\bSPEC\b")


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode("utf-8")
    return [ROOT / name for name in listed.split("\0") if name]


def section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section of a markdown text."""
    found = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert found, f"docs/contract.md has no '## {heading}' section"
    return found.group(1)


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


def test_the_contract_lists_every_error_code_and_stream():
    text = CONTRACT.read_text()
    for heading in HEADINGS:
        section(text, heading)
    rejections = section(text, "Rejections")
    listed = re.findall(r"^\| `(\w+)` \|", rejections, flags=re.M)
    assert sorted(listed) == sorted(ERROR_CODES)
    events, tables = section(text, "Events"), section(text, "Tables")
    for stream in STREAMS:
        assert f"| `{EVENT_TYPE_BY_STREAM[stream]}` | `events.{stream}` |" in events, stream
        assert re.search(rf"^\| `{EVENT_TYPE_BY_STREAM[stream]}` \| `\w+` \| ", events, flags=re.M), stream
    for table in (*STREAMS, "dead_letter", "realtime_event_metrics"):
        assert f"\n### {table}\n" in tables, table
        assert f"<!-- generated: columns events.{table} -->" in tables, table


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


def test_the_readme_links_the_contract():
    assert "](docs/contract.md)" in (ROOT / "README.md").read_text()
