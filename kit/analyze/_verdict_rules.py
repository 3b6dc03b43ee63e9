"""The classification's rules, as tables: which signals support or contradict each hypothesis,
what level it sits at, and the next step it leads to.

A *signal* is a named question about the evidence (``nsg_denies_access``: does an NSG deny the
responder's SSH/RDP?) answered by a ``_s_<signal>`` method of :class:`~kit.analyze._verdict_facts.Facts`
(or, for boot findings, by :data:`BOOT_SIGNALS`) with the evidence rows that show it. A hypothesis's
score is the sum of the weights of its supporting signals that fired, minus
the weights of its contradicting ones. Read a row of :data:`RULES` as a sentence: "*kind* is
supported by … and contradicted by …; it is a *level* problem; do *next_step*".
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BOOT_SIGNALS", "CONSOLE_COMMANDS", "MIN_SCORE", "REPAIR_RUN_IDS", "RULES", "STEP_TEXT", "Rule"]


@dataclass(frozen=True)
class Rule:
    """One hypothesis: its signals and where it leads.

    Parameters
    ----------
    kind
        The hypothesis kind (``docs/architecture.md``).
    level
        ``guest`` (inside the OS), ``platform`` (Azure: power state, network configuration,
        the host) or ``none``.
    next_step
        The next step kind.
    support
        ``(signal, weight)`` pairs that make it more likely.
    against
        ``(signal, weight)`` pairs that make it less likely.
    """

    kind: str
    level: str
    next_step: str
    support: tuple[tuple[str, float], ...]
    against: tuple[tuple[str, float], ...] = ()


#: Below this score a hypothesis is not reported as an explanation.
MIN_SCORE = 2.0

#: Boot-log finding kinds (or a ``boot:<family>`` prefix) → the signal they raise. Only findings
#: of severity warning or worse count; the longest matching key wins.
BOOT_SIGNALS: dict[str, str] = {
    "boot:kernel:panic": "boot_panic",
    "boot:kernel:panic_end": "boot_panic",
    "boot:kernel:oops": "boot_oops",
    "boot:kernel:general_protection_fault": "boot_oops",
    "boot:kernel:soft_lockup": "boot_oops",
    "boot:kernel:hung_task": "boot_oops",
    "boot:kernel:root_device": "boot_root_device",
    "boot:initramfs:root_missing": "boot_root_device",
    "boot:initramfs:timeout": "boot_root_device",
    "boot:initramfs:emergency_shell": "boot_root_device",
    "boot:kernel:hv_driver_failed": "hyperv_driver",
    "boot:fstab": "boot_fstab",
    "boot:systemd:emergency_mode": "boot_emergency",
    "boot:systemd:rescue_mode": "boot_emergency",
    "boot:systemd:root_locked": "boot_emergency",
    "boot:filesystem": "boot_filesystem",
    "boot:bootloader": "boot_bootloader",
    "boot:windows:bcd_error": "boot_bootloader",
    "boot:windows:boot_manager_error": "boot_bootloader",
    "boot:windows:bugcheck": "windows_bugcheck",
    "boot:sshd": "sshd_failed",
    "boot:windows:rdp_service": "rdp_failed",
    "boot:firewall": "guest_firewall_seen",
}

_DOWN = (("vm_not_running", 4.0),)
_NETWORK_BLOCKS = (("nsg_denies_access", 2.5), ("route_drops_replies", 2.5))
_BOOT_BROKEN = (("boot_failed_any", 1.5),)

#: The hypotheses, most specific first (ties keep this order).
RULES: tuple[Rule, ...] = (
    Rule("vm_not_running", "platform", "start_vm",
         support=(("vm_not_running", 5.0), ("stop_operation", 1.0)),
         against=(("vm_running", 5.0),)),
    Rule("boot_failure:kernel_panic", "guest", "repair_vm",
         support=(("boot_panic", 4.0), ("boot_oops", 1.0), ("no_login_prompt", 1.0)),
         against=(*_DOWN, ("login_prompt", 3.0))),
    Rule("boot_failure:root_device", "guest", "repair_vm",
         support=(("boot_root_device", 4.0), ("no_login_prompt", 1.0)),
         against=(*_DOWN, ("login_prompt", 3.0))),
    Rule("boot_failure:fstab", "guest", "serial_console",
         support=(("boot_fstab", 4.0), ("boot_emergency", 1.0), ("no_login_prompt", 0.5), ("guest_change", 0.5)),
         against=(*_DOWN, ("login_prompt", 2.0))),
    Rule("boot_failure:filesystem", "guest", "serial_console",
         support=(("boot_filesystem", 3.5), ("boot_emergency", 1.0), ("no_login_prompt", 0.5)),
         against=(*_DOWN, ("login_prompt", 2.0))),
    Rule("boot_failure:bootloader", "guest", "repair_vm",
         support=(("boot_bootloader", 4.0), ("windows_bugcheck", 1.0), ("no_login_prompt", 1.0)),
         against=(*_DOWN, ("login_prompt", 3.0))),
    Rule("service_failure:sshd", "guest", "serial_console",
         support=(("sshd_failed", 4.0), ("unexplained_subject", 0.5), ("guest_change", 0.5),
                  ("login_prompt", 0.5), ("network_allows_access", 0.5)),
         against=(*_DOWN, *_NETWORK_BLOCKS, *_BOOT_BROKEN, ("windows_guest", 4.0))),
    Rule("service_failure:rdp", "guest", "serial_console",
         support=(("rdp_failed", 4.0), ("guest_change", 0.5), ("login_prompt", 0.5), ("network_allows_access", 0.5)),
         against=(*_DOWN, *_NETWORK_BLOCKS, *_BOOT_BROKEN, ("linux_guest", 4.0))),
    Rule("guest_firewall", "guest", "serial_console",
         support=(("guest_firewall_seen", 3.5), ("unexplained_subject", 1.5), ("guest_change", 0.5),
                  ("login_prompt", 0.5), ("network_allows_access", 0.5)),
         against=(*_DOWN, *_NETWORK_BLOCKS, *_BOOT_BROKEN)),
    Rule("nsg_deny", "platform", "change_nsg",
         support=(("nsg_denies_access", 4.0), ("nsg_differs_from_peers", 1.0), ("nsg_changed", 0.5)),
         against=(*_DOWN, ("network_allows_access", 4.0))),
    Rule("route_blackhole", "platform", "change_route",
         support=(("route_drops_replies", 4.0), ("route_differs_from_peers", 1.0), ("route_changed", 0.5)),
         against=(*_DOWN, ("nsg_denies_access", 1.0), ("route_delivers", 4.0))),
    Rule("platform", "platform", "escalate",
         support=(("platform_unavailable", 3.5), ("service_health_incident", 1.0), ("hyperv_driver", 1.5)),
         against=(("platform_available", 1.0),)),
)

#: Next step kind → (what to do, the commands to look at first). ``{placeholders}`` are filled in.
STEP_TEXT: dict[str, tuple[str, tuple[str, ...]]] = {
    "serial_console": ("Open the serial console ({how}) and look at the guest first.", ()),
    "change_nsg": ("Change the network security group: {what}.", ()),
    "change_route": ("Change the route table: {what}.", ()),
    "repair_vm": ("The guest cannot boot to a shell: attach its OS disk to a repair VM, fix it there, "
                  "then swap it back.", (
        "az vm repair create -g {rg} -n {vm} --verbose",
        "az vm repair run -g {rg} -n {vm} --run-on-repair --run-id {run_id} --verbose",
        "az vm repair restore -g {rg} -n {vm} --verbose",
    )),
    "start_vm": ("The VM is not running: start it, then collect again.", ("az vm start -g {rg} -n {vm}",)),
    "restore_backup": ("Restore the VM from its last good backup.", ()),
    "escalate": ("The evidence points at the Azure platform: open a support case with this evidence attached.", ()),
    "none": ("Nothing to fix on this VM.", ()),
}

#: Serial-console commands to look at first, per hypothesis (Linux unless the kind says RDP).
CONSOLE_COMMANDS: dict[str, tuple[str, ...]] = {
    "guest_firewall": ("iptables -S", "nft list ruleset", "ufw status verbose", "firewall-cmd --list-all",
                       "journalctl -b -u ssh --no-pager | tail -50"),
    "service_failure:sshd": ("systemctl status ssh sshd --no-pager",
                             "journalctl -u ssh -u sshd -b --no-pager | tail -50",
                             "sshd -t", "ls -l /etc/ssh/ssh_host_*"),
    "service_failure:rdp": ("cmd", "sc query TermService", "sc qc TermService",
                            "reg query \"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\" "
                            "/v fDenyTSConnections",
                            "netstat -ano | findstr 3389"),
    "boot_failure:fstab": ("cat /etc/fstab", "systemctl --failed",
                           "journalctl -xb --no-pager | grep -i -e mount -e fstab", "lsblk -f", "blkid"),
    "boot_failure:filesystem": ("journalctl -xb --no-pager | grep -i -e xfs -e ext4 -e fsck", "lsblk -f",
                                "fsck -n /dev/<device>  (read-only check first)"),
}

#: ``az vm repair run --run-id`` per hypothesis (Azure/repair-script-library).
REPAIR_RUN_IDS: dict[str, str] = {
    "boot_failure:kernel_panic": "linux-kernel-downgrade",
    "boot_failure:root_device": "linux-alar2",
    "boot_failure:bootloader": "linux-alar2",
}
