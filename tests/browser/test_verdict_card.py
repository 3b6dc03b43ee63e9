"""The verdict card, contents and Copy buttons of every lab scenario's triage report, in a real browser.

One demo per scenario (about 8 s each, once per module), opened at 1400 px wide with every request
that is not ``file:`` aborted and recorded: the answer (cause, level, confidence, first command) fits
in the first 900 px, the Copy button puts the command on the clipboard, the contents' links land on
headings, and nothing leaves the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("verdict-card")]

SCENARIOS = ("deallocated", "firewall-lockout", "fstab-emergency", "kernel-panic", "nsg-deny", "route-blackhole",
             "sshd-broken", "windows-rdp")
LEVELS = {"deallocated": "platform", "nsg-deny": "platform", "route-blackhole": "platform"}
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Scenario → the demo's result (its ``html`` report and saved ``top`` hypothesis)."""
    from kit.report.demo import run_demo

    root = tmp_path_factory.mktemp("cards")
    return {name: run_demo(name, archive_root=root / name) for name in SCENARIOS}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def opened(browser: Any) -> Iterator[Any]:
    """Open a report at 1400×900 offline; yields ``open(path) -> (page, requests that left)``."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    left: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            left.append(r.request.url)
            r.abort()

    context.route("**/*", route)

    def open_(path: Path) -> tuple[Any, list[str]]:
        page = context.new_page()
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        return page, left

    try:
        yield open_
    finally:
        context.close()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_answer_fits_in_the_first_screen(reports: dict[str, Any], opened: Any, scenario: str) -> None:
    demo = reports[scenario]
    page, left = opened(demo.html)
    card = page.locator(".kit-verdict-card")
    assert card.count() == 1
    top = demo.top
    level = LEVELS.get(scenario, "guest")
    assert top["level"] == level
    assert page.locator(".kit-card-cause").inner_text().strip().startswith(top["summary"][:60])
    assert f"{level}:" in page.locator(".kit-card-level").inner_text()
    assert f"confidence {top['confidence']:.2f}" in page.locator(".kit-card-confidence").inner_text()
    assert "unknown" not in page.locator(".kit-card-causal").inner_text()
    pre = card.locator("pre")
    assert pre.inner_text().splitlines()[0] == top["commands"][0]
    for element in (".kit-card-cause", ".kit-card-level", ".kit-card-confidence"):
        box = page.locator(element).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 900, element
    first = pre.bounding_box()
    assert first is not None and first["y"] + 20 <= 900  # at least the first command line is on screen
    assert left == []


@pytest.mark.parametrize("scenario", ["firewall-lockout", "nsg-deny"])
def test_copy_puts_the_commands_on_the_clipboard(reports: dict[str, Any], opened: Any, scenario: str) -> None:
    page, left = opened(reports[scenario].html)
    block = page.locator(".kit-verdict-card .kit-code")
    block.locator(".kit-copy").click()
    page.wait_for_function("document.querySelector('.kit-verdict-card .kit-copy').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == block.locator("pre").text_content()
    assert reports[scenario].top["commands"][0] in page.evaluate("navigator.clipboard.readText()")
    assert left == []


def test_every_command_block_has_a_copy_button_and_the_bulk_is_folded(reports: dict[str, Any],
                                                                        opened: Any) -> None:
    page, _left = opened(reports["firewall-lockout"].html)
    blocks = page.locator(".kit-code")
    assert blocks.count() >= 3  # the card's, the classification's, the az reproduction
    assert blocks.count() == page.locator(".kit-code > .kit-copy").count()
    az = page.locator("details.kit-details", has_text="az commands that reproduce")
    assert az.count() == 1 and az.get_attribute("open") is None
    manifests = page.locator("details.kit-details", has_text="files with sha256")
    assert manifests.count() >= 2 and all(manifests.nth(i).get_attribute("open") is None
                                          for i in range(manifests.count()))


def test_contents_links_land_on_headings(reports: dict[str, Any], opened: Any) -> None:
    page, _left = opened(reports["firewall-lockout"].html)
    links = page.evaluate("[...document.querySelectorAll('.kit-contents a')].map(a => a.getAttribute('href'))")
    assert len(links) == 9
    for href in links:
        target = page.evaluate("h => { const e = document.getElementById(decodeURIComponent(h.slice(1)));"
                               " return e && e.tagName }", href)
        assert target == "H2", href
    page.locator(".kit-contents a", has_text="5. Network path").click()
    assert page.evaluate("document.getElementById('5.-Network-path').getBoundingClientRect().top") < 50


def test_timeline_opens_on_the_incident(reports: dict[str, Any], opened: Any) -> None:
    """Lands with the timeline work that zooms the figure onto the incident (trace ``causal change``)."""
    demo = reports["firewall-lockout"]
    page, _left = opened(demo.html)
    page.wait_for_function("document.querySelector('.plotly-graph-div') && "
                           "document.querySelector('.plotly-graph-div')._fullLayout")
    lo, hi = page.evaluate("document.querySelector('.plotly-graph-div')._fullLayout.xaxis.range")
    saved = json.loads(next((demo.archive / "reports").glob("*-triage/triage.json")).read_text())
    start = datetime.fromisoformat(saved["reference_times"]["incident start"])
    assert _naive(lo) <= start.replace(tzinfo=None) <= _naive(hi)


def _naive(value: Any) -> datetime:
    """A plotly date-axis bound (``2026-11-24 21:40:00.123``) as a naive UTC datetime."""
    return datetime.fromisoformat(str(value).replace(" ", "T")).replace(tzinfo=None)
