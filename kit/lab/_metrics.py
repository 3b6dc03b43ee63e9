"""Private: the platform metrics of the lab's VMs, generated from each scenario's story.

A VM's series is a seeded baseline (its size, a daily cycle, noise hashed from VM, metric and
bucket, never the clock) bent by *conditions* that start and end at times taken from the scenario
data: the Activity Log records (the firewall push by Run Command, the NSG rule write, the appliance
deleted, restarts, the deallocation), ``scenario.yaml``'s facts where no record exists (a Windows
Update reboot), and the lab's own writes (``kit.lab._activity``) for what a responder does.

=====================  ===================================================================
condition              what the metrics show
=====================  ===================================================================
``inbound_blocked``    Inbound Flows / Network In collapse (guest firewall, NSG deny)
``outbound_blocked``   Outbound Flows / Network Out collapse (route to a deleted appliance)
``guest_down``         VmAvailabilityMetric 0, CPU, network and disk at ~0 (kernel panic)
``emergency``          running, but network and disk at ~0 (emergency mode)
``service_down``       fewer inbound flows, lower CPU (a service refusing connections)
``rebooting``          a short hole in the data, VmAvailabilityMetric 0 (a restart)
``deallocated``        no data at all
=====================  ===================================================================

A story's condition ends when a lab write fixes it: the deny rule deleted, the route to the dead
appliance gone, the guest's fix check passing after a Run Command or a console fix, the last boot
in the serial log free of the failure after an OS-disk swap, the VM started again. Missing points
are left without aggregates (Azure's ``null``), the bucket holding "now" (less two minutes of
ingestion delay) is partial, nothing exists after it or before the VM was created. "Now" is the
wall clock unless ``state.extras[CLOCK_EXTRA]`` holds a callable (tests look minutes ahead).

The lab declares the managed-disk metrics (``OS Disk Queue Depth``, ``OS Disk IOPS Consumed
Percentage``) unsupported on a VM whose OS disk is an unmanaged VHD, so a caller meets Azure's
answer for a metric the resource has no configuration for (400 ``BadRequest``). No scenario VM has
such a disk; tests plant one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kit.ids import try_parse
from kit.lab._state import LabState
from kit.lab.scenario import ScenarioInfo
from kit.times import parse_time

__all__ = ["CATALOG", "CLOCK_EXTRA", "GRAINS", "NAMESPACE", "Condition", "MetricSpec", "conditions", "lab_now",
           "series", "unsupported"]

NAMESPACE = "Microsoft.Compute/virtualMachines"
#: the time grains VM platform metrics support, in seconds
GRAINS: dict[str, int] = {"PT1M": 60, "PT5M": 300, "PT15M": 900, "PT30M": 1800, "PT1H": 3600, "PT6H": 21600,
                          "PT12H": 43200, "P1D": 86400}
#: ``state.extras`` key of a zero-argument callable giving "now" to the metrics (tests move time forward)
CLOCK_EXTRA = "metrics_clock"
_LATENCY = dt.timedelta(minutes=2)  # ingestion delay: the newest minutes have no data yet
_GAP_RATE = 0.004  # one-minute points that never arrived


@dataclass(frozen=True)
class MetricSpec:
    """One VM platform metric as its definition describes it."""

    name: str
    localized: str
    unit: str
    primary: str
    description: str
    category: str


CATALOG: tuple[MetricSpec, ...] = (
    MetricSpec("Percentage CPU", "Percentage CPU", "Percent", "Average",
               "The percentage of allocated compute units that are currently in use by the Virtual Machine(s)",
               "Compute"),
    MetricSpec("Available Memory Bytes", "Available Memory Bytes", "Bytes", "Average",
               "Amount of physical memory, in bytes, immediately available for allocation to a process or for "
               "other uses in the Virtual Machine", "Memory"),
    MetricSpec("Network In Total", "Network In Total", "Bytes", "Total",
               "The number of bytes received on all network interfaces by the Virtual Machine(s) (Incoming Traffic)",
               "Network"),
    MetricSpec("Network Out Total", "Network Out Total", "Bytes", "Total",
               "The number of bytes out on all network interfaces by the Virtual Machine(s) (Outgoing Traffic)",
               "Network"),
    MetricSpec("Network In", "Network In Billable (Deprecated)", "Bytes", "Total",
               "The number of billable bytes received on all network interfaces by the Virtual Machine(s) "
               "(Incoming Traffic) (Deprecated)", "Network"),
    MetricSpec("Network Out", "Network Out Billable (Deprecated)", "Bytes", "Total",
               "The number of billable bytes out on all network interfaces by the Virtual Machine(s) "
               "(Outgoing Traffic) (Deprecated)", "Network"),
    MetricSpec("Inbound Flows", "Inbound Flows", "Count", "Average",
               "Inbound Flows are number of current flows in the inbound direction (traffic going into the VM)",
               "Network"),
    MetricSpec("Outbound Flows", "Outbound Flows", "Count", "Average",
               "Outbound Flows are number of current flows in the outbound direction (traffic going out of the VM)",
               "Network"),
    MetricSpec("Disk Read Operations/Sec", "Disk Read Operations/Sec", "CountPerSecond", "Average",
               "Disk Read IOPS", "Disk"),
    MetricSpec("Disk Write Operations/Sec", "Disk Write Operations/Sec", "CountPerSecond", "Average",
               "Disk Write IOPS", "Disk"),
    MetricSpec("OS Disk Queue Depth", "OS Disk Queue Depth", "Count", "Average",
               "OS Disk Queue Depth(or Queue Length)", "Disk"),
    MetricSpec("OS Disk IOPS Consumed Percentage", "OS Disk IOPS Consumed Percentage", "Percent", "Average",
               "Percentage of operating system disk I/Os consumed per minute", "Disk"),
    MetricSpec("VmAvailabilityMetric", "VM Availability Metric (Preview)", "Count", "Average",
               "Measure of Availability of Virtual machines over time.", "Availability"),
)
_BY_NAME = {spec.name.lower(): spec for spec in CATALOG}
_MEMORY_GIB = {"standard_d2s_v5": 8, "standard_d4s_v5": 16, "standard_d8s_v5": 32, "standard_e4s_v5": 32,
               "standard_f8s_v2": 16}

#: condition → metric → factor on the baseline (``None``: no data); unnamed metrics keep 1.0
_FACTORS: dict[str, dict[str, float | None]] = {
    "normal": {},
    "inbound_blocked": {"Inbound Flows": 0.02, "Network In Total": 0.04, "Network In": 0.04,
                        "Outbound Flows": 0.35, "Network Out Total": 0.12, "Network Out": 0.12,
                        "Percentage CPU": 0.45, "Disk Write Operations/Sec": 0.6},
    "outbound_blocked": {"Outbound Flows": 0.02, "Network Out Total": 0.03, "Network Out": 0.03,
                         "Inbound Flows": 0.3, "Network In Total": 0.2, "Network In": 0.2, "Percentage CPU": 0.5},
    "guest_down": {"VmAvailabilityMetric": 0.0, "Percentage CPU": 0.01, "Inbound Flows": 0.0,
                   "Outbound Flows": 0.0, "Network In Total": 0.002, "Network Out Total": 0.0,
                   "Network In": 0.002, "Network Out": 0.0, "Disk Read Operations/Sec": 0.0,
                   "Disk Write Operations/Sec": 0.0, "OS Disk Queue Depth": 0.0,
                   "OS Disk IOPS Consumed Percentage": 0.0, "Available Memory Bytes": None},
    "emergency": {"Percentage CPU": 0.04, "Inbound Flows": 0.0, "Outbound Flows": 0.0,
                  "Network In Total": 0.004, "Network Out Total": 0.001, "Network In": 0.004, "Network Out": 0.001,
                  "Disk Read Operations/Sec": 0.02, "Disk Write Operations/Sec": 0.01,
                  "OS Disk Queue Depth": 0.02, "OS Disk IOPS Consumed Percentage": 0.02,
                  "Available Memory Bytes": 1.6},
    "service_down": {"Inbound Flows": 0.55, "Network In Total": 0.5, "Network In": 0.5, "Percentage CPU": 0.35,
                     "Network Out Total": 0.45, "Network Out": 0.45},
    "rebooting": {spec.name: None for spec in CATALOG} | {"VmAvailabilityMetric": 0.0},
    "deallocated": {spec.name: None for spec in CATALOG},
}
_REBOOT = dt.timedelta(seconds=75)


@dataclass(frozen=True)
class Condition:
    """A span of one VM's story: ``kind`` (a key of the table above) from ``start`` until ``end``.

    ``source`` says where the times come from (``activity log: …``, ``scenario facts: …``, ``lab write: …``).
    """

    kind: str
    start: dt.datetime
    end: dt.datetime | None
    source: str


def lab_now(state: LabState) -> dt.datetime:
    """The metrics' "now": the wall clock, or the lab's ``CLOCK_EXTRA`` callable when one is set."""
    clock = state.extras.get(CLOCK_EXTRA)
    return clock() if callable(clock) else dt.datetime.now(dt.UTC)


# -- the story -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Op:
    operation: str
    resource_id: str
    start: dt.datetime
    lab: bool


def _operations(state: LabState, subscription_id: str) -> list[_Op]:
    """Succeeded operations of a subscription (time of their first record), oldest first."""
    first: dict[str, dt.datetime] = {}
    done: dict[str, tuple[str, str, bool]] = {}
    for record in state.activity.get(subscription_id.lower(), []):
        when = parse_time(record.get("eventTimestamp"))
        correlation = str(record.get("correlationId") or record.get("eventDataId") or id(record))
        if when is None:
            continue
        if correlation not in first or when < first[correlation]:
            first[correlation] = when
        status = (record.get("status") or {}).get("value")
        operation = str((record.get("operationName") or {}).get("value") or "").lower()
        if status == "Succeeded" and operation:
            done[correlation] = (operation, str(record.get("resourceId") or ""),
                                 record.get("caller") == state.principal.name)
    ops = [_Op(operation, resource, first[key], lab) for key, (operation, resource, lab) in done.items()]
    return sorted(ops, key=lambda op: op.start)


@cache
def _facts(folder: Path) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    facts = data.get("facts") if isinstance(data, dict) else None
    return facts if isinstance(facts, dict) else {}


def _same(left: str, right: str) -> bool:
    return left.lower().rstrip("/") == right.lower().rstrip("/")


def _deny_rule_left(state: LabState, rule_id: str) -> bool:
    rule = state.get(rule_id)
    return isinstance(rule, dict) and str((rule.get("properties") or {}).get("access", "")).lower() == "deny"


def _blackholed(state: LabState, vm_id: str) -> bool:
    """Whether the VM's subnet sends 0.0.0.0/0 to a virtual appliance address no NIC holds."""
    vm = state.get(vm_id) or {}
    parsed = try_parse(vm_id)
    nics = state.of_type(parsed.subscription_id, "Microsoft.Network/networkInterfaces") if parsed else iter(())
    held = {str((configuration.get("properties") or {}).get("privateIPAddress"))
            for nic in nics for configuration in (nic.get("properties") or {}).get("ipConfigurations") or []}
    for ref in ((vm.get("properties") or {}).get("networkProfile") or {}).get("networkInterfaces") or []:
        nic = state.get(str(ref.get("id", ""))) or {}
        for configuration in (nic.get("properties") or {}).get("ipConfigurations") or []:
            subnet = state.get(str(((configuration.get("properties") or {}).get("subnet") or {}).get("id", "")))
            table_id = (((subnet or {}).get("properties") or {}).get("routeTable") or {}).get("id")
            table = state.get(str(table_id)) if table_id else None
            for route in ((table or {}).get("properties") or {}).get("routes") or []:
                props = route.get("properties") or {}
                if (props.get("addressPrefix") == "0.0.0.0/0" and props.get("nextHopType") == "VirtualAppliance"
                        and str(props.get("nextHopIpAddress")) not in held):
                    return True
    return False


