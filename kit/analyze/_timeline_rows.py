"""The timeline's row model: its columns, lanes, severities, kinds of time, and the row builder.

Shared by :mod:`kit.analyze.timeline` (which fills it from every source) and the source
modules it delegates to (``_timeline_boot``), so neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["COLUMNS", "SEVERITIES", "SOURCES", "TIME_KINDS", "Rows", "normalize_severity"]

#: The DataFrame's columns, in order.
COLUMNS = ("time", "time_desc", "source", "kind", "summary", "actor", "resource_id", "severity", "evidence", "details")
#: Lanes of the figure, top to bottom.
SOURCES = ("activity_log", "instance_view", "metrics", "heartbeat", "boot_log", "syslog", "event", "console", "kit")
#: Severities, least to most severe.
SEVERITIES = ("info", "warning", "error", "critical")

#: Which kind of time a row carries: (source, the time attribute it came from) → ``time_desc``.
#: The one place this mapping lives (plaso keeps it in ``timeliner.yaml``).
TIME_KINDS: dict[tuple[str, str], str] = {
    ("activity_log", "eventTimestamp"): "event",
    ("activity_log", "submissionTimestamp"): "submitted",
    ("boot_log", "wall_time"): "event",
    ("boot_log", "uptime_anchored"): "estimated from uptime",
    ("boot_log", "uptime_unanchored"): "uptime only (no anchor)",
    ("boot_log", "preceding_line"): "estimated from the preceding line",
    ("boot_log", "vm_start"): "estimated from the VM start",
    ("boot_log", "none"): "no time in the log",
    ("instance_view", "time"): "status",
    ("instance_view", "collected_at"): "observed at collection",
    ("console", "recorded"): "recorded",
    ("console", "event"): "event",
    ("kit", "collected_at"): "collected",
    ("heartbeat", "TimeGenerated"): "generated",
    ("syslog", "TimeGenerated"): "generated",
    ("event", "TimeGenerated"): "generated",
    ("metrics", "bucket"): "metric bucket",  # a change point's grain names it: "1-minute bucket" (bucket_text)
}

#: The text columns' dtype: pandas' ``str`` kept in Python objects whatever is installed. With pyarrow
#: present, ``"str"`` means Arrow strings, which refuse the lone surrogates that undecodable log bytes
#: become (and cost a conversion the timeline never needs).
_TEXT = pd.StringDtype(storage="python", na_value=np.nan)
_LEVEL_SEVERITY = {"info": "info", "warning": "warning", "error": "error", "critical": "critical"}
_SEVERITY_ALIASES = {
    "informational": "info", "information": "info", "notice": "info", "debug": "info", "verbose": "info",
    "ok": "info", "warn": "warning", "err": "error", "fatal": "critical", "emergency": "critical",
    "alert": "critical", "crit": "critical",
}


class Rows:
    """Column lists filled row by row (cheaper than a dict per row at 200k rows)."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        self.lines: list[int] = []  # each row's log line (0 for none): a sort key, kept apart from the dicts

    def add(self, time: datetime | None, time_desc: str, source: str, kind: str, summary: str, *, actor: str = "",
            resource_id: str = "", severity: str = "info", evidence: str = "",
            details: dict[str, Any] | None = None) -> None:
        c = self.columns
        c["time"].append(time)
        c["time_desc"].append(time_desc)
        c["source"].append(source)
        c["kind"].append(kind)
        c["summary"].append(summary)
        c["actor"].append(actor)
        c["resource_id"].append(resource_id)
        c["severity"].append(severity)
        c["evidence"].append(evidence)
        c["details"].append(details if details is not None else {})
        self.lines.append(_line_of(details) if details else 0)

    def extend(self, columns: Mapping[str, list[Any]], lines: list[int] | None = None) -> None:
        """Append whole columns at once (every column of :data:`COLUMNS`, equally long): the hot paths' form.

        ``lines`` are the rows' log lines (the ``line`` of their details), when they have any.
        """
        c = self.columns
        for name in COLUMNS:
            c[name].extend(columns[name])
        self.lines.extend(lines if lines is not None else [0] * len(columns["time"]))

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame in :meth:`_order`: each column put in order once, then typed once."""
        c = self.columns
        count = len(c["time"])
        times = pd.to_datetime(pd.Series(c["time"], dtype=object), utc=True, format="mixed").array
        order = self._order(times) if count else np.arange(0)
        sort = not np.array_equal(order, np.arange(count))  # already in order: nothing to move
        data: dict[str, Any] = {"time": pd.Series(times.take(order) if sort else times)}
        for name in COLUMNS[1:]:
            values = np.fromiter(c[name], dtype=object, count=count)  # one object each, even a list or a tuple
            if sort:
                values = values.take(order)
            data[name] = pd.Series(values, dtype=object if name == "details" else _TEXT, copy=False)
        return pd.DataFrame(data, columns=list(COLUMNS), copy=False)

    def _order(self, times: Any) -> np.ndarray:
        """Time order (then lane, log line, insertion); rows without a time last, by lane and line."""
        count = len(times)
        missing = np.asarray(times.isna())
        stamps = np.where(missing, 0, times.asi8)
        sources = np.fromiter(self.columns["source"], dtype=object, count=count)
        codes, uniques = pd.factorize(sources, use_na_sentinel=False)
        lane_of = {source: index for index, source in enumerate(SOURCES)}
        lanes = np.array([lane_of.get(source, len(SOURCES)) for source in uniques] or [0], dtype=np.int64)[codes]
        lines = np.asarray(self.lines, dtype=np.int64)
        return np.lexsort((lines, lanes, stamps, missing))  # stable: equal keys keep the insertion order


def _line_of(details: Mapping[str, Any]) -> int:
    line = details.get("line") if type(details) is dict else None
    return line if type(line) is int else 0


def normalize_severity(value: Any) -> str:
    """Map any severity spelling onto ``info``/``warning``/``error``/``critical``."""
    text = str(value or "info").strip().lower()
    return _LEVEL_SEVERITY.get(text) or _SEVERITY_ALIASES.get(text, "info")
