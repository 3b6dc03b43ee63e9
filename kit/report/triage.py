"""The triage report's sections as rows: plain data out of a loaded bundle, no analysis.

Each function takes a :class:`~kit.evidence.bundle.Bundle` (or :class:`Sources`) and returns
dicts the notebook shows with :mod:`kit.report.present`; the analysis proper (boot log,
timeline, network, verdict) lives in :mod:`kit.analyze`.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kit.evidence import Bundle

__all__ = [
    "CONSOLE_ROLES",
    "az_commands",
    "boot_diagnostics",
    "console_access",
    "evidence_files",
    "identity",
    "power_note",
    "power_state",
]

#: Built-in roles that carry ``Microsoft.SerialConsole/serialPorts/connect/action`` on a VM.
CONSOLE_ROLES = frozenset({"Owner", "Contributor", "Virtual Machine Contributor"})
_ROLE_IDS = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "9980e02c-c2be-4d73-94e8-173b1dc7cf3c": "Virtual Machine Contributor",
    "1c0163c0-47e6-4577-8991-ea5c82e286e4": "Virtual Machine Administrator Login",
    "fb879df8-f326-4884-b1cf-06f3ad86be52": "Virtual Machine User Login",
}


def _props(body: Any) -> dict[str, Any]:
    return dict((body or {}).get("properties") or {}) if isinstance(body, Mapping) else {}


def _status(view: Mapping[str, Any] | None, prefix: str) -> dict[str, Any]:
    for status in (view or {}).get("statuses") or []:
        if str(status.get("code", "")).startswith(prefix):
            return dict(status)
    return {}


def identity(bundle: Bundle, *, incident: str = "", responder_ip: str | None = None,
             source: str = "") -> dict[str, Any]:
    """Who and what the report is about: incident, subscription, group, VM, responder, collection."""
    manifest = bundle.manifest
    vm = bundle.vm or {}
    props = _props(vm)
    window = manifest.get("window") or {}
    collector = manifest.get("collector") or {}
    image = (props.get("storageProfile") or {}).get("imageReference") or {}
    instance = {"scale set": bundle.scale_set, "instance id": bundle.instance_id} if bundle.scale_set else {}
    return {
        "incident": incident,
        "subscription": manifest.get("subscription_id"),
        "resource group": manifest.get("resource_group"),
        "VM": manifest.get("vm_name"),
        **instance,
        "VM id": manifest.get("vm_id"),
        "location": vm.get("location"),
        "size": (props.get("hardwareProfile") or {}).get("vmSize") or (vm.get("sku") or {}).get("name"),
        "OS": ((props.get("storageProfile") or {}).get("osDisk") or {}).get("osType"),
        "image": " ".join(str(image.get(k)) for k in ("publisher", "offer", "sku", "version") if image.get(k)),
        "responder address": responder_ip or "not given",
        "evidence source": source or manifest.get("source"),
        "collected at": manifest.get("collected_at"),
        "collected by": collector.get("principal"),
        "window": f"{window.get('start', '?')} → {window.get('end', '?')}",
        "known-good VMs": ", ".join(manifest.get("peers") or []) or "none",
    }


def power_state(bundle: Bundle) -> dict[str, Any]:
    """Power and provisioning state, VM agent health, from the instance view."""
    view = bundle.instance_view or {}
    power = _status(view, "PowerState/")
    prov = _status(view, "ProvisioningState/")
    agent = view.get("vmAgent") or {}
    agent_status = (agent.get("statuses") or [{}])[0]
    return {
        "power state": power.get("displayStatus") or power.get("code") or "unknown (no instance view)",
        "provisioning state": prov.get("displayStatus") or _props(bundle.vm).get("provisioningState") or "unknown",
        "provisioning time": prov.get("time"),
        "VM agent": agent_status.get("displayStatus") or "no status reported",
        "VM agent version": agent.get("vmAgentVersion"),
        "VM agent message": agent_status.get("message"),
        "guest OS (reported)": " ".join(str(v) for v in (view.get("osName"), view.get("osVersion")) if v) or None,
        "computer name": view.get("computerName"),
    }


def power_note(power: Mapping[str, Any]) -> str | None:
    """A sentence when the power state alone explains (or clouds) the outage, else ``None``."""
    state = str(power.get("power state", "")).lower()
    if "running" in state:
        return None
    if "deallocat" in state or "stopped" in state:
        return (f"The VM is {state.replace('vm ', '')}: nothing inside it can answer SSH or RDP. "
                "Check the Activity Log below for who stopped it before starting it again.")
    return f"Power state is '{power.get('power state')}': confirm the VM is running before looking further."


def boot_diagnostics(bundle: Bundle) -> dict[str, Any]:
    """Whether boot diagnostics are on and what the bundle holds from them."""
    diag = ((_props(bundle.vm).get("diagnosticsProfile") or {}).get("bootDiagnostics")) or {}
    console = _props(bundle.serial_console_status)
    serial = bundle.serial_log
    return {
        "boot diagnostics": "enabled" if diag.get("enabled") else "disabled (no serial log or screenshot)",
        "storage": "managed storage account" if diag.get("enabled") and not diag.get("storageUri") else (
            "custom storage account" if diag.get("storageUri") else "—"),
        "serial log": f"{len(serial):,} bytes" if serial else "not collected",
        "screenshot": f"{len(bundle.screenshot):,} bytes" if bundle.screenshot else "not collected",
        "serial console (subscription)": (
            "unknown" if bundle.serial_console_status is None
            else "disabled" if console.get("disabled") else "enabled"),
    }


def console_access(bundle: Bundle) -> list[dict[str, Any]]:
    """Role assignments on the VM's scope (inherited included) and whether each opens the console."""
    rows = []
    vm_id = str(bundle.manifest.get("vm_id") or "").lower()
    for item in bundle.role_assignments:
        props = _props(item)
        role_id = str(props.get("roleDefinitionId") or "")
        role = props.get("roleDefinitionName") or _ROLE_IDS.get(role_id.rsplit("/", 1)[-1].lower()) or role_id
        scope = str(props.get("scope") or "")
        level = ("VM" if scope.lower() == vm_id else "subscription" if scope.count("/") <= 2
                 else "resource group" if "/providers/" not in scope.lower() else "resource")
        rows.append({
            "principal": props.get("principalName") or props.get("principalId"),
            "type": props.get("principalType"),
            "role": role,
            "scope": level,
            "may open serial console": "yes" if role in CONSOLE_ROLES else "no",
        })
    rows.sort(key=lambda r: (r["may open serial console"] != "yes", str(r["role"]), str(r["principal"])))
    return rows


