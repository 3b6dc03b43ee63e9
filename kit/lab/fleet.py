"""A seeded fleet of VMs for the lab: thousands of machines across subscriptions, some not console-ready.

The contract (C3) the fleet client of the kit is built to::

    from kit.lab import running_lab
    from kit.lab.fleet import FleetSpec, REASONS
    with running_lab(fleet=FleetSpec(vms=10000, seed=7, subscriptions=50)) as lab:   # or lab.add_fleet(spec)
        lab.fleet.subscriptions      # ("0d7c…", …) lower-case subscription GUIDs, sorted
        lab.fleet.planted            # {lower-cased VM or instance id: ("not_running", …)}; () = ready
        lab.fleet.console_disabled   # frozenset of the subscriptions whose serial console is disabled
        lab.set_resource_graph_quota(15, 5.0)   # requests per caller per window (seconds)

``FleetSpec(vms, seed, subscriptions, scale_set_share=0.1)``: ``vms`` machines in all, of which
about ``scale_set_share`` are instances of uniform scale sets of 4-24 (the rest standalone VMs, at
least one per subscription), spread over ``subscriptions`` subscriptions (GUIDs derived from the
seed; tenant = the lab principal's). The same spec always gives the same fleet.
``generate_fleet(spec, tenant_id)`` builds one without a lab (10,000 machines in about a second);
``Fleet.tables`` holds its Resource Graph rows, ``Fleet.statuses`` its statusOnly items per
subscription. ``kit lab serve --fleet N --seed S [--fleet-subscriptions M]`` serves one.

Where the data is served (what the kit queries)
-----------------------------------------------
* Azure Resource Graph ``POST /providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01``
  (``kit.lab.arm_resourcegraph``; KQL evaluated by ``kit.lab.kql``), tables (names case-insensitive):

  ``resources``
      * VMs, ``type`` ``microsoft.compute/virtualmachines``;
      * VM extensions, ``microsoft.compute/virtualmachines/extensions``, id ``<vm id>/extensions/<name>``
        (every VM has ``AzureMonitorLinuxAgent`` / ``AzureMonitorWindowsAgent``; ADE VMs also
        ``AzureDiskEncryptionForLinux`` / ``AzureDiskEncryption``);
      * storage accounts, ``microsoft.storage/storageaccounts`` (the custom boot-diagnostics accounts);
      * scale sets, ``microsoft.compute/virtualmachinescalesets`` (uniform orchestration);
      * and the lab's scenario resources too (their VMs, NICs, disks …, with ``planted`` not covering them).
  ``computeresources``
      uniform scale-set instances, ``microsoft.compute/virtualmachinescalesets/virtualmachines``, id
      ``<scale set id>/virtualMachines/<instanceId>``.
  ``resourcecontainers``
      the fleet's subscriptions (``microsoft.resources/subscriptions``) and resource groups
      (``microsoft.resources/subscriptions/resourcegroups``).

  Paging: ``options.$top`` (1-1000, default 1000) and ``$skipToken`` (given when the result has an
  ``id`` column); at most 1000 subscriptions per request (400 ``TooManySubscriptions``); a quota of
  15 requests per 5 s per caller by default, ``x-ms-user-quota-remaining`` /
  ``x-ms-user-quota-resets-after`` on every answer, 429 ``RateLimiting`` + ``Retry-After`` when spent.

  Every row has Resource Graph's keys: ``id`` (ARM casing: ``/subscriptions/…/resourceGroups/RG/providers/
  Microsoft.Compute/virtualMachines/NAME``), ``name``, ``type`` (lower case), ``tenantId``, ``kind``,
  ``location``, ``resourceGroup`` (as created), ``subscriptionId``, ``managedBy``, ``sku``, ``plan``,
  ``properties``, ``tags``, ``identity``, ``zones``, ``extendedLocation``.
* VM agent state (not in Resource Graph): ``GET /subscriptions/{sub}/providers/Microsoft.Compute/
  virtualMachines?statusOnly=true`` (``virtual_machines.list_all(status_only="true")``), paged with
  ``nextLink``; each item is the VM with ``properties.instanceView`` (``vmAgent.vmAgentVersion``,
  ``vmAgent.statuses``, ``statuses`` with ``ProvisioningState/…`` and ``PowerState/…``).
  Standalone VMs only: scale-set instances are not listed there, as in Azure.
* Serial console: ``GET /subscriptions/{sub}/providers/Microsoft.SerialConsole/consoleServices/default``
  answers ``{"properties": {"disabled": true|false}}`` for fleet subscriptions.

The reasons (C2) and exactly where each is planted
--------------------------------------------------
``planted[id]`` lists the reasons in the order of :data:`REASONS`; most machines have none, each
reason is on a few percent, some machines have several.

``not_running``
    ``properties.extended.instanceView.powerState.code`` is ``PowerState/deallocated`` or
    ``PowerState/stopped`` (VM rows and instance rows; the statusOnly list agrees: its second status).
    A running machine has ``PowerState/running``.
``boot_diagnostics_off``
    ``properties.diagnosticsProfile.bootDiagnostics.enabled`` is false (on VM rows; for instances, on
    the instance row, copied from its scale set's ``virtualMachineProfile``). Enabled without
    ``storageUri`` is managed boot diagnostics (fine); enabled with ``storageUri``
    ``https://<account>.blob.core.windows.net/`` is a custom account in the same subscription.
``storage_firewall`` / ``storage_private_endpoint`` / ``storage_shared_key_disabled``
    The custom account (the ``resources`` row of type ``microsoft.storage/storageaccounts`` whose
    ``properties.primaryEndpoints.blob`` equals the ``storageUri``; match the name, case-insensitively)
    has ``properties.networkAcls.defaultAction == "Deny"`` / ``properties.publicNetworkAccess ==
    "Disabled"`` (with a non-empty ``privateEndpointConnections``) / ``properties.allowSharedKeyAccess
    == false``. One account serves several machines; healthy accounts have ``Allow``, ``Enabled``,
    ``true``. Never planted together with ``boot_diagnostics_off``.
``serial_console_disabled``
    Every machine of a subscription in ``console_disabled`` (about one subscription in ten, at least
    one when there are two or more subscriptions; none with a single subscription). The other
    reasons are each on a few percent of the machines, and each is planted at least once (on a
    standalone VM) in any fleet of 25 machines or more.
``agent_not_ready``
    Standalone, running VMs only: the statusOnly item's ``vmAgent.statuses[0]`` is
    ``ProvisioningState/Unavailable`` ("Not Ready"), or ``vmAgent`` is missing. A VM that is not
    running has no ``vmAgent`` (as in Azure) and gets ``not_running``, not ``agent_not_ready``.
``extensions_disallowed``
    Standalone VMs whose ``properties.osProfile.allowExtensionOperations`` is false (about 2%: those
    whose ``vmId`` begins with 00–04 hex); every other machine has it true.
``no_local_password``
    Linux with ``properties.osProfile.linuxConfiguration.disablePasswordAuthentication`` true (other
    Linux machines have it false; Windows has ``windowsConfiguration``).
``encrypted_disk_ade``
    VMs: an extension row whose ``properties.type`` is ``AzureDiskEncryption`` (Windows) or
    ``AzureDiskEncryptionForLinux`` (publisher ``Microsoft.Azure.Security``). Instances: their scale
    set's row has that extension in ``properties.virtualMachineProfile.extensionProfile.extensions``.
``confidential_vm``
    ``properties.securityProfile.securityType == "ConfidentialVM"``. Trusted Launch machines have
    ``"TrustedLaunch"`` (a property, not a problem); others have no ``securityType``.
``ephemeral_os_disk``
    ``properties.storageProfile.osDisk.diffDiskSettings.option == "Local"`` (with ``placement``
    ``ResourceDisk`` and ``caching`` ``ReadOnly``): every instance of every fourth scale set that is
    not confidential (scale sets are where ephemeral OS disks live), and the standalone VM planted
    when the draw has none. Other machines have no ``diffDiskSettings``.
"""