#: what the last boot of a serial log shows while a boot failure lasts
_BOOT_MARKERS = {"guest_down": "Kernel panic", "emergency": "You are in emergency mode"}


def _guest_fixed(state: LabState, vm_id: str, kind: str) -> bool | None:
    """Whether the broken VM is fixed now, ``None`` when the lab cannot tell.

    The scripted guest's own fix check when it has one (a real guest is judged over SSH: not here);
    for a boot failure, whether the last boot in the VM's serial log still shows it (after an OS-disk
    swap the VM boots the repaired disk and its log changes).
    """
    hub = state.extras.get("console")
    guest = getattr(hub, "guests", {}).get(vm_id.lower()) if hub is not None else None
    judged = str((getattr(guest, "definition", None) or {}).get("check") or "none")
    if guest is not None and judged != "none" and callable(getattr(guest, "check", None)) \
            and not hasattr(guest, "relay"):
        return bool(guest.check().passed)
    marker = _BOOT_MARKERS.get(kind)
    path = state.serial_logs.get(vm_id.lower())
    if marker is None or path is None:
        return None
    try:
        tail = path.read_bytes()[-16384:].decode("utf-8", errors="replace")
    except OSError:
        return None
    return marker not in tail


_GUEST_FIXES = ("microsoft.compute/virtualmachines/runcommand/action",
                "microsoft.compute/virtualmachines/runcommands/write", "microsoft.compute/virtualmachines/write")
