"""The report's timeline: the figure zoomed on the incident, and the changes in the hours before it."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import pandas as pd

from kit.analyze.timeline import changes_before, reference_times, timeline_figure
from kit.report._plotlyjs import basic_plotlyjs
from kit.report.present import Html, table

__all__ = ["figure_html", "timeline_view"]

#: How far back the changes table looks from the incident start.
CHANGE_HOURS = 6


def figure_html(fig: Any) -> Html:
    """A plotly figure as HTML that draws offline: the basic plotly.js, a div, the figure's JSON.

    Only scatter-family SVG traces draw with the basic bundle (so no WebGL). An exported report
    keeps one copy of plotly.js however many figures it shows (:func:`kit.report.export.export_html`).
    """
    box = f"kit-figure-{uuid.uuid4().hex}"
    plain = fig.to_plotly_json()
    data, layout = _script_json(plain["data"]), _script_json(plain["layout"])
    height = int(fig.layout.height or 500)
    return Html(
        f"<script>{basic_plotlyjs()}</script>"
        f'<div id="{box}" class="plotly-graph-div" data-kit="figure" style="width:100%;height:{height}px"></div>'
        f'<script>Plotly.newPlot("{box}", {data}, {layout}, {{"responsive": true, "displaylogo": false}});</script>'
    )


def _script_json(value: Any) -> str:
    """JSON safe inside ``<script>``: no ``<`` or ``>`` that could close it."""
    from plotly.utils import PlotlyJSONEncoder

    text = json.dumps(value, cls=PlotlyJSONEncoder, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


def _utc(when: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(when)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def timeline_view(timeline: pd.DataFrame, *, title: str, causal: tuple[datetime, str] | None = None) -> Html:
    """The timeline figure (opened on the incident, the causal change starred) and, under it,
    the Activity Log writes of the :data:`CHANGE_HOURS` hours before the incident start (back
    to the causal change when it is older).

    Parameters
    ----------
    timeline
        A timeline from :func:`kit.analyze.timeline.build_timeline`.
    title
        The figure's title (escaped).
    causal
        ``(time, "who did what")`` of the change the analysis blames, or ``None``.
    """
    fig = timeline_figure(timeline, title=title, causal=causal, webgl=False)
    references = reference_times(timeline) if len(timeline) else {}
    end = references.get("incident start") or (causal[0] if causal else None)
    if end is None:
        return figure_html(fig) + table([], caption="Changes before the incident",
                                        empty="no incident start on the timeline (no error) and no causal change")
    end = _utc(end)
    hours = float(CHANGE_HOURS)
    if causal is not None:  # an older causal change is still listed
        hours = max(hours, (end - _utc(causal[0])).total_seconds() / 3600 + 0.25)
    changes = changes_before(timeline, end, hours=hours)
    rows = [{**row, "time": row["time"].strftime("%Y-%m-%d %H:%M:%SZ")} for row in changes.to_dict("records")]
    caption = f"Changes in the {hours:.0f} hours before the incident ({end:%Y-%m-%d %H:%M}Z), newest first"
    return figure_html(fig) + table(rows, ["time", "who", "what", "resource", "status"], caption=caption,
                                    empty="no Activity Log writes in those hours (peers' own left out)",
                                    nowrap=("time", "status"))
