"""The questions the classification asks of a bundle, each answered with evidence rows.

:func:`gather_facts` reads the bundle once (power state, VM agent, Resource Health, boot report,
network verdicts, diff against peers, Activity Log operations); :meth:`Facts.signal` answers one
named signal of ``_verdict_rules.RULES`` with a strength (0–1) and the rows that show it. Boot
findings count only when they survive a good boot (:mod:`kit.analyze._verdict_boot`). Platform
metrics' change points (:mod:`kit.analyze._verdict_metrics`) support a hypothesis when they follow
its change within minutes; they never lead one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kit.analyze._verdict_boot import boot_signal, counted_findings
from kit.analyze._verdict_evidence import Evidence, operation_evidence
from kit.analyze._verdict_metrics import availability_lost_while_down, flows_stopped_after
from kit.analyze._verdict_platform import (
    agent_not_ready,
    agent_statuses,
    health_available,
    unplanned_before,
    unplanned_now,
)
from kit.analyze._verdict_rules import BOOT_SIGNALS, RULES, SUMMARIES
from kit.analyze.activity import ActivityLog, Operation, activity_from_bundle
from kit.analyze.bootlog import BootReport, Finding, parse_boot_log
from kit.analyze.metrics import MetricsReading, metrics_from_bundle
from kit.analyze.network import NetworkDiff, NetworkReading, ResponderVerdict, VmNetwork, read_network
from kit.ids import VMSS_VM, name_of, try_parse
from kit.times import parse_time

if TYPE_CHECKING:
    from kit.evidence import Bundle

__all__ = ["Evidence", "Facts", "gather_facts"]
_BOOT_FAILURE_SIGNALS = ("boot_panic", "boot_root_device", "boot_fstab", "boot_filesystem", "boot_bootloader",
                         "boot_emergency", "firmware_failed", "luks_passphrase", "volume_missing", "switch_root_failed",
                         "systemd_freezing", "selinux_policy", "windows_recovery")
#: A VM with any of these is not "all clear": every hypothesis's lead signal, and the boot failures.
_BLOCKERS = tuple(dict.fromkeys((*_BOOT_FAILURE_SIGNALS, "oom_panic", "selinux_relabel_loop", *(
    rule.support[0][0] for rule in RULES if rule.support[0][0] not in ("vm_not_running", "nsg_denies_access",
                                                                        "route_drops_replies")))))
#: what changes a scale-set instance's guest through the control plane: the scale set's model (extensions,
#: custom data, image) once the instance is upgraded to it, and Run Command on the instance
_SCALE_SET_CHANGES = ("microsoft.compute/virtualmachinescalesets/write",
                      "microsoft.compute/virtualmachinescalesets/manualupgrade/action",
                      "microsoft.compute/virtualmachinescalesets/extensions/write",
                      "microsoft.compute/virtualmachinescalesets/virtualmachines/runcommand/action")
_INACCESSIBLE = re.compile(r"INACCESSIBLE_BOOT_DEVICE|0x0*7B\b", re.I)
_STOP_OPS = ("microsoft.compute/virtualmachines/deallocate/action", "microsoft.compute/virtualmachines/poweroff/action")
_APPLIANCE_DELETES = ("microsoft.compute/virtualmachines/delete", "microsoft.network/networkinterfaces/delete")
_START_OPS = ("microsoft.compute/virtualmachines/start/action", "microsoft.compute/virtualmachines/restart/action")


@dataclass
class Facts:
    """Everything the rules ask about one bundle (see :func:`gather_facts`)."""

    vm_name: str
    vm_id: str
    role: str
    resource_group: str
    os: str
    power: str | None
    power_row: Evidence | None
    operations: list[Operation]
    responder_ip: str
    responder_given: bool
    boot: BootReport | None = None
    network: VmNetwork | None = None
    verdicts: dict[int, ResponderVerdict] | None = None
    diff: NetworkDiff | None = None
    console_status: dict[str, Any] | None = None
    counted: tuple[Finding, ...] = ()
    agent_statuses: list[dict[str, Any]] = field(default_factory=list)
    health: dict[str, Any] | None = None
    health_history: list[dict[str, Any]] = field(default_factory=list)
    serial_log_failure: str | None = None
    window: tuple[datetime | None, datetime | None] = (None, None)
    path_resources: tuple[str, ...] = ()
    metrics: MetricsReading | None = None
    checked: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: the VM model's ``storageProfile.diskControllerType``, lower-cased (``nvme``, ``scsi``; ``""``: not said)
    disk_controller: str = ""
    _cache: dict[str, tuple[float, list[Evidence]]] = field(default_factory=dict)

    # ------------------------------------------------------------ shared views

    @property
    def port(self) -> int:
        """The port people reach this VM on: 3389 for Windows, else 22."""
        return 3389 if self.os == "windows" else 22

    @property
    def has_guest_evidence(self) -> bool:
        """Whether a serial log with recognisable lines was parsed."""
        return self.boot is not None and bool(self.boot.events)

    @property
    def has_network_evidence(self) -> bool:
        """Whether SSH/RDP verdicts could be computed."""
        return bool(self.verdicts)

    def signal(self, name: str) -> tuple[float, list[Evidence]]:
        """Answer one signal: ``(strength 0–1, evidence rows)``; ``(0, [])`` when it did not fire."""
        if name not in self._cache:
            method: Callable[[], tuple[float, list[Evidence]]] | None = getattr(self, f"_s_{name}", None)
            if method is None:
                self._cache[name] = self._findings(name) if name in BOOT_SIGNALS.values() else (0.0, [])
            else:
                self._cache[name] = method()
        return self._cache[name]

    def _findings(self, signal: str) -> tuple[float, list[Evidence]]:
        last = (self.boot.boots - 1) if self.boot is not None else 0
        rows = [
            Evidence("boot_log", f.kind, f.summary if f.boot == last else f"{f.summary} (boot {f.boot + 1} of "
                     f"{last + 1})", f.evidence, None,
                     {"line": f.line, "text": f.text, "severity": f.severity, "boot": f.boot})
            for f in self.counted if boot_signal(f.kind) == signal
        ]
        if not rows:
            return 0.0, []
        strongest = max(_SEVERITY_STRENGTH.get(r.details["severity"], 0.5) for r in rows)
        return strongest, rows

    def summary_for(self, kind: str, supporting: list[Evidence]) -> str:
        """One sentence for a hypothesis, led by its strongest evidence."""
        lead = supporting[0].summary if supporting else ""
        text = SUMMARIES.get(kind, kind)
        return f"{text}: {lead}" if lead else text

    # ------------------------------------------------------------ signals: power

    def _s_vm_not_running(self) -> tuple[float, list[Evidence]]:
        rows: list[Evidence] = []
        if self.power in ("deallocated", "deallocating", "stopped", "stopping"):
            rows.append(self.power_row)  # type: ignore[arg-type]
        elif self.power is None:
            last = self._last_power_op()
            if last is not None and last.operation_name.lower() in _STOP_OPS:
                rows.append(operation_evidence(last, f"last power operation: {last.summary}"))
        if not rows:
            return 0.0, []
        rows.extend(r for r in self._s_stop_operation()[1] if r not in rows)
        return 1.0, rows

    def _s_vm_running(self) -> tuple[float, list[Evidence]]:
        return (1.0, [self.power_row]) if self.power == "running" and self.power_row else (0.0, [])

    def _s_stop_operation(self) -> tuple[float, list[Evidence]]:
        last = self._last_power_op()
        if last is not None and last.operation_name.lower() in _STOP_OPS and not last.failed:
            return 1.0, [operation_evidence(last)]
        return 0.0, []

    def _last_power_op(self) -> Operation | None:
        ops = [op for op in self.operations if op.operation_name.lower() in _STOP_OPS + _START_OPS and not op.failed]
        return ops[-1] if ops else None

    # ------------------------------------------------------------ signals: guest

    def _login(self) -> bool:
        boot = self.boot
        return boot is not None and (boot.reached("login") or boot.reached("sac") or boot.reached("windows-login"))

    def _s_login_prompt(self) -> tuple[float, list[Evidence]]:
        boot = self.boot
        if boot is None or not self._login():
            return 0.0, []
        event = next((e for e in reversed(boot.events) if e.stage == boot.stage), None)
        reference = f"{boot.source}:{event.line}" if event else boot.source
        return 1.0, [Evidence("boot_log", f"stage:{boot.stage}", f"the last boot reached the {boot.stage} stage",
                              reference, event.time if event else None, {"stage": boot.stage})]

    def _s_no_login_prompt(self) -> tuple[float, list[Evidence]]:
        boot = self.boot
        if boot is None or not boot.events or self._login():
            return 0.0, []
        return 1.0, [Evidence("boot_log", f"stage:{boot.stage}",
                              f"the last boot stopped at the {boot.stage} stage (no login prompt)", boot.source)]

    def _s_boot_failed_any(self) -> tuple[float, list[Evidence]]:
        rows = [r for name in _BOOT_FAILURE_SIGNALS for r in self.signal(name)[1]
                if r.details.get("severity") == "critical"]
        return (1.0, rows) if rows else (0.0, [])

    def _s_selinux_relabel_loop(self) -> tuple[float, list[Evidence]]:
        """SELinux relabels in two or more boots, none of which reached a login prompt."""
        rows = self._findings("selinux_relabel")[1]
        return (1.0, rows) if len({r.details["boot"] for r in rows}) >= 2 else (0.0, [])

    def _s_responder_banned(self) -> tuple[float, list[Evidence]]:
        """fail2ban/sshguard banned an address: the responder's own (1.0) or another one (0.7)."""
        strength, rows = self._findings("responder_banned")
        if not rows:
            return 0.0, []
        own = [r for r in rows if self.responder_given and self.responder_ip in str(r.details.get("text", ""))]
        return (strength, own) if own else (min(strength, 0.7), rows)

    def _s_vm_agent_not_ready(self) -> tuple[float, list[Evidence]]:
        return agent_not_ready(self.agent_statuses)

    def _s_network_stack_down(self) -> tuple[float, list[Evidence]]:
        """The VM agent is not ready although the last boot reached its login prompt."""
        return self.signal("vm_agent_not_ready") if self._login() else (0.0, [])

    def _s_linux_guest(self) -> tuple[float, list[Evidence]]:
        return (1.0, [self._os_row()]) if self.os == "linux" else (0.0, [])

    def _s_windows_guest(self) -> tuple[float, list[Evidence]]:
        return (1.0, [self._os_row()]) if self.os == "windows" else (0.0, [])

    def _s_windows_inaccessible_boot(self) -> tuple[float, list[Evidence]]:
        """Windows stopped with INACCESSIBLE_BOOT_DEVICE (0x7B): its boot disk's driver did not start."""
        strength, rows = self.signal("windows_bugcheck")
        rows = [row for row in rows if _INACCESSIBLE.search(f"{row.summary} {row.details.get('text', '')}")]
        return (strength, rows) if rows else (0.0, [])

    def _s_nvme_controller(self) -> tuple[float, list[Evidence]]:
        """The VM's disks are on an NVMe controller (the v6 sizes): Windows needs stornvme at boot."""
        if self.disk_controller != "nvme":
            return 0.0, []
        return 1.0, [Evidence("kit", "disk_controller:nvme", "the VM's disks are on an NVMe controller: Windows must "
                              "start its NVMe driver (stornvme) at boot", "vm.json: storageProfile.diskControllerType",
                              None, {"diskControllerType": "NVMe"})]

    def _os_row(self) -> Evidence:
        return Evidence("kit", f"os:{self.os}", f"the guest runs {self.os.capitalize()}",
                        "vm.json: storageProfile.osDisk.osType")

    def _s_unexplained_subject(self) -> tuple[float, list[Evidence]]:
        """A subject reported unreachable on which every outside check passes."""
        if self.role != "subject" or self.signal("boot_failed_any")[0] or not self.has_guest_evidence:
            return 0.0, []
        clean = self.clean_checks()
        if not clean:
            return 0.0, []
        note = Evidence("kit", "unexplained",
                        "the VM runs, boots to a login prompt and the network lets the responder in, "
                        "yet it is reported unreachable: the cause is inside the guest")
        return 1.0, [note, *clean]

    # ------------------------------------------------------------ signals: network

    def _verdict(self) -> Any:
        return (self.verdicts or {}).get(self.port)

    def _verdict_row(self, verdict: Any, text: str | None = None) -> Evidence:
        flow = verdict.flow
        where = (f"nsgs/{name_of(flow.nsg_id, '?')}.json: {flow.rule_name}" if flow.nsg_id and flow.rule_name
                 else "network")
        origin = ("" if self.responder_given
                  else f" (from the Internet address {self.responder_ip}; no responder address given)")
        return Evidence("network", flow.rule_name or "no NSG", (text or verdict.explain()) + origin, where, None,
                        verdict.to_json())

    def _s_nsg_denies_access(self) -> tuple[float, list[Evidence]]:
        verdict = self._verdict()
        if verdict is None or verdict.flow.allowed:
            return 0.0, []
        return 1.0, [self._verdict_row(verdict), *self._changes("networksecuritygroups")]

    def _s_network_allows_access(self) -> tuple[float, list[Evidence]]:
        verdict = self._verdict()
        if verdict is None or verdict.reachable is not True:
            return 0.0, []
        return 1.0, [self._verdict_row(verdict)]

    def _s_route_drops_replies(self) -> tuple[float, list[Evidence]]:
        verdict = self._verdict()
        if verdict is None or not verdict.flow.allowed or verdict.reachable is True:
            return 0.0, []
        route = verdict.route
        table_id = route.route_table_id if route.route_table_id != "System Route" else None
        table_id = table_id or getattr(route.route, "route_table_id", None) or (
            self.network.table_holding(route.route) if route.route is not None and self.network is not None else None)
        where = f"route_tables/{name_of(table_id, '?')}.json: {route.route.name}" if (
            route.route is not None and route.route.name and table_id
        ) else f"effective_routes/{route.nic}.json" if route.source == "effective" else "route configuration"
        row = Evidence("network", f"next_hop:{route.next_hop_type}", verdict.explain(), where, None, verdict.to_json())
        return (1.0 if verdict.reachable is False else 0.7), [row, *self._changes("routetables")]

    def _s_route_delivers(self) -> tuple[float, list[Evidence]]:
        verdict = self._verdict()
        if verdict is None or verdict.route.delivers is not True:
            return 0.0, []
        return 1.0, [Evidence("network", f"next_hop:{verdict.route.next_hop_type}",
                              f"replies to {verdict.route.destination} are delivered ({verdict.route.explain()})",
                              "effective_routes")]

    def _s_nsg_differs_from_peers(self) -> tuple[float, list[Evidence]]:
        return self._differences(("nsg_rule", "association:subnet_nsg", "association:nic_nsg"))

    def _s_route_differs_from_peers(self) -> tuple[float, list[Evidence]]:
        return self._differences(("route", "association:route_table", "nic:ip_forwarding"))

    def _differences(self, prefixes: tuple[str, ...]) -> tuple[float, list[Evidence]]:
        if self.diff is None:
            return 0.0, []
        rows = [
            Evidence("peers", d.kind, d.description, f"{d.kind}: {d.item}", getattr(d.operation, "start", None),
                     d.to_json())
            for d in self.diff.explaining if d.kind.startswith(prefixes)
        ]
        return (1.0, rows) if rows else (0.0, [])

    def _s_nsg_changed(self) -> tuple[float, list[Evidence]]:
        rows = self._changes("networksecuritygroups")
        return (1.0, rows) if rows else (0.0, [])

    def _s_route_changed(self) -> tuple[float, list[Evidence]]:
        rows = self._changes("routetables")
        return (1.0, rows) if rows else (0.0, [])

    def _changes(self, provider_type: str) -> list[Evidence]:
        """Succeeded writes/deletes on this VM's own NSGs or route tables (and their rules/routes)."""
        needle = f"microsoft.network/{provider_type}/"
        own = tuple(f"{resource_id.lower()}/" for resource_id in self.path_resources)
        return [operation_evidence(op) for op in self.operations
                if op.operation_name.lower().startswith(needle) and not op.failed
                and op.operation_name.lower().endswith(("/write", "/delete"))
                and (not own or f"{op.resource_id.lower()}/".startswith(own))]

    def _s_guest_change(self) -> tuple[float, list[Evidence]]:
        """Something pushed into the guest through the control plane (run command, extension)."""
        names = ("microsoft.compute/virtualmachines/runcommand/action",
                 "microsoft.compute/virtualmachines/extensions/write",
                 "microsoft.compute/virtualmachines/runcommands/write")
        vm = self.vm_id.lower()
        rows = [operation_evidence(op) for op in self.operations
                if op.operation_name.lower() in names and not op.failed
                and (not vm or op.resource_id.lower().startswith(vm))]
        parent = try_parse(self.vm_id)
        if parent is not None and parent.is_kind(VMSS_VM) and parent.parent is not None:  # the scale set's model
            scale_set = str(parent.parent).lower()  # changes reach the instance when it is upgraded to the model
            rows += [operation_evidence(op) for op in self.operations
                     if op.operation_name.lower() in _SCALE_SET_CHANGES and not op.failed
                     and op.resource_id.lower().rstrip("/") in (scale_set, vm)]
        return (1.0, rows) if rows else (0.0, [])

    # ------------------------------------------------------------ signals: metrics

    def _s_flows_stopped_after_nsg_change(self) -> tuple[float, list[Evidence]]:
        """Flows or traffic fell to ~0 within minutes after a write to this VM's NSGs."""
        return flows_stopped_after(self.metrics, self._changes("networksecuritygroups"))

    def _s_flows_stopped_after_route_change(self) -> tuple[float, list[Evidence]]:
        """Flows or traffic fell to ~0 within minutes after a write to this VM's route tables, or after
        another VM or NIC was deleted (the appliance a route sends to)."""
        vm = self.vm_id.lower()
        gone = [operation_evidence(op) for op in self.operations
                if op.operation_name.lower() in _APPLIANCE_DELETES and not op.failed
                and not (vm and op.resource_id.lower().startswith(vm))]
        return flows_stopped_after(self.metrics, [*self._changes("routetables"), *gone])

    def _s_flows_stopped_after_guest_change(self) -> tuple[float, list[Evidence]]:
        """Flows or traffic fell to ~0 within minutes after a Run Command, an extension write or a restart."""
        vm = self.vm_id.lower()
        restarts = [operation_evidence(op) for op in self.operations
                    if op.operation_name.lower() in _START_OPS and not op.failed
                    and (not vm or op.resource_id.lower().startswith(vm))]
        return flows_stopped_after(self.metrics, [*self.signal("guest_change")[1], *restarts])

    def _s_availability_lost_boot_stopped(self) -> tuple[float, list[Evidence]]:
        """VmAvailabilityMetric went to 0 and stayed there, and the serial log's last boot stops short of a login."""
        stopped = self.signal("no_login_prompt")
        return availability_lost_while_down(self.metrics, stopped[1]) if stopped[0] else (0.0, [])

    # ------------------------------------------------------------ signals: platform

    def _health(self) -> list[Operation]:
        return [op for op in self.operations if op.category.lower() == "resourcehealth"]

    def _s_platform_unavailable(self) -> tuple[float, list[Evidence]]:
        health = self._health()
        if not health:
            return 0.0, []
        last = health[-1]
        props = last.properties
        if str(props.get("currentHealthStatus", "")).lower() in ("unavailable", "degraded") and \
                str(props.get("cause", "")).lower() == "platforminitiated":
            return 1.0, [operation_evidence(op) for op in health
                         if str(op.properties.get("cause", "")).lower() == "platforminitiated"]
        return 0.0, []

    def _s_platform_available(self) -> tuple[float, list[Evidence]]:
        health = self._health()
        if health and str(health[-1].properties.get("currentHealthStatus", "")).lower() == "available":
            return 1.0, [operation_evidence(health[-1])]
        return 0.0, []

    def _s_health_unplanned(self) -> tuple[float, list[Evidence]]:
        return unplanned_now(self.health)

    def _s_health_available(self) -> tuple[float, list[Evidence]]:
        return health_available(self.health)

    def _s_health_unplanned_before(self) -> tuple[float, list[Evidence]]:
        return unplanned_before(self.health_history, self.window)

    def _s_service_health_incident(self) -> tuple[float, list[Evidence]]:
        rows = [operation_evidence(op) for op in self.operations
                if op.category.lower() == "servicehealth" and op.status.lower() != "resolved"]
        return (1.0, rows) if rows else (0.0, [])

    # ------------------------------------------------------------ all clear

    def clean_checks(self) -> list[Evidence]:
        """The rows showing every outside check passed; empty when any failed or is missing."""
        running = self.signal("vm_running")
        login = self.signal("login_prompt")
        network = self.signal("network_allows_access")
        if not (running[0] and login[0] and network[0]):
            return []
        if any(self.signal(name)[0] for name in _BLOCKERS):
            return []
        return [*running[1], *login[1], *network[1]]