_NETWORK_FIXES = ("microsoft.network/networksecuritygroups/securityrules/delete",
                  "microsoft.network/networksecuritygroups/securityrules/write",
                  "microsoft.network/networksecuritygroups/write", "microsoft.network/routetables/routes/delete",
                  "microsoft.network/routetables/routes/write", "microsoft.network/routetables/write",
                  "microsoft.network/virtualnetworks/subnets/write", "microsoft.network/networkinterfaces/write")


def _fix_time(state: LabState, ops: list[_Op], vm_id: str, after: dt.datetime, fixed: bool | None,
              kinds: Iterable[str], own_vm: bool) -> tuple[dt.datetime, str] | None:
    """When the story was fixed, ``None`` while it is not.

    ``fixed`` is what the VM's state says now (``None``: not judged, a real guest or an untouched one).
    The fix time is the lab write that fitted when it was first seen fixed (kept, so a later write does
    not move it; forgotten when that write is gone, as after a scenario reload), or, for a fix that no
    ARM write made (the serial console), the moment the lab first saw it fixed.
    """
    if fixed is False:
        return None
    memo: dict[str, tuple[dt.datetime, str, bool]] = state.extras.setdefault("metrics_fixed", {})
    known = memo.get(vm_id.lower())
    if known is not None and known[0] > after and (not known[2] or any(op.lab and op.start == known[0] for op in ops)):
        return known[0], known[1]
    wanted = tuple(kinds)
    writes = [op for op in ops if op.lab and op.start > after and op.operation in wanted
              and (not own_vm or _same(op.resource_id, vm_id))]
    if writes:
        write = writes[-1] if own_vm else writes[0]
        memo[vm_id.lower()] = (write.start, f"lab write: {write.operation}", True)
    elif fixed:
        memo[vm_id.lower()] = (lab_now(state), "lab: the guest's fix check first passed", False)
    else:
        return None
    return memo[vm_id.lower()][:2]


