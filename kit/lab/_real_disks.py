"""Managed disks of real guests: image files copied, a real repair VM, a real boot from a swapped disk.

When the scenario's broken VM is a real Debian 12 under QEMU (:mod:`kit.lab.realguest`), its OS
disk is the raw image the VM runs from. A snapshot and a disk made from one are sparse copies of
it (seconds, off the event loop); a repair VM with such a copy attached is a real rescue VM,
booted when its first script arrives and stopped when the copy is detached (two QEMUs must never
write one image); starting the broken VM after its OS disk was swapped boots the swapped image.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from kit.lab._scripts import ScriptRun
from kit.lab._state import LabState
from kit.lab.gateway import hub_of
from kit.lab.realguest import RealGuest, agent_ready, boot_disk, copy_disk, start_rescue_vm

__all__ = ["RealRescue", "boot_real_disk", "copy_image", "real_rescue", "stop_real_guests", "stop_rescue"]

_SCRATCH = "real_disk_scratch"
_RESCUES = "real_rescues"
_STARTED = "real_guests_started"
_SCRIPT_TIMEOUT = 1800.0  # a fix may regenerate an initramfs: minutes under TCG


def _scratch(state: LabState) -> Path:
    folder: Path | None = state.extras.get(_SCRATCH)
    if folder is None:
        folder = state.extras[_SCRATCH] = Path(tempfile.mkdtemp(prefix="kit-lab-disks-"))
    return folder


async def copy_image(state: LabState, image: Path, target_id: str) -> Path:
    """A sparse copy of ``image`` for the disk or snapshot ``target_id`` (in the lab's scratch folder)."""
    name = target_id.rstrip("/").rsplit("/", 1)[-1]
    return await asyncio.to_thread(copy_disk, image, _scratch(state) / f"{name}.img")


def _started(state: LabState) -> list[RealGuest]:
    started: list[RealGuest] = state.extras.setdefault(_STARTED, [])
    return started


@dataclass
class RealRescue:
    """The real repair VM of ``vm_id``: booted with its attached copies when a script arrives."""

    state: LabState
    vm_id: str
    name: str
    guest: RealGuest | None = None
    images: tuple[Path, ...] = ()
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def run(self, script: str, images: tuple[Path, ...]) -> ScriptRun:
        """Run ``script`` as root on the rescue VM with ``images`` attached (booting it first if needed)."""
        async with self._lock:
            if self.guest is None or images != self.images:
                await asyncio.to_thread(self._boot, images)
            guest = self.guest
            assert guest is not None
            out, err, code = await guest.run_script(script, timeout=_SCRIPT_TIMEOUT)
        return ScriptRun(out, err, code)

    def _boot(self, images: tuple[Path, ...]) -> None:
        self.stop()
        folder = _scratch(self.state) / f"rescue-{self.name}-{len(_started(self.state))}"
        guest = start_rescue_vm(images[0], folder, hostname=self.name)
        _started(self.state).append(guest)
        self.guest, self.images = guest, images
        guest.wait_until_booted(_SCRIPT_TIMEOUT)
        deadline = time.monotonic() + 120
        while not agent_ready(guest.qemu.agent_socket):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the repair VM {self.name} booted but its guest agent does not answer")
            time.sleep(1)

    def stop(self) -> None:
        """Power the rescue VM off (its copies are free to attach elsewhere)."""
        if self.guest is not None:
            self.guest.qemu.stop()
            self.guest, self.images = None, ()


def real_rescue(state: LabState, vm_id: str, name: str) -> RealRescue:
    """The real rescue of repair VM ``vm_id`` (made on first use)."""
    rescues: dict[str, RealRescue] = state.extras.setdefault(_RESCUES, {})
    return rescues.setdefault(vm_id.lower(), RealRescue(state, vm_id, name))


def stop_rescue(state: LabState, vm_id: str) -> None:
    """Stop ``vm_id``'s real rescue VM, if it has one running (a data disk detached, the VM deleted)."""
    rescue = state.extras.get(_RESCUES, {}).get(vm_id.lower())
    if rescue is not None:
        rescue.stop()


async def boot_real_disk(state: LabState, vm_id: str, scenario: str, variant: str, image: Path) -> RealGuest:
    """Boot ``image`` as VM ``vm_id`` (its OS disk was swapped): the old QEMU stops, the new one is the console."""
    hub = hub_of(state)
    key = vm_id.lower()
    previous = hub.guests.get(key)
    if isinstance(previous, RealGuest):
        await asyncio.to_thread(previous.qemu.stop)
    folder = _scratch(state) / f"vm-{image.stem}-{len(_started(state))}"
    guest = await asyncio.to_thread(boot_disk, scenario, variant, image, folder)
    _started(state).append(guest)
    hub.guests[key] = guest
    state.serial_logs[key] = guest.qemu.serial_log
    return guest


def stop_real_guests(state: LabState) -> None:
    """Stop every QEMU the repair flow started and remove the disk copies (the lab is stopping)."""
    for guest in _started(state):
        guest.qemu.stop()
    folder = state.extras.pop(_SCRATCH, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