def _q(value: Any) -> str:
    return shlex.quote(str(value))


def _instance_commands(bundle: Bundle) -> list[dict[str, str]]:
    """The ``az`` commands that reproduce a scale-set instance's evidence (``az vmss …``, ``az rest`` where no
    command exists); its NICs have no effective rules or routes to show (ARM offers none for them)."""
    m = bundle.manifest
    sub, rg, vmss, number = m.get("subscription_id"), m.get("resource_group"), bundle.scale_set, bundle.instance_id
    window = m.get("window") or {}
    g = f"--subscription {_q(sub)} --resource-group {_q(rg)}"
    one = f"{g} --name {_q(vmss)} --instance-id {_q(number)}"
    rows = [
        {"evidence": "vm.json", "command": f"az vmss show {one} -o json"},
        {"evidence": "instance_view.json", "command": f"az vmss get-instance-view {one} -o json"},
        {"evidence": "vmss.json", "command": f"az vmss show {g} --name {_q(vmss)} -o json"},
        {"evidence": "boot_diagnostics.json / serial.log",
         "command": f"az rest --method post --url {_q(str(m.get('vm_id')) + '/retrieveBootDiagnosticsData')} "
                    "--url-parameters api-version=2024-07-01"},
        {"evidence": "activity_log.json",
         "command": f"az monitor activity-log list {g} --start-time {_q(window.get('start', ''))} "
                    f"--end-time {_q(window.get('end', ''))} -o json"},
        {"evidence": "role_assignments.json",
         "command": f"az role assignment list --scope {_q(m.get('vm_id'))} --include-inherited -o json"},
    ]
    for nic in sorted(bundle.nics):
        rows.append({"evidence": f"nics/{nic}.json",
                     "command": f"az vmss nic show {g} --vmss-name {_q(vmss)} --instance-id {_q(number)} "
                                f"--name {_q(nic)} -o json"})
    for nsg in sorted(bundle.nsgs):
        rows.append({"evidence": f"nsgs/{nsg}.json",
                     "command": "az network nsg show --ids "
                                f"{_q(_id(bundle.nsgs[nsg], sub, rg, 'networkSecurityGroups', nsg))} -o json"})
    rows.append({"evidence": "serial_console_status.json / the console itself",
                 "command": f"az serial-console connect {g} --name {_q(vmss)} --instance-id {_q(number)}"})
    return rows


