"""The timeline's metrics panel in a real browser (Debian chromium), in the demo's triage report.

The firewall-lockout demo collects the lab's platform metrics with the real SDK; the report's
timeline must draw them as line charts under the event lanes on the *same* x axis: the same
plot width, the same opening range, and a zoom of the lanes (the range selector) moves the charts too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = [pytest.mark.browser]

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-dev-shm-usage"]

#: The timeline's plotly div (the one whose figure names its metrics charts) and its geometry.
_PANEL = """() => {
  const gd = [...document.querySelectorAll('.plotly-graph-div')].find(
      d => d.layout && d.layout.meta && d.layout.meta.kit && d.layout.meta.kit.metrics);
  if (!gd) return null;
  const full = gd._fullLayout, kit = gd.layout.meta.kit;
  const rect = id => { const r = gd.querySelector(`.nsewdrag[data-subplot="${id}"]`);
                       if (!r) return null; const b = r.getBoundingClientRect();
                       return {left: b.left, width: b.width, top: b.top, height: b.height}; };
  const axes = kit.metrics.axes.map(name => name.replace('yaxis', 'y'));
  return {
    charts: kit.metrics.charts, zoom: kit.zoom, range: full.xaxis.range.slice(),
    lanes: rect('xy'),
    subplots: axes.map(y => ({id: 'x' + y, rect: rect('x' + y),
                              shares: full._plots['x' + y] && full._plots['x' + y].xaxis === full._plots.xy.xaxis,
                              range: full._plots['x' + y] ? full._plots['x' + y].xaxis.range.slice() : null})),
    lines: gd._fullData.filter(t => t.mode === 'lines').map(t => ({name: t.name, xaxis: t.xaxis, yaxis: t.yaxis,
                                                                 n: t.x.length})),
    paths: [...gd.querySelectorAll('.subplot:not(.xy) .scatterlayer .js-line')].map(p => p.getAttribute('d')),
  };
}"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from kit.report.demo import run_demo

    return run_demo("firewall-lockout", archive_root=tmp_path_factory.mktemp("demo") / "archive")


@pytest.fixture(scope="module")
def page(demo: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page.goto(demo.html.resolve().as_uri(), wait_until="load", timeout=60_000)
            page.wait_for_selector(".plotly-graph-div svg.main-svg", timeout=30_000)
            page.errors = errors
            yield page
        finally:
            browser.close()


def test_metrics_charts_sit_under_the_lanes_on_the_same_axis_and_range(page: Any) -> None:
    seen = page.evaluate(_PANEL)
    assert seen is not None, "the report's timeline has no metrics panel"
    assert "flows" in seen["charts"] and "availability" in seen["charts"]
    names = {line["name"] for line in seen["lines"]}
    assert {"Inbound Flows", "VmAvailabilityMetric"} <= names
    assert all(line["xaxis"] == "x" and line["n"] > 10 for line in seen["lines"])
    lanes = seen["lanes"]
    for subplot in seen["subplots"]:
        assert subplot["shares"], f"{subplot['id']} has an x axis of its own"
        rect = subplot["rect"]
        assert rect is not None and abs(rect["left"] - lanes["left"]) < 1 and abs(rect["width"] - lanes["width"]) < 1
        assert rect["top"] >= lanes["top"] + lanes["height"] - 1, "the charts are under the event lanes"
        assert subplot["range"] == seen["range"]
    opened = [value[:16] for value in seen["range"]]
    assert seen["zoom"] is not None and opened == [seen["zoom"][0][:16].replace("T", " "),
                                                   seen["zoom"][1][:16].replace("T", " ")], \
        "the panel opens on the timeline's own zoom"
    assert page.errors == []


def test_zooming_the_timeline_moves_the_metrics_charts(page: Any) -> None:
    before = page.evaluate(_PANEL)
    page.locator(".rangeselector .button", has_text="all").first.click()
    page.wait_for_function("r => { const gd = [...document.querySelectorAll('.plotly-graph-div')].find("
                           "d => d.layout && d.layout.meta && d.layout.meta.kit && d.layout.meta.kit.metrics);"
                           " return gd && gd._fullLayout.xaxis.range[0] !== r; }", arg=before["range"][0])
    after = page.evaluate(_PANEL)
    assert after["range"] != before["range"]
    assert all(subplot["range"] == after["range"] for subplot in after["subplots"])
    assert after["paths"] != before["paths"], "the metric lines were redrawn for the new range"
    assert page.errors == []
