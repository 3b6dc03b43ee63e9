"""Which plotly.js a report page embeds: the vendored basic bundle, or the full one when a figure needs it."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

__all__ = ["BASIC_TRACES", "BUNDLE_SCRIPT", "basic_plotlyjs", "plotlyjs_for"]

_BASIC = Path(__file__).parent / "static" / "plotly-basic.min.js"
#: Trace types the basic bundle draws.
BASIC_TRACES = frozenset({"scatter", "bar", "pie"})
#: A ``<script>`` holding a plotly.js bundle (full or partial), as plotly and the kit inline it.
BUNDLE_SCRIPT = re.compile(r"<script[^>]*>\s*/\*\*\s*\*\s*plotly\.js\b.*?</script>", re.DOTALL)
#: A figure drawn by plotly's notebook renderer or :func:`kit.report.timeline_view.figure_html`.
_NEW_PLOT = re.compile(r"Plotly\.newPlot\(\s*\"[^\"]*\"\s*,\s*")


@cache
def basic_plotlyjs() -> str:
    """The vendored ``plotly.js-basic-dist-min`` (see ``static/README.md``)."""
    return _BASIC.read_text(encoding="utf-8")


def _trace_types(html: str) -> set[str] | None:
    """The trace types of every ``Plotly.newPlot("id", [traces], …)`` in ``html``; ``None`` when one is unreadable."""
    decoder = json.JSONDecoder()
    used: set[str] = set()
    for match in _NEW_PLOT.finditer(html):
        try:
            traces, _ = decoder.raw_decode(html, match.end())
        except ValueError:
            return None
        if not isinstance(traces, list):
            return None
        used.update(str(t.get("type", "scatter")) if isinstance(t, dict) else "?" for t in traces)
    return used


def plotlyjs_for(html: str) -> str:
    """The smallest plotly.js that draws every figure in ``html``: basic unless a trace needs more."""
    used = _trace_types(html)
    if used is not None and used <= BASIC_TRACES:
        return basic_plotlyjs()
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())
