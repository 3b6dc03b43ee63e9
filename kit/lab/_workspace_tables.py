"""The Log Analytics tables of a scenario's workspace, generated from what the scenario already holds.

- ``AzureActivity``: every Activity Log record of the subscription (the scenario's, and the lab's
  own writes as they happen) in the table's real columns, plus :func:`old_records`: what happened
  more than 90 days before the scenario's window (the VMs and NICs being deployed), which the
  Activity Log API no longer returns but the workspace keeps.
- ``Heartbeat``: one row a minute per VM over the window, with a gap while a VM restarts; the
  broken VM's stop for good when it broke, for a scenario whose VM does not come back (a boot
  failure, a deallocated VM): at the start of the last restart or deallocation on it.
- ``Syslog`` (Linux VMs): the dated lines of each serial log (the Azure agent's), and the kernel's
  lines of every boot that reached userspace and the agent, dated through the boot's RTC line, up to
  its shutdown. A boot that never got that far (a kernel panic, an emergency shell) sends nothing, as
  a real agent would not.
- ``Event`` (Windows VMs): the System log's shutdown and start records around each restart, and for a
  scenario whose facts name a service made unstartable, its start-type change and stopped state.

Values are KQL values (aware UTC datetimes, dicts for dynamic columns); rows are dicts.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from kit.ids import name_of, try_parse
from kit.lab._state import LabState
from kit.lab.scenario import ScenarioInfo
from kit.times import parse_time

__all__ = ["OLD_RECORDS_AGE", "RETENTION", "activity_row", "event_rows", "heartbeat_rows", "old_records", "present_of",
           "scenario_tables", "syslog_rows", "workspace_id"]

#: How long the Activity Log API keeps records.
RETENTION = dt.timedelta(days=90)
#: How long before the scenario's window the deployment records of :func:`old_records` are.
OLD_RECORDS_AGE = dt.timedelta(days=120)
_NAMESPACE = uuid.UUID("4f1c8a52-3b7e-4d09-9e61-7a2c5b8d0f34")
_STATUS = {"started": "Start", "accepted": "Accept", "succeeded": "Success", "failed": "Failure"}
_STOPS = ("restart/action", "deallocate/action", "poweroff/action", "redeploy/action", "reimage/action")
_BOOT_GAP = dt.timedelta(seconds=90)
_KERNEL = re.compile(rb"^\[\s*(\d+\.\d+)\]\s?(.*)$")
_CLOCK = re.compile(rb"setting system clock to (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}) UTC")
_DATED = re.compile(rb"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z) (INFO|WARNING|ERROR|VERBOSE) (.*)$")
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
_SEVERITY = {b"INFO": "info", b"WARNING": "warning", b"ERROR": "err", b"VERBOSE": "debug"}


def workspace_id(info: ScenarioInfo) -> str:
    """The Workspace ID (a GUID, stable across runs) of the scenario's Log Analytics workspace."""
    return str(uuid.uuid5(_NAMESPACE, f"{info.subscription_id.lower()}/{info.name}"))


def present_of(info: ScenarioInfo, now: dt.datetime | None = None) -> dt.datetime:
    """The scenario's "now" for retention: its window's end, never later than the real now.

    The scenarios' stories happen at fixed dates; measured from the real clock they would age past
    the Activity Log's 90 days and the lab would stop answering for them.
    """
    real = now or dt.datetime.now(dt.UTC)
    return min(real, info.window_end)


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        inner = value.get("value")
        return "" if inner is None else str(inner)
    return "" if value is None else str(value)


