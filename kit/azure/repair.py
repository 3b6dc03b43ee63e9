"""The repair VM, done by the kit: what ``az vm repair create / run / restore`` do, through the SDK.

Every step is recorded (name, start, end, result) and every ARM write logged (``write_log``)::

    state = read_boot_state(target, vm_id)
    script = fix_script("boot_failure:fstab", facts_from_boot_log(state.serial_log))   # kit.analyze.repair_scripts
    outcome = repair(target, vm_id, script=script, finding="boot_failure:fstab", approval="CHG-1",
                     prove=lambda: boot_proof(target, vm_id), write_log=log)

The steps: check the VM (a disk encrypted with Azure Disk Encryption, an unmanaged or ephemeral OS
disk, a confidential VM, or a ``ReadOnly`` lock over it is refused; a ``CanNotDelete`` lock keeps
the repair VM at the end) → snapshot its OS disk → a disk from the snapshot, while a
repair VM is created in the same resource group and zone (same Hyper-V generation and OS, no public
IP, an NSG that allows nothing inbound) → the copy attached once the repair VM has booted (as ``az
vm repair`` does for Linux: a copy of the same image has the same root file system UUID, and a VM
booting with it attached may boot the copy) → the fix through Run Command on the repair VM (a
Windows VM gets a Windows Server 2022 repair VM with a password nobody keeps, and its PowerShell
fix runs as a managed Run Command, whose exit code Azure reports) →
detach the copy → deallocate the broken VM → swap its OS disk for the copy → start it → ``prove()``.
Only a proven recovery deletes the repair VM, its OS disk, NIC and NSG; an unproven one is rolled
back (the original disk swapped in again, the VM started: status ``rolled-back``); a failed delete
after the proof leaves the repair ``recovered`` with what is left in ``left``, and a failure once the
VM was deallocated says where it stands (``vm_stands``). The original OS disk and the snapshot are
never deleted. Independent steps run concurrently (``concurrent=False``:
the same calls one after another, in ``az vm repair``'s order).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kit.azure._repair_os import WINDOWS_IMAGES, os_profile, windows_refusal
from kit.azure.actions import WriteLog
from kit.azure.errors import map_azure_errors
from kit.azure.locks import Lock, delete_blocker, lifted_and_restored, read_locks, read_only_refusal
from kit.azure.restart import serial_log
from kit.azure.runcommand import run_command
from kit.azure.target import AzureTarget
from kit.errors import AzureError, KitError, UsageError
from kit.ids import VM, VMSS_VM, parse_resource_id

__all__ = ["ADE_REFUSAL", "AZURE_USUALLY", "CONFIDENTIAL_ALTERNATIVE", "EPHEMERAL_ALTERNATIVE", "FIX_TIMEOUT",
           "BootProof", "BootState", "RepairOutcome", "RepairRefused", "RepairResources", "RepairStep",
           "boot_proof", "read_boot_state", "repair", "repair_async"]

ADE_REFUSAL = ("disks encrypted with Azure Disk Encryption: use `az vm repair create --unlock-encrypted-vm`, "
               "which unlocks the copy on the repair VM with the key in Key Vault")
EPHEMERAL_ALTERNATIVE = ("Fix it in place through the serial console or Run Command, or `az vm reimage` to "
                         "reset the OS disk to its image (what the disk holds is lost)")
CONFIDENTIAL_ALTERNATIVE = ("its OS disk is bound to its own vTPM, so no repair VM can open a copy, and `az vm "
                            "repair` does not support it either: fix it in place through the serial console or "
                            "Run Command")
_SIZE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{2,63}")
_POLICY = "RequestDisallowedByPolicy"
_POLICY_HINT = ("; an Azure Policy refused it (its message names the assignment): give the tags it requires with "
                "--tag KEY=VALUE, or a repair VM size it allows with --repair-vm-size SIZE")
#: The codes Compute fails a start with when the region or zone has no room for the VM's size (after a deallocate)
_NO_ROOM = {"allocationfailed", "zonalallocationfailed", "overconstrainedallocationrequest",
            "overconstrainedzonalallocationrequest"}
#: The repair VM by the copy's architecture and Hyper-V generation: the sizes to try, in order (2 vCPUs, premium
#: disks, each of its own family: a region out of one size's capacity or a family's quota may still have the
#: next), and its Ubuntu 24.04 image. An Arm64 copy needs an Arm64 repair VM (the fix runs the copy's own tools
#: in a chroot); Arm64 is Gen2 only.
_X64_SIZES = ("Standard_D2s_v5", "Standard_D2as_v5", "Standard_D2s_v4", "Standard_D2s_v3")
_REPAIR_VMS = {("x64", "V2"): (_X64_SIZES, ("canonical", "ubuntu-24_04-lts", "server")),
               ("x64", "V1"): (_X64_SIZES, ("canonical", "ubuntu-24_04-lts", "server-gen1")),
               ("arm64", "V2"): (("Standard_D2ps_v5", "Standard_D2pls_v5"),
                                 ("canonical", "ubuntu-24_04-lts", "server-arm64"))}
#: How long Azure usually takes for the repair's slow steps (what a client waits, from azure-cli's recorded
#: operations: docs/azure-durations.md), by the start of the step's name (the longest that fits; ``None``: a step
#: of seconds): said as a step starts, so that a wait is expected.
AZURE_USUALLY: dict[str, str | None] = {
    "create the repair VM": "usually 60–120 s", "attach the copy": "usually 5–30 s",
    "run the fix": "usually 15–90 s", "detach the copy": "usually 12–30 s", "deallocate": "usually 40–110 s",
    "swap": "usually 25–30 s", "start": "usually 10–40 s", "prove the recovery": "as long as the new boot, 1–2 min",
    "delete the repair VM": "usually 35–70 s", "delete the repair VM's OS disk": None,
    "delete the repair NIC": "usually 10–30 s", "delete the repair NSG": "about 10 s"}
_LOGIN = re.compile(r"login: *$")
_BOOT_FAILED = re.compile(r"Kernel panic - not syncing|You are in emergency mode|Give root password for maintenance")


#: seconds the fix may run on the repair VM: regenerating an initramfs forks thousands of processes
FIX_TIMEOUT = 1800.0


class RepairRefused(KitError):
    """Raised before anything changes when the VM cannot be repaired this way (ADE, unmanaged disk, …)."""


class _Interrupted(KitError):
    """The responder interrupted the repair: it stops before the step ``before``."""

    def __init__(self, before: str) -> None:
        super().__init__(f"interrupted before {before}")
        self.before = before


@dataclass
class RepairStep:
    """One step of the repair.

    Parameters
    ----------
    name
        What it did (``snapshot the OS disk``).
    started, ended
        UTC times.
    result
        ``ok`` or ``failed: <why>``.
    detail
        The resource it made or what it found.
    """

    name: str
    started: datetime
    ended: datetime
    result: str = "ok"
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        """A JSON-ready dict."""
        return {"name": self.name, "started": _iso(self.started), "ended": _iso(self.ended), "result": self.result,
                "detail": self.detail}


@dataclass(frozen=True)
class BootProof:
    """Whether the VM booted to a login prompt, from its boot-diagnostics serial log.

    Parameters
    ----------
    passed
        The last boot reached ``login:`` with no panic or emergency mode.
    message
        Why, in one sentence.
    """

    passed: bool
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class RepairOutcome:
    """What a repair did.

    Parameters
    ----------
    vm_id
        The broken VM.
    finding
        The finding kind the script fixes (``None``: the responder's own script).
    status
        ``recovered`` (proven), ``rolled-back`` (not proven: the original disk is back), ``fix-failed``
        (the script failed: the VM was not touched), ``failed`` (a step failed; see ``steps``) or
        ``interrupted`` (the responder stopped it: it ended the step under way and stopped before the next).
    message
        One sentence for the responder: what happened and where the disks are.
    steps
        Every step, in the order they ended.
    original_disk, snapshot, repaired_disk, repair_vm
        The resource ids involved (kept: the original disk and the snapshot, always).
    script
        The fix that ran on the repair VM.
    fix_output
        What it printed (stdout, then stderr) and its exit code.
    proof
        What ``prove()`` answered (``None`` when it did not run).
    deleted
        The resources the kit deleted (the repair VM's, after a proven recovery).
    made
        What the repair created, in order (the snapshot, the copy, the repair NSG, NIC, VM and its OS disk).
    left
        The repair VM's resources a proven recovery could not delete (a lock, a failed delete): still there.
    vm_stands
        Where the broken VM stands once the repair has touched it (deallocated, which OS disk, the command
        that goes on from there); empty while it is untouched.
    """

    vm_id: str
    finding: str | None = None
    status: str = "failed"
    message: str = ""
    steps: list[RepairStep] = field(default_factory=list)
    original_disk: str = ""
    snapshot: str = ""
    repaired_disk: str = ""
    repair_vm: str = ""
    script: str = ""
    fix_output: dict[str, Any] = field(default_factory=dict)
    proof: Any = None
    deleted: list[str] = field(default_factory=list)
    made: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    vm_stands: str = ""

    @property
    def rolled_back(self) -> bool:
        """Whether the original OS disk was swapped back in."""
        return self.status == "rolled-back"


@dataclass(frozen=True)
class RepairResources:
    """What the resources a repair creates carry, beyond the kit's defaults.

    Parameters
    ----------
    tags
        Tags on every resource it creates (an Azure Policy may require some), besides ``kit-repair``.
    sizes
        Repair VM sizes to try first (a policy may allow only some), before the kit's own.
    """

    tags: Mapping[str, str] = field(default_factory=dict)
    sizes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for key, value in self.tags.items():
            if not key or len(key) > 512 or len(value) > 256 or set(key) & set("<>%&\\?/") or key == "kit-repair":
                raise UsageError(f"tag {key!r}: a tag name is 1-512 characters without <>%&\\?/ (kit-repair is the "
                                 "kit's own), its value at most 256")
        for size in self.sizes:
            if not _SIZE.fullmatch(size):
                raise UsageError(f"{size!r} is not a VM size (Standard_D2s_v5 …)")


@dataclass
class _Names:
    group: str
    location: str
    zones: list[str]
    stamp: str
    vm: str
    extra: RepairResources = field(default_factory=RepairResources)
    #: The broken OS disk's encryption when a customer-managed key encrypts it (its disk encryption set): what
    #: the snapshot, the copy and the repair VM's OS disk say they are encrypted with, as a policy requiring
    #: that set checks each request for it
    encryption: dict[str, str] = field(default_factory=dict)
    #: The broken VM encrypts its disks' caches and temp disk at the host: the repair VM, which holds its copy,
    #: does so too (a policy may require it of every VM)
    encryption_at_host: bool = False

    def __post_init__(self) -> None:
        base = self.vm[:40]
        self.snapshot = f"{base}-kit-{self.stamp}-snapshot"
        self.disk = f"{base}-kit-{self.stamp}-osdisk-fixed"
        self.repair_vm = f"kit-repair-{self.stamp}"
        self.nic, self.nsg, self.repair_os_disk = (f"{self.repair_vm}-nic", f"{self.repair_vm}-nsg",
                                                   f"{self.repair_vm}-osdisk")
        self.tags = {**self.extra.tags, "kit-repair": self.vm}

    def repair_resources(self, sub: str) -> list[str]:
        """The ids of what the repair VM is made of, in the order they are deleted."""
        return [_id(sub, self.group, "Microsoft.Compute/virtualMachines", self.repair_vm),
                _id(sub, self.group, "Microsoft.Compute/disks", self.repair_os_disk),
                _id(sub, self.group, "Microsoft.Network/networkInterfaces", self.nic),
                _id(sub, self.group, "Microsoft.Network/networkSecurityGroups", self.nsg)]


@dataclass(frozen=True)
class _Stands:
    """Sentences for where the broken VM stands while the repair has it deallocated."""

    group: str
    vm: str
    original: str
    original_id: str
    repaired: str

    def deallocated(self, *, repaired: bool) -> str:
        start = f"az vm start -g {self.group} -n {self.vm}"
        if not repaired:
            return f"{self.vm} is deallocated with its original OS disk {self.original}: start it again with {start}"
        return (f"{self.vm} is deallocated with the repaired copy {self.repaired} as its OS disk (its original OS disk "
                f"{self.original} is kept): start it with {start}, or put the original back first with az vm update "
                f"-g {self.group} -n {self.vm} --os-disk {self.original_id}")


class _Flow:
    """The SDK calls of one repair, each timed as a step."""

    def __init__(self, clients: tuple[Any, Any, Any], outcome: RepairOutcome,
                 on_step: Callable[[RepairStep], None] | None,
                 on_start: Callable[[str], None] | None = None, stop: threading.Event | None = None) -> None:
        self.compute, self.network, self.locks = clients
        self.outcome, self.on_step, self.on_start = outcome, on_step, on_start
        self.stop = stop or threading.Event()

    def checkpoint(self, before: str) -> None:
        """Stop here, before ``before``, when the responder interrupted the repair."""
        if self.stop.is_set():
            raise _Interrupted(before)

    async def made(self, name: str, call: Awaitable[Any], resource: str, detail: str = "") -> Any:
        """:meth:`step` for a call creating ``resource``, which goes into ``outcome.made``."""
        result = await self.step(name, call, detail)
        self.outcome.made.append(resource)
        return result

    async def step(self, name: str, call: Awaitable[Any], detail: str = "") -> Any:
        started = datetime.now(UTC)
        self.begins(name)
        try:
            with map_azure_errors(name, self.outcome.vm_id):
                result = await call
        except KitError as error:
            self._done(RepairStep(name, started, datetime.now(UTC), f"failed: {error}", detail))
            raise
        self._done(RepairStep(name, started, datetime.now(UTC), "ok", detail))
        return result

    def begins(self, name: str) -> None:
        """Say that step ``name`` starts."""
        if self.on_start is not None:
            self.on_start(name)

    def _done(self, step: RepairStep) -> None:
        self.outcome.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    async def poll(self, begin: Awaitable[Any]) -> Any:
        poller = await begin
        return await poller.result()


def repair(target: AzureTarget, vm_id: str, *, script: str, finding: str | None = None, approval: str,
           prove: Callable[[], Any], concurrent: bool = True, write_log: WriteLog | None = None,
           keep_repair_vm: bool = False, on_step: Callable[[RepairStep], None] | None = None,
           resources: RepairResources | None = None, on_start: Callable[[str], None] | None = None,
           on_interrupt: Callable[[], None] | None = None) -> RepairOutcome:
    """Repair ``vm_id``'s OS disk on a repair VM and swap it in; blocking twin of :func:`repair_async`.

    Parameters
    ----------
    target
        Where ARM is and how to authenticate.
    vm_id
        The broken VM.
    script
        The bash script run on the repair VM: :func:`kit.analyze.repair_scripts.fix_script` for a finding
        (facts from :func:`read_boot_state`), or one of your own (it finds and mounts the copy itself).
    finding
        The finding kind the script fixes (recorded), ``None`` for a script of your own.
    approval
        The approval / ticket reference (required).
    prove
        Called once the VM started from the repaired disk; its answer's ``passed`` decides between
        cleaning up and rolling back (``kit recover-check``'s proof, or :func:`boot_proof`).
    concurrent
        Run independent steps at once (``False``: one after another, ``az vm repair``'s order).
    write_log
        Logs every ARM write.
    keep_repair_vm
        Keep the repair VM and its resources even after a proven recovery.
    on_step
        Called with each step as it ends (progress).
    on_start
        Called with each step's name as it starts (:data:`AZURE_USUALLY` says how long the slow ones take).
    resources
        Tags for what it creates and repair VM sizes to try first (:class:`RepairResources`).
    on_interrupt
        Called on Ctrl-C (``KeyboardInterrupt``): the repair ends the step under way — Azure finishes an
        operation it was given either way — and stops before the next (status ``interrupted``, or
        ``recovered`` with the clean-up left when the proof had passed).

    Raises
    ------
    RepairRefused
        An ADE-encrypted, unmanaged or ephemeral OS disk, a confidential VM, Windows on Arm64, or a
        scale-set instance: nothing was changed.
    UsageError
        No approval, an empty script, or an id that is not a VM's.

    A call that fails ends the repair where it is: the outcome's status is ``failed`` and its
    steps say which call failed; nothing is deleted or rolled back by then.
    """
    stop = threading.Event()
    work = repair_async(target, vm_id, script=script, finding=finding, approval=approval, prove=prove,
                        concurrent=concurrent, write_log=write_log, keep_repair_vm=keep_repair_vm, on_step=on_step,
                        resources=resources, on_start=on_start, stop=stop)
    with ThreadPoolExecutor(max_workers=1) as pool:  # the loop runs aside: Ctrl-C reaches this thread, not a step
        running = pool.submit(asyncio.run, work)
        while True:
            try:
                outcome: RepairOutcome = running.result()
                return outcome
            except KeyboardInterrupt:
                stop.set()
                if on_interrupt is not None:
                    on_interrupt()


async def repair_async(target: AzureTarget, vm_id: str, *, script: str, finding: str | None = None, approval: str,
                       prove: Callable[[], Any], concurrent: bool = True, write_log: WriteLog | None = None,
                       keep_repair_vm: bool = False, on_step: Callable[[RepairStep], None] | None = None,
                       resources: RepairResources | None = None,
                       on_start: Callable[[str], None] | None = None,
                       stop: threading.Event | None = None) -> RepairOutcome:
    """:func:`repair` for async callers (``stop`` set: it stops before its next step, status ``interrupted``)."""
    if not approval.strip():
        raise UsageError("a repair changes the VM: give an approval / ticket reference (--approval REF)")
    if not script.strip():
        raise UsageError("the repair script is empty")
    parsed = parse_resource_id(vm_id)
    if parsed.is_kind(VMSS_VM):
        raise RepairRefused(f"{parsed.names[0]} instance {parsed.names[1]} is a scale-set instance: its OS disk cannot "
                            "be swapped, so there is no repair VM for it. Fix it in place (kit run-command, the "
                            f"serial console), or re-image it to the scale set's model (az vmss reimage -g "
                            f"{parsed.resource_group} -n {parsed.names[0]} --instance-ids {parsed.names[1]}: what its "
                            "OS disk holds is lost)")
    if not parsed.is_kind(VM):
        raise UsageError(f"{vm_id!r} is a {parsed.kind}, not a virtual machine")
    from azure.mgmt.compute.aio import ComputeManagementClient
    from azure.mgmt.network.aio import NetworkManagementClient
    from azure.mgmt.resource.locks.aio import ManagementLockClient

    hook: dict[str, Any] = {"raw_response_hook": write_log.hook} if write_log is not None else {}
    credential = target.async_credential()
    sub = parsed.subscription_id
    try:
        async with ComputeManagementClient(credential, sub, **hook, **target.client_kwargs()) as compute, \
                NetworkManagementClient(credential, sub, **hook, **target.client_kwargs()) as network, \
                ManagementLockClient(credential, sub, **hook, **target.client_kwargs()) as locks:
            flow = _Flow((compute, network, locks), RepairOutcome(vm_id=vm_id, finding=finding), on_step, on_start,
                         stop)
            try:
                return await _run(flow, target, parsed.resource_group or "", parsed.name, script, prove,
                                  concurrent, write_log, keep_repair_vm, resources or RepairResources())
            except RepairRefused:
                raise
            except _Interrupted as stopped:
                return _interrupted(flow.outcome, stopped)
            except AzureError as error:
                return _failed(flow.outcome, error)
    finally:
        await credential.close()


async def _run(flow: _Flow, target: AzureTarget, group: str, name: str, script: str, prove: Callable[[], Any],
               concurrent: bool, write_log: WriteLog | None, keep: bool, extra: RepairResources) -> RepairOutcome:
    compute, network, outcome = flow.compute, flow.network, flow.outcome
    vm, os_disk, nic, delete_lock = await _check(flow, group, name, concurrent)
    os_type = str(vm["properties"]["storageProfile"]["osDisk"].get("osType", "Linux")).lower()
    outcome.script = script
    names = _Names(group, str(vm["location"]), list(vm.get("zones") or []),
                   datetime.now(UTC).strftime("%Y%m%d%H%M%S"), name, extra, _customer_key(os_disk),
                   bool((vm["properties"].get("securityProfile") or {}).get("encryptionAtHost")))
    sub = parse_resource_id(outcome.vm_id).subscription_id
    outcome.original_disk = str(os_disk["id"])
    outcome.snapshot = _id(sub, group, "Microsoft.Compute/snapshots", names.snapshot)
    outcome.repaired_disk = _id(sub, group, "Microsoft.Compute/disks", names.disk)
    outcome.repair_vm = _id(sub, group, "Microsoft.Compute/virtualMachines", names.repair_vm)
    subnet = nic["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]
    generation = str(os_disk["properties"].get("hyperVGeneration") or "V1")
    architecture = str((os_disk["properties"].get("supportedCapabilities") or {}).get("architecture") or "x64")
    refusal = windows_refusal(name, architecture) if os_type == "windows" else None
    if refusal is not None:
        raise RepairRefused(refusal)

    async def copy() -> None:
        flow.checkpoint("snapshot the OS disk")
        await flow.made("snapshot the OS disk", flow.poll(compute.snapshots.begin_create_or_update(
            group, names.snapshot, _snapshot_body(os_disk, names))), outcome.snapshot, outcome.snapshot)
        flow.checkpoint("create a disk from the snapshot")
        await flow.made("create a disk from the snapshot", flow.poll(compute.disks.begin_create_or_update(
            group, names.disk, _disk_body(os_disk, names, outcome.snapshot))), outcome.repaired_disk,
            outcome.repaired_disk)

    async def repair_vm() -> None:
        flow.checkpoint("create the repair NSG")
        nsg = await flow.made("create the repair NSG (nothing inbound)", flow.poll(
            network.network_security_groups.begin_create_or_update(group, names.nsg, _nsg_body(names))),
            _id(sub, group, "Microsoft.Network/networkSecurityGroups", names.nsg))
        flow.checkpoint("create the repair NIC")
        created = await flow.made("create the repair NIC (no public IP)", flow.poll(
            network.network_interfaces.begin_create_or_update(group, names.nic, _nic_body(names, subnet, nsg.id))),
            _id(sub, group, "Microsoft.Network/networkInterfaces", names.nic))
        flow.checkpoint("create the repair VM")
        await _create_repair_vm(flow, names, (architecture.lower(), generation), os_type, str(created.id))

    await _all(concurrent, copy(), repair_vm())
    # Attached only once the repair VM has booted from its own disk: a copy made from the same image has the
    # same root file system UUID and label, and a repair VM that boots with it attached may boot the copy.
    flow.checkpoint("attaching the copy to the repair VM")
    await flow.step("attach the copy to the repair VM", flow.poll(compute.virtual_machines.begin_update(
        group, names.repair_vm, {"properties": {"storageProfile": {"dataDisks": [_copy_attachment(
            outcome.repaired_disk)]}}})), outcome.repaired_disk)
    flow.checkpoint("running the fix on the repair VM")
    fixed = await _fix(flow, target, outcome.repair_vm, script, os_type, write_log)
    if not fixed:
        outcome.status = "fix-failed"
        outcome.message = (f"the fix failed on the repair VM (exit code {outcome.fix_output.get('exit_code')}): "
                           f"{name} was not touched; the repair VM {names.repair_vm} is kept with the copy attached")
        return outcome
    flow.checkpoint(f"detaching the copy and deallocating {name}")
    detach = flow.step("detach the copy from the repair VM", flow.poll(compute.virtual_machines.begin_update(
        group, names.repair_vm, {"properties": {"storageProfile": {"dataDisks": []}}})))
    stands = _Stands(group, name, str(os_disk["name"]), outcome.original_disk, names.disk)

    async def stop() -> None:
        await flow.step(f"deallocate {name}", flow.poll(compute.virtual_machines.begin_deallocate(group, name)))
        outcome.vm_stands = stands.deallocated(repaired=False)

    await _all(concurrent, detach, stop())
    flow.checkpoint("swapping in the repaired OS disk")
    await _swap(flow, group, name, outcome.repaired_disk, names.disk, "swap in the repaired OS disk")
    outcome.vm_stands = stands.deallocated(repaired=True)
    flow.checkpoint(f"starting {name}")
    await flow.step(f"start {name}", flow.poll(compute.virtual_machines.begin_start(group, name)))
    outcome.vm_stands = f"{name} runs the repaired copy {names.disk} (its original OS disk {os_disk['name']} is kept)"
    flow.checkpoint("proving the recovery")
    proof = await _prove(flow, prove)
    outcome.proof = proof
    if not bool(getattr(proof, "passed", False)):
        flow.checkpoint("rolling back")
        await flow.step(f"deallocate {name} (roll back)", flow.poll(compute.virtual_machines.begin_deallocate(
            group, name)))
        outcome.vm_stands = stands.deallocated(repaired=True)
        flow.checkpoint("swapping the original OS disk back")
        await _swap(flow, group, name, outcome.original_disk, str(os_disk["name"]), "swap the original OS disk back")
        outcome.vm_stands = stands.deallocated(repaired=False)
        flow.checkpoint(f"starting {name} on its original OS disk")
        await flow.step(f"start {name} (roll back)", flow.poll(compute.virtual_machines.begin_start(group, name)))
        outcome.vm_stands = f"{name} runs its original OS disk {os_disk['name']} again"
        outcome.status = "rolled-back"
        outcome.message = (f"not recovered ({_said(proof)}): rolled back, {name} runs its original OS disk again; the "
                           f"repaired copy {names.disk}, the snapshot {names.snapshot} and the repair VM "
                           f"{names.repair_vm} are kept")
        return outcome
    outcome.status = "recovered"
    outcome.message = (f"recovered: {name} boots from {names.disk}; the original OS disk {os_disk['name']} and the "
                       f"snapshot {names.snapshot} are kept in {group}")
    if keep:
        outcome.message += f"; the repair VM {names.repair_vm} is kept (--keep-repair-vm)"
    elif delete_lock is not None:
        outcome.left = names.repair_resources(sub)
        lift, restore = lifted_and_restored(delete_lock)
        outcome.message += (f"; the repair VM {names.repair_vm}, its OS disk, NIC and NSG are kept: {delete_lock} "
                            f"refuses deletes. With approval, lift it, delete them and put it back: {lift}; "
                            f"{_deletes(group, outcome.left)}; {restore}")
    elif flow.stop.is_set():  # proven: the interruption costs only the clean-up
        outcome.left = names.repair_resources(sub)
        outcome.message += (f"; interrupted before the clean-up: the repair VM {names.repair_vm}, its OS disk, NIC and "
                            f"NSG are left; delete them with: {_deletes(group, outcome.left)}")
    else:
        await _clean_up(flow, group, names, outcome, concurrent)
    return outcome


def _failed(outcome: RepairOutcome, error: AzureError) -> RepairOutcome:
    """``outcome`` as a failure at its failed step: where the VM stands, what was kept, what to do next."""
    failed = next((step.name for step in reversed(outcome.steps) if step.result != "ok"), "a call")
    name = parse_resource_id(outcome.vm_id).name
    stands = outcome.vm_stands or f"{name} was not changed"
    hint = _POLICY_HINT if error.code == _POLICY else ""
    if str(error.code or "").lower() in _NO_ROOM:
        hint = ("; Azure had no room for its size there just now (a deallocated VM gives its place up): start it "
                "again in a few minutes, or resize it (az vm resize --size …) and start it")
    outcome.status = "failed"
    outcome.message = f"{failed} failed: {error}; {stands}; the steps before it stand (see the steps), nothing was " \
                      f"deleted{_made_so_far(outcome)}{hint}"
    return outcome


def _interrupted(outcome: RepairOutcome, stopped: _Interrupted) -> RepairOutcome:
    """``outcome`` as the responder's interruption: where it stopped, where the VM stands, what was made."""
    parsed = parse_resource_id(outcome.vm_id)
    swapped = any(step.name == "swap in the repaired OS disk" for step in outcome.steps)
    ready = "" if swapped or outcome.fix_output.get("exit_code") != 0 else (
        f"; the fixed copy {parse_resource_id(outcome.repaired_disk).name} is ready: with {parsed.name} deallocated, "
        f"az vm update -g {parsed.resource_group} -n {parsed.name} --os-disk {outcome.repaired_disk} swaps it in")
    outcome.status = "interrupted"
    outcome.message = (f"interrupted before {stopped.before}: {outcome.vm_stands or f'{parsed.name} was not changed'}"
                       f"{ready}; nothing was deleted{_made_so_far(outcome)}")
    return outcome


def _made_so_far(outcome: RepairOutcome) -> str:
    """What the repair made (snapshot and copy are kept; the repair VM's parts with the commands that delete them)."""
    if not outcome.made:
        return ""
    group = str(parse_resource_id(outcome.vm_id).resource_group)
    kept = {outcome.snapshot.lower(), outcome.repaired_disk.lower()}
    parts = [made for made in outcome.made if made.lower() not in kept]
    said = f"; made so far in {group}: {', '.join(parse_resource_id(made).name for made in outcome.made)}"
    return said + (f" (the repair VM's parts go with: {_deletes(group, parts)})" if parts else "")


async def _create_repair_vm(flow: _Flow, names: _Names, kind: tuple[str, str], os_type: str, nic_id: str) -> None:
    """Create the repair VM, trying the next size while Azure cannot give one (each attempt a step)."""
    defaults, _ = _repair_vm_kind(kind)
    sizes = tuple(dict.fromkeys((*names.extra.sizes, *defaults)))
    for size in sizes:
        try:
            await flow.made(f"create the repair VM ({size})", flow.poll(
                flow.compute.virtual_machines.begin_create_or_update(names.group, names.repair_vm, _repair_vm_body(
                    names, kind, size, os_type, nic_id))), flow.outcome.repair_vm, flow.outcome.repair_vm)
            flow.outcome.made.append(names.repair_resources(parse_resource_id(flow.outcome.vm_id).subscription_id)[1])
            return
        except AzureError as error:
            if size == sizes[-1] or not _another_size_may_fit(error):
                raise


async def _check(flow: _Flow, group: str, name: str, concurrent: bool) -> tuple[dict, dict, dict, Lock | None]:
    """The VM, its OS disk, primary NIC and the lock refusing deletes if any; refused before any change when the
    kit cannot repair it."""
    vm = (await flow.step(f"read {name}", flow.compute.virtual_machines.get(group, name))).as_dict()
    os_entry = vm["properties"]["storageProfile"]["osDisk"]
    if str((os_entry.get("diffDiskSettings") or {}).get("option", "")).lower() == "local":
        raise RepairRefused(f"{name} has an ephemeral OS disk (on the host's cache or temp disk): it cannot be "
                            f"snapshotted, deallocated or swapped. {EPHEMERAL_ALTERNATIVE}")
    if str((vm["properties"].get("securityProfile") or {}).get("securityType", "")).lower() == "confidentialvm":
        raise RepairRefused(f"{name} is a confidential VM: {CONFIDENTIAL_ALTERNATIVE}")
    if not (os_entry.get("managedDisk") or {}).get("id"):
        raise RepairRefused(f"{name} has an unmanaged OS disk (a VHD in a storage account): the kit repairs managed "
                            "disks only; use `az vm repair create`, which copies the VHD")
    if (os_entry.get("encryptionSettings") or {}).get("enabled"):
        raise RepairRefused(f"{name}'s OS disk is encrypted ({ADE_REFUSAL})")
    disk_name = parse_resource_id(os_entry["managedDisk"]["id"]).name
    nics = vm["properties"].get("networkProfile", {}).get("networkInterfaces", [])
    nic_ref = next((nic for nic in nics if (nic.get("properties") or {}).get("primary")), nics[0] if nics else None)
    if nic_ref is None:
        raise RepairRefused(f"{name} has no network interface to put the repair VM in its subnet")
    nic_id = parse_resource_id(nic_ref["id"])
    read_disk = flow.step(f"read the OS disk {disk_name}", flow.compute.disks.get(group, disk_name))
    read_nic = flow.step(f"read the NIC {nic_id.name}", flow.network.network_interfaces.get(
        str(nic_id.resource_group), nic_id.name))
    disk, nic, earlier, locks = await _all(concurrent, read_disk, read_nic, flow.step(
        f"look for a repair of {name} under way", _repair_vms_of(flow.compute, group, name)),
        _read_locks(flow, group))
    if earlier:
        raise RepairRefused(_under_way(group, name, earlier[0]))
    refusal = read_only_refusal(locks, name)
    if refusal is not None:
        raise RepairRefused(refusal)
    disk, nic = disk.as_dict(), nic.as_dict()
    if (disk["properties"].get("encryptionSettingsCollection") or {}).get("enabled"):
        raise RepairRefused(f"{name}'s OS disk {disk_name} is encrypted ({ADE_REFUSAL})")
    dynamic = [pip for pip in await _public_ips(flow, nic, concurrent)
               if str(pip["properties"].get("publicIPAllocationMethod", "")).lower() == "dynamic"]
    if dynamic:
        raise RepairRefused(_address_would_change(name, dynamic[0]))
    return vm, disk, nic, delete_blocker(locks)


async def _public_ips(flow: _Flow, nic: dict[str, Any], concurrent: bool) -> list[dict[str, Any]]:
    """The public IPs on the NIC's IP configurations, each read as a step."""
    ids = [parse_resource_id(str(reference["id"])) for config in nic["properties"].get("ipConfigurations", [])
           if (reference := (config.get("properties") or {}).get("publicIPAddress") or {}).get("id")]
    read = await _all(concurrent, *(flow.step(f"read the public IP {pip.name}", flow.network.public_ip_addresses.get(
        str(pip.resource_group), pip.name)) for pip in ids))
    return [pip.as_dict() for pip in read]


def _address_would_change(name: str, pip: dict[str, Any]) -> str:
    """Why a repair does not deallocate a VM whose public address is dynamic, and how to keep the address."""
    parsed = parse_resource_id(str(pip["id"]))
    address = pip["properties"].get("ipAddress") or "no address while the VM is deallocated"
    return (f"{name}'s public IP {parsed.name} ({address}) is dynamic (a Basic SKU address): deallocating {name} for "
            f"the disk swap releases it, and the VM starts with another — DNS records, allow-lists and everyone's "
            f"SSH target would point at nothing. Nothing was changed. Make it static first (it keeps the address it "
            f"holds): az network public-ip update -g {parsed.resource_group} -n {parsed.name} --allocation-method "
            f"Static; then run the repair again")


async def _read_locks(flow: _Flow, group: str) -> list[Lock]:
    """The locks over the VM, as a step whose detail names them (a lock list the identity may not read is noted)."""
    what, started = f"read the locks over {group}", datetime.now(UTC)
    flow.begins(what)
    locks, note = await read_locks(flow.locks, parse_resource_id(flow.outcome.vm_id).subscription_id, group,
                                   flow.outcome.vm_id)
    flow._done(RepairStep(what, started, datetime.now(UTC), "ok",
                          "; ".join([*(str(lock) for lock in locks), *([note] if note else [])]) or "none"))
    return locks


async def _repair_vms_of(compute: Any, group: str, name: str) -> list[dict[str, Any]]:
    """The kit's repair VMs for ``name`` in ``group`` (tagged ``kit-repair``): one under way, or one left over."""
    return [vm.as_dict() async for vm in compute.virtual_machines.list(group)
            if (vm.tags or {}).get("kit-repair") == name]


def _under_way(group: str, name: str, repair_vm: dict[str, Any]) -> str:
    other = str(repair_vm["name"])
    since = str((repair_vm.get("properties") or {}).get("timeCreated") or "an earlier run")
    return (f"{name} already has a repair VM, {other} (created {since}): a repair is under way, or one was kept "
            f"(a fix that failed, --keep-repair-vm). Finish or look at that one; to start again delete it and its "
            f"resources first: az vm delete -g {group} -n {other} --yes; az network nic delete -g {group} -n "
            f"{other}-nic; az network nsg delete -g {group} -n {other}-nsg; az disk delete -g {group} -n "
            f"{other}-osdisk --yes (the copies and snapshots it made stay)")


async def _fix(flow: _Flow, target: AzureTarget, repair_vm: str, script: str, os_type: str,
               write_log: WriteLog | None) -> bool:
    """Run the fix through Run Command on the repair VM (bash, or PowerShell on Windows); whether it exited 0."""
    started = datetime.now(UTC)
    flow.begins("run the fix on the repair VM (Run Command)")
    try:
        # Windows' action Run Command reports no exit code: a managed Run Command (its instance view) does
        result = await asyncio.to_thread(run_command, target, repair_vm, script, os_type=os_type,
                                         managed=os_type == "windows",
                                         timeout=FIX_TIMEOUT, write_log=write_log)
    except KitError as error:
        flow._done(RepairStep("run the fix on the repair VM (Run Command)", started, datetime.now(UTC),
                              f"failed: {error}"))
        raise
    flow.outcome.fix_output = {"stdout": result.stdout, "stderr": result.stderr, "exit_code": result.exit_code}
    ok = result.exit_code == 0
    flow._done(RepairStep("run the fix on the repair VM (Run Command)", started, datetime.now(UTC),
                          "ok" if ok else f"failed: exit code {result.exit_code}",
                          (result.stderr or result.stdout).strip().splitlines()[-1:][0]
                          if (result.stderr or result.stdout).strip() else ""))
    return ok


async def _swap(flow: _Flow, group: str, name: str, disk_id: str, disk_name: str, what: str) -> None:
    body = {"properties": {"storageProfile": {"osDisk": {"name": disk_name, "managedDisk": {"id": disk_id}}}}}
    await flow.step(what, flow.poll(flow.compute.virtual_machines.begin_update(group, name, body)), disk_id)


async def _prove(flow: _Flow, prove: Callable[[], Any]) -> Any:
    started = datetime.now(UTC)
    flow.begins("prove the recovery")
    proof = await asyncio.to_thread(prove)
    passed = bool(getattr(proof, "passed", False))
    flow._done(RepairStep("prove the recovery", started, datetime.now(UTC), "ok" if passed else "failed: not proven",
                          _said(proof)))
    return proof


def _said(proof: Any) -> str:
    """What a proof says in one sentence (a recovery check's summary, else its text)."""
    return str(getattr(proof, "summary", None) or proof)


async def _clean_up(flow: _Flow, group: str, names: _Names, outcome: RepairOutcome, concurrent: bool) -> None:
    """Delete the repair VM, then its OS disk and NIC, then its NSG (never the original disk or the snapshot).

    The recovery is proven by then: a delete that fails (a lock a policy put on what the repair made, a
    transient error) leaves the rest in ``outcome.left`` and says how to finish, and the repair stays recovered.
    """
    compute, network = flow.compute, flow.network
    vm_id, os_disk_id, nic_id, nsg_id = names.repair_resources(parse_resource_id(outcome.vm_id).subscription_id)

    async def delete(what: str, begin: Awaitable[Any], resource: str) -> None:
        await flow.step(what, flow.poll(begin), resource)
        outcome.deleted.append(resource)

    try:
        await delete("delete the repair VM", compute.virtual_machines.begin_delete(group, names.repair_vm), vm_id)
        await _all(concurrent, delete("delete the repair VM's OS disk", compute.disks.begin_delete(
            group, names.repair_os_disk), os_disk_id), delete("delete the repair NIC", network.network_interfaces.
                                                              begin_delete(group, names.nic), nic_id))
        await delete("delete the repair NSG", network.network_security_groups.begin_delete(group, names.nsg), nsg_id)
    except AzureError as error:
        outcome.left = [resource for resource in (vm_id, os_disk_id, nic_id, nsg_id) if resource not in outcome.deleted]
        left = ", ".join(parse_resource_id(resource).name for resource in outcome.left)
        outcome.message += (f"; the clean-up stopped ({error}): {left} are left in {group}; delete them with: "
                            f"{_deletes(group, outcome.left)}")


#: How ``az`` deletes each part of a repair VM (the command, what follows the name), in the order Azure accepts:
#: the VM before its disk and NIC, the NIC before its NSG
_DELETE_COMMANDS = {"microsoft.compute/virtualmachines": ("az vm delete", " --yes"),
                    "microsoft.compute/disks": ("az disk delete", " --yes"),
                    "microsoft.network/networkinterfaces": ("az network nic delete", ""),
                    "microsoft.network/networksecuritygroups": ("az network nsg delete", "")}


def _deletes(group: str, resources: list[str]) -> str:
    """The ``az`` commands deleting ``resources`` (the repair VM's parts, in any order) in an order Azure accepts."""
    kinds = list(_DELETE_COMMANDS)
    parts = sorted((parse_resource_id(resource) for resource in resources),
                   key=lambda part: kinds.index(str(part.kind).lower()))
    commands = []
    for part in parts:
        verb, after = _DELETE_COMMANDS[str(part.kind).lower()]
        commands.append(f"{verb} -g {group} -n {part.name}{after}")
    return "; ".join(commands)


async def _all(concurrent: bool, *calls: Awaitable[Any]) -> list[Any]:
    """Await ``calls`` together (``concurrent``) or one after another; all have ended when a failure is raised."""
    if not concurrent:
        results = []
        for index, call in enumerate(calls):
            try:
                results.append(await call)
            except BaseException:
                for rest in calls[index + 1:]:
                    getattr(rest, "close", lambda: None)()  # never started: no "never awaited" warning
                raise
        return results
    settled = await asyncio.gather(*calls, return_exceptions=True)
    failure = next((result for result in settled if isinstance(result, BaseException)), None)
    if failure is not None:
        raise failure
    return list(settled)


# ---------------------------------------------------------------------- request bodies
def _customer_key(disk: dict[str, Any]) -> dict[str, str]:
    """The disk's ``encryption`` when a disk encryption set (a customer-managed key) encrypts it, else empty."""
    encryption = disk["properties"].get("encryption") or {}
    if not encryption.get("diskEncryptionSetId"):
        return {}
    return {"type": str(encryption.get("type") or "EncryptionAtRestWithCustomerKey"),
            "diskEncryptionSetId": str(encryption["diskEncryptionSetId"])}


def _snapshot_body(disk: dict[str, Any], names: _Names) -> dict[str, Any]:
    body: dict[str, Any] = {"location": names.location, "sku": {"name": "Standard_LRS"}, "tags": names.tags,
                            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk["id"]},
                                           "incremental": False}}
    if names.encryption:
        body["properties"]["encryption"] = dict(names.encryption)
    return body


def _disk_body(disk: dict[str, Any], names: _Names, snapshot_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"location": names.location, "sku": disk.get("sku") or {"name": "Premium_LRS"},
                            "tags": names.tags,
                            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": snapshot_id},
                                           "osType": disk["properties"].get("osType"),
                                           "hyperVGeneration": disk["properties"].get("hyperVGeneration")}}
    if names.encryption:
        body["properties"]["encryption"] = dict(names.encryption)
    if disk.get("zones"):  # where the source is: a zone-redundant (ZRS) disk is in none, and must not be pinned
        body["zones"] = list(disk["zones"])
    return body


def _nsg_body(names: _Names) -> dict[str, Any]:
    deny = {"name": "kit-deny-all-inbound", "properties": {
        "protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*", "sourceAddressPrefix": "*",
        "destinationAddressPrefix": "*", "access": "Deny", "priority": 100, "direction": "Inbound",
        "description": "kit repair: nothing reaches the repair VM; Run Command needs no inbound port"}}
    return {"location": names.location, "tags": names.tags, "properties": {"securityRules": [deny]}}


def _nic_body(names: _Names, subnet_id: str, nsg_id: str) -> dict[str, Any]:
    return {"location": names.location, "tags": names.tags,
            "properties": {"networkSecurityGroup": {"id": nsg_id}, "ipConfigurations": [
                {"name": "ipconfig1", "properties": {"subnet": {"id": subnet_id},
                                                     "privateIPAllocationMethod": "Dynamic"}}]}}


def _repair_vm_kind(kind: tuple[str, str]) -> tuple[tuple[str, ...], tuple[str, str, str]]:
    return _REPAIR_VMS.get(kind) or _REPAIR_VMS[("arm64", "V2") if kind[0] == "arm64" else ("x64", "V1")]


def _another_size_may_fit(error: AzureError) -> bool:
    """A size out of capacity (``SkuNotAvailable``) or past its family's quota: the next size is another family.

    The subscription's total regional vCPU quota counts every size: no other size helps.
    """
    text = str(error)
    return error.code == "SkuNotAvailable" or (
        error.code == "OperationNotAllowed" and "Family Cores quota" in text and "Total Regional" not in text)


def _repair_vm_body(names: _Names, kind: tuple[str, str], size: str, os_type: str, nic_id: str) -> dict[str, Any]:
    _, (publisher, offer, sku) = _repair_vm_kind(kind)
    if os_type == "windows":
        publisher, offer, sku = WINDOWS_IMAGES[kind[1]]
    body: dict[str, Any] = {
        "location": names.location, "tags": names.tags,
        "properties": {
            "hardwareProfile": {"vmSize": size},
            "storageProfile": {
                "imageReference": {"publisher": publisher, "offer": offer, "sku": sku, "version": "latest"},
                "osDisk": {"name": names.repair_os_disk, "createOption": "FromImage", "osType": os_type.capitalize(),
                           "managedDisk": {"storageAccountType": "Premium_LRS"}, "deleteOption": "Detach"},
                "dataDisks": []},
            "osProfile": os_profile(os_type, names.repair_vm, names.stamp),
            "networkProfile": {"networkInterfaces": [{"id": nic_id, "properties": {"primary": True}}]},
            "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}}}}
    if kind == ("x64", "V2"):  # Trusted Launch is an x64 feature (az vm repair turns it off on Arm64 too)
        body["properties"]["securityProfile"] = {"securityType": "TrustedLaunch",
                                                 "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
    if names.encryption_at_host:
        body["properties"].setdefault("securityProfile", {})["encryptionAtHost"] = True
    if names.encryption:
        body["properties"]["storageProfile"]["osDisk"]["managedDisk"]["diskEncryptionSet"] = {
            "id": names.encryption["diskEncryptionSetId"]}
    if names.zones:
        body["zones"] = names.zones
    return body


def _copy_attachment(disk_id: str) -> dict[str, Any]:
    return {"lun": 0, "createOption": "Attach", "managedDisk": {"id": disk_id}, "deleteOption": "Detach"}


def _id(sub: str, group: str, kind: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{group}/providers/{kind}/{name}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------- before and after
@dataclass(frozen=True)
class BootState:
    """What a fix is built from: the VM's OS type and its boot-diagnostics serial log.

    Parameters
    ----------
    os_type
        ``linux`` or ``windows``.
    serial_log
        The serial log's text (empty when the VM has none).
    """

    os_type: str
    serial_log: str


def read_boot_state(target: AzureTarget, vm_id: str) -> BootState:
    """The VM's OS type and serial log (blocking), to build its fix script from."""
    from azure.mgmt.compute import ComputeManagementClient

    parsed = parse_resource_id(vm_id)
    credential = target.sync_credential()
    with ComputeManagementClient(credential, parsed.subscription_id, **target.client_kwargs()) as client, \
            map_azure_errors("virtual_machines.get", vm_id):
        vm = client.virtual_machines.get(str(parsed.resource_group), parsed.name).as_dict()
    os_type = str(vm.get("properties", {}).get("storageProfile", {}).get("osDisk", {}).get("osType", "Linux"))
    log = serial_log(target, vm_id) or b""
    return BootState(os_type.lower(), log.decode("utf-8", errors="replace"))


def boot_proof(target: AzureTarget, vm_id: str, *, timeout: float = 120, interval: float = 2) -> BootProof:
    """Wait until the VM's serial log shows its last boot at a login prompt (or ``timeout``).

    A boot that panics or stops in emergency mode fails at once; the last boot is the part of the
    log from its last ``Linux version`` banner. (``kit recover-check`` proves more: this is the
    proof when no recovery check is wired in.)
    """
    name = parse_resource_id(vm_id).name
    deadline = time.monotonic() + timeout
    while True:
        text = (serial_log(target, vm_id) or b"").decode("utf-8", errors="replace")
        last = text[text.rfind("Linux version "):] if "Linux version " in text else text
        failed = _BOOT_FAILED.search(last)
        if failed:
            return BootProof(False, f"the last boot of {name} failed again ({failed.group(0)})")
        if _LOGIN.search(last.replace("\r", "").rstrip()):
            return BootProof(True, f"the last boot of {name} reached the login prompt")
        if time.monotonic() >= deadline:
            return BootProof(False, f"the serial log of {name} shows no login prompt after {timeout:g} s")
        time.sleep(interval)
