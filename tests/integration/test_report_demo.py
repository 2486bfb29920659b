"""``make run`` leaves ``report.html``: a real demo run's report, opened in headless Chromium.

Saves the screenshot as ``.local/report.png``; ``docs/report.png`` in the README is one of these.
"""

from __future__ import annotations

from datetime import date

from localdev.demo import run_demo
from localdev.generator import GeneratorConfig, generate, write_files
from tests.report_browser import SCREENSHOTS, assert_renders, chromium_path, open_report

CONFIG = GeneratorConfig(
    seed=5, start=date(2026, 11, 2), days=3, customers=12, products=6, orders_per_day=8, sessions_per_day=8
)


def test_run_demo_leaves_a_report_that_renders_in_chromium(tmp_path):
    chromium_path()  # fail first, not after the demo, when the browser is missing
    sample = generate(CONFIG)
    write_files(sample, tmp_path / "input")
    local = tmp_path / "local"

    run_demo(str(tmp_path / "input" / "events-*.jsonl"), local=local)

    report = local / "report.html"
    assert report.is_file()
    seen = open_report(report, screenshot=SCREENSHOTS / "report.png")
    assert_renders(seen)
    text = report.read_text()
    assert f"<b>{sample.manifest['messages']:,}</b><span>messages in</span>" in text
