"""Azure Monitor platform metrics of one VM: the series, and the change points that matter.

:func:`read_metrics` reads ``metrics.list`` answers in REST shape (``Microsoft.Insights/metrics``,
the bundle's ``metrics/<n>.json``) into :class:`MetricSeries` (numpy arrays: 30 days of ten
metrics at a one-minute grain are 430k points) and finds the :class:`MetricChange` points an
on-call reads first:

- ``availability_lost`` / ``availability_regained``: ``VmAvailabilityMetric`` falls below half
  (the host lost the VM's heartbeat) or comes back;
- ``flows_stopped`` / ``flows_resumed`` (``Inbound Flows``, ``Outbound Flows``) and
  ``traffic_stopped`` / ``traffic_resumed`` (``Network In Total``, ``Network Out Total``): the
  metric falls to ~0 (under 5% of its usual level, the 90th percentile of the window) or
  comes back above a quarter of it;
- ``cpu_saturated`` / ``cpu_cleared`` (``Percentage CPU`` from 95% / under 85%),
  ``disk_saturated`` / ``disk_cleared`` (``OS Disk IOPS Consumed Percentage`` from 95% / under 80%),
  ``memory_exhausted`` / ``memory_cleared`` (``Available Memory Bytes`` under 5% / over 15% of its usual).

A new state must hold for :data:`MIN_STEADY` (at least two buckets) to count, except at the
end of the window (the VM is still down when the evidence was collected). Null points (Azure
leaves out the aggregation of a minute without data) are gaps: they carry the last state. A
last bucket that ends after the answer's timespan is partial (a total over part of a minute)
and is left out of the change points. A broken document or metric becomes a warning naming it;
the other metrics are still read. :func:`compare_recovery` compares the metrics after a fix with
the same hours of the day before the incident.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from kit.errors import AnalysisError, KitError
from kit.times import iso_z, parse_time

if TYPE_CHECKING:
    from kit.evidence import Bundle

__all__ = [
    "AVAILABILITY",
    "FLOW_BAND",
    "MIN_STEADY",
    "METRICS_CALL",
    "MetricChange",
    "MetricSeries",
    "MetricsReading",
    "RecoveryFigure",
    "bucket_text",
    "compare_recovery",
    "find_changes",
    "metrics_from_bundle",
    "read_metrics",
]

#: The manifest's call name for a ``metrics.list`` answer (and for a metric that was refused).
METRICS_CALL = "metrics.list"
#: The availability metric's name, as Azure spells it.
AVAILABILITY = "VmAvailabilityMetric"
#: A new state counts when it holds this long (and at least two buckets).
MIN_STEADY = timedelta(minutes=5)
#: Recovered traffic is within this band of the same hours before the incident (fraction of it).
FLOW_BAND = (0.5, 2.0)
#: What each metric family's change points are called: (metric names, kind when it goes bad, kind when it clears).
_FAMILIES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "availability": ((AVAILABILITY,), "availability_lost", "availability_regained"),
    "flows": (("Inbound Flows", "Outbound Flows"), "flows_stopped", "flows_resumed"),
    "traffic": (("Network In Total", "Network Out Total"), "traffic_stopped", "traffic_resumed"),
    "cpu": (("Percentage CPU",), "cpu_saturated", "cpu_cleared"),
    "memory": (("Available Memory Bytes",), "memory_exhausted", "memory_cleared"),
    "disk": (("OS Disk IOPS Consumed Percentage",), "disk_saturated", "disk_cleared"),
}
_FAMILY_OF = {name.lower(): family for family, (names, _, _) in _FAMILIES.items() for name in names}
_AGGREGATIONS = ("average", "total", "maximum", "minimum", "count")
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)
#: How many buckets on each side of a change its before / after values are averaged over.
_SIDE = 10
_NS_PER_S = 1_000_000_000


def _duration(text: Any) -> timedelta | None:
    """An ISO 8601 duration as Azure writes an interval (``PT1M``, ``PT1H``, ``P1D``); ``None`` if not one."""
    match = _DURATION.match(str(text or "").strip())
    if match is None or not any(match.groups()):
        return None
    days, hours, minutes, seconds = match.groups()
    span = timedelta(days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0),
                     seconds=float(seconds or 0))
    return span if span > timedelta(0) else None


def bucket_text(grain: timedelta | None) -> str:
    """The kind of time a change point carries: ``1-minute bucket``, ``1-hour bucket`` …"""
    if grain is None:
        return "metric bucket"
    seconds = int(grain.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            return f"{seconds // size}-{unit} bucket"
    return f"{seconds}-second bucket"


@dataclass(frozen=True, eq=False)
class MetricSeries:
    """One metric's points, as arrays.

    Parameters
    ----------
    name
        Azure's metric name (``Inbound Flows``).
    unit
        Azure's unit (``Count``, ``Bytes``, ``Percent``).
    aggregation
        The aggregation the points carry (``average``, ``total`` …).
    grain
        The bucket size (the answer's ``interval``), ``None`` when it says none.
    times
        Bucket starts, ``datetime64[ns]`` in UTC (naive), ascending.
    values
        ``float64``; NaN for a bucket without data.
    source
        Where it came from (``metrics/3.json``), with the dimension when the metric was split.
    resource_id
        The metric's ``id`` (the VM's resource id followed by ``/providers/Microsoft.Insights/metrics/…``).
    partial_last
        Whether the last bucket ends after the answer's timespan (so holds part of a bucket).
    """

    name: str
    unit: str
    aggregation: str
    grain: timedelta | None
    times: np.ndarray
    values: np.ndarray
    source: str
    resource_id: str = ""
    partial_last: bool = False

    def __deepcopy__(self, memo: dict[int, Any]) -> MetricSeries:
        return self  # immutable (read-only arrays): pandas deep-copies ``attrs`` on every operation

    @property
    def family(self) -> str | None:
        """``availability``, ``flows``, ``traffic``, ``cpu``, ``memory``, ``disk``, or ``None``."""
        return _FAMILY_OF.get(self.name.lower())

    @property
    def points(self) -> int:
        """How many buckets hold a value."""
        return int(np.count_nonzero(~np.isnan(self.values)))

    def between(self, start: datetime, end: datetime) -> np.ndarray:
        """The values of the buckets starting in ``[start, end)`` (NaN for gaps; a partial last bucket left out)."""
        lo, hi = _stamp(start), _stamp(end)
        stamps = self.times.view("int64")
        values = self.values[:-1] if self.partial_last else self.values
        stamps = stamps[: len(values)]
        return values[np.searchsorted(stamps, lo, "left"):np.searchsorted(stamps, hi, "left")]

    def to_series(self) -> Any:
        """A pandas Series indexed by tz-aware UTC bucket starts (pandas imported here: the rest needs only numpy)."""
        import pandas as pd

        return pd.Series(self.values, index=pd.DatetimeIndex(self.times).tz_localize("UTC"), name=self.name)


@dataclass(frozen=True)
class MetricChange:
    """One change point: a metric that went bad or came back.

    Parameters
    ----------
    metric
        Azure's metric name.
    kind
        ``availability_lost``, ``flows_stopped``, ``cpu_saturated`` … (see the module).
    at
        The start of the first bucket in the new state (UTC).
    before, after
        The metric's mean over up to ten buckets before / from the change, in its unit
        (availability as a percentage).
    bucket
        The bucket size (its grain).
    unit, aggregation
        The metric's unit and the aggregation of its points.
    evidence
        Where to look: ``metrics/3.json: Inbound Flows``.
    """

    metric: str
    kind: str
    at: datetime
    before: float
    after: float
    bucket: timedelta | None
    unit: str = ""
    aggregation: str = ""
    evidence: str = ""

    @property
    def bad(self) -> bool:
        """Whether the metric went bad (lost, stopped, saturated, exhausted) rather than came back."""
        return self.kind.endswith(("_lost", "_stopped", "_saturated", "_exhausted"))

    @property
    def family(self) -> str:
        """The metric family: the kind's first word (``flows``, ``availability`` …)."""
        return self.kind.split("_", 1)[0]

    @property
    def bucket_end(self) -> datetime:
        """The end of the bucket the change is in."""
        return self.at + (self.bucket or timedelta(0))

    @property
    def time_desc(self) -> str:
        """The kind of time: ``1-minute bucket``."""
        return bucket_text(self.bucket)

    def describe(self) -> str:
        """One sentence: what changed, from what to what, in which bucket."""
        verb = _VERBS.get(self.kind, self.kind.replace("_", " "))
        when = f"{self.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({self.time_desc})"
        return (f"{self.metric} {verb}: {_value(self.before, self.unit)} → {_value(self.after, self.unit)} "
                f"({self.aggregation} per bucket) from {when}")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"metric": self.metric, "kind": self.kind, "at": iso_z(self.at), "before": _round(self.before),
                "after": _round(self.after), "bucket": self.time_desc, "bucket_end": iso_z(self.bucket_end),
                "unit": self.unit, "aggregation": self.aggregation, "evidence": self.evidence}


