"""The right answer for every lab scenario, written once for every test (docs/architecture.md).

Independent of the scenario data on purpose: tests check the data (``scenario.yaml``), the
classification and the reports against this table, so a change to either shows up.
"""

from __future__ import annotations

from typing import NamedTuple


class Answer(NamedTuple):
    """The broken VM's top hypothesis, its next step, and whether it is a guest or platform problem."""

    hypothesis: str
    next_step: str
    level: str


ANSWERS: dict[str, Answer] = {
    "firewall-lockout": Answer("guest_firewall", "serial_console", "guest"),
    "fstab-emergency": Answer("boot_failure:fstab", "serial_console", "guest"),
    "sshd-broken": Answer("service_failure:sshd", "serial_console", "guest"),
    "nsg-deny": Answer("nsg_deny", "change_nsg", "platform"),
    "route-blackhole": Answer("route_blackhole", "change_route", "platform"),
    "windows-rdp": Answer("service_failure:rdp", "serial_console", "guest"),
    "kernel-panic": Answer("boot_failure:kernel_panic", "repair_vm", "guest"),
    "deallocated": Answer("vm_not_running", "start_vm", "platform"),
    "vmss-canary-firewall": Answer("guest_firewall", "serial_console", "guest"),
}

#: A known-good peer in any scenario.
HEALTHY = Answer("no_fault_found", "none", "none")
