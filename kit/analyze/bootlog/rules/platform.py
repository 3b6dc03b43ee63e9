"""Platform markers: Hyper-V and Azure. The parser never claims Azure without one of these."""

from __future__ import annotations

from collections.abc import Sequence

from kit.analyze.bootlog.rules._base import Context, Hit, register

__all__ = ["MARKERS", "PlatformRule"]

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


class PlatformRule:
    """Marks the first line that shows each Hyper-V or Azure marker."""

    NAME = "platform"
    TRIGGERS = (
        "vmbus", "Microsoft Corporation", "Hyper-V", "Detected virtualization", "DataSourceAzure", "WALinuxAgent",
        "Azure", "WindowsAzureGuestAgent", "Wire server", "WireServer",
    )

    def matches(self, line: str) -> bool:
        return any(text in line for text, _ in MARKERS)

    def parse_line(self, line: str, context: Context) -> Sequence[Hit]:
        hits, seen = [], set()
        for text, marker in MARKERS:
            if text in line and marker not in seen:
                seen.add(marker)
                hits.append(Hit("boot:platform:marker", f"Platform marker: {marker}.", marker=marker))
        return hits


register(PlatformRule())
