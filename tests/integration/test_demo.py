"""``make run``'s demo on a small input: summary, exports and archive copy, emulators stopped."""

from __future__ import annotations

import json
import re
from datetime import date

from localdev.demo import run_demo
from localdev.generator import GeneratorConfig, generate, write_files
from warehouse.runner import model_names

CONFIG = GeneratorConfig(
    seed=3, start=date(2026, 11, 2), days=2, customers=10, products=6, orders_per_day=8, sessions_per_day=6
)


def test_demo_writes_summary_exports_and_archive(tmp_path):
    sample = generate(CONFIG)
    write_files(sample, tmp_path / "input")
    local = tmp_path / "local"

    summary = run_demo(str(tmp_path / "input" / "events-*.jsonl"), local=local)

    written = json.loads((local / "run-summary.json").read_text())
    assert written == summary
    assert written["messages_in"] == sample.manifest["messages"]
    assert written["loaded"] == sample.manifest["valid_unique"]
    assert written["rejected"] == sample.manifest["rejected"]
    assert written["duplicates"] == sample.manifest["duplicates"]
    assert list(written["models"]) == model_names()
    assert all(n > 0 for n in written["models"].values()), written["models"]

    orders = [
        json.loads(line) for line in (local / "export" / "events.orders.jsonl").read_text().splitlines()
    ]
    assert len(orders) == sample.manifest["valid_unique"]["orders"]
    row = orders[0]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["event_date"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", row["order_date"])
    assert isinstance(row["total_amount"], str) and re.fullmatch(r"\d+(\.\d+)?", row["total_amount"])
    balances = (local / "export" / "analytics.customer_daily_balance.jsonl").read_text().splitlines()
    assert len(balances) == written["models"]["customer_daily_balance"]
    assert list((local / "archive").rglob("*.jsonl.gz"))


def _analytics_exports(local) -> dict[str, str]:
    """The exported model tables (not the build log, which gains a row per run)."""
    exports = sorted((local / "export").glob("analytics.*.jsonl"))
    return {p.name: p.read_text() for p in exports if p.name != "analytics.model_builds.jsonl"}


def _builds(local) -> list[dict]:
    lines = (local / "export" / "analytics.model_builds.jsonl").read_text().splitlines()
    return sorted((json.loads(line) for line in lines), key=lambda b: b["finished_at"])


def test_keep_adds_to_the_previous_run_and_loading_a_file_twice_changes_no_analytics_table(tmp_path):
    sample = generate(CONFIG)
    write_files(sample, tmp_path / "input")
    local = tmp_path / "local"
    files = str(tmp_path / "input" / "events-*.jsonl")

    first = run_demo(files, local=local)
    before = _analytics_exports(local)
    second = run_demo(files, local=local, keep=True)
    after = _analytics_exports(local)

    assert second["messages_in"] == first["messages_in"]
    assert second["models"] == first["models"]
    assert after == before and len(before) == len(model_names())
    # Both runs ran the scheduled query's script: the second found every day's rows changed (the
    # file loaded again) and rebuilt them all, as the deployed schedule heals late data.
    first_build, second_build = _builds(local)
    assert first_build["mode"] == second_build["mode"] == "range"
    assert first_build["late_rows"] == 0 and second_build["late_rows"] > 0
    assert second_build["rebuilt_from"] == first_build["rebuilt_from"]
    raw_orders = (local / "export" / "events.orders.jsonl").read_text().splitlines()
    assert len(raw_orders) == 2 * sample.manifest["valid_unique"]["orders"]  # kept, then added again