_VERBS = {
    "availability_lost": "lost availability", "availability_regained": "regained availability",
    "flows_stopped": "fell to ~0", "flows_resumed": "resumed", "traffic_stopped": "fell to ~0",
    "traffic_resumed": "resumed", "cpu_saturated": "saturated", "cpu_cleared": "is no longer saturated",
    "memory_exhausted": "ran out", "memory_cleared": "recovered", "disk_saturated": "saturated",
    "disk_cleared": "is no longer saturated",
}


def _round(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


def _value(value: float, unit: str) -> str:
    if math.isnan(value):
        return "no data"
    if unit == "Percent":
        return f"{value:.1f}%"
    if unit == "Bytes":
        for suffix, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
            if abs(value) >= size:
                return f"{value / size:.1f} {suffix}"
        return f"{value:.0f} B"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


@dataclass(frozen=True, eq=False)
class MetricsReading:
    """Every metric of one VM and its change points.

    Parameters
    ----------
    series
        One per metric (and dimension value), in document order.
    changes
        Every change point, in time order.
    warnings
        What could not be read, each naming the document and the metric.
    unsupported
        Metrics the collection asked for and Azure refused (the manifest's failures).
    """

    series: tuple[MetricSeries, ...] = ()
    changes: tuple[MetricChange, ...] = ()
    warnings: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = field(default=())

    def __deepcopy__(self, memo: dict[int, Any]) -> MetricsReading:
        return self

    @property
    def empty(self) -> bool:
        """Whether no metric holds any point."""
        return not any(s.points for s in self.series)

    def named(self, name: str) -> MetricSeries | None:
        """The first series of the metric called ``name`` (case-insensitive)."""
        return next((s for s in self.series if s.name.lower() == name.lower()), None)

    def of_family(self, family: str) -> tuple[MetricSeries, ...]:
        """The series of a family (``flows``, ``traffic``, ``availability`` …)."""
        return tuple(s for s in self.series if s.family == family)

    def changes_between(self, start: datetime, end: datetime, *, bad: bool | None = None,
                        families: Iterable[str] | None = None) -> tuple[MetricChange, ...]:
        """The change points in ``[start, end]``, optionally only bad (or good) ones of some families."""
        wanted = set(families) if families is not None else None
        return tuple(c for c in self.changes if start <= c.at <= end and (bad is None or c.bad == bad)
                     and (wanted is None or c.family in wanted))


# ---------------------------------------------------------------- reading


def read_metrics(documents: Sequence[Any], *, sources: Sequence[str] | None = None,
                 unsupported: Sequence[str] = ()) -> MetricsReading:
    """Read ``metrics.list`` answers into series and find their change points.

    Parameters
    ----------
    documents
        Parsed JSON documents, each one ``metrics.list`` answer (``{"timespan", "interval",
        "value": [metric, …]}``).
    sources
        What to call each document in evidence and warnings (``metrics/1.json`` …); by default
        ``metrics[<n>]``.
    unsupported
        Sentences about metrics that were not collected (kept in the reading).

    Returns
    -------
    MetricsReading
        Broken documents and metrics are left out with a warning naming them; never raises for them.

    Raises
    ------
    AnalysisError
        When ``documents`` is not a list of documents.
    """
    if isinstance(documents, (str, bytes, Mapping)) or not isinstance(documents, Sequence):
        raise AnalysisError(f"read_metrics needs a list of metrics.list answers, got {type(documents).__name__}")
    names = list(sources) if sources is not None else [f"metrics[{n}]" for n in range(len(documents))]
    if len(names) != len(documents):
        raise AnalysisError(f"read_metrics: {len(documents)} documents but {len(names)} source names")
    series: list[MetricSeries] = []
    warnings: list[str] = []
    for document, source in zip(documents, names, strict=True):
        series.extend(_document_series(document, source, warnings))
    changes = sorted((c for s in series for c in find_changes(s)), key=lambda c: c.at)  # stable: document order
    return MetricsReading(tuple(series), tuple(changes), tuple(warnings), tuple(unsupported))


def _document_series(document: Any, source: str, warnings: list[str]) -> list[MetricSeries]:
    if not isinstance(document, Mapping):
        warnings.append(f"{source}: not a metrics.list answer (a JSON {type(document).__name__}, not an object); "
                        "left out")
        return []
    metrics = document.get("value")
    if not isinstance(metrics, list):
        warnings.append(f"{source}: not a metrics.list answer (no 'value' list of metrics); left out")
        return []
    grain = _duration(document.get("interval"))
    if document.get("interval") is not None and grain is None:
        warnings.append(f"{source}: interval {document.get('interval')!r} is not an ISO 8601 duration; "
                        "the grain is taken from the points")
    span_end = _span_end(document.get("timespan"))
    result = []
    for i, metric in enumerate(metrics):
        try:
            result.extend(_metric_series(metric, source, i, grain, span_end, warnings))
        except _Broken as broken:
            warnings.append(f"{source}: {broken}; that metric is left out")
    return result


class _Broken(Exception):
    """A metric that cannot be read (the message says why)."""


def _span_end(timespan: Any) -> int | None:
    parts = str(timespan or "").split("/")
    end = parse_time(parts[1]) if len(parts) == 2 else None
    return _stamp(end) if end is not None else None


def _metric_series(metric: Any, source: str, index: int, grain: timedelta | None, span_end: int | None,
                   warnings: list[str]) -> list[MetricSeries]:
    if not isinstance(metric, Mapping):
        raise _Broken(f"value[{index}] is a JSON {type(metric).__name__}, not a metric")
    name_field = metric.get("name")
    name = name_field.get("value") if isinstance(name_field, Mapping) else name_field
    if not isinstance(name, str) or not name:
        raise _Broken(f"value[{index}] has no metric name (name.value)")
    code = metric.get("errorCode")
    if code not in (None, "Success"):
        raise _Broken(f"{name}: Azure answered {code} ({metric.get('errorMessage') or 'no message'})")
    timeseries = metric.get("timeseries")
    if not isinstance(timeseries, list):
        raise _Broken(f"{name}: no 'timeseries' list")
    unit = str(metric.get("unit") or "")
    result = []
    for t, series in enumerate(timeseries):
        if not isinstance(series, Mapping) or not isinstance(series.get("data"), list):
            warnings.append(f"{source}: {name} timeseries[{t}] has no 'data' list; left out")
            continue
        label = _dimension(series.get("metadatavalues"))
        where = f"{source}: {name}" + (f" [{label}]" if label else "")
        built = _series(name, unit, series["data"], where, grain, span_end, str(metric.get("id") or ""), warnings)
        if built is not None:
            result.append(built)
    return result


def _dimension(values: Any) -> str:
    if not isinstance(values, list):
        return ""
    parts = []
    for item in values:
        if isinstance(item, Mapping):
            key = item.get("name")
            key = key.get("value") if isinstance(key, Mapping) else key
            parts.append(f"{key}={item.get('value')}")
    return ", ".join(parts)


def _aggregation(data: list[Any]) -> str | None:
    """The aggregation the points carry: the first of :data:`_AGGREGATIONS` any of the first points has."""
    for point in data[:50] if len(data) > 50 else data:
        if isinstance(point, Mapping):
            for key in _AGGREGATIONS:
                if key in point:
                    return key
    for point in data:
        if isinstance(point, Mapping):
            for key in _AGGREGATIONS:
                if key in point:
                    return key
    return None


def _series(name: str, unit: str, data: list[Any], where: str, grain: timedelta | None, span_end: int | None,
            resource_id: str, warnings: list[str]) -> MetricSeries | None:
    aggregation = _aggregation(data) or "average"
    try:
        stamps_text = [point["timeStamp"] for point in data]
        raw = [point.get(aggregation) for point in data]
    except (TypeError, KeyError, AttributeError):
        stamps_text, raw, dropped = _lenient(data, aggregation)
        warnings.append(f"{where}: {dropped} point(s) without a timeStamp left out")
    stamps, bad_time = _parse_stamps(stamps_text)
    try:
        values = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError):
        values = np.array([_number(v) for v in raw], dtype=np.float64)
        warnings.append(f"{where}: {int(np.count_nonzero(np.isnan(values)) - sum(v is None for v in raw))} "
                        "value(s) that are not numbers read as gaps")
    if bad_time.any():
        warnings.append(f"{where}: {int(bad_time.sum())} point(s) with an unreadable timeStamp "
                        f"(e.g. {stamps_text[int(np.flatnonzero(bad_time)[0])]!r}) left out")
        stamps, values = stamps[~bad_time], values[~bad_time]
    if len(stamps) > 1 and not bool(np.all(stamps[1:] > stamps[:-1])):
        order = np.argsort(stamps, kind="stable")
        stamps, values = stamps[order], values[order]
        keep = np.concatenate(([True], stamps[1:] != stamps[:-1]))
        if not keep.all():
            warnings.append(f"{where}: {int((~keep).sum())} repeated timeStamp(s); the first of each kept")
            stamps, values = stamps[keep], values[keep]
    if not len(stamps):
        return None
    values[~np.isfinite(values)] = np.nan
    if grain is None and len(stamps) > 1:
        grain = timedelta(seconds=float(np.median(np.diff(stamps))) / _NS_PER_S)
    step = int(grain.total_seconds() * _NS_PER_S) if grain is not None else 0
    partial = span_end is not None and step > 0 and int(stamps[-1]) + step > span_end
    times_out = stamps.view("datetime64[ns]")
    times_out.flags.writeable = False
    values.flags.writeable = False
    return MetricSeries(name=name, unit=unit, aggregation=aggregation, grain=grain, times=times_out, values=values,
                        source=where, resource_id=resource_id, partial_last=bool(partial))


