"""The report's timeline section, notable events without the peers' routine, and one plotly.js per page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kit.analyze.timeline import build_timeline
from kit.evidence import load_bundle
from kit.report.sections import notable_events
from kit.report.timeline_view import timeline_view

_BUNDLE = re.compile(r"\* plotly\.js\b")


def _timeline(collected: dict[str, Path], scenario: str) -> pd.DataFrame:
    return build_timeline(load_bundle(collected[scenario]))


def test_notable_events_leave_out_the_peers_routine_patching(collected: dict[str, Path]) -> None:
    page = str(notable_events(_timeline(collected, "fstab-emergency")))
    assert "customs-proc-01" in page and "Install OS update patches on virtual machine customs-proc-01" in page
    assert "customs-proc-02" not in page and "customs-proc-03" not in page
    assert "routine peer operations left out" in page


def test_a_peer_operation_like_the_causal_one_stays(collected: dict[str, Path]) -> None:
    timeline = _timeline(collected, "fstab-emergency")
    patch = timeline[timeline["kind"].str.endswith("installPatches/action")
                     & timeline["resource_id"].str.endswith("customs-proc-01")].iloc[-1]
    page = str(notable_events(timeline, causal=(patch["time"].to_pydatetime(), "patching")))
    assert "customs-proc-02" in page, "the same operation on a peer matters when it is the cause"


def test_timeline_view_shows_the_figure_and_the_changes_escaped(collected: dict[str, Path]) -> None:
    timeline = _timeline(collected, "sshd-broken")
    extension = timeline[timeline["kind"].str.endswith("extensions/write")].iloc[0]
    page = str(timeline_view(timeline, title="<b>build-coord-01</b>",
                             causal=(extension["time"].to_pydatetime(), extension["actor"] + ": BuildAgent")))
    assert len(_BUNDLE.findall(page)) == 1 and "Plotly.newPlot(" in page
    assert "<b>build-coord-01</b>" not in page, "the title is escaped"
    table = page[page.index('<table class="kit-table">'):]
    assert "Changes in the" in table and "build-coord-01/BuildAgent" in table and "build-worker" not in table
    assert table.index("aiko.tanaka@emberforge.games") < table.index("build-coord-01/BuildAgent"), "newest first"


def test_timeline_view_without_an_incident_says_so(collected: dict[str, Path]) -> None:
    page = str(timeline_view(_timeline(collected, "nsg-deny"), title="pos-api-01", causal=None))
    assert "no incident start on the timeline" in page


@pytest.mark.browser
def test_timeline_view_draws_offline_in_chromium(collected: dict[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    timeline = _timeline(collected, "firewall-lockout")
    run = timeline[timeline["kind"].str.endswith("runCommand/action")].iloc[0]
    out = tmp_path / "view.html"
    out.write_text(f"<!DOCTYPE html><html><body>{timeline_view(timeline, title='sched-01', causal=(run['time'], 'x'))}"
                   "</body></html>")
    drawn = _draw(sync_playwright, out)
    assert drawn["errors"] == [] and drawn["star"] == 1 and drawn["slider"] == 1


def _draw(sync_playwright: Any, page_file: Path) -> dict[str, Any]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("http*://**", lambda route: route.abort())
        page.goto(page_file.as_uri())
        page.wait_for_selector(".js-plotly-plot .rangeslider-container", timeout=60_000)
        star = page.evaluate("[...document.querySelectorAll('.js-plotly-plot')].map(d => d._fullData)"
                             ".flat().filter(t => t.name === 'causal change').length")
        slider = page.locator(".rangeslider-container").count()
        browser.close()
    return {"errors": errors, "star": star, "slider": slider}


@pytest.mark.slow
@pytest.mark.browser
def test_the_triage_report_embeds_plotly_js_once_and_stays_small(collected: dict[str, Path], lab: Any,
                                                                  tmp_path: Path) -> None:
    from kit.report import run_report

    info = lab.scenario("firewall-lockout")
    run = run_report("triage", incident="INC-SIZE", archive_root=tmp_path, parameters={
        "source": f"bundle:{collected['firewall-lockout']}", "responder_ip": info.responder_ip})
    assert run.status == "ok" and run.html is not None
    page = run.html.read_text()
    assert len(_BUNDLE.findall(page)) == 1
    assert run.html.stat().st_size <= 2_500_000, f"{run.html.stat().st_size:,} bytes"
    from playwright.sync_api import sync_playwright

    drawn = _draw(sync_playwright, run.html)
    assert drawn["errors"] == [] and drawn["slider"] >= 1, "the basic bundle draws the report's figures"


@pytest.mark.browser
def test_an_exported_page_keeps_one_plotly_js_for_every_figure(collected: dict[str, Path], tmp_path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output
    from playwright.sync_api import sync_playwright

    from kit.report.export import export_html

    view = str(timeline_view(_timeline(collected, "sshd-broken"), title="build-coord-01", causal=None))
    cells = [new_code_cell("x", outputs=[new_output("display_data", data={"text/html": view})]) for _ in range(2)]
    notebook = tmp_path / "two.ipynb"
    nbformat.write(new_notebook(cells=cells), notebook)
    page = export_html(notebook, tmp_path / "two.html").read_text()
    assert len(_BUNDLE.findall(page)) == 1 and page.count("Plotly.newPlot(") == 2
    assert _draw(sync_playwright, tmp_path / "two.html")["errors"] == []