def _label(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("localizedValue") or value.get("value") or "")
    return _text(value)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def activity_row(record: Mapping[str, Any], tenant_id: str) -> dict[str, Any] | None:
    """One EventData record as an ``AzureActivity`` row (``None`` when it has no usable time)."""
    when = parse_time(record.get("eventTimestamp"))
    if when is None:
        return None
    status = _text(record.get("status"))
    resource_id = _text(record.get("resourceId"))
    http = _object(record.get("httpRequest"))
    properties = _object(record.get("properties"))
    authorization = _object(record.get("authorization"))
    claims = _object(record.get("claims"))
    parsed = try_parse(resource_id)
    return {
        "TenantId": tenant_id,
        "SourceSystem": "Azure",
        "TimeGenerated": when,
        "CallerIpAddress": str(http.get("clientIpAddress") or ""),
        "CategoryValue": _text(record.get("category")),
        "CorrelationId": str(record.get("correlationId") or ""),
        "Authorization": json.dumps(authorization) if authorization else "",
        "Authorization_d": authorization or None,
        "Claims": json.dumps(claims) if claims else "",
        "Claims_d": claims or None,
        "Level": str(record.get("level") or ""),
        "OperationNameValue": _text(record.get("operationName")).upper(),
        "Properties": json.dumps(properties) if properties else "",
        "Properties_d": properties or None,
        "Caller": str(record.get("caller") or ""),
        "EventDataId": str(record.get("eventDataId") or ""),
        "EventSubmissionTimestamp": parse_time(record.get("submissionTimestamp")),
        "HTTPRequest": json.dumps(http) if http else "",
        "OperationId": str(record.get("operationId") or ""),
        "ResourceGroup": str(record.get("resourceGroupName") or "").upper(),
        "ResourceProviderValue": _text(record.get("resourceProviderName")).upper(),
        "ActivityStatusValue": _STATUS.get(status.lower(), status),
        "ActivitySubstatusValue": _text(record.get("subStatus")),
        "Hierarchy": str(properties.get("hierarchy") or ""),
        "SubscriptionId": str(record.get("subscriptionId") or ""),
        "OperationName": _label(record.get("operationName")),
        "ActivityStatus": _label(record.get("status")),
        "ActivitySubstatus": _label(record.get("subStatus")),
        "Category": _label(record.get("category")),
        "ResourceId": resource_id.upper(),
        "ResourceProvider": _label(record.get("resourceProviderName")),
        "Resource": (parsed.name if parsed is not None else name_of(resource_id, "")).upper(),
        "Type": "AzureActivity",
        "_ResourceId": resource_id.lower(),
    }


def old_records(state: LabState, info: ScenarioInfo) -> list[dict[str, Any]]:
    """EventData records of the deployment, :data:`OLD_RECORDS_AGE` before the window (older than 90 days).

    For each VM and NIC of the scenario's resource group: a ``Started`` and a ``Succeeded`` write, by the
    caller of the scenario log's earliest administrative record.
    """
    sub = info.subscription_id.lower()
    events = sorted(state.activity.get(sub, []), key=lambda event: str(event.get("eventTimestamp", "")))
    first = next((event for event in events if _text(event.get("category")).lower() == "administrative"), {})
    caller = str(first.get("caller") or "deploy@lab.contoso.com")
    kinds = ("microsoft.network/networkinterfaces", "microsoft.compute/virtualmachines")
    bodies = [body for kind in kinds for body in state.of_type(info.subscription_id, kind)
              if (parsed := try_parse(str(body.get("id", "")))) is not None
              and str(parsed.resource_group).lower() == info.resource_group.lower()]
    base = info.window_start - OLD_RECORDS_AGE
    records = []
    for index, body in enumerate(sorted(bodies, key=lambda body: (kinds.index(str(body["type"]).lower()),
                                                                   str(body["id"]).lower()))):
        resource_id = str(body["id"])
        kind = str(body["type"])
        parsed = try_parse(resource_id)
        namespace = str(parsed.namespace if parsed is not None else "")
        correlation = str(uuid.uuid5(_NAMESPACE, f"old/{resource_id.lower()}"))
        started = base + dt.timedelta(minutes=3 * index)
        label = "Create or Update Virtual Machine" if "virtualmachines" in kind.lower() else \
            "Create or Update Network Interface"
        for status, when in (("Started", started), ("Succeeded", started + dt.timedelta(seconds=42))):
            records.append({
                "caller": caller, "channels": "Operation", "correlationId": correlation,
                "eventDataId": str(uuid.uuid5(_NAMESPACE, f"old/{resource_id.lower()}/{status}")),
                "eventName": {"value": "BeginRequest" if status == "Started" else "EndRequest",
                              "localizedValue": "Begin request" if status == "Started" else "End request"},
                "category": {"value": "Administrative", "localizedValue": "Administrative"},
                "eventTimestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
                "submissionTimestamp": (when + dt.timedelta(seconds=8)).strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
                "level": "Informational", "operationId": correlation,
                "operationName": {"value": f"{kind}/write", "localizedValue": label},
                "resourceGroupName": info.resource_group,
                "resourceProviderName": {"value": namespace, "localizedValue": namespace},
                "resourceType": {"value": kind, "localizedValue": kind},
                "resourceId": resource_id,
                "status": {"value": status, "localizedValue": status},
                "subStatus": {"value": "" if status == "Started" else "Created",
                              "localizedValue": "" if status == "Started" else "Created (HTTP Status Code: 201)"},
                "subscriptionId": info.subscription_id, "tenantId": info.tenant_id,
                "properties": {"eventCategory": "Administrative", "entity": resource_id,
                               "message": f"{kind}/write", "statusCode": "Created" if status != "Started" else ""},
                "httpRequest": {"clientRequestId": str(uuid.uuid5(_NAMESPACE, f"old/{resource_id.lower()}/req")),
                                "clientIpAddress": "52.165.30.81", "method": "PUT"},
            })
    return records