def az_commands(bundle: Bundle, *, responder_ip: str | None = None) -> list[dict[str, str]]:
    """The ``az`` commands that reproduce each piece of evidence in the bundle (shell-quoted)."""
    if bundle.scale_set:
        return _instance_commands(bundle)
    m = bundle.manifest
    sub, rg, vm = m.get("subscription_id"), m.get("resource_group"), m.get("vm_name")
    window = m.get("window") or {}
    g = f"--subscription {_q(sub)} --resource-group {_q(rg)}"
    rows = [
        {"evidence": "vm.json", "command": f"az vm show {g} --name {_q(vm)} -o json"},
        {"evidence": "instance_view.json", "command": f"az vm get-instance-view {g} --name {_q(vm)} -o json"},
        {"evidence": "serial.log", "command": f"az vm boot-diagnostics get-boot-log {g} --name {_q(vm)}"},
        {"evidence": "boot_diagnostics.json",
         "command": f"az vm boot-diagnostics get-boot-log-uris {g} --name {_q(vm)}"},
        {"evidence": "activity_log.json",
         "command": f"az monitor activity-log list {g} --start-time {_q(window.get('start', ''))} "
                    f"--end-time {_q(window.get('end', ''))} -o json"},
        {"evidence": "role_assignments.json",
         "command": f"az role assignment list --scope {_q(m.get('vm_id'))} --include-inherited -o json"},
    ]
    for nic in sorted(bundle.nics):
        rows += [
            {"evidence": f"nics/{nic}.json", "command": f"az network nic show {g} --name {_q(nic)} -o json"},
            {"evidence": f"effective_nsg/{nic}.json",
             "command": f"az network nic list-effective-nsg {g} --name {_q(nic)} -o json"},
            {"evidence": f"effective_routes/{nic}.json",
             "command": f"az network nic show-effective-route-table {g} --name {_q(nic)} -o json"},
        ]
    for nsg in sorted(bundle.nsgs):
        rows.append({"evidence": f"nsgs/{nsg}.json",
                     "command": "az network nsg show --ids "
                                f"{_q(_id(bundle.nsgs[nsg], sub, rg, 'networkSecurityGroups', nsg))} -o json"})
    for table in sorted(bundle.route_tables):
        rows.append({"evidence": f"route_tables/{table}.json",
                     "command": "az network route-table show --ids "
                                f"{_q(_id(bundle.route_tables[table], sub, rg, 'routeTables', table))} -o json"})
    if responder_ip:
        port = 3389 if identity(bundle).get("OS") == "Windows" else 22
        rows.append({"evidence": "the offline SSH/RDP verdict (online twin, needs Network Watcher)",
                     "command": f"az network watcher test-ip-flow {g} --vm {_q(vm)} --direction Inbound "
                                f"--protocol TCP --local <vm-private-ip>:{port} --remote {_q(responder_ip)}:60000"})
    rows.append({"evidence": "serial_console_status.json / the console itself",
                 "command": f"az serial-console connect {g} --name {_q(vm)}"})
    return rows


def _id(body: Mapping[str, Any], sub: Any, rg: Any, kind: str, name: str) -> str:
    return str(body.get("id") or f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/{kind}/{name}")


def evidence_files(bundle: Bundle) -> list[dict[str, Any]]:
    """The bundle manifest's files: path, bytes, sha256, the call that produced it."""
    return [
        {"file": f.get("path"), "bytes": f.get("bytes"), "sha256": f.get("sha256"),
         "call": f.get("call"), "api-version": f.get("api_version")}
        for f in bundle.manifest.get("files", [])
    ]