_SEVERITY_STRENGTH = {"critical": 1.0, "error": 0.9, "warning": 0.6}


def _power(view: dict[str, Any] | None) -> tuple[str | None, Evidence | None]:
    if not isinstance(view, dict):
        return None, None
    statuses = view.get("statuses")
    for i, status in enumerate(statuses if isinstance(statuses, list) else []):
        code = str(status.get("code", "")) if isinstance(status, dict) else ""
        if code.lower().startswith("powerstate/"):
            state = code.split("/", 1)[1].lower()
            return state, Evidence("instance_view", code, f"instance view: {status.get('displayStatus') or code}",
                                   f"instance_view.json: statuses[{i}]")
    return None, None


def _os(bundle: Bundle, boot: BootReport | None) -> str:
    os_type: Any = bundle.vm or {}
    for key in ("properties", "storageProfile", "osDisk", "osType"):
        os_type = os_type.get(key) if isinstance(os_type, dict) else None
    if isinstance(os_type, str) and os_type:
        return str(os_type).lower()
    return boot.os if boot is not None and boot.os in ("linux", "windows") else "unknown"


def _disk_controller(bundle: Bundle) -> str:
    """The VM model's ``storageProfile.diskControllerType``, lower-cased (``""`` when it says none, or is broken)."""
    value: Any = bundle.vm or {}
    for key in ("properties", "storageProfile", "diskControllerType"):
        value = value.get(key) if isinstance(value, dict) else None
    return value.lower() if isinstance(value, str) else ""


