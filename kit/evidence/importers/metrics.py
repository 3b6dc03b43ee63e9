"""Importer for ``az monitor metrics list -o json`` (or a saved REST ``metrics`` answer).

``az`` prints the SDK's model, not what Azure sent: the interval as a Python ``timedelta``
(``"0:01:00"``, ``"1 day, 0:00:00"``), timestamps with ``+00:00``, every aggregation a point
lacks as ``null``, ``errorMessage: null`` and a ``resourceGroup`` on each metric. The importer
gives back the REST shape the collector stores (contract C5): ``PT1M``, ``…Z``, missing
aggregations absent. A field of the wrong type is a ``ValueError`` naming it (the import
turns it into a :class:`~kit.errors.BundleFormatError` naming the file).
"""

from __future__ import annotations

import re
from typing import Any

from kit.evidence.importers._base import Artifact, Importers
from kit.times import iso_z, parse_time

__all__ = ["MetricsImporter", "register", "rest_interval"]

_TIMEDELTA = re.compile(r"^(?:(?P<days>\d+) days?, )?(?P<h>\d+):(?P<m>\d{2}):(?P<s>\d{2})$")
_AZ_ONLY = frozenset({"resourceGroup"})


def rest_interval(text: str) -> str:
    """An ISO 8601 duration for ``az``'s ``timedelta`` text (``"0:05:00"`` → ``PT5M``); ISO text unchanged.

    >>> rest_interval("1 day, 0:00:00"), rest_interval("6:00:00"), rest_interval("PT1M")
    ('P1D', 'PT6H', 'PT1M')
    """
    match = _TIMEDELTA.match(text.strip())
    if match is None:
        if text.upper().startswith("P"):
            return text.upper()
        raise ValueError(f"interval {text!r} is neither an ISO 8601 duration nor az's h:mm:ss")
    days, hours, minutes, seconds = (int(match.group(key) or 0) for key in ("days", "h", "m", "s"))
    date = f"{days}D" if days else ""
    clock = "".join(f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if value)
    return f"P{date}{'T' + clock if clock else ''}" if date or clock else "PT0S"


def _point(point: Any, where: str) -> dict[str, Any]:
    if not isinstance(point, dict):
        raise ValueError(f"{where} is not an object")
    stamp = point.get("timeStamp", point.get("time_stamp"))
    moment = parse_time(stamp) if isinstance(stamp, str) else None
    if moment is None:
        raise ValueError(f"{where}.timeStamp {stamp!r} is not an ISO 8601 time")
    out: dict[str, Any] = {"timeStamp": iso_z(moment)}
    for key, value in point.items():
        if key in ("timeStamp", "time_stamp") or value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}.{key} is {value!r}, expected a number or null")
        out[key] = value
    return out


def _metric(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"{where} is not an object")
    name = item.get("name")
    if not (isinstance(name, dict) and isinstance(name.get("value"), str)) and not isinstance(name, str):
        raise ValueError(f"{where}.name is {name!r}, expected {{'value': …, 'localizedValue': …}}")
    series = item.get("timeseries")
    if not isinstance(series, list):
        raise ValueError(f"{where}.timeseries is {type(series).__name__}, expected a list")
    out = {key: value for key, value in item.items() if key not in _AZ_ONLY and value is not None}
    if isinstance(name, str):
        out["name"] = {"value": name, "localizedValue": name}
    rest_series = []
    for index, entry in enumerate(series):
        shown = f"{where}.timeseries[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("data", []), list):
            raise ValueError(f"{shown} is not an object with a 'data' list")
        metadata = entry.get("metadatavalues") or []
        if not isinstance(metadata, list):
            raise ValueError(f"{shown}.metadatavalues is not a list")
        rest_series.append({"metadatavalues": metadata,
                            "data": [_point(point, f"{shown}.data[{n}]") for n, point in enumerate(entry.get("data")
                                                                                                      or [])]})
    out["timeseries"] = rest_series
    return out


class MetricsImporter:
    """``az monitor metrics list`` (or a REST ``…/providers/Microsoft.Insights/metrics`` answer)."""

    name = "metrics"
    description = "az monitor metrics list --resource VM_ID --metrics … -o json"

    def accepts(self, doc: Any) -> bool:
        """An object with ``timespan``, ``interval`` and a ``value`` list of metrics (or an empty list)."""
        if not (isinstance(doc, dict) and {"timespan", "interval"} <= set(doc) and isinstance(doc.get("value"), list)):
            return False
        return all(isinstance(item, dict) and ("timeseries" in item or
                                               str(item.get("type", "")).lower() == "microsoft.insights/metrics")
                   for item in doc["value"])

    def load(self, doc: Any) -> list[Any]:
        """The answer in REST shape (``PT…`` interval, ``Z`` times, no ``null`` aggregations)."""
        interval = doc.get("interval")
        if not isinstance(interval, str):
            raise ValueError(f"interval is {interval!r}, expected text such as 'PT1M' or '0:01:00'")
        if not isinstance(doc.get("timespan"), str):
            raise ValueError(f"timespan is {doc.get('timespan')!r}, expected 'start/end'")
        body = {key: value for key, value in doc.items() if value is not None}
        body["interval"] = rest_interval(interval)
        body["value"] = [_metric(item, f"value[{index}]") for index, item in enumerate(doc["value"])]
        first = body["value"][0].get("id") if body["value"] else None
        cut = first.lower().find("/providers/microsoft.insights/metrics/") if isinstance(first, str) else -1
        return [Artifact("metrics", body, resource_id=first[:cut] if isinstance(first, str) and cut > 0 else None)]


def register(registry: Importers) -> None:
    """Add the metrics importer to ``registry``."""
    registry.register(MetricsImporter())