def _story(state: LabState, info: ScenarioInfo, vm_id: str, ops: list[_Op]) -> list[Condition]:
    """The story's own condition for ``vm_id`` (empty for a healthy peer)."""
    hypothesis = info.expected.hypothesis
    broken = _same(vm_id, info.vm_id(info.broken_vm))
    scenario_ops = [op for op in ops if not op.lab]

    def first_under(operation: str) -> _Op | None:  # on the VM or one of its children (an extension)
        return next((op for op in scenario_ops if op.operation == operation
                     and op.resource_id.lower().startswith(vm_id.lower() + "/")), None)

    def last(operation: str) -> _Op | None:
        found = [op for op in scenario_ops if op.operation == operation and _same(op.resource_id, vm_id)
                 and info.window_start <= op.start <= info.window_end]
        return found[-1] if found else None

    def guest(kind: str, begin: _Op | None, delay: float, what: str) -> list[Condition]:
        if begin is None or not broken:
            return []
        start = begin.start + dt.timedelta(seconds=delay)
        fix = _fix_time(state, ops, vm_id, start, _guest_fixed(state, vm_id, kind), _GUEST_FIXES, own_vm=True)
        source = f"activity log: {what} {begin.start:%Y-%m-%dT%H:%M:%SZ}"
        return [Condition(kind, start, fix[0] if fix else None, source)]

    if hypothesis == "guest_firewall":
        return guest("inbound_blocked", last("microsoft.compute/virtualmachines/runcommand/action"), 5,
                     "runCommand/action")
    if hypothesis == "boot_failure:kernel_panic":
        return guest("guest_down", last("microsoft.compute/virtualmachines/restart/action"), 40, "restart/action")
    if hypothesis == "boot_failure:fstab":
        return guest("emergency", last("microsoft.compute/virtualmachines/restart/action"), 100, "restart/action")
    if hypothesis == "service_failure:sshd":
        return guest("service_down", first_under("microsoft.compute/virtualmachines/extensions/write"), 0,
                     "extensions/write")
    if hypothesis == "service_failure:rdp" and broken:
        when = parse_time(_facts(info.path).get("windows_update_reboot_at"))
        if when is None:
            return []
        fix = _fix_time(state, ops, vm_id, when, _guest_fixed(state, vm_id, "service_down"), _GUEST_FIXES,
                        own_vm=True)
        return [Condition("rebooting", when, when + _REBOOT, "scenario facts: windows_update_reboot_at"),
                Condition("service_down", when + _REBOOT, fix[0] if fix else None,
                          "scenario facts: windows_update_reboot_at (TermService disabled from that boot)")]
    if hypothesis == "nsg_deny" and broken:
        write = next((op for op in reversed(scenario_ops)
                      if op.operation == "microsoft.network/networksecuritygroups/securityrules/write"
                      and info.window_start <= op.start <= info.window_end and _inbound_deny(op)), None)
        if write is None:
            return []
        fixed = not _deny_rule_left(state, write.resource_id)
        fix = _fix_time(state, ops, vm_id, write.start, fixed, _NETWORK_FIXES, own_vm=False)
        return [Condition("inbound_blocked", write.start, fix[0] if fix else None,
                          f"activity log: securityRules/write {write.start:%Y-%m-%dT%H:%M:%SZ}")]
    if hypothesis == "route_blackhole":
        deleted = next((op for op in scenario_ops if op.operation == "microsoft.compute/virtualmachines/delete"
                        and info.window_start <= op.start <= info.window_end), None)
        if deleted is None or not (_was_blackholed(state, vm_id) or broken):
            return []
        fixed = not _blackholed(state, vm_id)
        fix = _fix_time(state, ops, vm_id, deleted.start, fixed, _NETWORK_FIXES, own_vm=False)
        return [Condition("outbound_blocked", deleted.start, fix[0] if fix else None,
                          f"activity log: virtualMachines/delete (the appliance) {deleted.start:%Y-%m-%dT%H:%M:%SZ}")]
    return []