from __future__ import annotations

import dataclasses
import gc
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from kit.errors import LabError
from kit.lab._fleet_rows import (
    Machine,
    extension_row,
    group_row,
    instance_row,
    scale_set_row,
    status_item,
    storage_row,
    subscription_row,
    vm_row,
)
from kit.lab._state import LabState

__all__ = ["REASONS", "Fleet", "FleetSpec", "attach_fleet", "fleet_of", "generate_fleet"]

#: The C2 readiness reasons, in the order ``Fleet.planted`` lists them.
REASONS: tuple[str, ...] = (
    "not_running",
    "boot_diagnostics_off",
    "storage_firewall",
    "storage_private_endpoint",
    "storage_shared_key_disabled",
    "serial_console_disabled",
    "agent_not_ready",
    "extensions_disallowed",
    "no_local_password",
    "encrypted_disk_ade",
    "confidential_vm",
    "ephemeral_os_disk",
)
_KEY = "kit.lab.fleet"
_MAX_VMS = 200_000
_MAX_SUBSCRIPTIONS = 5_000
_LOCATIONS = ("eastus", "eastus2", "westus2", "westeurope", "northeurope", "uksouth", "southeastasia",
              "australiaeast", "centralus", "swedencentral")
_APPS = ("web", "api", "sql", "batch", "cache", "ad", "files", "etl", "kafka", "jump", "ml", "erp")
_ENVS = ("prod", "test", "dev", "qa")
_TEAMS = ("payments", "search", "identity", "platform", "data", "retail", "hr", "finance")
_STORAGE_PROBLEMS = (("storage_firewall",), ("storage_private_endpoint",), ("storage_shared_key_disabled",),
                     ("storage_firewall", "storage_shared_key_disabled"))


