"""Where the timeline figure opens, and which row each reference label takes so none overlap."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = ["MIN_MARGIN", "label_rows", "zoom_range"]

#: The least time shown before the first and after the last moment of interest.
MIN_MARGIN = pd.Timedelta(minutes=10)
#: Margin on each side, as a fraction of the span between the moments of interest.
_MARGIN = 0.1
#: Two labels closer than this fraction of the visible range go on different rows.
_LABEL_GAP = 0.12


def zoom_range(references: Mapping[str, pd.Timestamp], causal: pd.Timestamp | None,
               timed: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The x range the figure opens on: from the causal change to the incident start or fix.

    The start is the causal change, else the last good boot, else the first warning-or-worse
    row; the end is the fix applied, else the incident start (the range always holds all of
    them that exist). Margins are a tenth of that span on each side, at least
    :data:`MIN_MARGIN`. ``None`` when there is nothing to zoom on.
    """
    first = causal if causal is not None else references.get("last good boot")
    if first is None and not timed.empty:
        worse = timed.loc[timed["severity"] != "info", "time"]
        first = worse.iloc[0] if not worse.empty else None
    moments = [t for t in (first, causal, references.get("incident start"), references.get("fix applied"))
               if t is not None]
    if not moments:
        return None
    lo, hi = min(moments), max(moments)
    margin = max((hi - lo) * _MARGIN, MIN_MARGIN)
    return lo - margin, hi + margin


def label_rows(marks: Mapping[str, pd.Timestamp], visible: tuple[pd.Timestamp, pd.Timestamp] | None) -> dict[str, int]:
    """A text row (0 = lowest) per label so that labels of nearby marks do not overlap.

    Labels are placed in time order; each takes the lowest row whose previous label is more than
    an eighth of the ``visible`` range away (a label is about that wide on a report-sized
    figure). Marks outside the visible range still get a row (they show when the reader zooms out).
    """
    times = list(marks.values())
    lo, hi = visible if visible is not None else (min(times, default=None), max(times, default=None))
    span = (hi - lo) if lo is not None and hi is not None else pd.Timedelta(0)
    gap = span * _LABEL_GAP
    rows: dict[str, int] = {}
    last_in_row: list[pd.Timestamp] = []
    for label, when in sorted(marks.items(), key=lambda item: item[1]):
        row = next((i for i, previous in enumerate(last_in_row) if abs(when - previous) > gap), len(last_in_row))
        if row == len(last_in_row):
            last_in_row.append(when)
        else:
            last_in_row[row] = when
        rows[label] = row
    return rows
