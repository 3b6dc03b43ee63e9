"""Azure Monitor platform metrics of a VM for its bundle: ``metrics.list`` per batch of names.

Over the collection window, with ``azure.mgmt.monitor.aio``'s ``MonitorManagementClient``: one
call per :data:`MAX_NAMES` metric names (Azure's limit per call), at the finest grain that keeps
the window at :data:`MAX_POINTS` points or fewer (:func:`choose_interval`), every aggregation
asked for so the bundle holds what a later analysis may want. Each answer is stored as Azure
sent it in ``metrics/<n>.json`` (contract C5, read back by :attr:`kit.evidence.bundle.Bundle.metrics`).

A batch refused because one name is a metric the resource has no configuration for (Azure's
400 "Failed to find metric configuration …") is asked again name by name: the supported
metrics are kept, each unsupported one becomes a manifest failure (call ``metrics.list``, the
metric's id and name in it). Any other failure is one manifest failure for the batch.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kit import ids
from kit.times import iso_z, parse_time, utc_now

if TYPE_CHECKING:
    from kit.azure._calls import Capture
    from kit.azure._graph import Job, Outcome, Run

__all__ = ["AGGREGATIONS", "CALL", "FOLDER", "GRAINS", "MAX_NAMES", "MAX_POINTS", "METRIC_NAMES", "batches",
           "choose_interval", "collect_metrics", "metric_id"]

CALL = "metrics.list"
FOLDER = "metrics"
#: the VM platform metrics a bundle holds (names exactly as Azure spells them)
METRIC_NAMES: tuple[str, ...] = (
    "VmAvailabilityMetric", "Percentage CPU", "Available Memory Bytes", "Network In Total", "Network Out Total",
    "Inbound Flows", "Outbound Flows", "Disk Read Operations/Sec", "Disk Write Operations/Sec",
    "OS Disk Queue Depth", "OS Disk IOPS Consumed Percentage",
)
AGGREGATIONS = "average,minimum,maximum,total,count"
#: Azure's limit of metric names per ``metrics.list`` call
MAX_NAMES = 20
#: the most points one metric may have over the window
MAX_POINTS = 1440
#: the grains VM platform metrics support, finest first
GRAINS: tuple[tuple[str, timedelta], ...] = (
    ("PT1M", timedelta(minutes=1)), ("PT5M", timedelta(minutes=5)), ("PT15M", timedelta(minutes=15)),
    ("PT30M", timedelta(minutes=30)), ("PT1H", timedelta(hours=1)), ("PT6H", timedelta(hours=6)),
    ("PT12H", timedelta(hours=12)), ("P1D", timedelta(days=1)),
)
_UNSUPPORTED = "failed to find metric configuration"


def choose_interval(start: datetime, end: datetime) -> str:
    """The finest supported grain giving ``[start, end)`` at most :data:`MAX_POINTS` points (``P1D`` at worst).

    >>> from datetime import UTC
    >>> choose_interval(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    'PT30M'
    """
    span = max((end - start).total_seconds(), 0.0)
    for name, grain in GRAINS:
        if math.ceil(span / grain.total_seconds()) <= MAX_POINTS:
            return name
    return GRAINS[-1][0]


def batches(names: Sequence[str], size: int = MAX_NAMES) -> list[list[str]]:
    """``names`` in order, cut into lists of at most ``size``."""
    return [list(names[index:index + size]) for index in range(0, len(names), size)]


def metric_id(resource_id: str, name: str) -> str:
    """The id Azure gives a resource's metric (``…/providers/Microsoft.Insights/metrics/<name>``)."""
    return f"{resource_id}/providers/Microsoft.Insights/metrics/{name}"


def _window(window: dict[str, str]) -> tuple[datetime, datetime]:
    end = parse_time(window.get("end")) or utc_now()
    start = parse_time(window.get("start")) or end - timedelta(days=1)
    return start, end


def _refused(outcome: Outcome) -> bool:
    failure = outcome.failure or {}
    return failure.get("status") == 400 and _UNSUPPORTED in str(failure.get("message", "")).lower()


async def collect_metrics(run: Run, job: Job, rid: ids.ResourceId, names: Sequence[str] = METRIC_NAMES) -> None:
    """Every batch of ``names`` for the VM ``rid`` over the run's window, stored as ``metrics/<n>.json``."""
    monitor = run.clients.get("monitor", rid.subscription_id)
    start, end = _window(run.request.window)
    timespan = f"{iso_z(start)}/{iso_z(end)}"
    interval = choose_interval(start, end)

    def ask(batch: list[str]) -> Awaitable[Outcome]:
        async def call(capture: Capture) -> None:
            await monitor.metrics.list(str(rid), timespan=timespan, interval=interval, metricnames=",".join(batch),
                                       aggregation=AGGREGATIONS, metricnamespace="Microsoft.Compute/virtualMachines",
                                       **capture.kwargs())
        return run.arm(CALL, metric_id(str(rid), batch[0]), call)

    answers: list[tuple[list[str], Outcome]] = []
    groups = batches(names)
    for batch, outcome in zip(groups, await run.gather(*(ask(batch) for batch in groups)), strict=True):
        if _refused(outcome) and len(batch) > 1:
            singles = await run.gather(*(ask([name]) for name in batch))
            answers.extend(([name], single) for name, single in zip(batch, singles, strict=True))
        else:
            answers.append((batch, outcome))
    number = 0
    for batch, outcome in answers:
        if outcome.failure is not None:
            outcome.failure["metricnames"] = batch
            job.record(outcome, "")
            continue
        number += 1
        job.record(outcome, f"{FOLDER}/{number}.json")
