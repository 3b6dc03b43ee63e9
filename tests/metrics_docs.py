"""``metrics.list`` answers in Azure's REST shape (Microsoft.Insights/metrics, api-version 2023-10-01), for tests.

A point without data is a ``{"timeStamp": …}`` with no aggregation key, as Azure writes a minute
that has none; the timespan may end inside the last bucket (a partial bucket, as at "now").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["VM_ID", "metric", "metrics_document", "stamp"]

VM_ID = ("/subscriptions/1f3a2b4c-0000-4000-8000-000000000001/resourceGroups/rg-web/providers/"
         "Microsoft.Compute/virtualMachines/vm-web-01")
_UNITS = {"VmAvailabilityMetric": "Count", "Percentage CPU": "Percent", "Available Memory Bytes": "Bytes",
          "Network In Total": "Bytes", "Network Out Total": "Bytes", "Inbound Flows": "Count",
          "Outbound Flows": "Count", "OS Disk IOPS Consumed Percentage": "Percent"}


def stamp(moment: datetime) -> str:
    """A time as Azure writes a metric's timeStamp."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def metric(name: str, start: datetime, values: Sequence[float | None], *, aggregation: str | None = None,
           grain: timedelta = timedelta(minutes=1)) -> dict[str, Any]:
    """One entry of ``value``: ``name``'s points from ``start``, one per ``grain`` (``None``: no data)."""
    aggregation = aggregation or ("total" if name.endswith("Total") else "average")
    data = [{"timeStamp": stamp(start + n * grain)} | ({aggregation: value} if value is not None else {})
            for n, value in enumerate(values)]
    return {
        "id": f"{VM_ID}/providers/Microsoft.Insights/metrics/{name}",
        "type": "Microsoft.Insights/metrics",
        "name": {"value": name, "localizedValue": name},
        "displayDescription": f"{name} of the Virtual Machine",
        "unit": _UNITS.get(name, "Count"),
        "timeseries": [{"metadatavalues": [], "data": data}],
        "errorCode": "Success",
    }


def metrics_document(start: datetime, *metrics: dict[str, Any], minutes: float | None = None,
                     interval: str = "PT1M") -> dict[str, Any]:
    """A whole answer; the timespan is ``minutes`` long (default: as long as the longest metric's points)."""
    longest = max((len(m["timeseries"][0]["data"]) for m in metrics if m.get("timeseries")), default=0)
    end = start + timedelta(minutes=minutes if minutes is not None else longest)
    return {"cost": 0, "timespan": f"{stamp(start)}/{stamp(end)}", "interval": interval, "value": list(metrics),
            "namespace": "Microsoft.Compute/virtualMachines", "resourceregion": "westeurope"}
