"""The timeline's plotly figure, its reference lines, and a compact self-contained HTML page.

Kept apart from ``timeline.py`` (which builds the DataFrame) so each stays one job. Plotly is
imported when a figure is made, not when the kit is imported.
"""

from __future__ import annotations

import base64
import gzip
import html
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kit.analyze._gc import gc_paused
from kit.analyze._timeline_metrics import metrics_panel, stack_domains
from kit.analyze._timeline_rows import SOURCES
from kit.analyze._timeline_zoom import label_rows, zoom_range
from kit.errors import AnalysisError

__all__ = [
    "SEVERITY_COLOURS",
    "WEBGL_THRESHOLD",
    "reference_times",
    "timeline_figure",
    "write_timeline_html",
]

#: Above this many points the figure uses WebGL (``Scattergl``) traces.
WEBGL_THRESHOLD = 3000
#: Marker colour per severity (colour-blind safe: blue, orange, red, dark red).
SEVERITY_COLOURS = {"info": "#4C78A8", "warning": "#F58518", "error": "#D62728", "critical": "#67000D"}
_LANE_TITLES = {
    "activity_log": "Activity Log",
    "instance_view": "instance view",
    "metrics": "metrics",
    "boot_log": "boot / serial log",
    "console": "serial console",
    "kit": "kit",
}
_REFERENCE_STYLE = {
    "incident start": ("#D62728", "dash"),
    "last good boot": ("#2CA02C", "dot"),
    "fix applied": ("#1F77B4", "dashdot"),
}
#: Vertical distance between two rows of reference-line labels, in pixels.
_LABEL_ROW_PX = 16
#: The causal change's marker: a large red star with a dark rim.
_CAUSAL_MARKER = {"symbol": "star", "size": 20, "color": "#D62728", "line": {"width": 1.5, "color": "#67000D"}}
_RANGE_BUTTONS = [
    {"count": 1, "label": "1 h", "step": "hour", "stepmode": "backward"},
    {"count": 6, "label": "6 h", "step": "hour", "stepmode": "backward"},
    {"count": 1, "label": "1 d", "step": "day", "stepmode": "backward"},
    {"label": "all", "step": "all"},
]
_SUMMARY_CHARS = 160
_WRAP = 90
assert _SUMMARY_CHARS <= 2 * _WRAP, "a cut summary wraps at most once (see _hover_texts)"
# Rows whose kind marks a boot that reached a usable system (bootlog event / finding kinds).
_GOOD_BOOT = "login_prompt|login prompt|multi_user|multi-user|sac_started|sac_ready|getty"
_FIX = "fix|restored|remediat"


