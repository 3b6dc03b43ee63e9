"""One module per scenario; each defines ``STORY`` (see kit/lab/scenarios/build.py)."""

from typing import Any

from kit.lab.scenarios._render.stories import (
    deallocated,
    firewall_lockout,
    fstab_emergency,
    kernel_panic,
    nsg_deny,
    route_blackhole,
    sshd_broken,
    vmss_canary_firewall,
    windows_rdp,
)

__all__ = ["STORIES"]

#: Every scenario's story, in the order the scenarios are rendered.
STORIES: list[dict[str, Any]] = [firewall_lockout.STORY, fstab_emergency.STORY, sshd_broken.STORY, nsg_deny.STORY,
                                 route_blackhole.STORY, windows_rdp.STORY, kernel_panic.STORY, deallocated.STORY,
                                 vmss_canary_firewall.STORY]
