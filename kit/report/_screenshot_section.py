"""The triage report's screenshot: a thumbnail (click to enlarge), the text OCR read and the findings beside it.

The picture is embedded as a ``data:image/png`` URI, so the report fetches nothing. An image that
cannot be decoded, or a machine without Tesseract, gives a note instead of the part it prevents.
"""

from __future__ import annotations

import base64
import io
from collections import Counter

from kit.analyze.bootlog import Finding
from kit.analyze.screenshot import analyze_screenshot, open_screenshot
from kit.errors import AnalysisError
from kit.report.present import Html, callout, log_excerpt, table

__all__ = ["screenshot_section"]

_STYLE = """<style>
.kit-shot{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start;margin:.4em 0 1em}
.kit-shot img{width:320px;cursor:zoom-in;border:1px solid #c8ccd0}
.kit-shot img:focus{width:auto;max-width:100%;cursor:zoom-out;outline:2px solid #0b5cad}
.kit-shot .kit-shot-text{flex:1 1 28em;min-width:0}
</style>"""


def screenshot_section(screenshot: bytes | None) -> Html:
    """The boot-diagnostics screenshot with its OCR text and the boot-log rules' findings.

    Parameters
    ----------
    screenshot
        The bundle's ``screenshot.bmp`` bytes (``Bundle.screenshot``), or None when not collected.
    """
    if not screenshot:
        return callout("The bundle has no boot-diagnostics screenshot (boot diagnostics off, or the VM has not "
                       "drawn a screen yet).", kind="info", title="Screenshot")
    try:
        image = open_screenshot(screenshot)
    except AnalysisError as error:
        return callout(str(error), kind="warn", title="Screenshot")
    png = io.BytesIO()
    image.convert("RGB").save(png, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")
    picture = Html(f'<img tabindex="0" src="{uri}" alt="boot-diagnostics screenshot, {image.width}×{image.height}" '
                   'title="click to enlarge, click beside it to shrink">')
    try:
        report = analyze_screenshot(screenshot)
    except AnalysisError as error:
        side = callout(f"The text could not be read: {error}", kind="warn", title="Screenshot text")
    else:
        worst = {f.severity for f in report.findings} & {"critical", "error"}
        summary = (f"{len(report.text.lines)} line(s) read by {report.text.engine} in {report.text.seconds:.2f} s; "
                   f"screen: {report.layout}; {len(report.findings)} finding(s).")
        side = callout(summary, kind="bad" if worst else "good" if report.findings else "info", title="Screenshot")
        counts = Counter((f.kind, f.summary) for f in report.findings)
        first: dict[tuple[str, str], Finding] = {}
        for finding in report.findings:  # one row per kind and meaning, with the first screen line saying it
            first.setdefault((finding.kind, finding.summary), finding)
        rows = [{"severity": f.severity, "finding": f.kind, "lines": counts[key], "what it means": f.summary,
                 "screen text": f.text} for key, f in first.items()]
        side += table(rows, ["severity", "finding", "lines", "what it means", "screen text"],
                      caption="Findings on the screen", empty="none",
                      nowrap=("severity", "finding", "lines"))
        side += log_excerpt(report.text.lines or ["(no text recognised)"], caption="Text recognised on the screen")
        for warning in report.warnings:
            side += callout(warning, kind="warn")
    return Html(_STYLE) + Html('<div class="kit-shot">') + picture + Html('<div class="kit-shot-text">') + side \
        + Html("</div></div>")
