"""Real guests for the repair VM flow: disk copies, a rescue VM with a copy attached, booting a swapped disk.

A managed disk of a real guest is a raw image file. A snapshot and a disk made from it are sparse
copies (:func:`copy_disk`). The repair VM is a healthy Debian 12 booted with the copy as its
second disk (``/dev/vdb``) and ``root=/dev/vda``: the copy carries the same file-system UUID as
the rescue VM's own root, which is the duplicate-UUID trap of real repair VMs. Once the broken
VM's OS disk is swapped, :func:`boot_disk` boots it as the VM, a real guest like any other.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from kit.errors import LabError
from kit.lab.realguest._guest import RealGuest
from kit.lab.realguest._image import BaseImage, build_base
from kit.lab.realguest._qemu import QemuGuest
from kit.lab.realguest._variants import make_variant

__all__ = ["boot_disk", "copy_disk", "start_rescue_vm"]


def copy_disk(source: Path, dest: Path) -> Path:
    """A sparse copy of the raw disk ``source`` at ``dest`` (a snapshot, or a disk from one).

    Raises
    ------
    LabError
        ``source`` is missing or the copy failed.
    """
    if not source.is_file():
        raise LabError(f"the disk image {source} does not exist")
    dest.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["cp", "--sparse=always", "--reflink=auto", str(source), str(dest)],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise LabError(f"could not copy the disk {source} to {dest}: {done.stderr.strip()}")
    return dest


def start_rescue_vm(data_disk: Path, folder: Path, *, hostname: str, image: BaseImage | None = None,
                    memory: int = 768) -> RealGuest:
    """Boot a healthy Debian 12 named ``hostname`` with ``data_disk`` attached as ``/dev/vdb``.

    The rescue VM's own disk is a new ``healthy`` variant under ``folder``; scripts reach it over
    SSH as on any real guest (:meth:`RealGuest.check` logs in the same way).
    """
    base = image or build_base()
    disk = make_variant(base, "healthy", folder / "rescue-os.img", hostname=hostname)
    qemu = QemuGuest(disk, folder, memory=memory, data_disks=(data_disk,), root="/dev/vda").start()
    return RealGuest(hostname, "healthy", qemu, base)


def boot_disk(scenario: str, variant: str, disk: Path, folder: Path, *, image: BaseImage | None = None,
              clock: dt.datetime | None = None, memory: int = 1024) -> RealGuest:
    """Boot ``disk`` as ``scenario``'s VM (after its OS disk was swapped): a real guest judged as ``variant``."""
    rtc = clock.strftime("%Y-%m-%dT%H:%M:%S") if clock is not None else None
    qemu = QemuGuest(disk, folder, memory=memory, rtc_base=rtc).start()
    return RealGuest(scenario, variant, qemu, image or build_base())