def _inbound_deny(op: _Op) -> bool:
    """Whether a security-rule write is the story's inbound deny rule (by its name: the rule may be gone now)."""
    parsed = try_parse(op.resource_id)
    name = parsed.name.lower() if parsed is not None else ""
    return "deny" in name and "outbound" not in name


def _was_blackholed(state: LabState, vm_id: str) -> bool:
    """Whether the VM was behind the dead appliance when the lab first answered for it (fixes come later)."""
    memo = state.extras.setdefault("metrics_blackholed", {})
    key = vm_id.lower()
    if key not in memo:
        memo[key] = _blackholed(state, vm_id)
    return bool(memo[key])


def _power(ops: list[_Op], vm_id: str) -> list[Condition]:
    """Restarts, deallocations and starts of the VM (the scenario's and the lab's) as conditions."""
    found: list[Condition] = []
    off: _Op | None = None
    for op in ops:
        if not _same(op.resource_id, vm_id):
            continue
        verb = op.operation.rsplit("/", 2)[-2] if op.operation.endswith("/action") else ""
        stamp = f"{'lab write' if op.lab else 'activity log'}: {verb}/action {op.start:%Y-%m-%dT%H:%M:%SZ}"
        if verb in ("deallocate", "poweroff") and off is None:
            off = op
            found.append(Condition("deallocated", op.start + dt.timedelta(seconds=20), None, stamp))
        elif verb == "start" and off is not None:
            last = found[-1]
            found[-1] = Condition(last.kind, last.start, op.start + dt.timedelta(seconds=40), last.source)
            off = None
        elif verb in ("restart", "redeploy", "reapply") and off is None:
            found.append(Condition("rebooting", op.start + dt.timedelta(seconds=10),
                                   op.start + dt.timedelta(seconds=10) + _REBOOT, stamp))
    return found


