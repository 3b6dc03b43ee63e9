"""Presentation helpers for report notebooks: escaped HTML, offline plots, saved results.

Everything shown comes from evidence an attacker may have written (an Activity Log caller, a
serial log line, a VM tag), so every helper here escapes text before it becomes HTML:
``<script>`` shows as text, colour codes are dropped, other control characters and
invisible format characters show as ``\\xNN`` / ``\\u202e`` escapes, and a huge cell is cut
with a note saying how much was left out.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kit.archive import atomic_write
from kit.errors import ArchiveError, KitError, SecretParameterError
from kit.report.params import looks_like_secret

__all__ = [
    "Html",
    "callout",
    "clean_text",
    "code_block",
    "details",
    "heading",
    "kv_table",
    "log_excerpt",
    "save_result",
    "setup",
    "table",
]

#: Characters shown per table cell / log line before cutting.
MAX_CELL = 2_000
#: ``<script src="http…">…</script>``: anything a report would fetch from the network.
EXTERNAL_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=[\"']?(?:https?:)?//[^>]*>\s*</script>", re.IGNORECASE)
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_STYLE = """<style>
.kit-table{border-collapse:collapse;margin:.4em 0 1em;font-size:13px}
.kit-table th,.kit-table td{border:1px solid #c8ccd0;padding:3px 7px;text-align:left!important;vertical-align:top}
.kit-table th{background:#eef1f4}
.kit-table caption{caption-side:top;text-align:left;font-weight:600;padding:2px 0}
.kit-table td{white-space:pre-wrap;word-break:break-word;max-width:60em}
.kit-table td.kit-nowrap,.kit-table th.kit-nowrap{white-space:pre;word-break:normal}
pre.kit-pre,.jp-RenderedHTMLCommon pre.kit-pre{font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;
 font-size:12px;line-height:1.35;white-space:pre-wrap;word-break:break-all;background:#f6f8fa;
 border:1px solid #d0d7de;padding:6px 8px;margin:.2em 0 1em}
pre.kit-pre .kit-line{display:block;padding-left:8ch;text-indent:-8ch}
pre.kit-pre .kit-hit{background:#fde2e1;box-shadow:inset 3px 0 #c62828}
pre.kit-pre .kit-gap{color:#6a737d;font-style:italic}
.kit-caption{font-weight:600;margin:.6em 0 .1em}
.kit-callout{border-left:5px solid #888;background:#f6f8fa;padding:6px 10px;margin:.5em 0 1em}
.kit-callout.bad{border-color:#c62828;background:#fdecea}.kit-callout.good{border-color:#2e7d32;background:#edf7ed}
.kit-callout.warn{border-color:#ef8a00;background:#fff4e5}.kit-callout.todo{border-color:#6a1b9a;background:#f5eefa}
.kit-allow{color:#2e7d32;font-weight:600}.kit-deny{color:#c62828;font-weight:600}
details.kit-details{margin:.2em 0 1em}details.kit-details>summary{cursor:pointer;color:#0b5cad}
.kit-code{position:relative}.kit-code>pre.kit-pre{padding-right:4.5em}
.kit-copy{position:absolute;top:4px;right:4px;font-size:11px;padding:1px 7px;cursor:pointer;border:1px solid #d0d7de;
 border-radius:4px;background:#fff;color:#24292f}
</style>"""
#: One delegated click handler for every Copy button of the page (JupyterLab and exported HTML alike):
#: the clipboard API, else a hidden textarea and ``execCommand('copy')``.
_COPY_SCRIPT = """<script>
(function () {
  if (window.kitCopyReady) { return; }
  window.kitCopyReady = true;
  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text; area.setAttribute("readonly", ""); area.style.position = "fixed"; area.style.opacity = "0";
    document.body.appendChild(area); area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".kit-copy") : null;
    if (!button) { return; }
    var pre = button.parentNode.querySelector("pre");
    var text = pre ? pre.textContent : "";
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
    } else { fallback(text); done(); }
  });
})();
</script>"""


class Html(str):
    """A string of already-escaped HTML that notebooks display as HTML."""

    def _repr_html_(self) -> str:
        return str(self)

    def __add__(self, other: str) -> Html:
        return Html(str(self) + (other if isinstance(other, Html) else html.escape(str(other))))


def _visible(char: str) -> str:
    if char in "\t\n":
        return char
    category = unicodedata.category(char)
    if category == "Cc":
        return f"\\x{ord(char):02x}"
    if category in {"Cf", "Co", "Cs"} or char in "\u2028\u2029":
        return f"\\u{ord(char):04x}"
    return char


def clean_text(value: Any, *, limit: int = MAX_CELL) -> str:
    """``value`` as displayable plain text (not yet HTML-escaped).

    Colour codes (ANSI SGR) are dropped; other control and invisible format characters become
    ``\\xNN``/``\\uNNNN``; text past ``limit`` characters is cut with a note.
    """
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="backslashreplace")
    text = value if isinstance(value, str) else str(value)
    text = _SGR.sub("", text)
    if limit and len(text) > limit:
        cut = len(text) - limit
        text = f"{text[:limit]} … [{cut:,} more characters not shown]"
    if text.isprintable():
        return text
    return "".join(_visible(c) for c in text)


def _esc(value: Any, limit: int = MAX_CELL) -> str:
    return html.escape(clean_text(value, limit=limit), quote=True)


def _json_fallback(value: Any) -> Any:
    """Objects that know their JSON (a timeline row's records) as that; anything else as text."""
    to_json = getattr(value, "to_json", None)
    return to_json() if callable(to_json) else str(value)


def _cell(value: Any) -> str:
    if isinstance(value, Html):
        return str(value)
    if isinstance(value, Mapping | list | tuple) and not isinstance(value, str):
        value = json.dumps(value, default=_json_fallback, ensure_ascii=False)
    if isinstance(value, str) and value.split(" ", 1)[0] in {"Allow", "Deny"}:
        word, _, rest = value.partition(" ")
        return f'<span class="kit-{word.lower()}">{word}</span>' + (f" {_esc(rest)}" if rest else "")
    return _esc(value)


def table(rows: Iterable[Mapping[str, Any]] | Any, columns: Sequence[str] | None = None, *,
          caption: str | None = None, empty: str = "nothing to show", max_rows: int = 500,
          nowrap: Collection[str] = ()) -> Html:
    """An HTML table of ``rows`` (dicts or a DataFrame) with every value escaped.

    Parameters
    ----------
    rows
        Dicts (one per row) or a pandas DataFrame.
    columns
        Which keys to show, in order (default: every key seen, in first-seen order).
    caption
        A caption above the table.
    empty
        What to say when there are no rows.
    max_rows
        Rows shown before the table is cut (with a note).
    nowrap
        Columns whose cells never wrap (short values: ports, severities, times, line ranges);
        a newline in such a cell still starts a new line.
    """
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        rows = rows.to_dict("records")
    rows = list(rows)
    if columns is None:
        seen: dict[str, None] = {}
        for row in rows:
            seen.update(dict.fromkeys(row))
        columns = list(seen)
    tight = {c: ' class="kit-nowrap"' if c in nowrap else "" for c in columns}
    head = "".join(f"<th{tight[c]}>{_esc(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td{tight[c]}>{_cell(row.get(c))}</td>" for c in columns) + "</tr>"
        for row in rows[:max_rows]
    )
    if not rows:
        body = f'<tr><td colspan="{max(len(columns), 1)}"><em>{_esc(empty)}</em></td></tr>'
    more = f"<p><em>{len(rows) - max_rows:,} more rows not shown</em></p>" if len(rows) > max_rows else ""
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return Html(f'<table class="kit-table">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}')


def kv_table(pairs: Mapping[str, Any], *, caption: str | None = None) -> Html:
    """A two-column table (field, value) with every value escaped."""
    return table([{"field": k, "value": v} for k, v in pairs.items()], ["field", "value"], caption=caption)


def log_excerpt(lines: Iterable[tuple[int | None, Any]] | Iterable[Any], *, caption: str | None = None,
                max_lines: int = 400, highlight: Collection[int] = ()) -> Html:
    """Log lines in a ``<pre>``, escaped, each optionally prefixed by its line number.

    NUL padding at the end of a line (Azure pads serial logs with ``\\x00``) is not shown.

    Parameters
    ----------
    lines
        ``(line_number, text)`` pairs or plain strings/bytes; a pair with number ``None`` is
        shown as a note (for example "… 120 lines not shown …").
    caption
        A line of text above the block.
    max_lines
        Lines shown before the block is cut (with a note).
    highlight
        Line numbers to mark (the evidence lines of findings).
    """
    out: list[str] = []
    total = 0
    for item in lines:
        total += 1
        if total > max_lines:
            continue
        number, text = item if isinstance(item, tuple) else (None, item)
        if isinstance(text, bytes):
            text = text.rstrip(b"\r\n\x00")
        elif isinstance(text, str):
            text = text.rstrip("\r\n\x00")
        shown = html.escape(clean_text(text).rstrip("\r\n"), quote=True)  # cut once: the note counts the whole line
        if number is not None:  # one block per line: a wrapped line is indented under its text
            hit = " kit-hit" if number in highlight else ""
            out.append(f'<span class="kit-line{hit}">{_esc(f"{number:>6}  ")}{shown}\n</span>')
        elif isinstance(item, tuple):
            out.append(f'<span class="kit-line kit-gap">{shown}\n</span>')
        else:
            out.append(shown + "\n")
    if total > max_lines:
        out.append(_esc(f"… {total - max_lines:,} more lines not shown"))
    body = "".join(out)
    body = body[:-1] if body.endswith("\n") else body  # a last plain line needs no line end
    cap = f'<p class="kit-caption"><strong>{_esc(caption)}</strong></p>' if caption else ""
    return Html(f'{cap}<pre class="kit-pre">{body}</pre>')


def code_block(text: str, *, caption: str | None = None) -> Html:
    """Commands or JSON in a ``<pre>``, escaped, with a Copy button (its script comes with :func:`setup`)."""
    cap = f'<p class="kit-caption"><strong>{_esc(caption)}</strong></p>' if caption else ""
    return Html(f'{cap}<div class="kit-code"><button type="button" class="kit-copy" title="Copy to the clipboard">'
                f'Copy</button><pre class="kit-pre">{_esc(text, limit=200_000)}</pre></div>')


def details(summary: str, body: Html | str, *, open_: bool = False) -> Html:
    """A collapsed ``<details>`` block: ``summary`` (escaped) shown, ``body`` on a click.

    ``body`` is escaped unless it is already :class:`Html`. Used for evidence a reader rarely
    needs at first (every finding line, the known-good VMs' manifests) so the page stays short.
    """
    inner = str(body) if isinstance(body, Html) else _esc(body, limit=200_000)
    return Html(f'<details class="kit-details"{" open" if open_ else ""}><summary>{_esc(summary)}</summary>'
                f"{inner}</details>")


def callout(text: str, *, kind: str = "info", title: str | None = None) -> Html:
    """A highlighted box (``kind``: info, good, bad, warn, todo) with escaped text."""
    head = f"<strong>{_esc(title)}</strong><br>" if title else ""
    return Html(f'<div class="kit-callout {_esc(kind)}">{head}{_esc(text, limit=20_000)}</div>')


def heading(text: str, level: int = 3) -> Html:
    """An escaped heading."""
    level = min(max(level, 1), 6)
    return Html(f"<h{level}>{_esc(text)}</h{level}>")


def setup() -> Html:
    """Prepare a report kernel: plotly renders offline (``plotly_mimetype`` + an offline notebook renderer).

    Returns the helpers' stylesheet and the Copy buttons' script; display it once at the top of a notebook.
    """
    import plotly.io as pio

    if "kit_notebook" not in pio.renderers:
        pio.renderers["kit_notebook"] = _offline_notebook_renderer()
    pio.renderers.default = "plotly_mimetype+kit_notebook"
    _one_line_kit_errors()
    return Html(_STYLE + _COPY_SCRIPT)


def _one_line_kit_errors() -> None:
    """In an IPython kernel, a :class:`KitError` shows as one line ``error: …`` instead of a traceback.

    The cell still fails (papermill stops there, the execute reply is an error); only what is shown
    changes, as the CLI prints bad input as one line.
    """
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return

    def one_line(shell: Any, etype: type[BaseException], value: BaseException, tb: Any,
                 tb_offset: int | None = None) -> list[str]:
        stb = [f"error: {value}"]
        # IPython discards what a custom handler returns; _showtraceback is what its own path calls to send
        # the error output (ename, evalue, traceback) that nbclient and papermill read
        shell._showtraceback(etype, value, stb)
        return stb

    shell.set_custom_exc((KitError,), one_line)


def _offline_notebook_renderer() -> Any:
    """plotly's ``notebook`` renderer without the MathJax ``<script src=cdnjs…>`` it adds to every figure.

    plotly.js itself is inlined once per kernel (``connected=False``); the report's figures use
    no LaTeX, so MathJax is not needed and must not be fetched from a CDN.
    """
    from plotly.io.base_renderers import NotebookRenderer

    class OfflineNotebookRenderer(NotebookRenderer):
        def to_mimebundle(self, fig_dict: Any) -> dict[str, Any]:
            bundle = super().to_mimebundle(fig_dict)
            bundle["text/html"] = EXTERNAL_SCRIPT.sub("", bundle["text/html"])
            return bundle

    return OfflineNotebookRenderer(connected=False)


def save_result(run_dir: str | Path, name: str, value: Any) -> Path:
    """Write ``value`` as ``<run_dir>/<name>.json`` for a later notebook or the archive.

    Under ``kit report``, ``run_dir`` is in the run's staging folder: the result is recorded
    with the run when it ends. Paths in ``value`` should be relative to ``archive_dir`` (they
    stay right once the run is moved into place; :func:`kit.archive.incident_relative`).

    Raises
    ------
    SecretParameterError
        The value contains something that looks like a secret (it would be archived).
    ArchiveError
        ``run_dir`` or the result file is a link or a special file (never written through).
    """
    what = looks_like_secret(value)
    if what:
        raise SecretParameterError(f"result {name!r} contains what looks like {what}; it is not saved")
    if not name or "/" in name or name.startswith("."):
        raise ArchiveError(f"result name {name!r} must be a plain file name")
    folder = Path(run_dir)
    path = folder / f"{name}.json"
    if folder.is_symlink() or path.is_symlink() or (path.exists() and not path.is_file()):
        raise ArchiveError(f"{path if not folder.is_symlink() else folder} is a link or a special file; "
                           "results are never written through one")
    atomic_write(path, (json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n").encode())
    return path