def reference_times(df: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """Derive the reference lines a timeline supports, from its rows.

    - ``incident start``: the first error or critical row;
    - ``last good boot``: the last boot-log row showing a login prompt / multi-user / SAC strictly before
      the incident start (or at all, when there is no incident start);
    - ``fix applied``: the first console or kit row after the incident start whose kind names a
      fix (``console:fix_applied`` …).

    Parameters
    ----------
    df
        A timeline from :func:`kit.analyze.timeline.build_timeline`.

    Returns
    -------
    dict[str, pandas.Timestamp]
        Only the lines the evidence supports; possibly empty.
    """
    timed = df.loc[df["time"].notna(), ["time", "source", "kind", "severity"]]  # no copy of the other columns
    if timed.empty:
        return {}
    result: dict[str, pd.Timestamp] = {}
    bad = timed[timed["severity"].isin(("error", "critical"))]
    start = bad["time"].iloc[0] if not bad.empty else None
    if start is not None:
        result["incident start"] = start
    boot = timed[timed["source"] == "boot_log"]
    good = boot[boot["kind"].isin(_matching(boot["kind"], _GOOD_BOOT))]
    if start is not None:
        good = good[good["time"] < start]
    if not good.empty:
        result["last good boot"] = good["time"].iloc[-1]
    if start is not None:
        later = timed[timed["source"].isin(("console", "kit")) & (timed["time"] >= start)]
        fixes = later[later["kind"].isin(_matching(later["kind"], _FIX))]
        if not fixes.empty:
            result["fix applied"] = fixes["time"].iloc[0]
    return result


def _matching(kinds: pd.Series, pattern: str) -> list[str]:
    """The distinct kinds matching ``pattern`` (checked once per kind, not once per row)."""
    expression = re.compile(pattern, re.IGNORECASE)
    return [kind for kind in kinds.unique() if expression.search(kind)]


def _escape(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _summary_html(summary: str) -> str:
    text = summary if len(summary) <= _SUMMARY_CHARS else summary[: _SUMMARY_CHARS - 1] + "…"
    text = _escape(text)
    if len(text) > _WRAP:
        text = "<br>".join([text[i : i + _WRAP] for i in range(0, len(text), _WRAP)])
    return text


def _per_value(values: pd.Series, render: Callable[[Any], Any], dtype: Any = object) -> np.ndarray:
    """``render`` of every value, called once per distinct value (kinds, actors, kinds of time repeat)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    rendered = np.array([render(value) for value in uniques], dtype=dtype) if len(uniques) else np.zeros(1, dtype)
    return rendered[codes]


def _hover_texts(kinds: pd.Series, summaries: pd.Series, actors: pd.Series, descs: pd.Series) -> list[str]:
    """The hover text of every point: kind in bold, the summary (escaped, wrapped), actor, kind of time.

    Built column by column: what repeats (kind before the summary, actor and kind of time after it)
    is rendered once per distinct (kind, actor, kind of time), and a summary without markup is cut
    and wrapped in one expression (at most one break, as :data:`_SUMMARY_CHARS` <= 2 * :data:`_WRAP`);
    the rare summary with markup goes through :func:`_summary_html`.
    """
    kind_codes, kind_values = pd.factorize(kinds, use_na_sentinel=False)
    actor_codes, actor_values = pd.factorize(actors, use_na_sentinel=False)
    desc_codes, desc_values = pd.factorize(descs, use_na_sentinel=False)
    # one number per (kind, actor, kind of time); at most 200k**3 < 2**63
    combined = (kind_codes.astype(np.int64) * len(actor_values) + actor_codes) * len(desc_values) + desc_codes
    codes, uniques = pd.factorize(combined)
    kind_of, actor_of, desc_of = uniques // (len(actor_values) * len(desc_values)), \
        uniques // len(desc_values) % len(actor_values), uniques % len(desc_values)
    head_of = ["<b>" + _escape(kind_values[k]) + "</b><br>" for k in kind_of.tolist()]
    tail_of = [_tail(actor_values[a], desc_values[d]) for a, d in zip(actor_of.tolist(), desc_of.tolist(), strict=True)]
    heads = np.array(head_of or [""], dtype=object)[codes].tolist()
    tails = np.array(tail_of or [""], dtype=object)[codes].tolist()
    texts = summaries.tolist()
    wrap, cut = _WRAP, _SUMMARY_CHARS - 1
    out = [f"{head}{text}{tail}" if len(text) <= wrap else
           f"{head}{text[:wrap]}<br>{text[wrap:]}{tail}" if len(text) <= cut + 1 else
           f"{head}{text[:wrap]}<br>{text[wrap:cut]}…{tail}"
           for head, text, tail in zip(heads, texts, tails, strict=True)]
    for i in [i for i, text in enumerate(texts) if "&" in text or "<" in text or ">" in text]:
        out[i] = heads[i] + _summary_html(texts[i]) + tails[i]
    return out


def _tail(actor: Any, desc: Any) -> str:
    """What follows a hover text's summary: who did it, and the kind of time unless it is the event's own."""
    by = "<br>by " + _escape(actor) if actor else ""
    return by + ("<br><i>" + _escape(desc) + "</i>" if desc and desc != "event" else "")


def _utc(when: Any, what: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(when)
    except (TypeError, ValueError) as error:
        raise AnalysisError(f"{what}: {when!r} is not a time") from error
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _axis_time(when: pd.Timestamp) -> str:
    """A UTC time as plotly's date axis reads it (naive, milliseconds)."""
    return when.tz_convert("UTC").tz_localize(None).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _causal_trace(when: pd.Timestamp, label: str, lane: int) -> dict[str, Any]:
    text = _summary_html(label)
    return {"type": "scatter", "x": [_axis_time(when)], "y": [lane], "mode": "markers+text", "name": "causal change",
            "text": [text], "textposition": "top right", "textfont": {"color": "#67000D", "size": 12},
            "hovertemplate": "%{x|%Y-%m-%d %H:%M:%S.%L} UTC<br><b>causal change</b><br>%{text}<extra></extra>",
            "marker": _CAUSAL_MARKER, "cliponaxis": False}


def _normalise_references(reference_lines: Any) -> dict[str, pd.Timestamp]:
    if isinstance(reference_lines, Mapping):
        items = list(reference_lines.items())
    else:
        items = [(label, when) for when, label in reference_lines]
    return {str(label): _utc(when, f"reference line {label!r}") for label, when in items}


def timeline_figure(
    df: pd.DataFrame,
    *,
    reference_lines: Mapping[str, Any] | Sequence[tuple[Any, str]] | None = None,
    title: str | None = None,
    causal: tuple[Any, str] | None = None,
    webgl: bool | None = None,
    metrics: Any = None,
) -> Any:
    """Plot a timeline: one lane per source, colour by severity, opened zoomed on the incident.

    The x axis opens on the causal change (else the last good boot, else the first warning)
    through the incident start or the fix applied (see :func:`~kit.analyze._timeline_zoom.zoom_range`),
    with a range slider and 1 h / 6 h / 1 d / all buttons to look wider.

    Parameters
    ----------
    df
        A timeline from :func:`kit.analyze.timeline.build_timeline`. Rows without wall time
        (NaT) are left off the axis and counted in the title.
    reference_lines
        ``{"incident start": time, …}`` or ``[(time, label), …]``; derived with
        :func:`reference_times` when ``None``; ``{}`` for none.
    title
        The figure title; a default names the number of events.
    causal
        ``(time, "who did what")`` of the change that caused the incident: drawn as a large red
        star named ``causal change`` on the Activity Log lane, labelled with the text.
    webgl
        Force (``True``) or forbid (``False``) WebGL traces; by default they are used above
        :data:`WEBGL_THRESHOLD` points, so 200k events stay interactive.
    metrics
        The :class:`~kit.analyze.metrics.MetricsReading` drawn as small line charts under the
        lanes, on the same x axis (so the same range, zoom and range slider); by default the
        timeline's own (``df.attrs["metrics"]``); ``False`` for none.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per severity (times estimated from uptime drawn as open markers).

    Raises
    ------
    AnalysisError
        When ``df`` is not a timeline or a reference or causal time cannot be read.
    """
    import plotly.graph_objects as go

    for name in ("time", "source", "kind", "summary", "actor", "severity", "time_desc"):
        if name not in getattr(df, "columns", ()):
            raise AnalysisError(f"not a timeline DataFrame: missing column {name!r}")
    timed = df.loc[df["time"].notna(), ["time", "source", "kind", "summary", "actor", "severity", "time_desc"]]
    untimed = len(df) - len(timed)
    use_gl = webgl if webgl is not None else len(timed) > WEBGL_THRESHOLD
    trace_type = "scattergl" if use_gl else "scatter"
    present = set(timed["source"].unique())
    if causal is not None:
        present.add("activity_log")
    lanes = [lane for lane in SOURCES if lane in present]
    lanes += sorted(present - set(lanes))
    lane_of = {lane: index for index, lane in enumerate(lanes)}

    x_all = timed["time"].dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ms]").astype("int64").to_numpy()
    y_all = -_per_value(timed["source"], lane_of.__getitem__, np.int16)
    with gc_paused():
        hover_all = np.array(_hover_texts(timed["kind"], timed["summary"], timed["actor"], timed["time_desc"]),
                             dtype=object)
    # each point's trace, as a number: 2 * the severity's rank (len(SEVERITY_COLOURS) for any other) + estimated
    rank = {level: index for index, level in enumerate(SEVERITY_COLOURS)}
    group = (2 * _per_value(timed["severity"], lambda level: rank.get(level, len(rank)), np.int16)
             + _per_value(timed["time_desc"], lambda desc: str(desc).startswith("estimated"), np.int16))
    texts = []
    traces = []
    for level, colour in SEVERITY_COLOURS.items():
        for is_estimate in (False, True):
            mask = group == 2 * rank[level] + is_estimate
            if not mask.any():
                continue
            name = level + (" (estimated time)" if is_estimate else "")
            traces.append({
                "type": trace_type,
                "x": x_all[mask].astype("float64"),
                "y": y_all[mask],
                "mode": "markers",
                "name": name,
                "legendgroup": level,
                "hovertemplate": "%{x|%Y-%m-%d %H:%M:%S.%L} UTC<br>%{text}<extra></extra>",
                "marker": {
                    "color": colour,
                    "size": 9 if level in ("error", "critical") else 7,
                    "symbol": "circle-open" if is_estimate else ("diamond" if level != "info" else "circle"),
                    "line": {"width": 1.5 if is_estimate else 0, "color": colour},
                },
            })
            texts.append(hover_all[mask])
    cause = (_utc(causal[0], "causal change"), str(causal[1])) if causal is not None else None
    if cause is not None:
        traces.append(_causal_trace(cause[0], cause[1], -lane_of["activity_log"]))
    references = reference_times(df) if reference_lines is None else _normalise_references(reference_lines)
    shapes, notes = [], []
    visible = zoom_range(references, cause[0] if cause else None, timed)
    rows = label_rows(references, visible)
    for label, when in references.items():
        colour, dash = _REFERENCE_STYLE.get(label, ("#555555", "dash"))
        at = _axis_time(when)
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": at, "x1": at, "y0": 0, "y1": 1,
                       "line": {"color": colour, "width": 1.5, "dash": dash}})
        notes.append({"x": at, "xref": "x", "y": 1.0, "yref": "paper", "yanchor": "bottom", "text": label,
                      "yshift": 2 + _LABEL_ROW_PX * rows[label], "showarrow": False,
                      "font": {"color": colour, "size": 11}, "bgcolor": "rgba(255,255,255,0.85)"})
    label_px = _LABEL_ROW_PX * (max(rows.values(), default=-1) + 1)
    height = 230 + 70 * max(len(lanes), 1)
    top, bottom = 100 + label_px, 40
    panel = metrics_panel(df.attrs.get("metrics") if metrics is None else (metrics or None), webgl=use_gl)
    height += panel.height
    lanes_domain, chart_domains = stack_domains(panel, height - top - bottom)
    selector_y = 1 + (label_px + 6) / max(height - top - bottom, 1)  # above the reference labels
    heading = title or f"Timeline: {len(timed):,} events"
    if untimed:
        heading += f" ({untimed:,} without wall time not shown)"
    layout = dict(
        title={"text": html.escape(heading, quote=False)},
        height=height,
        hovermode="closest",
        shapes=shapes,
        annotations=notes,
        legend={"title": {"text": "severity"}},
        margin={"l": 140, "r": 20, "t": top, "b": bottom},
        xaxis={"type": "date", "title": {"text": "time (UTC)"}, "rangeslider": {"visible": True, "thickness": 0.08},
               "rangeselector": {"buttons": _RANGE_BUTTONS, "x": 1, "xanchor": "right", "y": selector_y,
                                 "yanchor": "bottom"},
               **({"range": [_axis_time(visible[0]), _axis_time(visible[1])]} if visible else {})},
        yaxis={"tickmode": "array", "tickvals": [-i for i in range(len(lanes))],
               "ticktext": [_LANE_TITLES.get(lane, lane) for lane in lanes],
               "range": [-len(lanes) + 0.5, 0.5], "zeroline": False, "fixedrange": True,
               **({"domain": lanes_domain} if panel.charts else {})},
        meta={"kit": {"lanes": lanes, "webgl": use_gl, "untimed": int(untimed),
                      "references": {k: v.isoformat() for k, v in references.items()},
                      "zoom": [t.isoformat() for t in visible] if visible else None,
                      "causal": {"time": cause[0].isoformat(), "label": cause[1]} if cause else None}},
    )
    if panel.charts:  # the metrics charts: y axes stacked under the lanes, the x axis (and its slider) under them
        for (name, axis), domain in zip(panel.axes.items(), chart_domains, strict=True):
            layout[name] = {**axis, "domain": domain}
        xaxis: Any = layout["xaxis"]
        meta: Any = layout["meta"]
        layout["xaxis"] = {**xaxis, "anchor": f"y{len(chart_domains) + 1}"}
        meta["kit"]["metrics"] = {"charts": list(panel.charts), "axes": list(panel.axes)}
        traces.extend(panel.traces)
    fig = go.Figure(data=traces, layout=layout)  # dicts of numeric arrays: validated, copied as whole blocks
    for trace, text in zip(fig.data, texts, strict=False):  # the hover texts (the causal trace, last, has its own)
        trace.text = text  # set on the trace: go.Figure would deep-copy 200k strings one by one
    return fig


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:0 1em}}#kit-note{{color:#555;font-size:.9em}}</style>
</head><body>
<div id="kit-timeline" style="width:100%;height:{height}px">loading the timeline…</div>
<p id="kit-note">{note}</p>
<script type="application/octet-stream" id="kit-plotlyjs">{plotlyjs}</script>
<script type="application/octet-stream" id="kit-figure">{figure}</script>
<script>
(async function () {{
  const box = document.getElementById("kit-timeline");
  if (typeof DecompressionStream === "undefined") {{
    box.textContent = "This page needs a browser with DecompressionStream (Chrome 80+, Firefox 113+, Safari 16.4+).";
    return;
  }}
  async function inflate(id) {{
    const bytes = Uint8Array.from(atob(document.getElementById(id).textContent.trim()), c => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return await new Response(stream).text();
  }}
  try {{
    const code = document.createElement("script");
    code.textContent = await inflate("kit-plotlyjs");
    document.head.appendChild(code);
    const figure = JSON.parse(await inflate("kit-figure"));
    box.textContent = "";
    await Plotly.newPlot(box, figure.data, figure.layout, {{responsive: true, displaylogo: false}});
    box.dataset.ready = "1";
  }} catch (error) {{
    box.textContent = "The timeline could not be drawn: " + error;
  }}
}})();
</script>
</body></html>
"""


def _packed(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)).decode("ascii")


def write_timeline_html(fig: Any, path: str | Path, *, note: str = "") -> int:
    """Write a figure as one self-contained HTML page that works offline.

    plotly.js is embedded once; it and the figure are gzip-compressed (base64) and inflated in
    the browser with ``DecompressionStream``, so 200k events stay a few megabytes.

    Parameters
    ----------
    fig
        A plotly figure (usually from :func:`timeline_figure`).
    path
        The ``.html`` file to write (replaced if it exists).
    note
        A line of text shown under the figure (e.g. where the evidence came from).

    Returns
    -------
    int
        The size of the page in bytes.

    Raises
    ------
    AnalysisError
        When the file cannot be written.
    """
    from plotly.offline import get_plotlyjs

    layout = fig.layout
    title = layout.title.text if layout.title and layout.title.text else "Timeline"
    page = _PAGE.format(
        title=html.escape(html.unescape(title)),
        height=int(layout.height or 500),
        note=html.escape(note),
        plotlyjs=_packed(get_plotlyjs()),
        figure=_packed(fig.to_json()),
    )
    data = page.encode("utf-8")
    try:
        Path(path).write_bytes(data)
    except OSError as error:
        raise AnalysisError(f"cannot write {path}: {error.strerror or error}") from error
    return len(data)