def gather_facts(bundle: Bundle, peers: Sequence[Bundle], *, responder_ip: str | None,
                 boot_report: BootReport | None = None, network: NetworkReading | None = None,
                 activity: ActivityLog | None = None, metrics: MetricsReading | None = None) -> Facts:
    """Read everything the rules need from a bundle and its peers, once.

    ``boot_report``, ``network``, ``activity`` and ``metrics`` are taken as given when the caller
    already has them (:func:`kit.analyze.triage.triage`), else read from the bundle here.
    """
    manifest = bundle.manifest or {}
    window: dict[str, Any] = manifest["window"] if isinstance(manifest.get("window"), dict) else {}
    activity = activity if activity is not None else activity_from_bundle(bundle)
    power, power_row = _power(bundle.instance_view)
    if network is None:
        network = read_network(bundle, peers, responder_ip=responder_ip, operations=activity.operations)
    facts = Facts(
        vm_name=str(manifest.get("vm_name") or ""), vm_id=str(manifest.get("vm_id") or ""),
        role=str(manifest.get("role") or "subject"), resource_group=str(manifest.get("resource_group") or ""),
        os="unknown", power=power, power_row=power_row, operations=list(activity.operations),
        responder_ip=network.responder_ip, responder_given=network.responder_given,
        console_status=bundle.serial_console_status,
        agent_statuses=agent_statuses(bundle.instance_view),
        health=getattr(bundle, "resource_health", None),
        health_history=[item for item in getattr(bundle, "resource_health_history", []) if isinstance(item, dict)],
        window=(parse_time(window.get("start")), parse_time(window.get("end"))),
        path_resources=tuple(
            str(body.get("id")) for folder in (bundle.nsgs, bundle.route_tables)
            for body in folder.values() if isinstance(body, dict) and body.get("id")
        ),
    )
    facts.metrics = metrics if metrics is not None else metrics_from_bundle(bundle)
    facts.warnings.extend(activity.warnings)
    facts.warnings.extend(facts.metrics.warnings)
    if not facts.metrics.empty:
        facts.checked.append("metrics")
    if activity.operations:
        facts.checked.append("activity_log")
    if power is not None:
        facts.checked.append("instance_view")
    else:
        facts.missing.append("no instance view (power state unknown)")
    if facts.health is not None:
        facts.checked.append("resource_health")
    else:
        facts.missing.append("no Resource Health availability status (not collected, or the call failed)")
    _read_boot(bundle, facts, boot_report)
    facts.os = _os(bundle, facts.boot)
    facts.disk_controller = _disk_controller(bundle)
    facts.network, facts.verdicts, facts.diff = network.network, network.verdicts or None, network.diff
    facts.checked.extend(network.checked)
    facts.missing.extend(network.missing)
    facts.warnings.extend(network.warnings)
    return facts


#: The collection calls that bring the serial log: when one failed, its absence says nothing about
#: whether boot diagnostics are on.
_SERIAL_CALLS = ("virtual_machines.retrieve_boot_diagnostics_data", "boot_diagnostics.serial_log")


def _read_boot(bundle: Bundle, facts: Facts, report: BootReport | None) -> None:
    data = bundle.serial_log
    if not data:
        failed = next((f for f in bundle.failures if str(f.get("call", "")) in _SERIAL_CALLS), None)
        if failed is not None:
            status = failed.get("status") or failed.get("code") or "no answer"
            facts.serial_log_failure = f"{failed.get('call')} failed ({status})"
            facts.missing.append(f"no serial log: reading it failed ({facts.serial_log_failure}), "
                                 "so boot diagnostics may well be on")
        elif bundle.boot_diagnostics_enabled is False:
            facts.missing.append("no serial log: boot diagnostics are off on this VM")
        else:
            facts.missing.append("no serial log (boot diagnostics off or not collected)")
        return
    facts.boot = report if report is not None else parse_boot_log(data, source="serial.log")
    facts.counted = counted_findings(facts.boot)
    if facts.boot.events:
        facts.checked.append("serial_log")
    else:
        facts.missing.append("the serial log holds no recognisable boot output")
