"""The timeline's metrics: a row per change point, and the small line charts under the event lanes.

:func:`metrics_rows` adds one ``source="metrics"`` row per :class:`~kit.analyze.metrics.MetricChange`
(the values before and after in the summary, the bucket as ``time_desc``). :func:`metrics_panel`
draws a few metric families as line charts sharing the figure's one x axis, so they pan, zoom and
open on the same range as the event lanes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kit.analyze._timeline_rows import Rows
from kit.analyze.metrics import AVAILABILITY, MetricSeries, MetricsReading

__all__ = ["CHART_PX", "PANEL_FAMILIES", "MetricsPanel", "metrics_panel", "metrics_rows", "stack_domains"]

#: The families the panel draws, in order, with each chart's title; at most :data:`_MAX_CHARTS` of them.
PANEL_FAMILIES: dict[str, str] = {
    "availability": "availability %",
    "flows": "flows",
    "traffic": "network bytes",
    "cpu": "CPU %",
    "memory": "free memory",
    "disk": "OS disk IOPS %",
}
_MAX_CHARTS = 4
#: Per chart, in pixels.
CHART_PX = 110
#: Above this many points a series is averaged over consecutive buckets for the figure.
_MAX_POINTS = 20_000
_COLOURS = ("#4C78A8", "#F58518", "#54A24B", "#B279A2")


def metrics_rows(rows: Rows, reading: MetricsReading | None, vm_id: str) -> None:
    """One ``metrics`` row per change point (a bad change is a warning, a recovery info)."""
    if reading is None:
        return
    for change in reading.changes:
        rows.add(
            change.at, change.time_desc, "metrics", f"metrics:{change.kind}", change.describe(),
            actor="platform", resource_id=vm_id, severity="warning" if change.bad else "info",
            evidence=change.evidence, details=change.to_json(),
        )


@dataclass(frozen=True)
class MetricsPanel:
    """The panel's traces and y axes, to add to a figure whose x axis is ``x``.

    Parameters
    ----------
    traces
        Line traces, each on ``xaxis="x"`` and its chart's y axis.
    axes
        ``{"yaxis2": {...}, …}`` layout entries, top chart first.
    charts
        The families drawn, top first.
    """

    traces: tuple[dict[str, Any], ...]
    axes: dict[str, dict[str, Any]]
    charts: tuple[str, ...]

    @property
    def height(self) -> int:
        """The pixels the panel adds to the figure."""
        return CHART_PX * len(self.charts) + (30 if self.charts else 0)


def metrics_panel(reading: MetricsReading | None, *, webgl: bool, first_axis: int = 2,
                  families: Sequence[str] | None = None) -> MetricsPanel:
    """Line charts of the reading's main families (availability, flows, traffic, CPU; memory, disk when they changed).

    Each chart is a y axis ``yaxis<first_axis + n>`` with ``domain`` left for the caller to set
    (:func:`stack_domains`); every trace is on x axis ``x``.
    """
    if not isinstance(reading, MetricsReading) or reading.empty:
        return MetricsPanel((), {}, ())
    changed = {c.family for c in reading.changes}
    wanted = list(families) if families is not None else [
        family for family in PANEL_FAMILIES
        if reading.of_family(family) and (family in ("availability", "flows", "traffic", "cpu") or family in changed)]
    charts = [family for family in wanted if any(s.points for s in reading.of_family(family))][:_MAX_CHARTS]
    traces: list[dict[str, Any]] = []
    axes: dict[str, dict[str, Any]] = {}
    for n, family in enumerate(charts):
        axis = f"y{first_axis + n}"
        for k, series in enumerate(s for s in reading.of_family(family) if s.points):
            traces.append(_line(series, axis, _COLOURS[k % len(_COLOURS)], webgl))
        axes[f"yaxis{first_axis + n}"] = {
            "title": {"text": PANEL_FAMILIES[family], "font": {"size": 11}}, "zeroline": False,
            "fixedrange": True, "nticks": 3, "tickfont": {"size": 10},
            **({"range": [-5, 105]} if family in ("availability", "cpu", "disk") else {"rangemode": "tozero"}),
        }
    return MetricsPanel(tuple(traces), axes, tuple(charts))


def stack_domains(panel: MetricsPanel, plot_px: float) -> tuple[list[float], list[list[float]]]:
    """The event lanes' y domain and each chart's, top to bottom, for a plot area ``plot_px`` high."""
    if not panel.charts or plot_px <= 0:
        return [0.0, 1.0], []
    chart = min(CHART_PX / plot_px, 0.8 / len(panel.charts))
    gap = chart * 0.22
    bottom_of_lanes = chart * len(panel.charts) + 0.04
    domains = []
    top = bottom_of_lanes - 0.04
    for _ in panel.charts:
        domains.append([max(top - chart + gap, 0.0), top])
        top -= chart
    return [min(bottom_of_lanes, 0.9), 1.0], domains


def _line(series: MetricSeries, axis: str, colour: str, webgl: bool) -> dict[str, Any]:
    x = series.times.astype("datetime64[ms]").astype("int64").astype("float64")
    y = np.array(series.values, dtype="float64")
    if series.name == AVAILABILITY and len(y) and np.nanmax(y) <= 1.5:
        y = y * 100.0
    if len(y) > _MAX_POINTS:
        step = math.ceil(len(y) / _MAX_POINTS)
        cut = len(y) // step * step
        x = x[:cut:step]
        with warnings.catch_warnings():  # an all-gap stretch stays NaN ("mean of empty slice")
            warnings.simplefilter("ignore", RuntimeWarning)
            y = np.nanmean(y[:cut].reshape(-1, step), axis=1)
    name = series.name + (f" [{series.source.split('[', 1)[1]}" if "[" in series.source else "")
    return {"type": "scattergl" if webgl else "scatter", "x": x, "y": y, "mode": "lines", "name": name,
            "xaxis": "x", "yaxis": axis, "showlegend": False, "legendgroup": "metrics", "connectgaps": False,
            "line": {"width": 1.2, "color": colour},
            "hovertemplate": f"%{{x|%Y-%m-%d %H:%M}} UTC<br>{name}: %{{y:.3~s}}<extra></extra>"}
