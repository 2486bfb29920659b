"""A report page opened in real Chromium, and what its charts drew.

The browser is Debian's ``chromium`` (``make browser`` installs it; ``make test`` depends on that),
driven by Python Playwright through ``executable_path``, headless, with a new empty profile. The
page is opened from disk (file://); every other request is recorded and refused, so a page that
fetched anything (a CDN script, a font) fails the test.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from localdev.report.charts import PANELS

SCREENSHOTS = Path(__file__).resolve().parents[1] / ".local"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "Chromium is needed for the report's browser test and was not found at {path}: "
    "run `make browser` (it runs `apt-get install -y chromium`), or set CHROMIUM=/path/to/chromium"
)


def chromium_path() -> str:
    """Debian's Chromium (or $CHROMIUM); fails the test, never skips it, when it is missing."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(path, os.X_OK):
        pytest.fail(INSTALL_HINT.format(path=path), pytrace=False)
    return path


@dataclass
class Rendered:
    charts: list[dict]
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    title: str = ""


# Per plotly div: its traces as plotly drew them and the marks in its SVG / heat map image.
CHART_STATE = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(div => ({
  id: div.id,
  section: div.closest('section') ? div.closest('section').querySelector('h2').textContent : '',
  traces: (div._fullData || []).filter(t => t.visible !== false).map(t => t.type),
  svgs: div.querySelectorAll('svg.main-svg').length,
  marks: div.querySelectorAll(
    'g.barlayer path, g.funnellayer path, g.heatmaplayer image, g.scatterlayer path.point, ' +
    'g.scatterlayer path.js-line'
  ).length,
  annotations: Array.from(div.querySelectorAll('g.annotation-text-g text')).map(t => t.textContent),
  xtitle: (div.querySelector('g.g-xtitle text, g.g-x2title text') || {}).textContent || '',
  ytitle: (div.querySelector('g.g-ytitle text') || {}).textContent || '',
}))"""


def open_report(report: Path, screenshot: Path | None = None, width: int = 1400) -> Rendered:
    """Load ``report`` from disk in headless Chromium and read what each chart drew."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    profile = tempfile.mkdtemp(prefix="report-chromium-")
    try:
        with sync_playwright() as p:
            # A persistent context on a new, empty profile folder: Playwright's own form of --user-data-dir.
            browser = p.chromium.launch_persistent_context(
                profile,
                executable_path=executable,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": width, "height": 1000},
            )
            try:
                page = browser.new_page()
                seen = Rendered(charts=[])
                page.on("console", lambda m: m.type == "error" and seen.console_errors.append(m.text))
                page.on("pageerror", lambda e: seen.page_errors.append(str(e)))

                def route(r):
                    url = r.request.url
                    seen.requests.append(url)
                    if url.startswith(("file://", "data:", "blob:")):
                        r.continue_()
                    else:
                        seen.refused.append(url)
                        r.abort()

                page.route("**/*", route)
                page.goto(report.resolve().as_uri(), wait_until="load")
                page.wait_for_function(
                    "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
                    arg=len(PANELS),
                    timeout=30_000,
                )
                page.wait_for_timeout(500)  # let plotly finish its resize pass
                seen.charts = page.evaluate(CHART_STATE)
                seen.title = page.title()
                if screenshot is not None:
                    screenshot.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshot), full_page=True)
            finally:
                browser.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return seen


def assert_renders(seen: Rendered) -> None:
    """Every chart drew an SVG with data marks; no console error, no page error, nothing fetched."""
    assert seen.page_errors == [] and seen.console_errors == [], (seen.page_errors, seen.console_errors)
    assert seen.refused == [], f"the page fetched {seen.refused}"
    assert all(u.startswith(("file://", "data:", "blob:")) for u in seen.requests), seen.requests
    assert len(seen.charts) == len(PANELS), [c["id"] for c in seen.charts]
    for chart in seen.charts:
        assert chart["svgs"] >= 1, chart
        assert chart["traces"], f"{chart['section']}: no data traces"
        assert chart["marks"] > 0, f"{chart['section']}: nothing drawn: {chart}"
        assert not [a for a in chart["annotations"] if a.startswith("no ")], chart
        assert chart["xtitle"] and chart["ytitle"], f"{chart['section']}: unlabelled axis"
