"""Platform markers: Hyper-V and Azure. The parser never claims Azure without one of these.

A marker is reported once, at the first line that shows it (the parser drops repeats). A line
gives one marker: the first of :data:`MARKERS` it holds (the DMI line ``Microsoft Corporation
Virtual Machine … BIOS Hyper-V UEFI`` gives the former; ``Hyper-V`` comes on the next lines).

Sources: the Hyper-V guest's kernel lines (drivers/hv/vmbus_drv.c ``hv_vmbus: …``,
arch/x86/kernel/cpu/mshyperv.c ``Hypervisor detected: Microsoft Hyper-V``, DMI ``Microsoft
Corporation Virtual Machine``), systemd-detect-virt (``Detected virtualization microsoft``);
Azure-only names: the wire server 168.63.129.16 ("What is IP address 168.63.129.16?",
learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16), cloud-init's
DataSourceAzure, the Azure Linux Agent, Windows' WindowsAzureGuestAgent and the Azure VM Health
Report (learn.microsoft.com/troubleshoot/azure/virtual-machines/windows/boot-diagnostics).
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Rule, Signature, register

__all__ = ["MARKERS", "RULE"]

#: (text in the line, marker name reported). Hyper-V first, then Azure-only markers.
MARKERS: tuple[tuple[str, str], ...] = (
    ("hv_vmbus", "hv_vmbus"),
    ("Microsoft Corporation Virtual Machine", "Microsoft Corporation Virtual Machine"),
    ("Hyper-V", "Hyper-V"),
    ("Detected virtualization microsoft", "Hyper-V"),
    ("168.63.129.16", "168.63.129.16"),
    ("DataSourceAzure", "DataSourceAzure"),
    ("waagent", "waagent"),
    ("WALinuxAgent", "waagent"),
    ("walinuxagent", "waagent"),
    ("Azure Linux Agent", "waagent"),
    ("Azure VM Health Report", "Azure VM Health Report"),
    ("WindowsAzureGuestAgent", "WindowsAzureGuestAgent"),
)

#: A real line for each marker text (the signatures' samples).
_SAMPLES: dict[str, str] = {
    "hv_vmbus": "[    0.281402] hv_vmbus: Vmbus version:5.2",
    "Microsoft Corporation Virtual Machine": "[    0.000000] DMI: Microsoft Corporation Virtual Machine/Virtual "
                                             "Machine, BIOS Hyper-V UEFI Release v4.1 05/09/2022",
    "Hyper-V": "[    0.000000] Hypervisor detected: Microsoft Hyper-V",
    "Detected virtualization microsoft": "[    1.211000] systemd[1]: Detected virtualization microsoft.",
    "168.63.129.16": "2026-11-25T09:13:58.631221Z INFO ExtHandler ExtHandler Wire server endpoint:168.63.129.16",
    "DataSourceAzure": "[    9.500000] cloud-init[1104]: Cloud-init v. 23.3.3 finished at Wed, 25 Nov 2026 09:13:58 "
                       "+0000. Datasource DataSourceAzure [seed=/dev/sr0].  Up 9.50 seconds",
    "waagent": "Nov 25 09:13:58 vm-01 systemd[1]: Started waagent.service - Azure Linux Agent.",
    "WALinuxAgent": "2026-11-25T09:13:58.700000Z INFO Daemon Daemon Determined Agent WALinuxAgent-2.12.0.2 to be the "
                    "latest agent",
    "walinuxagent": "[  OK  ] Stopped walinuxagent.service.",
    "Azure Linux Agent": "2026-11-25T09:13:58.412311Z INFO Daemon Daemon Azure Linux Agent Version: 2.9.1.1",
    "Azure VM Health Report": "Azure VM Health Report v1.0 - Status: Healthy",
    "WindowsAzureGuestAgent": "EVENT: The WindowsAzureGuestAgent service entered the running state.",
}

RULE = register(Rule("platform", [
    Signature("boot:platform:marker", re.escape(text), f"Platform marker: {marker}.", marker=marker,
              samples=(_SAMPLES[text],), source="the platform's own names (module docstring)")
    for text, marker in MARKERS
]))
