"""The metrics signals of the classification: a change point that follows a change within minutes.

- flows (``Inbound Flows``, ``Outbound Flows``) or traffic (``Network In Total``, ``Network Out
  Total``) falling to ~0 within :data:`FOLLOWS_WITHIN` after an NSG or route-table write supports
  the platform network hypotheses; after a Run Command, an extension write or a restart, the guest
  firewall;
- ``VmAvailabilityMetric`` lost and still lost at the end of the window, while the serial log's
  last boot stops short of a login prompt, supports the boot failures.

They add to a hypothesis another signal leads; they never lead one (metrics say *that* the VM
went quiet, not *why*).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from kit.analyze._verdict_evidence import Evidence
from kit.analyze.metrics import AVAILABILITY, MetricChange, MetricsReading

__all__ = ["FOLLOWS_WITHIN", "availability_lost_while_down", "flows_stopped_after", "metric_evidence"]

#: A metric change "follows" a change when its bucket starts no later than this after it.
FOLLOWS_WITHIN = timedelta(minutes=15)
_NETWORK = ("flows", "traffic")


def metric_evidence(change: MetricChange, after: Evidence | None = None) -> Evidence:
    """The evidence row of a change point, saying how long after ``after`` (a change's row) it came."""
    summary = change.describe()
    if after is not None and after.time is not None:
        lag = max((change.at - after.time).total_seconds(), 0.0)
        summary += f", {_minutes(lag)} after {after.summary}"
    return Evidence("metrics", f"metrics:{change.kind}", summary, change.evidence, change.at, change.to_json())


def _minutes(seconds: float) -> str:
    return "within the same minute" if seconds < 60 else f"{seconds / 60:.0f} min"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def flows_stopped_after(reading: MetricsReading | None, changes: Sequence[Evidence]) -> tuple[float, list[Evidence]]:
    """Flows or traffic falling to ~0 within minutes after one of ``changes`` (rows with a time).

    The bucket holding the change counts too (its start is up to one grain before the change).
    Returns the metric rows (each naming the change it follows) and the changes they follow.
    """
    if reading is None or not reading.changes or not changes:
        return 0.0, []
    rows: list[Evidence] = []
    followed: list[Evidence] = []
    for row in changes:
        if row.time is None:
            continue
        at = _utc(row.time)
        for change in reading.changes:
            grain = change.bucket or timedelta(minutes=1)
            if change.bad and change.family in _NETWORK and at - grain < change.at <= at + FOLLOWS_WITHIN:
                rows.append(metric_evidence(change, row))
                if row not in followed:
                    followed.append(row)
    return (1.0, [*rows, *followed]) if rows else (0.0, [])


def availability_lost_while_down(reading: MetricsReading | None,
                                 boot_rows: Sequence[Evidence]) -> tuple[float, list[Evidence]]:
    """``VmAvailabilityMetric`` lost and not regained by the end of the window, with the boot log's rows."""
    if reading is None:
        return 0.0, []
    availability = [c for c in reading.changes if c.metric.lower() == AVAILABILITY.lower()]
    if not availability or not availability[-1].bad:
        return 0.0, []
    return 1.0, [metric_evidence(availability[-1]), *boot_rows]
