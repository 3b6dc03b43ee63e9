"""Whether a guest answers on its serial port (SAC, a ttyS0 getty), read from real-shaped serial logs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kit.analyze.console_access import CONNECT_ACTION, console_actions, serial_access

DATA = Path(__file__).parent / "bootlog" / "data"
SCENARIOS = Path(__file__).parents[2] / "kit" / "lab" / "scenarios"
SUB = "6f1d2c3b-4a59-4e8f-9b1c-2d3e4f5a6b7c"


def without_serial_getty(log: bytes) -> bytes:
    """The same boot with no getty on ttyS0: no "Serial Getty" unit, no ttyS0 banner, no login prompt."""
    dropped = re.compile(rb"Serial Getty|serial-getty|ttyS0\s*$| login:")
    return b"\n".join(line for line in log.split(b"\n") if not dropped.search(line))


def test_a_linux_boot_with_a_ttys0_getty_answers() -> None:
    access = serial_access((DATA / "ubuntu-healthy.log").read_bytes(), "linux")
    assert access.status == "ok" and "ttyS0" in access.reason and access.line is not None


def test_a_getty_on_tty1_is_the_screen_not_the_serial_port() -> None:
    log = without_serial_getty((DATA / "ubuntu-healthy.log").read_bytes())
    log += b"\n[  OK  ] Started getty@tty1.service - Getty on tty1.\n"
    access = serial_access(log, "linux")
    assert access.status == "failed" and "no getty started on ttyS0" in access.reason
    assert "serial-getty@ttyS0" in access.fix and "console=ttyS0" in access.fix


def test_a_boot_that_stopped_early_cannot_tell_unless_an_earlier_boot_did() -> None:
    early = serial_access((DATA / "ubuntu-initramfs-busybox.log").read_bytes(), "linux")
    assert early.status == "unknown" and "initramfs" in early.reason
    panic = serial_access((SCENARIOS / "kernel-panic" / "serial" / "hist-app-01.log").read_bytes(), "linux")
    assert panic.status == "ok" and "earlier boot" in panic.reason


def test_windows_with_sac_answers_and_without_it_fails_naming_ems() -> None:
    sac = serial_access((DATA / "windows-sac-healthy.log").read_bytes(), "windows")
    assert sac.status == "ok" and "SAC" in sac.reason
    off = serial_access((DATA / "windows-health-report.log").read_bytes(), "windows")
    assert off.status == "failed" and "EMS is off" in off.reason and "bcdedit /ems {current} on" in off.fix
    stuck = serial_access((DATA / "windows-bcd-missing.log").read_bytes(), "windows")
    assert stuck.status == "unknown"


@pytest.mark.parametrize("log", [b"", "", b"\x00\xff\xfe garbage \x00" * 50])
def test_no_log_or_garbage_cannot_tell(log: bytes | str) -> None:
    assert serial_access(log, None).status == "unknown"


def test_the_actions_needed_depend_on_vm_or_scale_set_instance() -> None:
    vm = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/app-01"
    instance = (f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss"
                "/virtualMachines/3")
    assert console_actions(vm) == (CONNECT_ACTION, "Microsoft.Compute/virtualMachines/read",
                                   "Microsoft.Compute/virtualMachines/write")
    assert all("virtualMachineScaleSets/virtualMachines" in a for a in console_actions(instance)[1:])
