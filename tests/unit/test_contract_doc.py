"""docs/contract.md is the product's own contract: it names every error code and every stream the
code defines, and the README links it. The repository's files pointing at it are checked by
tests/infra/test_contract_links.py."""

from __future__ import annotations

import re
from pathlib import Path

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


def section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section of a markdown text."""
    found = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert found, f"docs/contract.md has no '## {heading}' section"
    return found.group(1)


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


def test_the_readme_links_the_contract():
    assert "](docs/contract.md)" in (ROOT / "README.md").read_text()