#: Azure's timeStamp form, ``2026-11-24T21:47:00Z``: where its digits and separators are.
_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
_SEPARATORS = np.frombuffer(b"--T::Z", dtype=np.uint8)
_SEPARATOR_AT = np.array([4, 7, 10, 13, 16, 19])


def _azure_stamps(texts: list[Any]) -> np.ndarray | None:
    """Nanoseconds of stamps all in Azure's exact form, read as digits in one pass; ``None`` if any is not."""
    if not texts or set(map(type, texts)) != {str} or set(map(len, texts)) != {20}:
        return None
    raw = "".join(texts)
    if not raw.isascii():
        return None
    chars = np.frombuffer(raw.encode("ascii"), dtype=np.uint8).reshape(-1, 20)
    if not (chars[:, _SEPARATOR_AT] == _SEPARATORS).all():
        return None
    digits = chars[:, _DIGITS].astype(np.int64) - 48
    if ((digits < 0) | (digits > 9)).any():
        return None
    tens = digits[:, 0::2] * 10 + digits[:, 1::2]  # 20, 26, month, day, hour, minute, second
    year, month, day = tens[:, 0] * 100 + tens[:, 1], tens[:, 2], tens[:, 3]
    hour, minute, second = tens[:, 4], tens[:, 5], tens[:, 6]
    if ((month < 1) | (month > 12) | (day < 1) | (day > 31) | (hour > 23) | (minute > 59) | (second > 59)).any():
        return None
    late = day > 28  # the 29th–31st may not exist in that month: numpy judges those few
    if late.any():
        try:
            np.array([texts[n][:-1] for n in np.flatnonzero(late)], dtype="datetime64[s]")
        except ValueError:
            return None
    y = year - (month <= 2)  # days from the civil date (H. Hinnant's algorithm), vectorised
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return ((days * 86400 + hour * 3600 + minute * 60 + second) * _NS_PER_S).astype(np.int64)