@dataclass(frozen=True)
class FleetSpec:
    """What fleet to generate.

    Parameters
    ----------
    vms
        Machines in all (standalone VMs and scale-set instances).
    seed
        The same seed gives the same fleet.
    subscriptions
        How many subscriptions they are spread over.
    scale_set_share
        About this share of ``vms`` are instances of uniform scale sets.
    """

    vms: int = 1000
    seed: int = 7
    subscriptions: int = 10
    scale_set_share: float = 0.1


@dataclass(frozen=True)
class Fleet:
    """A generated fleet: its tables in Resource Graph's shape and the ground truth planted in it.

    Attributes
    ----------
    spec
        What it was generated from.
    tenant_id
        The tenant every row names.
    subscriptions
        The fleet's subscription ids (lower case, sorted).
    console_disabled
        The subscriptions whose serial console is disabled.
    planted
        Lower-cased VM or instance id → the reasons planted on it (in :data:`REASONS` order; ``()`` = ready).
    tables
        ``resources``, ``computeresources``, ``resourcecontainers``: the rows Resource Graph serves.
    statuses
        Lower-cased subscription id → the statusOnly list items of its standalone VMs.
    """

    spec: FleetSpec
    tenant_id: str
    subscriptions: tuple[str, ...]
    console_disabled: frozenset[str]
    planted: Mapping[str, tuple[str, ...]]
    tables: Mapping[str, tuple[dict[str, Any], ...]]
    statuses: Mapping[str, tuple[dict[str, Any], ...]] = field(repr=False)

    def serves(self, subscription_id: str) -> bool:
        """Whether ``subscription_id`` is one of the fleet's."""
        return subscription_id.lower() in self.statuses

    def __repr__(self) -> str:
        ready = sum(1 for reasons in self.planted.values() if not reasons)
        return (f"<Fleet seed={self.spec.seed} machines={len(self.planted)} ready={ready} "
                f"subscriptions={len(self.subscriptions)}>")