def _vm_os(state: LabState, vm_id: str) -> str:
    body = state.get(vm_id) or {}
    disk = ((body.get("properties") or {}).get("storageProfile") or {}).get("osDisk") or {}
    return str(disk.get("osType") or "Linux")


def _facts(info: ScenarioInfo) -> dict[str, Any]:
    try:
        data = yaml.safe_load((Path(info.path) / "scenario.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    facts = data.get("facts") if isinstance(data, dict) else None
    return facts if isinstance(facts, dict) else {}


def _operations(state: LabState, info: ScenarioInfo, vm: str) -> list[tuple[dt.datetime, dt.datetime | None, str]]:
    """(start, end, operation) of the restarts and deallocations on a VM, in time order."""
    starts: dict[str, tuple[dt.datetime, str]] = {}
    ends: dict[str, dt.datetime] = {}
    vm_id = info.vm_id(vm)
    for event in state.activity.get(info.subscription_id.lower(), []):
        if str(event.get("resourceId", "")).lower() != vm_id.lower():
            continue
        operation = _text(event.get("operationName")).lower()
        if not operation.endswith(_STOPS):
            continue
        when = parse_time(event.get("eventTimestamp"))
        correlation = str(event.get("correlationId") or event.get("eventDataId"))
        status = _text(event.get("status")).lower()
        if when is None:
            continue
        if correlation not in starts or when < starts[correlation][0]:
            starts[correlation] = (when, operation)
        if status in ("succeeded", "failed", "canceled"):
            ends[correlation] = when
    found = [(start, ends.get(key), operation) for key, (start, operation) in starts.items()]
    return sorted(found, key=lambda item: item[0])


def _stops_for_good(info: ScenarioInfo) -> bool:
    hypothesis = str(info.expected.hypothesis)
    return hypothesis.startswith("boot_failure") or hypothesis == "vm_not_running"


def heartbeat_rows(state: LabState, info: ScenarioInfo, tenant_id: str) -> list[dict[str, Any]]:
    """One ``Heartbeat`` row a minute per VM over the window (gaps while restarting; the broken VM stops)."""
    rows: list[dict[str, Any]] = []
    for vm in info.vms:
        vm_id = info.vm_id(vm)
        operations = _operations(state, info, vm)
        gaps = [(start, (end or start) + _BOOT_GAP) for start, end, _ in operations]
        last = info.window_end
        in_window = [start for start, _, _ in operations if start <= info.window_end]
        if vm == info.broken_vm and _stops_for_good(info) and in_window:
            last = in_window[-1]
        os_type = _vm_os(state, vm_id)
        computer = vm
        moment = info.window_start.replace(second=0, microsecond=0)
        seconds = int(uuid.uuid5(_NAMESPACE, vm_id.lower()).int % 50) + 5
        moment += dt.timedelta(seconds=seconds)
        while moment < last:
            if not any(start <= moment < end for start, end in gaps):
                rows.append({
                    "TenantId": tenant_id, "SourceSystem": "OpsManager", "TimeGenerated": moment,
                    "Computer": computer, "ComputerIP": "", "Category": "Azure Monitor Agent",
                    "OSType": os_type, "OSName": "Windows Server 2022 Datacenter" if os_type == "Windows" else "Ubuntu",
                    "OSMajorVersion": "10" if os_type == "Windows" else "24", "Version": "1.33.1",
                    "ComputerEnvironment": "Azure", "ResourceGroup": info.resource_group,
                    "SubscriptionId": info.subscription_id, "ResourceProvider": "Microsoft.Compute",
                    "Resource": vm.lower(), "ResourceType": "virtualMachines", "ResourceId": vm_id,
                    "Type": "Heartbeat", "_ResourceId": vm_id.lower(),
                })
            moment += dt.timedelta(minutes=1)
    return rows


def _syslog(info: ScenarioInfo, vm: str, tenant_id: str, when: dt.datetime, facility: str, severity: str,
            process: str, message: str) -> dict[str, Any]:
    vm_id = info.vm_id(vm)
    return {"TenantId": tenant_id, "SourceSystem": "Linux", "TimeGenerated": when, "Computer": vm, "HostName": vm,
            "HostIP": "", "Facility": facility, "SeverityLevel": severity, "ProcessName": process, "ProcessID": None,
            "SyslogMessage": message, "EventTime": when, "CollectorHostName": vm, "Type": "Syslog",
            "_ResourceId": vm_id.lower()}


def syslog_rows(info: ScenarioInfo, vm: str, log: bytes, tenant_id: str) -> list[dict[str, Any]]:
    """The ``Syslog`` rows one Linux VM's serial log gives (see the module docstring)."""
    lines = [_ANSI.sub(b"", line).rstrip(b"\r") for line in log.split(b"\n")]
    boots: list[list[bytes]] = [[]]
    for line in lines:
        if b"Linux version " in line and _KERNEL.match(line) and boots[-1]:
            boots.append([])
        boots[-1].append(line)
    rows: list[dict[str, Any]] = []
    for boot in boots:
        dated = [match for line in boot if (match := _DATED.match(line))]
        anchor = None
        for line in boot:
            clock, kernel = _CLOCK.search(line), _KERNEL.match(line)
            if clock and kernel:
                anchor = (dt.datetime.fromisoformat(clock.group(1).decode()).replace(tzinfo=dt.UTC),
                          float(kernel.group(1)))
                break
        if dated and anchor is not None:  # the boot reached the agent: its kernel lines were forwarded
            for line in boot:
                if b"systemd-shutdown" in line:  # shutting down: the agent is gone, nothing more is sent
                    break
                kernel = _KERNEL.match(line)
                if kernel and kernel.group(2).strip():
                    when = anchor[0] + dt.timedelta(seconds=float(kernel.group(1)) - anchor[1])
                    text = kernel.group(2).decode("utf-8", "replace").strip()
                    rows.append(_syslog(info, vm, tenant_id, when, "kern", "info", "kernel", text))
        for match in dated:
            stamp = parse_time(match.group(1).decode())
            if stamp is not None:
                rows.append(_syslog(info, vm, tenant_id, stamp, "daemon", _SEVERITY[match.group(2)], "waagent",
                                    match.group(3).decode("utf-8", "replace").strip()))
    return rows


def _event(info: ScenarioInfo, vm: str, tenant_id: str, when: dt.datetime, source: str, event_id: int, level: str,
           text: str) -> dict[str, Any]:
    return {"TenantId": tenant_id, "SourceSystem": "OpsManager", "TimeGenerated": when, "Computer": vm,
            "EventLog": "System", "Source": source, "EventID": event_id, "EventLevel": {"Error": 1, "Warning": 2}
            .get(level, 4), "EventLevelName": level, "EventCategory": 0, "UserName": "NT AUTHORITY\\SYSTEM",
            "RenderedDescription": text, "Type": "Event", "_ResourceId": info.vm_id(vm).lower()}


def event_rows(state: LabState, info: ScenarioInfo, vm: str, tenant_id: str) -> list[dict[str, Any]]:
    """The ``Event`` rows (System log) of one Windows VM: restarts, and the broken service of the facts."""
    rows: list[dict[str, Any]] = []
    operations = _operations(state, info, vm)
    for start, end, operation in operations:
        rows.append(_event(info, vm, tenant_id, start + dt.timedelta(seconds=2), "User32", 1074, "Information",
                           f"The process C:\\Windows\\system32\\svchost.exe has initiated the "
                           f"{'restart' if 'restart' in operation else 'power off'} of computer {vm.upper()} "
                           "on behalf of user NT AUTHORITY\\SYSTEM for the following reason: "
                           "Operating System: Service pack (Planned)"))
        rows.append(_event(info, vm, tenant_id, start + dt.timedelta(seconds=9), "EventLog", 6006, "Information",
                           "The Event log service was stopped."))
        if end is not None and "restart" in operation:
            rows.append(_event(info, vm, tenant_id, end + dt.timedelta(seconds=35), "EventLog", 6005, "Information",
                               "The Event log service was started."))
    facts = _facts(info)
    changed = parse_time(facts.get("gpo_linked_at")) if isinstance(facts.get("gpo_linked_at"), str) else None
    service, shown = facts.get("service"), facts.get("display_name")
    if vm == info.broken_vm and changed is not None and service and shown:
        applied = changed + dt.timedelta(minutes=97)  # the next background Group Policy refresh
        rows.append(_event(info, vm, tenant_id, applied, "Service Control Manager", 7040, "Information",
                           f"The start type of the {shown} service was changed from auto start to disabled."))
        for start, end, operation in operations:
            if end is not None and start > applied and "restart" in operation:
                rows.append(_event(info, vm, tenant_id, end + dt.timedelta(seconds=48), "Service Control Manager",
                                   7036, "Information", f"The {shown} service entered the stopped state."))
    return sorted(rows, key=lambda row: row["TimeGenerated"])


def scenario_tables(state: LabState, info: ScenarioInfo, cache: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every table of the scenario's workspace (AzureActivity recomputed each time; the rest cached in ``cache``)."""
    tenant = info.tenant_id
    records: Iterable[Mapping[str, Any]] = [*old_records(state, info), *state.activity.get(
        info.subscription_id.lower(), [])]
    tables: dict[str, list[dict[str, Any]]] = {
        "AzureActivity": [row for record in records if (row := activity_row(record, tenant)) is not None]}
    version = f"{info.name}:{len(state.activity.get(info.subscription_id.lower(), []))}"  # the log only grows
    if f"heartbeat:{version}" not in cache:
        cache[f"heartbeat:{version}"] = heartbeat_rows(state, info, tenant)
    tables["Heartbeat"] = cache[f"heartbeat:{version}"]
    syslog: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for vm in info.vms:
        vm_id = info.vm_id(vm)
        if _vm_os(state, vm_id).lower() == "windows":
            if f"event:{vm_id}:{version}" not in cache:
                cache[f"event:{vm_id}:{version}"] = event_rows(state, info, vm, tenant)
            events.extend(cache[f"event:{vm_id}:{version}"])
            continue
        path = state.serial_logs.get(vm_id.lower())
        if path is None:
            continue
        try:
            stat = Path(path).stat()
            key = f"syslog:{vm_id.lower()}:{path}:{stat.st_mtime_ns}:{stat.st_size}"
        except OSError:
            continue
        if key not in cache:
            cache[key] = syslog_rows(info, vm, Path(path).read_bytes(), tenant)
        syslog.extend(cache[key])
    if syslog:
        tables["Syslog"] = syslog
    if events:
        tables["Event"] = events
    return tables
