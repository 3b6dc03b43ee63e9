"""Export an executed notebook: self-contained HTML (nbconvert), PDF (Debian chromium CLI)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nbformat

from kit.archive import atomic_write
from kit.errors import ReportError
from kit.report._plotlyjs import BUNDLE_SCRIPT, plotlyjs_for
from kit.report.present import EXTERNAL_SCRIPT

__all__ = ["export_html", "export_pdf", "find_chromium"]

_TEMPLATES = Path(__file__).parent / "templates"


def export_html(notebook: Path, html: Path, *, title: str | None = None) -> Path:
    """Write ``notebook`` as one offline HTML page at ``html``.

    The ``kit_offline`` template drops the lab template's require.js, MathJax, mermaid and
    widget-manager scripts (all CDN URLs); images are embedded. Output HTML from cells is
    kept as the kernel produced it, so helpers must escape what they show. plotly.js is on
    the page once, whatever the cells inlined: the vendored basic bundle when it draws every
    figure, else the full one.

    Parameters
    ----------
    notebook
        An executed ``.ipynb``.
    html
        Where to write the page.
    title
        The page title (default: the notebook's file name).
    """
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="kit_offline",
        extra_template_basedirs=[str(_TEMPLATES)],
        embed_images=True,
        exclude_input=True,  # a report shows results; the code is in the executed .ipynb next to it
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        require_js_url="",
        mathjax_url="",
    )
    nb = _one_plotlyjs(_without_external_scripts(nbformat.read(notebook, as_version=4)))
    resources = {"metadata": {"name": title or notebook.stem}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    atomic_write(html, body.encode("utf-8"))
    return html


def _without_external_scripts(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop ``<script src="https://…">`` from HTML outputs: an archived page fetches nothing."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            if "text/html" in data:
                text = data["text/html"]
                text = "".join(text) if isinstance(text, list) else text
                data["text/html"] = EXTERNAL_SCRIPT.sub("<!-- external script removed for offline viewing -->", text)
    return nb


def _html_outputs(nb: nbformat.NotebookNode) -> list[dict[str, object]]:
    return [output["data"] for cell in nb.cells for output in cell.get("outputs", [])
            if "text/html" in (output.get("data") or {})]


def _one_plotlyjs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep one plotly.js on the page, where the first was, and the smallest bundle that draws every figure."""
    datas = _html_outputs(nb)
    texts = ["".join(d["text/html"]) if isinstance(d["text/html"], list) else str(d["text/html"]) for d in datas]
    if not any(BUNDLE_SCRIPT.search(text) for text in texts):
        return nb
    bundle = "<script>" + plotlyjs_for("".join(BUNDLE_SCRIPT.sub("", text) for text in texts)) + "</script>"
    placed = False

    def once(_match: object) -> str:
        nonlocal placed
        first, placed = not placed, True
        return bundle if first else ""

    for data, text in zip(datas, texts, strict=True):
        data["text/html"] = BUNDLE_SCRIPT.sub(once, text)
    return nb


def find_chromium() -> str | None:
    """The Debian chromium binary (``$CHROMIUM_PATH``, ``chromium`` on PATH, /usr/bin/chromium)."""
    for candidate in (os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def export_pdf(html: Path, pdf: Path, *, timeout: float = 120) -> Path:
    """Print ``html`` to ``pdf`` with headless Debian chromium (no browser is downloaded).

    Raises
    ------
    ReportError
        chromium is not installed or failed.
    """
    chromium = find_chromium()
    if chromium is None:
        raise ReportError("PDF export needs Debian chromium (apt-get install chromium); the HTML report was written")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    tmp = pdf.with_name(f".{pdf.name}.tmp")
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--no-pdf-header-footer", "--virtual-time-budget=5000", f"--print-to-pdf={tmp}",
        html.resolve().as_uri(),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise ReportError(f"chromium did not print {html.name} within {timeout:.0f} s") from error
    if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise ReportError(f"chromium could not print {html.name} to PDF (exit {done.returncode}): {tail[0]}")
    os.replace(tmp, pdf)
    return pdf