def generate_fleet(spec: FleetSpec, tenant_id: str = "0f3c6a27-8d1e-4b59-a2c4-7e9b1d5f3a60") -> Fleet:
    """The fleet ``spec`` describes (the same spec, the same fleet); :class:`LabError` for a bad spec."""
    _check(spec)
    collecting = gc.isenabled()
    gc.disable()  # tens of thousands of small dicts: the cyclic collector would take half the time
    try:
        return _generate(spec, tenant_id)
    finally:
        if collecting:
            gc.enable()


def _generate(spec: FleetSpec, tenant_id: str) -> Fleet:
    rng = random.Random(spec.seed)
    subscriptions = sorted(str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(spec.subscriptions))
    disabled: set[str] = set()
    if len(subscriptions) >= 2:
        count = max(1, round(len(subscriptions) / 10))
        disabled = set(rng.sample(subscriptions, count))
    plans = _Planner(spec, rng, subscriptions, disabled, tenant_id)
    machines = plans.machines()
    _ensure_every_reason(machines, plans)
    return plans.build(machines)


def fleet_of(state: LabState) -> Fleet | None:
    """The fleet ``state`` serves, if any."""
    fleet = state.extras.get(_KEY)
    return fleet if isinstance(fleet, Fleet) else None


def attach_fleet(state: LabState, fleet: Fleet | None) -> None:
    """Serve ``fleet`` from ``state`` from now on (``None``: no fleet); one reference swap, safe from any thread."""
    if fleet is not None:
        clash = [sub for sub in fleet.subscriptions if state.scenario_for(sub) is not None]
        if clash:
            raise LabError(f"the fleet's subscription {clash[0]} is already a scenario's; choose another seed")
    state.extras[_KEY] = fleet


def _check(spec: FleetSpec) -> None:
    if not isinstance(spec, FleetSpec):
        raise LabError(f"a fleet needs a FleetSpec, got {type(spec).__name__}")
    if not isinstance(spec.vms, int) or not 1 <= spec.vms <= _MAX_VMS:
        raise LabError(f"FleetSpec.vms must be 1-{_MAX_VMS}, got {spec.vms!r}")
    if not isinstance(spec.subscriptions, int) or not 1 <= spec.subscriptions <= min(spec.vms, _MAX_SUBSCRIPTIONS):
        raise LabError(f"FleetSpec.subscriptions must be 1-{min(spec.vms, _MAX_SUBSCRIPTIONS)} (at most one per "
                       f"machine), got {spec.subscriptions!r}")
    if not isinstance(spec.seed, int):
        raise LabError(f"FleetSpec.seed must be an integer, got {spec.seed!r}")
    if not isinstance(spec.scale_set_share, (int, float)) or not 0 <= spec.scale_set_share <= 1:
        raise LabError(f"FleetSpec.scale_set_share must be between 0 and 1, got {spec.scale_set_share!r}")


@dataclass
class _Account:
    subscription: str
    group: str
    name: str
    location: str
    problems: tuple[str, ...]


