"""The platform family: every Hyper-V and Azure marker is still emitted, once, and decides the
platform; markers are never findings."""

from __future__ import annotations

import pytest
from bootlog_data import ESC

from kit.analyze.bootlog import parse_boot_log
from kit.analyze.bootlog.rules.platform import MARKERS


@pytest.mark.parametrize(("line", "marker", "platform"), [
    ("[    0.281402] hv_vmbus: Vmbus version:5.2", "hv_vmbus", "hyperv"),
    ("[    0.000000] DMI: Microsoft Corporation Virtual Machine/Virtual Machine, BIOS Hyper-V UEFI Release v4.1",
     "Microsoft Corporation Virtual Machine", "hyperv"),
    ("[    0.000000] Hypervisor detected: Microsoft Hyper-V", "Hyper-V", "hyperv"),
    ("Nov 25 09:13:44 vm-01 systemd[1]: Detected virtualization microsoft.", "Hyper-V", "hyperv"),
    ("2026-11-25T09:13:58.631221Z INFO ExtHandler ExtHandler Wire server endpoint:168.63.129.16", "168.63.129.16",
     "azure-hyperv"),
    ("[    6.320000] cloud-init[598]: ci-info: |   2   |  168.63.129.16  | 10.0.0.1 | 255.255.255.255 |    eth0   |",
     "168.63.129.16", "azure-hyperv"),
    ("[    9.500000] cloud-init[1104]: Cloud-init v. 23.3.3 finished at Wed, 25 Nov 2026 09:13:58 +0000. Datasource "
     "DataSourceAzure [seed=/dev/sr0].  Up 9.50 seconds", "DataSourceAzure", "azure-hyperv"),
    (f"[{ESC}[0;32m  OK  {ESC}[0m] Started {ESC}[0;1;39mwalinuxagent.service{ESC}[0m - Azure Linux Agent.", "waagent",
     "azure-hyperv"),
    ("[[0;32m  OK  [0m] Started [0;1;39mwaagent.service[0m - Azure Linux Agent.", "waagent", "azure-hyperv"),
    ("2026-11-25T09:13:58.412311Z INFO Daemon Daemon Azure Linux Agent Version: 2.9.1.1", "waagent", "azure-hyperv"),
    ("Determined Agent WALinuxAgent-2.12.0.2 to be the latest agent", "waagent", "azure-hyperv"),
    ("Azure VM Health Report v1.0 - Status: Healthy", "Azure VM Health Report", "azure-hyperv"),
    ("EVENT: The WindowsAzureGuestAgent service entered the running state.", "WindowsAzureGuestAgent",
     "azure-hyperv"),
])
def test_each_marker_is_emitted_and_decides_the_platform(line: str, marker: str, platform: str) -> None:
    report = parse_boot_log(line.encode() + b"\r\n")
    assert marker in report.platform_markers and report.platform == platform
    assert not [f for f in report.findings if f.kind.startswith("boot:platform:")]


def test_every_declared_marker_text_is_recognised() -> None:
    for text, marker in MARKERS:
        report = parse_boot_log(f"[    1.000000] x {text} y".encode() + b"\r\n")
        assert marker in report.platform_markers, text


def test_a_marker_is_recorded_once_however_often_it_appears() -> None:
    line = b"[    0.282006] hv_vmbus: registering driver hyperv_keyboard\r\n"
    report = parse_boot_log(line * 5)
    assert report.platform_markers == ("hv_vmbus",)
    assert [e.line for e in report.events if e.kind == "boot:platform:marker"] == [1]


def test_no_marker_no_platform() -> None:
    report = parse_boot_log(b"[    0.100000] DMI: QEMU Standard PC (Q35 + ICH9, 2009)\r\nvm login: \r\n")
    assert (report.platform, report.platform_markers) == ("unknown", ())
