"""The run report in real Chromium: every chart renders, nothing is fetched.

The browser is Debian's ``chromium`` (``make browser`` installs it; ``make test`` depends on that),
driven by Python Playwright through ``executable_path``, headless, with a new empty profile. The
page is opened from disk (file://); every other request is recorded and refused, so a page that
fetched anything (a CDN script, a font) fails the test.
"""

from __future__ import annotations

import pytest

from localdev.report import write_report
from localdev.report.charts import PANELS
from tests.report_browser import SCREENSHOTS, assert_renders, open_report
from tests.report_exports import fixture_tables, write_exports


def test_report_renders_every_chart_in_chromium(tmp_path):
    report = write_report(write_exports(tmp_path, fixture_tables()), tmp_path / "report.html")

    seen = open_report(report, screenshot=SCREENSHOTS / "report-fixture.png")

    assert_renders(seen)
    assert seen.title == "EventHarbor run report"
    assert (SCREENSHOTS / "report-fixture.png").stat().st_size > 10_000


def test_report_with_no_exports_still_renders_labelled_empty_panels(tmp_path):
    (tmp_path / "export").mkdir()
    report = write_report(tmp_path / "export", tmp_path / "report.html")

    seen = open_report(report)

    assert seen.page_errors == [] and seen.console_errors == [] and seen.refused == []
    assert len(seen.charts) == len(PANELS)
    empty = [c for c in seen.charts if any(a.startswith("no ") for a in c["annotations"])]
    assert len(empty) == len(PANELS), [c["id"] for c in seen.charts if c not in empty]
    assert "run-summary.json was not found" in report.read_text()


def test_the_browser_check_catches_a_page_that_fetches(tmp_path):
    report = write_report(write_exports(tmp_path, fixture_tables()), tmp_path / "report.html")
    page = report.read_text().replace(
        "</head>", '<script src="https://cdn.example.invalid/x.js"></script></head>'
    )
    report.write_text(page)

    seen = open_report(report)  # the request is refused by the route, never sent

    assert seen.refused == ["https://cdn.example.invalid/x.js"]
    with pytest.raises(AssertionError):
        assert_renders(seen)
