"""``--output_dir``: the whole batch graph with JSON Lines files in place of BigQuery."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pipeline import main
from pipeline.file_sink import WriteRowFiles, row_line
from pipeline.options import OptionsError, check_options
from tests.events import ORDER, encode
from tests.pipeline_argv import streaming_options


def rows_of(directory: Path, table: str) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted(directory.glob(f"{table}/rows*"))
        for line in path.read_text().splitlines()
    ]


def test_output_dir_writes_every_table_as_json_lines_and_reconciles(tmp_path):
    good = encode(ORDER)
    lines = [good, good, b"{not json", encode({**ORDER, "event_id": "evt-order-2", "order_id": "ord-2"})]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"

    summary = main.run(["--source=files", f"--input={source}", "--project=p", f"--output_dir={out}"])

    assert summary["messages_in"] == 4 and summary["duplicates"] == 1
    assert summary["rejected"] == {"invalid_json": 1}
    orders = rows_of(out, "orders")
    assert sorted(r["event_id"] for r in orders) == sorted({r["event_id"] for r in orders})
    assert len(orders) == 2 and all("_received" not in r for r in orders)
    [dead] = rows_of(out, "dead_letter")
    assert dead["error_code"] == "invalid_json"
    assert dead["message_time"] == dead["failed_at"], "no publish time, no readable event time"
    metrics = rows_of(out, "realtime_event_metrics")
    assert sum(r["occurrences"] for r in metrics) == 2, "batch: hourly windows count each event once"


def test_output_dir_is_refused_for_streaming():
    with pytest.raises(OptionsError, match="--output_dir"):
        check_options(streaming_options("--output_dir=/tmp/x"))


def test_each_bundle_writes_files_named_by_their_content(tmp_path):
    writer = WriteRowFiles(str(tmp_path / "orders"), max_rows=2)
    writer.start_bundle()
    rows = [{"n": n, "city": "Malmö"} for n in range(3)]
    full = [path for row in rows for path in writer.process(row)]
    last = [windowed.value for windowed in writer.finish_bundle()]

    paths = sorted(Path(p) for p in full + last)
    assert len(paths) == 2, "a file per max_rows rows, then the bundle's rest"
    for path in paths:
        body = path.read_bytes()
        assert path.name == f"rows-{hashlib.sha256(body).hexdigest()[:20]}.jsonl"
    assert sorted(json.loads(line)["n"] for p in paths for line in p.read_text().splitlines()) == [0, 1, 2]


def test_a_row_line_is_the_rows_json_without_the_envelope():
    row = {"event_id": "e", "city": "Malmö", "n": 2**70, "_received": {"data": "x"}}
    assert json.loads(row_line(row)) == {"event_id": "e", "city": "Malmö", "n": 2**70}
    surrogate = {"text": "\udc80"}
    assert json.loads(row_line(surrogate)) == surrogate, "what msgspec refuses goes through json.dumps"