class _Planner:
    """Draws every machine's facts from the seeded generator, then turns them into rows."""

    def __init__(self, spec: FleetSpec, rng: random.Random, subscriptions: list[str], disabled: set[str],
                 tenant_id: str) -> None:
        self.spec, self.rng, self.subscriptions, self.disabled = spec, rng, subscriptions, disabled
        self.tenant_id = tenant_id
        self.groups: dict[str, list[tuple[str, str]]] = {}
        self.accounts: dict[str, list[_Account]] = {}
        for index, sub in enumerate(subscriptions):
            home = rng.choice(_LOCATIONS)
            groups = []
            for app in rng.sample(_APPS, rng.randint(2, 5)):
                env = rng.choice(_ENVS)
                location = home if rng.random() < 0.7 else rng.choice(_LOCATIONS)
                groups.append((f"rg-{app}-{env}-{index:03d}", location))
            self.groups[sub] = groups
            accounts = []
            for number in range(3):
                group, location = groups[number % len(groups)]
                accounts.append(_Account(sub, group, f"stdiag{index:04d}{number}{rng.getrandbits(24):06x}", location,
                                         ()))
            for number, problems in enumerate(_STORAGE_PROBLEMS):
                group, location = rng.choice(groups)
                accounts.append(_Account(sub, group, f"stdiag{index:04d}{number + 3}{rng.getrandbits(24):06x}",
                                         location, problems))
            self.accounts[sub] = accounts

    # -- drawing -------------------------------------------------------------------------------
    def machines(self) -> list[Machine]:
        spec, rng = self.spec, self.rng
        instances = round(spec.vms * spec.scale_set_share) if spec.vms >= 20 else 0
        standalone = spec.vms - instances
        found: list[Machine] = []
        # Every subscription gets at least one standalone VM, the rest go where the generator says.
        homes = list(self.subscriptions) + [rng.choice(self.subscriptions) for _ in range(standalone -
                                                                                       len(self.subscriptions))]
        homes.sort()
        counters: dict[str, int] = {}
        for sub in homes[:standalone]:
            counters[sub] = counters.get(sub, 0) + 1
            machine = self.draw(sub, f"vm-{counters[sub]:05d}")
            if int(machine.vm_uuid[:2], 16) < 5:  # about 2%, from what was drawn: the seed's stream stays
                machine = dataclasses.replace(machine, no_extensions=True)
            found.append(machine)
        left = instances
        set_number = 0
        while left > 0:
            size = min(left, rng.randint(4, 24))
            sub = rng.choice(self.subscriptions)
            set_number += 1
            model = self.draw(sub, f"vmss-{set_number:04d}")
            if set_number % 4 == 0 and model.security != "ConfidentialVM":  # no draw: the seed's stream stays
                model = dataclasses.replace(model, ephemeral=True)
            for instance in range(size):
                found.append(self.draw_instance(model, instance))
            left -= size
        return found

    def draw(self, sub: str, stem: str) -> Machine:
        rng = self.rng
        group, location = rng.choice(self.groups[sub])
        app = group.split("-")[1]
        linux = rng.random() < 0.62
        security = "ConfidentialVM" if rng.random() < 0.02 else ("TrustedLaunch" if rng.random() < 0.45 else "")
        power = "running"
        roll = rng.random()
        if roll < 0.03:
            power = "deallocated"
        elif roll < 0.045:
            power = "stopped"
        boot = rng.random()
        account: _Account | None = None
        if boot < 0.03:
            boot_mode = "off"
        elif boot < 0.78:
            boot_mode = "managed"
        else:
            boot_mode = "custom"
            pool = self.accounts[sub]
            account = rng.choice(pool[3:]) if len(pool) > 3 and rng.random() < 0.4 else rng.choice(pool[:3])
        agent = "Ready"
        if power == "running":
            roll = rng.random()
            agent = "NotReady" if roll < 0.02 else ("Missing" if roll < 0.03 else "Ready")
        return Machine(
            subscription=sub, group=group, name=f"{app}-{stem}", location=location, linux=linux,
            size=_size(rng, security), security=security, power=power, boot=boot_mode,
            account=account.name if account else "", account_problems=account.problems if account else (),
            agent=agent, no_password=linux and rng.random() < 0.05, ade=rng.random() < 0.03,
            console_disabled=sub in self.disabled, zone=rng.choice(("1", "2", "3", "")),
            tags={"env": group.split("-")[2], "team": rng.choice(_TEAMS), "app": app},
            vm_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)), instance=None,
            agent_version=rng.choice(("2.10.0.8", "2.11.1.4", "2.12.0.2", "2.7.41491.1102")),
        )

    def draw_instance(self, model: Machine, instance: int) -> Machine:
        rng = self.rng
        roll = rng.random()
        power = "deallocated" if roll < 0.03 else ("stopped" if roll < 0.04 else "running")
        return dataclasses.replace(model, power=power, instance=str(instance), agent="Ready",
                                   vm_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)))

    # -- rows ----------------------------------------------------------------------------------
    def build(self, machines: list[Machine]) -> Fleet:
        tenant = self.tenant_id
        resources: list[dict[str, Any]] = []
        compute: list[dict[str, Any]] = []
        containers: list[dict[str, Any]] = []
        statuses: dict[str, list[dict[str, Any]]] = {sub: [] for sub in self.subscriptions}
        planted: dict[str, tuple[str, ...]] = {}
        for index, sub in enumerate(self.subscriptions):
            containers.append(subscription_row(sub, f"fleet-{index:03d}", tenant))
            for group, location in self.groups[sub]:
                containers.append(group_row(sub, group, location, tenant))
            for account in self.accounts[sub]:
                resources.append(storage_row(account.subscription, account.group, account.name, account.location,
                                             account.problems, tenant, self.rng))
        scale_sets_done: set[str] = set()
        sizes: dict[str, int] = {}
        for machine in machines:
            if machine.instance is not None:
                key = f"{machine.subscription}/{machine.group}/{machine.name}"
                sizes[key] = sizes.get(key, 0) + 1
        for machine in machines:
            if machine.instance is None:
                row = vm_row(machine, tenant)
                resources.append(row)
                resources.append(extension_row(machine, row["id"], "monitor", tenant))
                if machine.ade:
                    resources.append(extension_row(machine, row["id"], "ade", tenant))
                statuses[machine.subscription].append(status_item(machine, row["id"]))
            else:
                row = instance_row(machine, tenant)
                compute.append(row)
                set_key = f"{machine.subscription}/{machine.group}/{machine.name}"
                if set_key not in scale_sets_done:
                    scale_sets_done.add(set_key)
                    resources.append(scale_set_row(machine, tenant, sizes[set_key]))
            planted[row["id"].lower()] = machine.reasons()
        return Fleet(
            spec=self.spec, tenant_id=tenant, subscriptions=tuple(self.subscriptions),
            console_disabled=frozenset(self.disabled), planted=MappingProxyType(planted),
            tables=MappingProxyType({"resources": tuple(resources), "computeresources": tuple(compute),
                                     "resourcecontainers": tuple(containers)}),
            statuses=MappingProxyType({sub: tuple(items) for sub, items in statuses.items()}),
        )


