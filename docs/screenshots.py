"""Write the README's screenshots from a fresh firewall-lockout demo report.

    .venv/bin/python docs/screenshots.py

Runs ``kit demo`` on the embedded lab into a temporary archive, opens the triage report in Debian
chromium (``/usr/bin/chromium``, through Playwright) with every non-``file:`` request aborted, and
writes ``docs/verdict-card.png`` (the top 900 px at 1400 px wide: the verdict card and contents)
and ``docs/report.png`` (from the timeline down, 1280 px wide).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import Route, sync_playwright

from kit.report.demo import run_demo

DOCS = Path(__file__).resolve().parent


def _offline(route: Route) -> None:
    if route.request.url.startswith("file:"):
        route.continue_()
    else:
        route.abort()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        report = run_demo("firewall-lockout", archive_root=Path(tmp) / "archive").html
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route("**/*", _offline)
            page.goto(report.as_uri())
            page.wait_for_selector(".kit-verdict-card")
            page.screenshot(path=str(DOCS / "verdict-card.png"), clip={"x": 0, "y": 0, "width": 1400, "height": 900})
            page.set_viewport_size({"width": 1280, "height": 900})
            page.wait_for_selector(".plotly-graph-div .main-svg")
            top = page.locator("h2:has-text('4. Timeline')").bounding_box()
            full = page.evaluate("document.documentElement.scrollHeight")
            y = max(int(top["y"]) - 10, 0) if top else 0
            page.screenshot(path=str(DOCS / "report.png"), full_page=True,
                            clip={"x": 0, "y": y, "width": 1280, "height": min(1500, full - y)})
        finally:
            browser.close()
    for name in ("verdict-card.png", "report.png"):
        print(DOCS / name)


if __name__ == "__main__":
    main()
