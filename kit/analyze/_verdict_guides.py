"""What to tell the responder for each hypothesis: why the step, the guest commands, the ``az``
commands and the repair scripts, as tables.

A :class:`Guide` adds to the next step kind's own sentence (``_verdict_rules.STEP_TEXT``); a
``<hypothesis>/windows`` guide replaces ``<hypothesis>``'s on a Windows guest (hypotheses only Windows
has keep the plain key). :data:`FINDING_COMMANDS`
leads with the commands for the very finding behind the hypothesis (a missing privilege separation
directory, a Secure Boot violation …). Repair scripts are ``az vm repair run --run-id`` arguments
that exist in Azure's repair script library (``Azure/repair-script-library`` ``map.json``;
``linux-alar2`` takes ALAR's actions: fstab, kernel, initrd, serialconsole, grubfix, efifix,
auditd, sudo). ``{rg}``, ``{vm}``, ``{vm_id}`` and ``{responder}`` are filled in; nothing else in
braces is touched (``bcdedit /deletevalue {current} safeboot`` stays as typed).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FINDING_COMMANDS", "GUIDES", "HEALTH_API", "Guide"]

#: The Resource Health api-version the commands name.
HEALTH_API = "2025-05-01"
_HEALTH = f"az resource show --ids {{vm_id}}/providers/Microsoft.ResourceHealth/availabilityStatuses/current " \
          f"--api-version {HEALTH_API}"
_REPAIR_CREATE = "az vm repair create -g {rg} -n {vm} --verbose"
_REPAIR_RESTORE = "az vm repair restore -g {rg} -n {vm} --verbose"
_SECURE_BOOT_OFF = ("az vm show -g {rg} -n {vm} --query securityProfile", "az vm deallocate -g {rg} -n {vm}",
                    "az vm update -g {rg} -n {vm} --enable-secure-boot false", "az vm start -g {rg} -n {vm}")
_WIN_CONSOLE = ("cmd", "ch -si 1")


@dataclass(frozen=True)
class Guide:
    """The advice for one hypothesis.

    Parameters
    ----------
    text
        Why this step and what to watch for, after the step's own sentence.
    guest
        Commands inside the guest: through the serial console (or Run Command), or for a
        ``repair_vm`` step on the repair VM with the OS disk attached.
    azure
        Commands run from a workstation (``az``), in order; a step on the repair VM says so.
    repair
        ``az vm repair run --run-id`` arguments, in order (``linux-alar2 --parameters kernel``).
    """

    text: str = ""
    guest: tuple[str, ...] = ()
    azure: tuple[str, ...] = ()
    repair: tuple[str, ...] = ()


GUIDES: dict[str, Guide] = {
    "guest_firewall": Guide(guest=(
        "iptables -S", "nft list ruleset", "ufw status verbose", "firewall-cmd --list-all",
        "journalctl -b -u ssh --no-pager | tail -50")),
    "service_failure:sshd": Guide(guest=(
        "systemctl status ssh sshd --no-pager", "journalctl -u ssh -u sshd -b --no-pager | tail -50", "sshd -t",
        "ls -l /etc/ssh/ssh_host_*")),
    "service_failure:rdp": Guide(guest=(
        "cmd", "sc query TermService", "sc qc TermService",
        "reg query \"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\" /v fDenyTSConnections",
        "netstat -ano | findstr 3389")),
    "boot_failure:fstab": Guide(guest=(
        "cat /etc/fstab", "systemctl --failed", "journalctl -xb --no-pager | grep -i -e mount -e fstab", "lsblk -f",
        "blkid")),
    "boot_failure:filesystem": Guide(guest=(
        "journalctl -xb --no-pager | grep -i -e xfs -e ext4 -e fsck", "lsblk -f",
        "fsck -n /dev/<device>  (read-only check first)")),
    "boot_failure:kernel_panic": Guide(
        text="ALAR's kernel action makes the previous kernel the default; replace the broken one once it boots.",
        repair=("linux-alar2 --parameters kernel",)),
    "boot_failure:root_device": Guide(
        text="ALAR's initrd action rebuilds the initramfs (missing Hyper-V or storage drivers) and fixes grub.cfg.",
        repair=("linux-alar2 --parameters initrd",)),
    "boot_failure:bootloader": Guide(
        text="ALAR's grubfix reinstalls GRUB and regenerates grub.cfg (efifix instead on a Generation 2 VM).",
        repair=("linux-alar2 --parameters grubfix",)),
    "boot_failure:bootloader/windows": Guide(
        text="On the repair VM, rebuild the boot files of the attached OS disk (its letters as the repair VM "
             "shows them: <W> the Windows volume, <S> the system partition).",
        guest=("bcdedit /store <S>:\\boot\\bcd /enum /v", "bcdboot <W>:\\Windows /s <S>: /f ALL",
               "compact /u <S>:\\bootmgr  (when BOOTMGR is compressed)")),
    "boot_failure:firmware": Guide(
        text="After a kernel or shim update that Secure Boot rejects, restore signed boot files on a repair VM "
             "(ALAR efifix), or turn Secure Boot off for the fix only (it needs the VM deallocated and lowers "
             "Trusted Launch protection: turn it back on afterwards). No bootable device or a corrupt GPT: "
             "restore the OS disk from a snapshot.",
        azure=("az vm show -g {rg} -n {vm} --query securityProfile",),
        repair=("linux-alar2 --parameters efifix",)),
    "boot_failure:firmware/windows": Guide(
        text="Turn Secure Boot off for the fix only (VM deallocated; turn it back on afterwards), or restore the "
             "OS disk from a snapshot.",
        azure=("az vm show -g {rg} -n {vm} --query securityProfile",)),
    "boot_failure:encrypted_disk": Guide(
        text="Type the LUKS passphrase in the serial console. A disk encrypted by Azure Disk Encryption has no "
             "passphrase to type: its key did not unlock it, so open it on a repair VM that unlocks it.",
        azure=("az vm encryption show -g {rg} -n {vm}",
               "az vm repair create -g {rg} -n {vm} --unlock-encrypted-vm --verbose")),
    "boot_failure:volume": Guide(
        text="A disk holding the volume group or array was detached, or the initramfs lacks LVM/mdadm: check the "
             "data disks, then let ALAR drop the mounts the boot does not need and rebuild the initramfs.",
        guest=("vgscan && vgs && lvs", "cat /proc/mdstat", "mdadm --detail --scan"),
        azure=("az vm show -g {rg} -n {vm} --query storageProfile.dataDisks -o table",),
        repair=("linux-alar2 --parameters fstab,initrd",)),
    "boot_failure:switch_root": Guide(
        text="The root file system was found but is not bootable (no /sbin/init, or a broken initramfs): rebuild "
             "the initramfs, and check /sbin/init on the repair VM.",
        guest=("ls -l /mnt/sbin/init /mnt/lib/systemd/systemd  (the attached root)",),
        repair=("linux-alar2 --parameters initrd",)),
    "boot_failure:selinux": Guide(
        text="From the GRUB menu in the serial console, add enforcing=0 (or selinux=0) to the linux line for one "
             "boot, then fix the policy. touch /.autorelabel only once the policy loads: a relabel on a full or "
             "read-only root file system loops.",
        guest=("at the GRUB menu: e, add enforcing=0 to the linux line, Ctrl-x", "sestatus",
               "grep -E '^SELINUX(TYPE)?=' /etc/selinux/config",
               "dnf reinstall -y selinux-policy selinux-policy-targeted", "touch /.autorelabel && reboot")),
    "boot_failure:systemd": Guide(
        text="PID 1 froze, so the console has no shell either: boot the previous kernel (ALAR kernel), or from the "
             "GRUB menu add systemd.unit=emergency.target to the linux line; check systemd's package and "
             "configuration on the repair VM.",
        guest=("rpm -V systemd || debsums -s systemd  (in a chroot of the attached disk)",),
        repair=("linux-alar2 --parameters kernel",)),
    "boot_failure:windows_recovery": Guide(
        text="Windows fails to start and loops into Automatic Repair: check the disk and the system files on a "
             "repair VM, and stop the recovery loop; if it began with an update, remove it (win-get-patches, "
             "win-remove-patch).",
        repair=("win-chkdsk-fs-corruption", "win-sfc-sf-corruption", "win-bcdedit-ignoreAllFailure")),
    "boot_stalled:windows": Guide(
        text="Updates can take an hour or more, and an update cut short by a restart may roll back; if it hangs "
             "again after a restart, list and remove the pending update on a repair VM (win-get-patches, "
             "win-remove-patch).",
        azure=("az vm boot-diagnostics get-boot-log-uris -g {rg} -n {vm}", "az vm restart -g {rg} -n {vm}")),
    "guest_out_of_memory": Guide(
        text="The kernel's OOM killer killed sshd, or the kernel panicked for lack of memory (then restart the VM "
             "first). Restart sshd from the console, find what uses the memory, and resize if the workload needs "
             "it.",
        guest=("systemctl restart ssh sshd", "ps aux --sort=-%mem | head -15", "journalctl -k | grep -i oom",
               "free -m"),
        azure=("az vm restart -g {rg} -n {vm}", "az vm list-vm-resize-options -g {rg} -n {vm} -o table",
               "az vm resize -g {rg} -n {vm} --size <a larger size>")),
    "guest_disk_full": Guide(
        text="Free space through the serial console, or Run Command if the agent runs. If auditd halts the system "
             "on a full log partition, set space_left_action and disk_full_action in /etc/audit/auditd.conf to "
             "SYSLOG or SUSPEND instead of HALT (on a repair VM: linux-alar2 --parameters auditd).",
        guest=("df -h", "du -xh / 2>/dev/null | sort -h | tail -20", "journalctl --vacuum-size=200M",
               "grep -E '^(space_left_action|admin_space_left_action|disk_full_action)' /etc/audit/auditd.conf",
               "df -i"),
        azure=('az vm run-command invoke -g {rg} -n {vm} --command-id RunShellScript --scripts '
               '"df -h; du -xh / 2>/dev/null | sort -h | tail -20"',)),
    "storage_io_error": Guide(
        text="Either the platform's storage path or the disk itself fails. Check Resource Health first: a platform "
             "event means redeploy; if the errors stay, check the file system on a repair VM.",
        azure=(_HEALTH, "az vm redeploy -g {rg} -n {vm}", _REPAIR_CREATE,
               "fsck -n /dev/<device>  (on the repair VM, read-only check first)", _REPAIR_RESTORE)),
    "guest_kernel_hang": Guide(
        text="If it hangs again, check the host (Resource Health) and redeploy, and read the kernel's call traces "
             "for the driver involved.",
        guest=("journalctl -k -b -1 --no-pager | grep -i -A 20 -e lockup -e 'rcu.*stall'",),
        azure=(_HEALTH, "az vm redeploy -g {rg} -n {vm}")),
    "guest_safe_mode": Guide(
        text="Remote Desktop does not run in Safe Mode. In SAC open a cmd channel, remove the safeboot flag and "
             "restart (or on a repair VM: run-id win-toggle-safe-mode).",
        guest=(*_WIN_CONSOLE, "bcdedit /enum {current}", "bcdedit /deletevalue {current} safeboot",
               "shutdown /r /t 0")),
    "guest_network:dhcp_disabled": Guide(
        text="Without the DHCP Client the NIC has no address (169.254.x.x). Start it from a SAC cmd channel; Run "
             "Command needs the VM agent, which needs the network too; else repair VM run-id win-dhcp-fix.",
        guest=(*_WIN_CONSOLE, "sc config dhcp start= auto", "sc start dhcp", "ipconfig /renew", "ipconfig /all"),
        azure=('az vm run-command invoke -g {rg} -n {vm} --command-id RunPowerShellScript --scripts '
               '"Set-Service -Name Dhcp -StartupType Automatic; Start-Service -Name Dhcp"',)),
    "responder_banned": Guide(
        text="Lift the ban on {responder} and add it to the tool's ignore list (fail2ban ignoreip, sshguard "
             "whitelist).",
        guest=("fail2ban-client status sshd", "fail2ban-client set sshd unbanip {responder}",
               "iptables -S | grep -i -e f2b -e sshguard", "echo {responder} >> /etc/sshguard/whitelist")),
    "guest_conntrack_full": Guide(
        text="New connections, SSH included, are dropped while the table is full: raise the limit and find what "
             "opens so many connections.",
        guest=("sysctl net.netfilter.nf_conntrack_count net.netfilter.nf_conntrack_max", "conntrack -S",
               "sysctl -w net.netfilter.nf_conntrack_max=<twice the current value>",
               "echo 'net.netfilter.nf_conntrack_max = <value>' > /etc/sysctl.d/90-conntrack.conf")),
    "guest_network:stack": Guide(
        text="The VM agent cannot reach Azure although the guest booted and the NSGs let the responder in: look at "
             "the guest's own network (a renamed NIC, a udev rule pinning an old MAC, a failed network service, "
             "cloud-init's network configuration).",
        guest=("ip addr", "ip route", "systemctl status systemd-networkd NetworkManager --no-pager",
               "ls /etc/udev/rules.d/; cat /etc/udev/rules.d/70-persistent-net.rules",
               "cat /etc/netplan/*.yaml /etc/sysconfig/network-scripts/ifcfg-* 2>/dev/null",
               "cloud-init schema --system; cat /etc/cloud/cloud.cfg.d/*network*"),
        azure=("az vm get-instance-view -g {rg} -n {vm} --query instanceView.vmAgent",)),
    "guest_network:stack/windows": Guide(
        text="The VM agent cannot reach Azure although Windows started and the NSGs let the responder in: look at "
             "the guest's own network.",
        guest=(*_WIN_CONSOLE, "ipconfig /all", "netsh interface show interface", "sc query dhcp",
               "sc query WindowsAzureGuestAgent"),
        azure=("az vm get-instance-view -g {rg} -n {vm} --query instanceView.vmAgent",)),
    "platform_unavailable": Guide(
        text="First give Azure's own recovery time (the status may give a resolutionETA); redeploy when the VM "
             "does not come back, and open a support case if that fails too.",
        azure=(_HEALTH,)),
}

#: Finding kind (or prefix, longest match) → the commands for that very finding, asked first.
FINDING_COMMANDS: dict[str, tuple[str, ...]] = {
    "boot:sshd:privsep_missing": ("mkdir -p /run/sshd && chmod 0755 /run/sshd",
                                  "chown root:root /var/empty/sshd && chmod 0711 /var/empty/sshd  (RHEL)",
                                  "sshd -t && systemctl restart ssh sshd"),
    "boot:sshd:bad_ownership": ("chmod go-w ~<user> && chmod 700 ~<user>/.ssh",
                                "chmod 600 ~<user>/.ssh/authorized_keys && chown -R <user>: ~<user>/.ssh"),
    "boot:sshd:key_permissions": ("chmod 600 /etc/ssh/ssh_host_*_key && chown root:root /etc/ssh/ssh_host_*_key",
                                  "sshd -t && systemctl restart ssh sshd"),
    "boot:disk:auditd_halt": ("grep -E '^(space_left_action|admin_space_left_action|disk_full_action)' "
                              "/etc/audit/auditd.conf",),
    "boot:firmware:secure_boot_violation": _SECURE_BOOT_OFF,
    "boot:firmware:shim_failed": _SECURE_BOOT_OFF,
    "boot:firmware:no_bootable_device": ("az snapshot list -g {rg} -o table",
                                         "az disk create -g {rg} -n {vm}-os-restored --source <snapshot>",
                                         "az vm update -g {rg} -n {vm} --os-disk {vm}-os-restored"),
    "boot:firmware:uefi_boot_failed": ("az snapshot list -g {rg} -o table",),
    "boot:firmware:gpt_corrupt": ("az snapshot list -g {rg} -o table",),
}
