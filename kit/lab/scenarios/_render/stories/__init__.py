"""One module per scenario; each defines ``STORY`` (see kit/lab/scenarios/build.py)."""

from . import (
           deallocated,
           firewall_lockout,
           fstab_emergency,
           kernel_panic,
           nsg_deny,
           route_blackhole,
           sshd_broken,
           windows_rdp,
)

STORIES = [firewall_lockout.STORY, fstab_emergency.STORY, sshd_broken.STORY, nsg_deny.STORY,
           route_blackhole.STORY, windows_rdp.STORY, kernel_panic.STORY, deallocated.STORY]

__all__ = ["STORIES"]
