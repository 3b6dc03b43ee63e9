"""The classification's rules, as tables: which signals support or contradict each hypothesis,
what level it sits at, and the next step it leads to.

A *signal* is a named question about the evidence (``nsg_denies_access``: does an NSG deny the
responder's SSH/RDP?) answered by a ``_s_<signal>`` method of :class:`~kit.analyze._verdict_facts.Facts`
(or, for boot findings, by :data:`BOOT_SIGNALS`) with the evidence rows that show it. A hypothesis's
score is the sum of the weights of its supporting signals that fired, minus
the weights of its contradicting ones. Read a row of :data:`RULES` as a sentence: "*kind* is
supported by … and contradicted by …; it is a *level* problem; do *next_step*". The first
supporting signal leads: without it a hypothesis is listed only when the rest reach
:data:`MIN_SCORE`. Boot findings count only when they survive a good boot (:data:`BOOT_BLOCKING`,
:mod:`kit.analyze._verdict_boot`); what to tell for each hypothesis is in
:mod:`kit.analyze._verdict_guides`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BOOT_BLOCKING", "BOOT_SIGNALS", "MIN_SCORE", "RULES", "STEP_TEXT", "SUMMARIES", "Rule"]


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
#: of severity warning or worse count, and only those :func:`~kit.analyze._verdict_boot.counted_findings`
#: keeps (never a detect-only one); the longest matching key wins.
BOOT_SIGNALS: dict[str, str] = {
    "boot:kernel:panic": "boot_panic",
    "boot:kernel:panic_end": "boot_panic",
    "boot:kernel:oops": "boot_oops",
    "boot:kernel:general_protection_fault": "boot_oops",
    "boot:kernel:soft_lockup": "boot_oops",
    "boot:kernel:hung_task": "boot_oops",
    "boot:kernel:hard_lockup": "kernel_lockup",
    "boot:kernel:rcu_stall": "kernel_lockup",
    "boot:kernel:irq_flood": "kernel_irq_flood",
    "boot:kernel:root_device": "boot_root_device",
    "boot:initramfs:root_missing": "boot_root_device",
    "boot:initramfs:timeout": "boot_root_device",
    "boot:initramfs:emergency_shell": "boot_root_device",
    "boot:initramfs:switch_root_failed": "switch_root_failed",
    "boot:kernel:hv_driver_failed": "hyperv_driver",
    "boot:fstab": "boot_fstab",
    "boot:systemd:emergency_mode": "boot_emergency",
    "boot:systemd:rescue_mode": "boot_emergency",
    "boot:systemd:root_locked": "boot_emergency",
    "boot:systemd:freezing": "systemd_freezing",
    "boot:filesystem": "boot_filesystem",
    "boot:bootloader": "boot_bootloader",
    "boot:firmware": "firmware_failed",
    "boot:firmware:gpt_corrupt": "gpt_corrupt",
    "boot:volume:luks_passphrase": "luks_passphrase",
    "boot:volume:lvm_missing": "volume_missing",
    "boot:volume:raid_failed": "volume_missing",
    "boot:selinux:policy_load_failed": "selinux_policy",
    "boot:selinux:relabel": "selinux_relabel",
    "boot:memory:oom_killed_sshd": "oom_sshd",
    "boot:memory:oom_panic": "oom_panic",
    "boot:memory": "oom_kill",
    "boot:disk:no_space": "disk_full",
    "boot:disk:auditd_halt": "disk_full",
    "boot:disk": "disk_low",
    "boot:storage": "storage_io_error",
    "boot:storage:timeout": "storage_timeout",
    "boot:windows:bcd_error": "boot_bootloader",
    "boot:windows:boot_manager_error": "boot_bootloader",
    "boot:windows:bootmgr_missing": "boot_bootloader",
    "boot:windows:bugcheck": "windows_bugcheck",
    "boot:windows:automatic_repair": "windows_recovery",
    "boot:windows:recovery": "windows_recovery",
    "boot:windows:updating": "windows_busy",
    "boot:windows:applying_policy": "windows_busy",
    "boot:windows:chkdsk": "windows_busy",
    "boot:windows:safe_mode": "windows_safe_mode",
    "boot:windows:dhcp_disabled": "windows_dhcp",
    "boot:sshd": "sshd_failed",
    "boot:sshd:auth_refused": "sshd_auth_refused",
    "boot:windows:rdp_service": "rdp_failed",
    "boot:firewall": "guest_firewall_seen",
    "boot:network": "guest_network_failed",
    "boot:firewall:responder_banned": "responder_banned",
    "boot:firewall:conntrack_full": "conntrack_full",
}

#: Findings that stop a boot (same matching as :data:`BOOT_SIGNALS`): a login prompt later in the
#: same boot shows the boot got past them, so they no longer count. Every other finding (sshd, the
#: firewall, memory, disk, conntrack …) breaks access whenever it happens and still counts after one.
BOOT_BLOCKING: tuple[str, ...] = (
    "boot:firmware", "boot:bootloader", "boot:initramfs", "boot:fstab", "boot:volume",
    "boot:selinux:policy_load_failed", "boot:selinux:relabel",
    "boot:systemd:freezing", "boot:systemd:emergency_mode", "boot:systemd:rescue_mode", "boot:systemd:root_locked",
    "boot:kernel:panic", "boot:kernel:panic_end", "boot:kernel:root_device", "boot:kernel:soft_lockup",
    "boot:kernel:hard_lockup", "boot:kernel:rcu_stall",
    "boot:windows:bugcheck", "boot:windows:bcd_error", "boot:windows:boot_manager_error",
    "boot:windows:bootmgr_missing", "boot:windows:automatic_repair", "boot:windows:recovery",
    "boot:windows:updating", "boot:windows:applying_policy", "boot:windows:chkdsk",
)

_DOWN = (("vm_not_running", 4.0),)
_NETWORK_BLOCKS = (("nsg_denies_access", 2.5), ("route_drops_replies", 2.5))
_BOOT_BROKEN = (("boot_failed_any", 1.5),)
_BOOTED = (("login_prompt", 3.0),)
#: Platform metrics agree: VmAvailabilityMetric lost while the boot log stops (kit.analyze._verdict_metrics).
_QUIET = (("availability_lost_boot_stopped", 0.5),)

#: The hypotheses, most specific first (ties keep this order).
RULES: tuple[Rule, ...] = (
    Rule("vm_not_running", "platform", "start_vm",
         support=(("vm_not_running", 5.0), ("stop_operation", 1.0)),
         against=(("vm_running", 5.0),)),
    Rule("boot_failure:kernel_panic", "guest", "repair_vm",
         support=(("boot_panic", 4.0), ("boot_oops", 1.0), ("no_login_prompt", 1.0), *_QUIET),
         against=(*_DOWN, *_BOOTED, ("oom_panic", 3.0))),
    Rule("boot_failure:root_device", "guest", "repair_vm",
         support=(("boot_root_device", 4.0), ("no_login_prompt", 1.0), *_QUIET),
         against=(*_DOWN, *_BOOTED, ("volume_missing", 1.0), ("switch_root_failed", 1.0))),
    Rule("boot_failure:fstab", "guest", "serial_console",
         support=(("boot_fstab", 4.0), ("boot_emergency", 1.0), ("no_login_prompt", 0.5), ("guest_change", 0.5),
                  *_QUIET),
         against=(*_DOWN, ("login_prompt", 2.0))),
    Rule("boot_failure:filesystem", "guest", "serial_console",
         support=(("boot_filesystem", 3.5), ("boot_emergency", 1.0), ("no_login_prompt", 0.5), *_QUIET),
         against=(*_DOWN, ("login_prompt", 2.0))),
    Rule("boot_failure:bootloader", "guest", "repair_vm",
         support=(("boot_bootloader", 4.0), ("windows_bugcheck", 1.0), ("no_login_prompt", 1.0), *_QUIET),
         against=(*_DOWN, *_BOOTED)),
    Rule("boot_failure:firmware", "guest", "repair_vm",
         support=(("firmware_failed", 4.0), ("gpt_corrupt", 1.0), ("no_login_prompt", 0.5), *_QUIET),
         against=(*_DOWN, *_BOOTED)),
    Rule("boot_failure:encrypted_disk", "guest", "serial_console",
         support=(("luks_passphrase", 4.0), ("no_login_prompt", 1.0), *_QUIET),
         against=(*_DOWN, *_BOOTED)),
    Rule("boot_failure:volume", "guest", "repair_vm",
         support=(("volume_missing", 4.0), ("boot_root_device", 0.5), ("boot_emergency", 0.5),
                  ("no_login_prompt", 0.5), *_QUIET),
         against=(*_DOWN, *_BOOTED)),
    Rule("boot_failure:switch_root", "guest", "repair_vm",
         support=(("switch_root_failed", 4.0), ("boot_root_device", 0.5), ("no_login_prompt", 1.0), *_QUIET),
         against=(*_DOWN, *_BOOTED)),
    Rule("boot_failure:selinux", "guest", "serial_console",
         support=(("selinux_policy", 4.0), ("selinux_relabel_loop", 3.5), ("systemd_freezing", 0.5),
                  ("selinux_relabel", 0.5), ("no_login_prompt", 0.5), *_QUIET),
         against=(*_DOWN, *_BOOTED)),
    Rule("boot_failure:systemd", "guest", "repair_vm",
         support=(("systemd_freezing", 4.0), ("no_login_prompt", 1.0), *_QUIET),
         against=(*_DOWN, *_BOOTED, ("selinux_policy", 3.0))),
    Rule("boot_failure:storage_driver", "guest", "repair_vm",
         support=(("windows_inaccessible_boot", 4.5), ("nvme_controller", 1.0), *_QUIET),
         against=(*_DOWN, *_BOOTED)),
    Rule("boot_failure:windows_recovery", "guest", "repair_vm",
         support=(("windows_recovery", 4.0), ("windows_bugcheck", 1.0), *_QUIET),
         against=_DOWN),
    Rule("boot_stalled:windows", "guest", "wait",
         support=(("windows_busy", 3.5),),
         against=(*_DOWN, ("windows_recovery", 2.0), ("boot_bootloader", 2.0))),
    Rule("guest_out_of_memory", "guest", "serial_console",
         support=(("oom_sshd", 4.0), ("oom_panic", 4.0), ("oom_kill", 1.5), ("boot_panic", 1.0), ("sshd_failed", 0.5)),
         against=_DOWN),
    Rule("guest_disk_full", "guest", "serial_console",
         support=(("disk_full", 4.0), ("disk_low", 1.0)),
         against=(*_DOWN, *_NETWORK_BLOCKS)),
    Rule("storage_io_error", "platform", "redeploy_vm",
         support=(("storage_io_error", 4.0), ("storage_timeout", 1.0), ("health_unplanned", 0.5),
                  ("health_unplanned_before", 0.5)),
         against=_DOWN),
    Rule("guest_kernel_hang", "guest", "restart_vm",
         support=(("kernel_lockup", 4.0), ("kernel_irq_flood", 1.0), ("boot_oops", 0.5),
                  ("health_unplanned_before", 0.5)),
         against=(*_DOWN, ("boot_panic", 2.0))),
    Rule("service_failure:sshd", "guest", "serial_console",
         support=(("sshd_failed", 4.0), ("sshd_auth_refused", 1.0), ("unexplained_subject", 0.5),
                  ("guest_change", 0.5), ("login_prompt", 0.5), ("network_allows_access", 0.5)),
         against=(*_DOWN, *_NETWORK_BLOCKS, *_BOOT_BROKEN, ("windows_guest", 4.0), ("oom_sshd", 2.0))),
    Rule("service_failure:rdp", "guest", "serial_console",
         support=(("rdp_failed", 4.0), ("guest_change", 0.5), ("login_prompt", 0.5), ("network_allows_access", 0.5)),
         against=(*_DOWN, *_NETWORK_BLOCKS, *_BOOT_BROKEN, ("linux_guest", 4.0), ("windows_safe_mode", 2.0))),
    Rule("guest_safe_mode", "guest", "serial_console",
         support=(("windows_safe_mode", 4.0), ("rdp_failed", 0.5)),
         against=(*_DOWN, *_NETWORK_BLOCKS, ("linux_guest", 4.0))),
    Rule("guest_network:dhcp_disabled", "guest", "serial_console",
         support=(("windows_dhcp", 4.0), ("vm_agent_not_ready", 1.0), ("network_allows_access", 0.5)),
         against=(*_DOWN, *_NETWORK_BLOCKS, ("linux_guest", 4.0))),
    Rule("responder_banned", "guest", "serial_console",
         support=(("responder_banned", 4.0), ("login_prompt", 0.5), ("network_allows_access", 0.5)),
         against=(*_DOWN, *_NETWORK_BLOCKS)),
    Rule("guest_conntrack_full", "guest", "serial_console",
         support=(("conntrack_full", 4.0), ("network_allows_access", 0.5)),
         against=(*_DOWN, *_NETWORK_BLOCKS)),
    Rule("guest_firewall", "guest", "serial_console",
         support=(("guest_firewall_seen", 3.5), ("unexplained_subject", 1.5), ("guest_change", 0.5),
                  ("login_prompt", 0.5), ("network_allows_access", 0.5), ("flows_stopped_after_guest_change", 0.5)),
         against=(*_DOWN, *_NETWORK_BLOCKS, *_BOOT_BROKEN)),
    Rule("guest_network:stack", "guest", "serial_console",
         support=(("guest_network_failed", 3.5), ("network_stack_down", 3.0), ("login_prompt", 0.5),
                  ("network_allows_access", 0.5)),
         against=(*_DOWN, *_NETWORK_BLOCKS, *_BOOT_BROKEN, ("guest_firewall_seen", 2.0),
                  ("sshd_failed", 2.0), ("rdp_failed", 2.0), ("windows_dhcp", 3.0), ("health_unplanned", 2.0))),
    Rule("nsg_deny", "platform", "change_nsg",
         support=(("nsg_denies_access", 4.0), ("nsg_differs_from_peers", 1.0), ("nsg_changed", 0.5),
                  ("flows_stopped_after_nsg_change", 0.5)),
         against=(*_DOWN, ("network_allows_access", 4.0))),
    Rule("route_blackhole", "platform", "change_route",
         support=(("route_drops_replies", 4.0), ("route_differs_from_peers", 1.0), ("route_changed", 0.5),
                  ("flows_stopped_after_route_change", 0.5)),
         against=(*_DOWN, ("nsg_denies_access", 1.0), ("route_delivers", 4.0))),
    Rule("platform_unavailable", "platform", "redeploy_vm",
         support=(("health_unplanned", 4.5), ("platform_unavailable", 0.5), ("service_health_incident", 0.5)),
         against=(("health_available", 3.0),)),
    Rule("platform", "platform", "escalate",
         support=(("platform_unavailable", 3.5), ("service_health_incident", 1.0), ("hyperv_driver", 1.5)),
         against=(("platform_available", 1.0),)),
)

#: One sentence per hypothesis, led into its strongest evidence.
SUMMARIES: dict[str, str] = {
    "vm_not_running": "The VM is not running",
    "boot_failure:kernel_panic": "The guest kernel panicked during boot",
    "boot_failure:root_device": "The guest cannot find its root device",
    "boot_failure:fstab": "The guest stops booting on an /etc/fstab mount",
    "boot_failure:filesystem": "A guest filesystem is corrupt",
    "boot_failure:bootloader": "The boot loader cannot start the OS",
    "boot_failure:firmware": "The firmware cannot start the OS loader (Secure Boot, shim or no bootable disk)",
    "boot_failure:encrypted_disk": "The boot waits for the passphrase of an encrypted disk",
    "boot_failure:volume": "A volume group or RAID array the boot needs is missing",
    "boot_failure:switch_root": "The initramfs cannot switch to the root file system",
    "boot_failure:selinux": "SELinux stops the boot",
    "boot_failure:systemd": "systemd froze the boot",
    "boot_failure:storage_driver": "Windows lost its boot disk (INACCESSIBLE_BOOT_DEVICE): the disk's driver "
                                   "did not start at boot",
    "boot_failure:windows_recovery": "Windows cannot start and falls into Automatic Repair or recovery",
    "boot_stalled:windows": "Windows is busy at boot (updates, Group Policy or a disk check)",
    "guest_out_of_memory": "The guest ran out of memory",
    "guest_disk_full": "A guest file system is full",
    "storage_io_error": "The guest's disk returns I/O errors",
    "guest_kernel_hang": "The guest kernel hung (hard lockup or RCU stall)",
    "service_failure:sshd": "The SSH daemon is not running in the guest",
    "service_failure:rdp": "Remote Desktop is not available in the guest",
    "guest_safe_mode": "Windows booted into Safe Mode",
    "guest_network:dhcp_disabled": "The Windows DHCP client is disabled: the NIC has no address",
    "responder_banned": "fail2ban or sshguard in the guest banned the responder",
    "guest_conntrack_full": "The guest's connection-tracking table is full",
    "guest_firewall": "The guest's own firewall blocks the responder",
    "guest_network:stack": "The guest's own network is down although it booted (its network service failed, DHCP "
                           "gave no address, or the VM agent cannot reach Azure)",
    "nsg_deny": "A network security group denies the responder",
    "route_blackhole": "Replies to the responder are routed into a blackhole",
    "platform_unavailable": "Azure reports the VM unavailable after a platform-initiated, unplanned event",
    "platform": "The Azure platform reports the VM unhealthy",
}

#: Next step kind → (what to do, the commands to look at first). ``{placeholders}`` are filled in
#: (``{target}``: ``--subscription <sub> -g <rg> -n <vm>``; ``{run}``: a repair script's run-id and
#: parameters); a hypothesis's own guide (:data:`kit.analyze._verdict_guides.GUIDES`) adds to it.
STEP_TEXT: dict[str, tuple[str, tuple[str, ...]]] = {
    "serial_console": ("Open the serial console ({how}) and look at the guest first.", ()),
    "change_nsg": ("Change the network security group: {what}.", ()),
    "change_route": ("Change the route table: {what}.", ()),
    "repair_vm": ("The guest cannot boot to a shell: attach its OS disk to a repair VM, fix it there, "
                  "then swap it back.", (
        "az vm repair create {target} --verbose",
        "az vm repair run {target} --run-on-repair --run-id {run} --verbose",
        "az vm repair restore {target} --verbose",
    )),
    "start_vm": ("The VM is not running: start it, then collect again.", ("az vm start {target}",)),
    "restart_vm": ("Restart the VM, then collect again.", ("az vm restart {target}",)),
    "redeploy_vm": ("Move the VM to another Azure host with a redeploy (it keeps its disks and network "
                    "configuration; the temporary disk is lost), then collect again.",
                    ("az vm redeploy {target}",)),
    "wait": ("Wait and watch the boot screenshot; restart only when it has stopped moving for a long time.",
             ("az vm boot-diagnostics get-boot-log-uris {target}",)),
    "restore_backup": ("Restore the VM from its last good backup.", ()),
    "escalate": ("The evidence points at the Azure platform: open a support case with this evidence attached.", ()),
    "none": ("Nothing to fix on this VM.", ()),
}
