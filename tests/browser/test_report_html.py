"""The demo's HTML report in a real browser (Debian chromium), with the network cut off.

Every request that is not ``file:`` is aborted and recorded: the report must render its timeline
(plotly SVG), the network verdict table and the classification with no JavaScript error and no
request leaving the page. Hostile evidence (``<script>`` in an Activity Log caller and in the serial
log, ANSI escapes, a 1 MB line) must show as text and never run. Writes docs/report.png.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("report-html")]  # one demo run serves both tests

DOCS = Path(__file__).resolve().parents[2] / "docs"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-dev-shm-usage"]
HOSTILE_CALLER = '<script>window.__kitPwned="caller"</script><img src=x onerror="window.__kitPwned=\'img\'">'
HOSTILE_SERIAL = '<script>window.__kitPwned="serial"</script>'


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from kit.report.demo import run_demo

    return run_demo("firewall-lockout", archive_root=tmp_path_factory.mktemp("demo") / "archive")


def _poison(bundle: Path) -> None:
    """Put hostile content into a copied bundle and re-hash its manifest so it still loads."""
    log = json.loads((bundle / "activity_log.json").read_text())
    for event in log["value"]:
        event["caller"] = HOSTILE_CALLER
    (bundle / "activity_log.json").write_text(json.dumps(log))
    serial = (bundle / "serial.log").read_bytes()
    serial += (f"\r\n{HOSTILE_SERIAL}\r\n\x1b[31mRED ALERT\x1b[0m \x1b]0;owned-title\x07 \x1b[2K erased?\r\n"
               + "A" * 1_048_576 + "\r\nlogin: ").encode()
    (bundle / "serial.log").write_bytes(serial)
    manifest = json.loads((bundle / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] in {"activity_log.json", "serial.log"}:
            data = (bundle / entry["path"]).read_bytes()
            entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    (bundle / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def hostile(demo: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from kit.lab import load_scenario
    from kit.report import run_report

    info = load_scenario("firewall-lockout")
    subject_rel = next(h for h in json.loads((demo.archive / "manifest.json").read_text())["history"]
                       if h["kind"] == "evidence")["bundles"][0]
    evidence = tmp_path_factory.mktemp("hostile") / "evidence"
    shutil.copytree((demo.archive / subject_rel).parent, evidence)
    _poison(evidence / info.broken_vm)
    return run_report("triage", incident="INC-HOSTILE", archive_root=evidence.parent / "archive", parameters={
        "source": f"bundle:{evidence / info.broken_vm}", "responder_ip": info.responder_ip})


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


def _open_offline(browser: Any, html: Path) -> tuple[Any, list[str], list[str]]:
    """Open ``html`` with every non-file: request aborted; return (page, blocked URLs, JS errors)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(html.resolve().as_uri(), wait_until="load", timeout=60_000)
    page.wait_for_selector(".plotly-graph-div svg.main-svg", timeout=30_000)
    return page, blocked, errors


def test_demo_report_renders_offline_with_plot_verdicts_and_classification(demo: Any, browser: Any) -> None:
    page, blocked, errors = _open_offline(browser, demo.html)
    try:
        assert page.locator(".plotly-graph-div svg.main-svg").count() >= 1
        assert page.locator(".plotly-graph-div .scatterlayer .trace").count() >= 1, "the timeline has points"
        verdicts = page.locator(".kit-network-verdicts table")
        assert verdicts.first.is_visible()
        assert ("22" in verdicts.first.inner_text() and "Deny" in verdicts.first.inner_text()
                or "Allow" in verdicts.first.inner_text())
        classification = page.locator(".kit-classification")
        assert classification.is_visible()
        assert classification.get_attribute("data-hypothesis") == demo.expected
        assert demo.expected in classification.inner_text()
        assert blocked == [], f"requests left the page: {blocked[:5]}"
        assert errors == [], f"JavaScript errors: {errors[:5]}"
        DOCS.mkdir(exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 1000})
        top = page.locator("h2:has-text('4. Timeline')").bounding_box()
        full = page.evaluate("document.documentElement.scrollHeight")
        y = max(int(top["y"]) - 10, 0) if top else 0
        page.screenshot(path=str(DOCS / "report.png"), full_page=True,
                        clip={"x": 0, "y": y, "width": 1280, "height": min(1500, full - y)})
    finally:
        page.close()
    assert (DOCS / "report.png").stat().st_size > 10_000


def test_demo_report_is_short_with_code_blocks_and_unwrapped_short_cells(demo: Any, browser: Any) -> None:
    """The firewall-lockout report was 10,800 px tall before findings were grouped and repeats folded."""
    page, _, _ = _open_offline(browser, demo.html)
    try:
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 8_500, f"the report is {height} px tall"
        style = page.evaluate("""() => { const pre = document.querySelector('pre.kit-pre');
            const s = getComputedStyle(pre); return [s.fontFamily, s.whiteSpace, s.backgroundColor]; }""")
        assert "mono" in style[0].lower() and style[1] == "pre-wrap" and style[2] != "rgba(0, 0, 0, 0)", style
        commands = "p.kit-caption:has-text('Commands for the next step') + .kit-code > pre.kit-pre"
        assert page.locator(commands).count() == 1
        port = page.locator(".kit-network-verdicts td.kit-nowrap").first
        assert port.evaluate("e => getComputedStyle(e).whiteSpace") == "pre"
        assert port.evaluate("e => e.getClientRects().length") == 1
        text = page.inner_text("body")
        assert text.count("boot:firewall:admin_port_blocked") <= 4, "one table row, the excerpt caption, the evidence"
        assert "\\x00" not in text
        assert page.locator(".kit-hit").count() == 10, "the ten SSH drops are highlighted once, in the tail"
    finally:
        page.close()


def test_hostile_evidence_is_shown_as_text_and_never_runs(hostile: Any, browser: Any) -> None:
    page, blocked, errors = _open_offline(browser, hostile.html)
    try:
        assert page.evaluate("typeof window.__kitPwned") == "undefined"
        text = page.inner_text("body")
        assert HOSTILE_CALLER in text, "the hostile caller is shown literally"
        assert HOSTILE_SERIAL in text, "the hostile serial line is shown literally"
        assert "RED ALERT" in text and "\x1b" not in text, "colour codes dropped, no raw escape reaches the page"
        assert "\\x1b]0;owned-title\\x07" in text and "\\x1b[2K" in text, "other escapes are shown escaped"
        assert "more characters not shown" in text, "the 1 MB line is cut"
        assert page.locator("img[src='x']").count() == 0
        assert blocked == [], f"requests left the page: {blocked[:5]}"
        assert errors == [], f"JavaScript errors: {errors[:5]}"
    finally:
        page.close()
    assert hostile.html.stat().st_size < 12_000_000