def conditions(state: LabState, info: ScenarioInfo, vm_id: str) -> list[Condition]:
    """Every condition of one VM, oldest first (power conditions override the story's while they last)."""
    ops = _operations(state, info.subscription_id)
    return sorted(_story(state, info, vm_id, ops) + _power(ops, vm_id), key=lambda item: item.start)


#: the metrics of a managed OS disk: a VM whose OS disk is an unmanaged VHD (a page blob) has none
_MANAGED_DISK_METRICS = frozenset({"os disk queue depth", "os disk iops consumed percentage"})


def unsupported(vm: Mapping[str, Any]) -> frozenset[str]:
    """Metric names (lower-cased) the lab has no configuration for on this VM."""
    disk = (((vm.get("properties") or {}).get("storageProfile") or {}).get("osDisk") or {})
    return _MANAGED_DISK_METRICS if "vhd" in disk and "managedDisk" not in disk else frozenset()


# -- the numbers ---------------------------------------------------------------------------
def _unit(*parts: object) -> float:
    """A uniform number in [0, 1) from a hash of ``parts``."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2 ** 64


_LEVELS = {  # a typical VM's level of each metric (per minute for the Total ones); memory is per GiB of RAM
    "Percentage CPU": 18.0, "Available Memory Bytes": 0.45 * 2 ** 30, "Network In Total": 9.0e6,
    "Network Out Total": 6.5e6, "Network In": 4.0e6, "Network Out": 2.5e6, "Inbound Flows": 140.0,
    "Outbound Flows": 95.0, "Disk Read Operations/Sec": 14.0, "Disk Write Operations/Sec": 38.0,
    "OS Disk Queue Depth": 0.45, "OS Disk IOPS Consumed Percentage": 2.5, "VmAvailabilityMetric": 1.0,
}


def _level(spec: MetricSpec, vm: Mapping[str, Any]) -> float:
    """The VM's own normal level of ``spec`` (its size, a seeded per-VM scale)."""
    scale = 0.6 + 0.8 * _unit(str(vm.get("name", "")).lower(), spec.name)
    if spec.name == "VmAvailabilityMetric":
        return 1.0
    if spec.name == "Available Memory Bytes":
        size = str(((vm.get("properties") or {}).get("hardwareProfile") or {}).get("vmSize", "")).lower()
        return _MEMORY_GIB.get(size, 16) * _LEVELS[spec.name] * (0.8 + 0.4 * scale)
    return _LEVELS[spec.name] * scale


