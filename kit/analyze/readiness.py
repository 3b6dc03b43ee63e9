"""Fleet readiness: would the serial console and the repair flow work on each VM when it breaks tonight?

Pure: Resource Graph rows (:mod:`kit.azure.fleet_queries`' columns), the VM agent states of the
statusOnly VM lists and the subscriptions' serial console status in, one verdict per VM and
scale-set instance out - ready, or not ready because of one or more reasons, each with what says
so and the command that fixes it - and summaries by subscription and by reason, worst first::

    report = assess(rows)                 # rows: FleetRows (kit.azure.fleet's collection, or FleetInput)
    report.machines[0].reasons            # ("not_running", "serial_console_disabled")
    report.by_subscription(), report.by_reason(), report.worst(20)

The reasons (their codes are shared with the lab's fleet, :data:`REASONS`): ``not_running``,
``boot_diagnostics_off``, the three storage reasons of :func:`kit.analyze.boot_storage.storage_problems`,
``serial_console_disabled``, ``agent_not_ready``, ``extensions_disallowed``, ``no_local_password``,
``encrypted_disk_ade``, ``confidential_vm``, ``ephemeral_os_disk``. Trusted Launch is reported as a
property, not a problem.
What could not be read (a subscription whose console status or agent list failed, a storage account
not visible) is a ``note`` on the machine, never a guessed reason. Rows of the wrong shape raise
:class:`~kit.errors.AnalysisError`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from kit.analyze.boot_storage import storage_problems
from kit.errors import AnalysisError
from kit.ids import VMSS_VM, ResourceId, try_parse

__all__ = ["COLUMNS", "REASONS", "FleetInput", "FleetReadiness", "FleetRows", "MachineReadiness", "Reason", "Finding",
           "assess"]


@dataclass(frozen=True)
class Reason:
    """A readiness reason: its code, a title, and why it matters at 3 a.m.

    Parameters
    ----------
    code
        The reason code (``not_running`` …).
    title
        A short title for tables.
    why
        What it stops the responder from doing.
    weight
        How much it blocks (3: no console at all, 2: the console or Run Command is hampered,
        1: the repair-VM flow is refused); worst offenders are ranked by the sum.
    """

    code: str
    title: str
    why: str
    weight: int


#: The reasons, in the order every table lists them.
REASONS: dict[str, Reason] = {r.code: r for r in (
    Reason("not_running", "not running", "a stopped or deallocated VM has no serial console and no Run Command", 3),
    Reason("boot_diagnostics_off", "boot diagnostics off",
           "no serial log, no screenshot, and the serial console refuses to connect", 3),
    Reason("storage_firewall", "storage firewall",
           "the boot-diagnostics account's firewall keeps the serial log and the console out", 3),
    Reason("storage_private_endpoint", "storage private endpoint only",
           "the boot-diagnostics account takes no public traffic: no serial log, no console", 3),
    Reason("storage_shared_key_disabled", "storage shared key disabled",
           "the boot-diagnostics account refuses the account-key SAS the console and serial log use", 3),
    Reason("serial_console_disabled", "serial console disabled",
           "the subscription's serial console is switched off for every VM in it", 3),
    Reason("agent_not_ready", "VM agent not Ready", "Run Command and extensions cannot run in the guest", 2),
    Reason("extensions_disallowed", "extension operations disallowed",
           "osProfile.allowExtensionOperations is false: Azure refuses Run Command and every extension", 2),
    Reason("no_local_password", "no local password",
           "Linux with password authentication disabled: nobody can log in on the console", 2),
    Reason("encrypted_disk_ade", "Azure Disk Encryption",
           "the repair VM needs the disk's key from Key Vault; the kit's repair refuses ADE disks", 1),
    Reason("confidential_vm", "confidential VM", "the repair-VM flow does not support confidential VMs", 1),
    Reason("ephemeral_os_disk", "ephemeral OS disk",
           "an OS disk on the host's cache or temp disk: no snapshot, deallocation or swap, so no repair VM", 1),
)}

_ADE_TYPES = {"azurediskencryption", "azurediskencryptionforlinux"}


class FleetRows(Protocol):
    """What :func:`assess` reads (:class:`kit.azure.fleet.FleetCollection` has it; so has :class:`FleetInput`)."""

    @property
    def vms(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def instances(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def scale_sets(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def ade_extensions(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def storage_accounts(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def agents(self) -> Mapping[str, Mapping[str, Any]]: ...

    @property
    def agent_subscriptions(self) -> Collection[str]: ...

    @property
    def consoles(self) -> Mapping[str, bool | None]: ...


@dataclass(frozen=True)
class FleetInput:
    """The rows of one collection, for :func:`assess` without the SDK (tests, saved collections).

    Parameters
    ----------
    vms, instances, scale_sets, ade_extensions, storage_accounts
        Rows of :data:`kit.azure.fleet_queries.VMS`, ``SCALE_SET_INSTANCES``, ``SCALE_SETS``,
        ``ADE_EXTENSIONS`` and ``STORAGE_ACCOUNTS``.
    agents
        Lower-cased VM id → its ``properties.instanceView`` from the statusOnly VM list.
    agent_subscriptions
        Lower-cased subscriptions whose statusOnly list was read whole (a VM of one missing from
        ``agents`` has no agent state).
    consoles
        Lower-cased subscription → serial console enabled (``None``: the status could not be read).
    """

    vms: Sequence[Mapping[str, Any]] = ()
    instances: Sequence[Mapping[str, Any]] = ()
    scale_sets: Sequence[Mapping[str, Any]] = ()
    ade_extensions: Sequence[Mapping[str, Any]] = ()
    storage_accounts: Sequence[Mapping[str, Any]] = ()
    agents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    agent_subscriptions: Collection[str] = ()
    consoles: Mapping[str, bool | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """One reason a machine is not ready: the code, what says so, and the fix."""

    reason: str
    detail: str
    fix: str


@dataclass(frozen=True)
class MachineReadiness:
    """The verdict for one VM or scale-set instance.

    Parameters
    ----------
    id
        The ARM id as Resource Graph gave it.
    name
        The VM name (for an instance: ``<scale set>_<instance id>``).
    kind
        ``vm`` or ``vmss_instance``.
    subscription_id, resource_group, location
        Where it lives.
    os_type
        ``Linux`` / ``Windows`` (``""`` unknown).
    power_state
        ``running``, ``deallocated``, ``stopped`` … (``unknown`` when neither source says).
    boot_diagnostics
        ``managed``, ``custom`` (a storage account of yours), ``off``.
    boot_storage_account
        The custom account's name (``""`` otherwise).
    agent_status
        The VM agent's display status (``Ready``, ``Not Ready``, ``missing``, ``not read``, ``n/a``).
    agent_version
        ``vmAgentVersion`` (``""`` unknown).
    security_type
        ``TrustedLaunch``, ``ConfidentialVM`` or ``""``.
    serial_console
        ``enabled``, ``disabled`` or ``unknown`` (the subscription's).
    findings
        Why it is not ready (empty: ready), in :data:`REASONS` order.
    notes
        What could not be read for it.
    """

    id: str
    name: str
    kind: str
    subscription_id: str
    resource_group: str
    location: str
    os_type: str
    power_state: str
    boot_diagnostics: str
    boot_storage_account: str
    agent_status: str
    agent_version: str
    security_type: str
    serial_console: str
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        """Whether nothing stands in the way."""
        return not self.findings

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reason codes, in :data:`REASONS` order."""
        return tuple(f.reason for f in self.findings)

    @property
    def trusted_launch(self) -> bool:
        """Whether it is a Trusted Launch VM (a property, not a problem)."""
        return self.security_type.lower() == "trustedlaunch"

    @property
    def weight(self) -> int:
        """The sum of its reasons' weights (how badly a responder would be stuck)."""
        return sum(REASONS[r].weight for r in self.reasons)

    def as_row(self) -> dict[str, Any]:
        """One flat table row (CSV, Parquet, the report): lists joined with ``;`` and `` | ``."""
        return {
            "id": self.id, "name": self.name, "kind": self.kind, "subscription_id": self.subscription_id,
            "resource_group": self.resource_group, "location": self.location, "os_type": self.os_type,
            "ready": self.ready, "reasons": ";".join(self.reasons), "reason_count": len(self.findings),
            "weight": self.weight, "power_state": self.power_state, "boot_diagnostics": self.boot_diagnostics,
            "boot_storage_account": self.boot_storage_account, "agent_status": self.agent_status,
            "agent_version": self.agent_version, "security_type": self.security_type,
            "trusted_launch": self.trusted_launch, "serial_console": self.serial_console,
            "details": " | ".join(f.detail for f in self.findings),
            "fixes": " | ".join(f.fix for f in self.findings), "notes": " | ".join(self.notes),
        }


#: The columns of :meth:`MachineReadiness.as_row`, in order.
COLUMNS = tuple(MachineReadiness("", "", "", "", "", "", "", "", "", "", "", "", "", "").as_row())


@dataclass(frozen=True)
class FleetReadiness:
    """Every machine's verdict, worst first, and the summaries the report shows."""

    machines: tuple[MachineReadiness, ...]

    @property
    def ready(self) -> int:
        """How many machines are ready."""
        return sum(m.ready for m in self.machines)

    def rows(self) -> list[dict[str, Any]]:
        """The per-machine table (:meth:`MachineReadiness.as_row`), worst first."""
        return [m.as_row() for m in self.machines]

    def worst(self, count: int = 20) -> list[MachineReadiness]:
        """The ``count`` machines a responder would be most stuck on."""
        return [m for m in self.machines if not m.ready][:count]

    def by_subscription(self) -> list[dict[str, Any]]:
        """Per subscription: machines, ready, not ready, the share ready and a count per reason; worst first."""
        groups: dict[str, list[MachineReadiness]] = {}
        for machine in self.machines:
            groups.setdefault(machine.subscription_id.lower(), []).append(machine)
        table = []
        for subscription, machines in groups.items():
            counts = Counter(r for m in machines for r in m.reasons)
            ready = sum(m.ready for m in machines)
            table.append({"subscription_id": subscription, "machines": len(machines), "ready": ready,
                          "not_ready": len(machines) - ready, "ready_share": round(ready / len(machines), 3),
                          **{code: counts.get(code, 0) for code in REASONS}})
        return sorted(table, key=lambda row: (-row["not_ready"], row["ready_share"], row["subscription_id"]))

    def by_reason(self) -> list[dict[str, Any]]:
        """Per reason: machines, subscriptions, what it stops and an example fix; most machines first."""
        table = []
        for code, reason in REASONS.items():
            hit = [m for m in self.machines if code in m.reasons]
            if not hit:
                continue
            fix = next(f.fix for f in hit[0].findings if f.reason == code)
            table.append({"reason": code, "title": reason.title, "machines": len(hit),
                          "subscriptions": len({m.subscription_id.lower() for m in hit}), "why": reason.why,
                          "example_fix": fix})
        return sorted(table, key=lambda row: (-row["machines"], list(REASONS).index(row["reason"])))


def assess(rows: FleetRows) -> FleetReadiness:
    """The readiness of every VM and scale-set instance in ``rows``, worst first.

    Raises
    ------
    AnalysisError
        A row that is not a JSON object, or a machine row without an ``id``.
    """
    accounts = _accounts(rows.storage_accounts)
    ade_vms = {_parent_of(_row(e, "ADE extension").get("id")) for e in rows.ade_extensions}
    scale_sets = {_key(_row(s, "scale set").get("id")): s for s in rows.scale_sets}
    agent_subs = {str(s).lower() for s in rows.agent_subscriptions}
    agents = {_key(k): v for k, v in rows.agents.items()}
    consoles = {str(k).lower(): v for k, v in rows.consoles.items()}
    machines = [_machine(row, "vm", accounts=accounts, ade=ade_vms, scale_sets=scale_sets, agents=agents,
                         agent_subs=agent_subs, consoles=consoles) for row in rows.vms]
    machines += [_machine(row, "vmss_instance", accounts=accounts, ade=ade_vms, scale_sets=scale_sets,
                          agents=agents, agent_subs=agent_subs, consoles=consoles) for row in rows.instances]
    machines.sort(key=lambda m: (-m.weight, -len(m.findings), m.subscription_id.lower(), m.id.lower()))
    return FleetReadiness(tuple(machines))


# ---------------------------------------------------------------------------------------------- rows


def _row(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AnalysisError(f"a Resource Graph {what} row is a JSON object, not {type(value).__name__}")
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _key(value: Any) -> str:
    """A comparison key for an id as Azure returns it (ARM compares ids case-insensitively)."""
    return _text(value).strip().rstrip("/").lower()


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _parent_of(extension_id: Any) -> str:
    parsed = try_parse(_text(extension_id))
    parent = parsed.parent if parsed is not None else None
    return str(parent).lower() if parent is not None else ""


def _accounts(rows: Iterable[Any]) -> dict[str, Mapping[str, Any]]:
    """Storage account rows by lower-cased account name (names are unique in Azure)."""
    found: dict[str, Mapping[str, Any]] = {}
    for value in rows:
        row = _row(value, "storage account")
        name = _text(row.get("name")).lower() or _host_account(_text(row.get("blobEndpoint")))
        if name:
            found[name] = row
    return found


def _host_account(uri: str) -> str:
    """The account name of ``https://<account>.blob.core.windows.net/`` (``""`` when not such a URL)."""
    try:
        host = urlsplit(uri.strip()).hostname or ""
    except ValueError:
        return ""
    account, dot, _ = host.partition(".")
    return account.lower() if dot else ""


def _account_body(row: Mapping[str, Any]) -> dict[str, Any]:
    """A storage row of :data:`~kit.azure.fleet_queries.STORAGE_ACCOUNTS` in the ARM shape C4 reads."""
    if isinstance(row.get("properties"), Mapping):
        return dict(row)
    properties: dict[str, Any] = {}
    for key in ("publicNetworkAccess", "allowSharedKeyAccess", "privateEndpointConnections"):
        if row.get(key) not in (None, ""):
            properties[key] = row[key]
    if row.get("defaultAction") not in (None, ""):
        properties["networkAcls"] = {"defaultAction": row["defaultAction"]}
    return {"id": row.get("id"), "name": row.get("name"), "resourceGroup": row.get("resourceGroup"),
            "properties": properties}


def _power(code: str) -> str:
    """``PowerState/deallocated`` → ``deallocated`` (``""`` when not a power state)."""
    kind, slash, state = code.partition("/")
    return state.lower() if slash and kind.lower() == "powerstate" else ""


def _view_power(view: Mapping[str, Any] | None) -> str:
    statuses = view.get("statuses") if isinstance(view, Mapping) else None
    for status in statuses if isinstance(statuses, list) else []:
        state = _power(_text(status.get("code"))) if isinstance(status, Mapping) else ""
        if state:
            return state
    return ""


def _agent(view: Mapping[str, Any] | None) -> tuple[str, str]:
    """``(display status, version)`` of an instance view's ``vmAgent`` (``("missing", "")`` without one)."""
    agent = view.get("vmAgent") if isinstance(view, Mapping) else None
    if not isinstance(agent, Mapping):
        return "missing", ""
    statuses = agent.get("statuses")
    version = _text(agent.get("vmAgentVersion"))
    shown = [s for s in statuses if isinstance(s, Mapping)] if isinstance(statuses, list) else []
    if any(_text(s.get("displayStatus")).lower() == "ready" for s in shown):
        return "Ready", version
    return (_text(shown[0].get("displayStatus")) or _text(shown[0].get("code")) or "unknown", version) if shown \
        else ("missing", version)


# ---------------------------------------------------------------------------------------------- fixes


def _where(rid: ResourceId | None, name: str, group: str, subscription: str) -> tuple[str, str]:
    """The az command noun and the options that name this machine."""
    if rid is not None and rid.is_kind(VMSS_VM):
        scale_set, instance = rid.names[0], rid.names[1]
        return "vmss", f"--name {scale_set} -g {rid.resource_group} --instance-ids {instance} --subscription " \
                       f"{rid.subscription_id}"
    return "vm", f"--name {name} -g {group} --subscription {subscription}"


def _fixes(rid: ResourceId | None, name: str, group: str, subscription: str, os_type: str) -> dict[str, str]:
    noun, where = _where(rid, name, group, subscription)
    if noun == "vmss" and rid is not None:
        scale_set = f"--name {rid.names[0]} -g {rid.resource_group} --subscription {rid.subscription_id}"
        boot = (f"az vmss update {scale_set} --set virtualMachineProfile.diagnosticsProfile.bootDiagnostics."
                f"enabled=true && az vmss update-instances {scale_set} --instance-ids {rid.names[1]}")
        password = f"az vmss extension set {scale_set} --publisher Microsoft.OSTCExtensions --name VMAccessForLinux " \
                   "--protected-settings '{\"username\": \"rescue\", \"password\": \"<from your vault>\"}'"
        repair = "re-image or replace the instance; az vm repair does not take scale-set instances"
        extensions = (f"az vmss update {scale_set} --set virtualMachineProfile.osProfile.allowExtensionOperations=true"
                      f", then az vmss update-instances {scale_set} --instance-ids {rid.names[1]}")
    else:
        boot = f"az vm boot-diagnostics enable {where}"
        password = f"az vm user update {where} --username rescue --password '<from your vault>'"
        repair = f"az vm repair create {where} --unlock-encrypted-vm (the kit's repair refuses ADE disks)"
        extensions = f"az vm update {where} --set osProfile.allowExtensionOperations=true (the VM agent must be " \
                     "installed)"
    agent = ("from the serial console: sudo systemctl restart walinuxagent (Ubuntu) or waagent (RHEL, SUSE)"
             if os_type.lower() != "windows" else
             "from the serial console (SAC, cmd): Restart-Service WindowsAzureGuestAgent, or "
             f"az vm reapply {where}")
    return {
        "not_running": f"az {noun} start {where}",
        "boot_diagnostics_off": boot,
        "serial_console_disabled": f"az serial-console enable --subscription {subscription}",
        "agent_not_ready": agent,
        "extensions_disallowed": extensions,
        "no_local_password": password,
        "encrypted_disk_ade": repair,
        "confidential_vm": "no repair VM for confidential VMs: keep the serial console ready (boot diagnostics, "
                           "a local password) and a tested backup (az backup protection enable-for-vm)",
        "ephemeral_os_disk": "no repair VM for an ephemeral OS disk: keep the serial console and Run Command ready; "
                             f"the last resort is az {noun} reimage {where}, which loses what the OS disk holds",
    }


# ---------------------------------------------------------------------------------------------- one machine


def _machine(value: Any, kind: str, *, accounts: Mapping[str, Mapping[str, Any]], ade: set[str],
             scale_sets: Mapping[str, Mapping[str, Any]], agents: Mapping[str, Mapping[str, Any]],
             agent_subs: set[str], consoles: Mapping[str, bool | None]) -> MachineReadiness:
    row = _row(value, "VM" if kind == "vm" else "scale-set instance")
    machine_id = _text(row.get("id"))
    if not machine_id:
        raise AnalysisError(f"a Resource Graph {kind.replace('_', ' ')} row has no id: {dict(row)!r:.200}")
    complete = all(_text(row.get(k)) for k in ("subscriptionId", "resourceGroup", "name"))
    rid = try_parse(machine_id) if kind != "vm" or not complete else None  # parsing 10,000 ids costs a second
    key = _key(machine_id)
    subscription = (_text(row.get("subscriptionId")) or (rid.subscription_id if rid else "")).lower()
    group = _text(row.get("resourceGroup")) or (rid.resource_group or "" if rid else "")
    name = _text(row.get("name")) or (rid.name if rid else machine_id)
    os_type = _text(row.get("osType"))
    scale_set = scale_sets.get(str(rid.parent).lower()) if rid is not None and rid.parent is not None else None
    security = _text(row.get("securityType")) or (_text(scale_set.get("securityType")) if scale_set else "")
    fixes = _fixes(rid, name, group, subscription, os_type)
    found: dict[str, Finding] = {}
    notes: list[str] = []

    view = agents.get(key)
    power = _power(_text(row.get("powerState"))) or _view_power(view) or "unknown"
    if power == "unknown":
        notes.append("power state not in Resource Graph nor the VM list")
    elif power != "running":
        found["not_running"] = Finding("not_running", f"power state is {power}", fixes["not_running"])

    storage_uri = _text(row.get("bootStorageUri"))
    account_name = ""
    if not _true(row.get("bootDiagnostics")):
        boot = "off"
        found["boot_diagnostics_off"] = Finding(
            "boot_diagnostics_off", "diagnosticsProfile.bootDiagnostics.enabled is not true",
            fixes["boot_diagnostics_off"])
    elif storage_uri:
        boot = "custom"
        account_name = _host_account(storage_uri)
        account = accounts.get(account_name)
        if account is None:
            notes.append(f"boot-diagnostics account {account_name or storage_uri!r} not visible in Resource Graph")
        else:
            for problem in storage_problems(_account_body(account), vm_id=machine_id if kind == "vm" else None):
                found[problem.reason] = Finding(problem.reason, problem.detail, problem.fix)
    else:
        boot = "managed"

    enabled = consoles.get(subscription)
    console = "enabled" if enabled else "unknown" if enabled is None else "disabled"
    if enabled is None:
        notes.append("the subscription's serial console status could not be read")
    elif not enabled:
        found["serial_console_disabled"] = Finding(
            "serial_console_disabled", f"consoleServices/default of subscription {subscription} is disabled",
            fixes["serial_console_disabled"])

    if kind != "vm":
        agent_status, agent_version = "n/a", ""  # scale-set instances are not in the statusOnly VM list
    elif subscription not in agent_subs:
        agent_status, agent_version = "not read", ""
        notes.append("the subscription's VM agent states could not be read")
    else:
        agent_status, agent_version = _agent(view)
        if power == "running" and agent_status != "Ready":
            found["agent_not_ready"] = Finding("agent_not_ready", f"VM agent status is {agent_status}",
                                               fixes["agent_not_ready"])

    if _text(row.get("allowExtensionOperations")).lower() == "false":
        found["extensions_disallowed"] = Finding(
            "extensions_disallowed", "osProfile.allowExtensionOperations is false", fixes["extensions_disallowed"])

    if os_type.lower() == "linux" and _true(row.get("disablePasswordAuthentication")):
        found["no_local_password"] = Finding(
            "no_local_password", "osProfile.linuxConfiguration.disablePasswordAuthentication is true",
            fixes["no_local_password"])

    if key in ade or (scale_set is not None and _has_ade(scale_set.get("extensions"))):
        found["encrypted_disk_ade"] = Finding("encrypted_disk_ade", "an Azure Disk Encryption extension is installed",
                                              fixes["encrypted_disk_ade"])
    if security.lower() == "confidentialvm":
        found["confidential_vm"] = Finding("confidential_vm", "securityProfile.securityType is ConfidentialVM",
                                           fixes["confidential_vm"])
    if _text(row.get("ephemeralOsDisk")).lower() == "local":
        found["ephemeral_os_disk"] = Finding(
            "ephemeral_os_disk", "storageProfile.osDisk.diffDiskSettings.option is Local", fixes["ephemeral_os_disk"])

    return MachineReadiness(
        id=machine_id, name=name, kind=kind, subscription_id=subscription, resource_group=group,
        location=_text(row.get("location")), os_type=os_type, power_state=power, boot_diagnostics=boot,
        boot_storage_account=account_name, agent_status=agent_status, agent_version=agent_version,
        security_type=security, serial_console=console,
        findings=tuple(found[code] for code in REASONS if code in found), notes=tuple(notes))


def _has_ade(extensions: Any) -> bool:
    """Whether a scale set's ``extensionProfile.extensions`` holds an Azure Disk Encryption extension."""
    for extension in extensions if isinstance(extensions, list) else []:
        properties = extension.get("properties") if isinstance(extension, Mapping) else None
        if isinstance(properties, Mapping) and _text(properties.get("type")).lower() in _ADE_TYPES:
            return True
    return False