def _size(rng: random.Random, security: str) -> str:
    if security == "ConfidentialVM":
        return rng.choice(("Standard_DC2as_v5", "Standard_DC4as_v5", "Standard_EC4as_v5"))
    return rng.choice(("Standard_B2s", "Standard_D2s_v5", "Standard_D4s_v5", "Standard_E4s_v5", "Standard_F4s_v2",
                       "Standard_D8ds_v5", "Standard_B4ms"))


def _ensure_every_reason(machines: list[Machine], plans: _Planner) -> None:
    """Plant each reason the draw missed on one ready standalone VM (small fleets would miss some)."""
    present: set[str] = set()
    candidates = []
    for index, machine in enumerate(machines):
        reasons = machine.reasons()
        present.update(reasons)
        if machine.instance is None and not reasons:
            candidates.append(index)
    fixes: dict[str, dict[str, Any]] = {
        "not_running": {"power": "deallocated", "agent": "Ready"},
        "boot_diagnostics_off": {"boot": "off", "account": "", "account_problems": ()},
        "agent_not_ready": {"agent": "NotReady"},
        "extensions_disallowed": {"no_extensions": True},
        "no_local_password": {"linux": True, "no_password": True},
        "encrypted_disk_ade": {"ade": True},
        "confidential_vm": {"security": "ConfidentialVM", "size": "Standard_DC2as_v5"},
        "ephemeral_os_disk": {"ephemeral": True},
    }
    for reason in REASONS:
        if reason in present or reason == "serial_console_disabled":
            continue
        for index in candidates:
            fix = fixes.get(reason) or _storage_fix(reason, plans.accounts[machines[index].subscription])
            if fix is not None:
                machines[index] = dataclasses.replace(machines[index], **fix)
                candidates.remove(index)
                present.update(machines[index].reasons())
                break


def _storage_fix(reason: str, accounts: list[_Account]) -> dict[str, Any] | None:
    account = next((account for account in accounts if account.problems == (reason,)), None)
    if account is None:
        return None
    return {"boot": "custom", "account": account.name, "account_problems": account.problems}