def _mix(seed: int, number: int) -> float:
    """A uniform number in [0, 1) for ``number`` under ``seed`` (splitmix64: cheap, and the same everywhere)."""
    value = (seed + number * 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return (value ^ (value >> 31)) / 2 ** 64


_MASK = 2 ** 64 - 1


def _daily(spec: MetricSpec, epoch: float) -> float:
    """The working-day cycle (UTC): busier by day; free memory moves the other way, gently."""
    if spec.name == "VmAvailabilityMetric":
        return 1.0
    cycle = 1.0 + 0.35 * math.sin((epoch % 86400 / 3600 - 8.0) / 24 * 2 * math.pi)
    return 1 / cycle ** 0.3 if spec.name == "Available Memory Bytes" else cycle


def _factor(kinds: list[str], metric: str) -> float | None:
    """The factor of the strongest condition at one moment (a no-data condition wins)."""
    factor = 1.0
    for kind in kinds:
        value = _FACTORS[kind].get(metric, 1.0)
        if value is None:
            return None
        factor = min(factor, value) if value < 1 else max(factor, value)
    return factor


_Span = tuple[float, float, str]  # start, end (inf: still on), kind; epoch seconds


def _active(spans: list[_Span], moment: float) -> list[str]:
    return [kind for begin, end, kind in spans if begin <= moment < end]


def _segments(spans: list[_Span], start: float, end: float) -> list[tuple[float, list[str]]]:
    """``(seconds, active conditions)`` pieces of ``[start, end)`` cut at every condition edge."""
    inner = [edge for begin, finish, _ in spans for edge in (begin, finish) if start < edge < end]
    if not inner:
        return [(end - start, _active(spans, start))]
    edges = sorted({start, end, *inner})
    return [(right - left, _active(spans, left)) for left, right in zip(edges, edges[1:], strict=False)]


def series(spec: MetricSpec, vm: Mapping[str, Any], found: list[Condition], start: dt.datetime, grain: str,
           buckets: int, aggregations: Iterable[str], now: dt.datetime) -> list[dict[str, Any]]:
    """The ``data`` points of one metric: ``buckets`` points of ``grain`` from ``start`` (aligned).

    A point with no data has only its ``timeStamp``, as Azure answers.
    """
    seconds = GRAINS[grain]
    created_at = parse_time((vm.get("properties") or {}).get("timeCreated"))
    created = created_at.timestamp() if created_at is not None else -math.inf
    newest = (now - _LATENCY).timestamp()
    first = start.timestamp()
    last = first + buckets * seconds
    spans = [(item.start.timestamp(), item.end.timestamp() if item.end is not None else math.inf, item.kind)
             for item in found]
    spans = [span for span in spans if span[0] < last and span[1] > first]
    wanted = [name.lower() for name in aggregations]
    name = str(vm.get("name", "")).lower()
    level_of_vm = _level(spec, vm)
    seed = int(_unit(name, spec.name, seconds) * 2 ** 63)
    gaps = int(_unit(name, spec.name, "gap") * 2 ** 63)
    availability = spec.name == "VmAvailabilityMetric"
    spread = 0.0 if availability else 0.18
    points: list[dict[str, Any]] = []
    for index in range(buckets):
        left = first + index * seconds
        point: dict[str, Any] = {"timeStamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(left))}
        points.append(point)
        lo, hi = max(left, created), min(left + seconds, newest)
        if lo >= hi or (seconds == 60 and _mix(gaps, int(left) // 60) < _GAP_RATE):
            continue
        base = level_of_vm * _daily(spec, left + seconds / 2) * (1.0 + 0.08 * (2 * _mix(seed, int(left)) - 1))
        weighted = covered = 0.0
        levels: list[float] = []
        for length, kinds in _segments(spans, lo, hi):
            factor = _factor(kinds, spec.name)
            if factor is None:
                continue
            weighted += length * factor
            covered += length
            levels.append(factor)
        if covered < 1:
            continue
        level = round(weighted / covered, 4) if availability else base * weighted / covered
        if spec.unit == "Percent":
            level = min(level, 100.0)
        samples = max(1, round(covered / 60))
        values = {
            "average": level,
            "total": level * samples,
            "minimum": float(min(levels)) if availability else base * min(levels) * (1 - spread),
            "maximum": float(max(levels)) if availability else base * max(levels) * (1 + spread),
            "count": float(samples),
        }
        if spec.unit == "Percent":
            values["maximum"] = min(values["maximum"], 100.0)
        for aggregation in wanted:
            value = values.get(aggregation)
            if value is not None:
                point[aggregation] = round(value, 4) if abs(value) < 1e6 else round(value)
    return points