def _parse_stamps(texts: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Nanoseconds since the epoch of every timeStamp, and where one could not be read.

    Azure's exact form (``2026-11-24T21:47:00Z``) is read as digits; other ISO forms by numpy;
    anything else (an offset, a broken stamp) by :func:`kit.times.parse_time`, one by one.
    """
    fast = _azure_stamps(texts)
    if fast is not None:
        return fast, np.zeros(len(fast), dtype=bool)
    try:
        bare = [text[:-1] if text[-1:] == "Z" else text for text in texts]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "no explicit representation of timezones": an offset, read slowly
            parsed = np.array(bare, dtype="datetime64[ns]")
        return parsed.view(np.int64), np.isnat(parsed)
    except (TypeError, ValueError, Warning):
        pass
    stamps = np.zeros(len(texts), dtype=np.int64)
    bad = np.zeros(len(texts), dtype=bool)
    for n, text in enumerate(texts):
        moment = parse_time(text) if isinstance(text, str) else None
        if moment is None:
            bad[n] = True
        else:
            stamps[n] = _stamp(moment)
    return stamps, bad


def _lenient(data: list[Any], aggregation: str) -> tuple[list[Any], list[Any], int]:
    stamps, raw, dropped = [], [], 0
    for point in data:
        if isinstance(point, Mapping) and "timeStamp" in point:
            stamps.append(point["timeStamp"])
            raw.append(point.get(aggregation))
        else:
            dropped += 1
    return stamps, raw, dropped


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


def _stamp(moment: datetime) -> int:
    """A time as nanoseconds since the epoch (UTC; naive means UTC)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * _NS_PER_S + delta.microseconds * 1000


def _moment(stamp: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=stamp // 1000)


# ---------------------------------------------------------------- change points


def _thresholds(series: MetricSeries) -> tuple[float, float, bool] | None:
    """``(bad, good, low)``: the bad state is at or under ``bad`` (``low``) or at or over it; good beyond ``good``."""
    family = series.family
    v = series.values
    if family is None or not len(v) or np.isnan(v).all():
        return None
    if family == "availability":
        half = 50.0 if np.nanmax(v) > 1.5 else 0.5  # Azure's is 0–1; a percentage reads the same
        return half, half, True
    if family in ("cpu", "disk"):
        return 95.0, (85.0 if family == "cpu" else 80.0), False
    usual = float(np.nanpercentile(v, 90))
    if usual <= 0:
        return None  # never any traffic (or memory) to lose
    if family == "memory":
        return 0.05 * usual, 0.15 * usual, True
    return 0.05 * usual, 0.25 * usual, True


def _states(values: np.ndarray, bad: float, good: float, low: bool) -> np.ndarray:
    """1.0 where a bucket is in the bad state, 0.0 where good, NaN in between (hysteresis) or without data."""
    if low:
        return np.where(values <= bad if bad != good else values < bad, 1.0, np.where(values >= good, 0.0, np.nan))
    return np.where(values >= bad, 1.0, np.where(values < good, 0.0, np.nan))


def _carry(states: np.ndarray) -> np.ndarray:
    """NaN carries the last state (forward fill); leading NaNs take the first state."""
    known = ~np.isnan(states)
    if not known.any():
        return states
    index = np.where(known, np.arange(len(states)), 0)
    np.maximum.accumulate(index, out=index)
    filled = states[index]
    first = int(np.argmax(known))
    filled[:first] = states[first]
    return filled


def _runs(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of equal states starts, and how long it is."""
    starts = np.concatenate(([0], np.flatnonzero(states[1:] != states[:-1]) + 1))
    return starts, np.diff(np.concatenate((starts, [len(states)])))


def find_changes(series: MetricSeries) -> tuple[MetricChange, ...]:
    """The change points of one series (see the module); ``()`` for a metric without a family.

    Buckets are classed bad / good with hysteresis (gaps and in-between values carry the last
    class); a run shorter than the steady length is a blip and takes the previous class; a run
    counts as a change only when the median of its first buckets is itself beyond the threshold.
    """
    limits = _thresholds(series)
    if limits is None:
        return ()
    bad, good, low = limits
    grain = series.grain or timedelta(minutes=1)
    steady = max(2, math.ceil(MIN_STEADY / grain))
    values = series.values
    times = series.times.view("int64")
    if series.partial_last:
        values, times = values[:-1], times[:-1]
    states = _carry(_states(values, bad, good, low))
    if len(states) < 2 or np.isnan(states).all():
        return ()
    starts, lengths = _runs(states)
    if len(starts) > 1:
        # a run shorter than `steady` (not the last: the state at collection) is a blip: it takes the previous state
        short = np.zeros(len(starts), dtype=bool)
        short[1:-1] = lengths[1:-1] < steady
        if short.any():
            states = states.copy()
            states[np.repeat(short, lengths)] = np.nan
            states = _carry(states)
            starts, lengths = _runs(states)
    family = series.family or ""
    _, bad_kind, good_kind = _FAMILIES[family]
    scale = 100.0 if family == "availability" and bad == 0.5 else 1.0
    unit = "Percent" if family == "availability" else series.unit
    result = []
    current, since = math.nan, 0  # the window's first confirmed state is where it starts, not a change
    for at, length in zip(starts.tolist(), lengths.tolist(), strict=True):
        state = states[at]
        if state == current:
            continue  # the run between was not confirmed: still the same state
        first = values[at:at + min(length, max(steady, _SIDE))]
        known = first[~np.isnan(first)]
        middle = float(np.median(known)) if len(known) else math.nan
        if state == 1.0:
            confirmed = (middle <= bad if bad != good else middle < bad) if low else middle >= bad
        else:
            confirmed = middle >= good if low else middle < good
        if not confirmed:
            continue
        if math.isnan(current):
            current, since = state, at
            continue
        result.append(MetricChange(
            metric=series.name, kind=bad_kind if state == 1.0 else good_kind, at=_moment(int(times[at])),
            before=_mean(values[max(since, at - _SIDE):at]) * scale,
            after=_mean(values[at:at + min(length, _SIDE)]) * scale,
            bucket=series.grain, unit=unit, aggregation=series.aggregation, evidence=series.source,
        ))
        current, since = state, at
    return tuple(result)


def _mean(values: np.ndarray) -> float:
    known = values[~np.isnan(values)]
    return float(known.mean()) if len(known) else math.nan


# ---------------------------------------------------------------- the bundle


def metrics_from_bundle(bundle: Bundle) -> MetricsReading:
    """The metrics of an evidence bundle (``bundle.metrics``, ``metrics/<n>.json``), read.

    Metrics the collection was refused (manifest failures of call ``metrics.list``) are listed in
    ``unsupported``; a metrics file that cannot be read becomes a warning. Never raises for the
    bundle's content.

    Parameters
    ----------
    bundle
        A loaded :class:`kit.evidence.Bundle` (anything with a ``metrics`` list).
    """
    failures = [f for f in getattr(bundle, "failures", None) or []
                if isinstance(f, Mapping) and f.get("call") == METRICS_CALL]
    unsupported = tuple(str(f.get("message") or f.get("code") or "a metric was not collected") for f in failures)
    try:
        documents = list(getattr(bundle, "metrics", None) or [])
    except KitError as error:
        return MetricsReading(warnings=(f"metrics not read: {error}",), unsupported=unsupported)
    files = _metric_files(bundle, len(documents))
    return read_metrics(documents, sources=files, unsupported=unsupported)


def _metric_files(bundle: Bundle, count: int) -> list[str]:
    """The bundle paths of its metrics documents in ``Bundle.metrics``' order (``metrics/1.json`` …)."""
    manifest = getattr(bundle, "manifest", None) or {}
    paths = [str(f.get("path")) for f in manifest.get("files") or []
             if isinstance(f, Mapping) and str(f.get("path", "")).startswith("metrics/")]
    paths.sort(key=lambda p: (not p[8:-5].isdigit(), int(p[8:-5]) if p[8:-5].isdigit() else 0, p))
    return paths if len(paths) == count else [f"metrics/{n + 1}.json" for n in range(count)]


# ---------------------------------------------------------------- recovery


@dataclass(frozen=True)
class RecoveryFigure:
    """One metric after a fix against the same hours of the day before the incident.

    Parameters
    ----------
    metric
        Azure's metric name.
    after
        The mean since the fix (availability as a percentage); NaN when no bucket has data.
    baseline
        The mean over the same clock hours one or more whole days earlier, ending before the
        incident; NaN when the window has no data there (availability's is 100%).
    buckets
        How many buckets after the fix hold data.
    passed
        Availability: at least 99.9%; traffic: ``after`` within :data:`FLOW_BAND` of ``baseline``.
        ``None`` when it cannot be judged (no data after the fix, or no baseline).
    seen
        One sentence with the numbers.
    evidence
        The series' source.
    """

    metric: str
    after: float
    baseline: float
    buckets: int
    passed: bool | None
    seen: str
    evidence: str = ""


def compare_recovery(reading: MetricsReading, *, fixed_at: datetime, baseline: MetricsReading | None = None,
                     incident_start: datetime | None = None, band: tuple[float, float] = FLOW_BAND,
                     families: Sequence[str] = ("availability", "flows")) -> tuple[RecoveryFigure, ...]:
    """How the metrics since ``fixed_at`` compare with the same hours of the day before the incident.

    Parameters
    ----------
    reading
        Metrics collected after the fix.
    fixed_at
        When the fix was made (UTC).
    baseline
        Metrics that cover the time before the incident (the incident's first collection); by
        default ``reading`` itself.
    incident_start
        When the incident began; by default the last bad change point (availability lost, flows
        or traffic stopped) before the fix in ``baseline``, else the fix itself.
    band
        The fraction of the baseline recovered flows must be within.
    families
        Which metric families to compare.

    Returns
    -------
    tuple[RecoveryFigure, ...]
        One per series of those families in ``reading``. The baseline window is the after-fix window
        moved back by whole days until it ends before the incident.
    """
    base_reading = baseline if baseline is not None else reading
    start = incident_start
    if start is None:
        earlier = [c.at for c in base_reading.changes if c.bad and c.at <= fixed_at
                   and c.family in ("availability", "flows", "traffic")]
        start = max(earlier) if earlier else fixed_at
    result = []
    for series in reading.series:
        if series.family not in families or not len(series.times):
            continue
        end = _moment(int(series.times.view("int64")[-1])) + (series.grain or timedelta(minutes=1))
        known = series.between(fixed_at, end)
        known = known[~np.isnan(known)]
        days = max(1, math.ceil((end - start) / timedelta(days=1)))
        base_start, base_end = fixed_at - timedelta(days=days), end - timedelta(days=days)
        base_series = base_reading.named(series.name) or series
        base = base_series.between(base_start, base_end)
        result.append(_figure(series, known, base[~np.isnan(base)], band, base_start, base_end))
    return tuple(result)


def _figure(series: MetricSeries, after: np.ndarray, base: np.ndarray, band: tuple[float, float],
            base_start: datetime, base_end: datetime) -> RecoveryFigure:
    name, where = series.name, series.source
    if not len(after):
        return RecoveryFigure(name, math.nan, math.nan, 0, None,
                              f"{name}: no data since the fix yet (metrics lag a few minutes)", where)
    if series.family == "availability":
        scale = 100.0 if np.nanmax(series.values) <= 1.5 else 1.0
        mean = float(after.mean()) * scale
        up = int(np.count_nonzero(after * scale >= 50))
        passed = mean >= 99.9
        return RecoveryFigure(name, mean, 100.0, len(after), passed,
                              f"availability {mean:.1f}% since the fix ({up} of {len(after)} "
                              f"{bucket_text(series.grain)}s up)", where)
    mean = float(after.mean())
    if not len(base):
        return RecoveryFigure(name, mean, math.nan, len(after), None,
                              f"{name} {_value(mean, series.unit)} since the fix; no data the same hours before "
                              "the incident to compare with", where)
    baseline = float(base.mean())
    low, high = band
    ratio = mean / baseline if baseline > 0 else math.inf if mean > 0 else 1.0
    passed = low <= ratio <= high
    return RecoveryFigure(name, mean, baseline, len(after), passed,
                          f"{name} {_value(mean, series.unit)} per bucket since the fix vs "
                          f"{_value(baseline, series.unit)} the same hours before the incident "
                          f"({base_start:%m-%d %H:%M}–{base_end:%H:%M} UTC): {ratio:.0%}, band "
                          f"{low:.0%}–{high:.0%}", where)
