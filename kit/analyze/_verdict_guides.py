"""What to tell the responder for each hypothesis: why the step, the guest commands, the ``az``
commands and the repair scripts, as tables.

A :class:`Guide` adds to the next step kind's own sentence (``_verdict_rules.STEP_TEXT``); a
``<hypothesis>/windows`` guide replaces ``<hypothesis>``'s on a Windows guest (hypotheses only Windows
has keep the plain key). :data:`FINDING_COMMANDS`
leads with the commands for the very finding behind the hypothesis (a missing privilege separation
directory, a Secure Boot violation …). Repair scripts are ``az vm repair run --run-id`` arguments
that exist in Azure's repair script library (``Azure/repair-script-library`` ``map.json``, copied to
``tests/data/repair-script-library``; ``linux-alar2`` takes ALAR's actions, comma-separated: fstab,
kernel, initrd, serialconsole, grubfix, efifix, auditd, sudo). Placeholders filled in:
``{target}`` (``--subscription <sub> -g <rg> -n <vm>``), ``{scope}`` (``--subscription <sub> -g <rg>``),
``{sub}``, ``{rg}``, ``{vm}``, ``{vm_id}``, ``{responder}`` and ``{fstab_match}`` (a ``sed`` address
body for the failing ``/etc/fstab`` line); nothing else in braces is touched
(``bcdedit /deletevalue {current} safeboot`` stays as typed). A ``# …`` tail on a Linux command is
a shell comment, so the line pastes as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FINDING_COMMANDS", "GUIDES", "HEALTH_API", "Guide"]

#: The Resource Health api-version the commands name.
HEALTH_API = "2025-05-01"
_HEALTH = f"az resource show --ids {{vm_id}}/providers/Microsoft.ResourceHealth/availabilityStatuses/current " \
          f"--api-version {HEALTH_API}"
_REPAIR_CREATE = "az vm repair create {target} --verbose"
_REPAIR_RESTORE = "az vm repair restore {target} --verbose"
_SECURE_BOOT_OFF = ("az vm show {target} --query securityProfile", "az vm deallocate {target}",
                    "az vm update {target} --enable-secure-boot false", "az vm start {target}")
_REPAIR_RUN = "az vm repair run {target} --run-on-repair --run-id {run} --verbose"
_WIN_CONSOLE = ("cmd", "ch -si 1")
_GPO_CAVEAT = ("If a domain Group Policy set this, it sets it again at the next policy refresh (about every "
               "90 minutes, and at restart): gpresult /r /scope computer names the GPOs; fix or unlink the GPO too.")


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
    "guest_firewall": Guide(
        text="Let SSH in with the command for the firewall in use (iptables, ufw or firewalld), then make it "
             "persist: an iptables rule that is not saved is gone at the next reboot or rules reload.",
        guest=("sudo iptables -S INPUT", "sudo nft list ruleset", "sudo ufw status verbose",
               "sudo firewall-cmd --list-all",
               "sudo iptables -I INPUT -p tcp -s {responder}/32 --dport 22 -j ACCEPT",
               "sudo netfilter-persistent save  # Debian/Ubuntu with iptables-persistent",
               "sudo sh -c 'iptables-save > /etc/iptables/rules.v4'  # without netfilter-persistent",
               "sudo ufw allow 22/tcp  # when ufw manages the firewall (ufw keeps its rules)",
               "sudo firewall-cmd --permanent --add-service=ssh && sudo firewall-cmd --reload  # with firewalld",
               "sudo journalctl -b -u ssh --no-pager | tail -50")),
    "guest_firewall/windows": Guide(
        text="In SAC open a cmd channel and allow Remote Desktop through Windows Firewall (netsh rules persist "
             "across restarts). " + _GPO_CAVEAT,
        guest=(*_WIN_CONSOLE, "netsh advfirewall show allprofiles state",
               "netsh advfirewall firewall show rule name=all dir=in | findstr /i 3389",
               'netsh advfirewall firewall set rule group="remote desktop" new enable=yes',
               'netsh advfirewall firewall add rule name="Allow RDP responder" dir=in action=allow protocol=TCP '
               "localport=3389 remoteip={responder}",
               "gpresult /r /scope computer")),
    "service_failure:sshd": Guide(
        text="sshd -t names the file and line it rejects; fix or remove that line (keep a copy), then start ssh "
             "again. At boot systemd gave up after five failed starts (\"Start request repeated too quickly\"), "
             "so a plain restart fails until systemctl reset-failed ssh. After a failed start sshd -t can also "
             "say \"Missing privilege separation directory: /run/sshd\": ssh.service makes that folder when it "
             "starts, so start it and check again.",
        guest=("systemctl status ssh sshd --no-pager", "journalctl -u ssh -u sshd -b --no-pager | tail -50", "sshd -t",
               "ls -l /etc/ssh/ssh_host_*",
               "systemctl reset-failed ssh; systemctl restart ssh && systemctl is-active ssh && sshd -t")),
    "service_failure:rdp": Guide(
        text="In SAC open a cmd channel, set Remote Desktop Services back to its default start type and start it, "
             "and allow connections. " + _GPO_CAVEAT,
        guest=(*_WIN_CONSOLE, "sc query TermService", "sc qc TermService",
               "reg query \"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\" /v fDenyTSConnections",
               "sc config TermService start= demand", "net start TermService",
               "reg add \"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\" /v fDenyTSConnections /t "
               "REG_DWORD /d 0 /f",
               "netstat -ano | findstr 3389", "gpresult /r /scope computer")),
    "boot_failure:fstab": Guide(
        text="At the emergency prompt, comment out the /etc/fstab line of the missing disk (or add nofail to its "
             "options, to keep it without blocking the boot), check that the rest mounts, and reboot. The "
             "emergency shell asks for the root password; with root locked (the Azure Marketplace default) it "
             "cannot be used: then run ALAR's fstab action on a repair VM (the commands below), or from the GRUB "
             "menu boot once with init=/bin/bash (or rd.break) on the linux line to get a root shell.",
        guest=("cat /etc/fstab", "mount -o remount,rw /",
               "cp /etc/fstab /etc/fstab.bak && sed -i '\\|{fstab_match}|s|^|# |' /etc/fstab",
               "systemctl daemon-reload && mount -a", "systemctl --failed",
               "journalctl -xb --no-pager | grep -i -e mount -e fstab", "lsblk -f", "blkid", "systemctl reboot"),
        azure=(_REPAIR_CREATE, _REPAIR_RUN.replace("{run}", "linux-alar2 --parameters fstab"), _REPAIR_RESTORE),
        repair=("linux-alar2 --parameters fstab",)),
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
        azure=("az vm show {target} --query securityProfile",),
        repair=("linux-alar2 --parameters efifix",)),
    "boot_failure:firmware/windows": Guide(
        text="Turn Secure Boot off for the fix only (VM deallocated; turn it back on afterwards), or restore the "
             "OS disk from a snapshot.",
        azure=("az vm show {target} --query securityProfile",)),
    "boot_failure:encrypted_disk": Guide(
        text="Type the LUKS passphrase in the serial console. A disk encrypted by Azure Disk Encryption has no "
             "passphrase to type: its key did not unlock it, so open it on a repair VM that unlocks it.",
        azure=("az vm encryption show {target}",
               "az vm repair create {target} --unlock-encrypted-vm --verbose")),
    "boot_failure:volume": Guide(
        text="A disk holding the volume group or array was detached, or the initramfs lacks LVM/mdadm: check the "
             "data disks, then let ALAR drop the mounts the boot does not need and rebuild the initramfs.",
        guest=("vgscan && vgs && lvs", "cat /proc/mdstat", "mdadm --detail --scan"),
        azure=("az vm show {target} --query storageProfile.dataDisks -o table",),
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
    "boot_failure:storage_driver": Guide(
        text="On an NVMe VM size (the v6 sizes: diskControllerType NVMe) Windows needs its NVMe driver, stornvme, "
             "to start at boot; a VM resized to one without it stops with INACCESSIBLE_BOOT_DEVICE. Set stornvme to "
             "boot start on the OS disk (offline on a repair VM), or resize back to a size with a SCSI controller. "
             "On a SCSI VM a storage or filter driver changed by an update is the usual cause: check the disk and "
             "the system files on a repair VM.",
        azure=("az vm show {target} --query \"{size:hardwareProfile.vmSize, controller:storageProfile."
               "diskControllerType}\"",),
        repair=("win-chkdsk-fs-corruption", "win-sfc-sf-corruption")),
    "boot_failure:windows_recovery": Guide(
        text="Windows fails to start and loops into Automatic Repair: check the disk and the system files on a "
             "repair VM, and stop the recovery loop; if it began with an update, remove it (win-get-patches, "
             "win-remove-patch).",
        repair=("win-chkdsk-fs-corruption", "win-sfc-sf-corruption", "win-bcdedit-ignoreAllFailure")),
    "boot_stalled:windows": Guide(
        text="Updates can take an hour or more, and an update cut short by a restart may roll back; if it hangs "
             "again after a restart, list and remove the pending update on a repair VM (win-get-patches, "
             "win-remove-patch).",
        azure=("az vm boot-diagnostics get-boot-log-uris {target}", "az vm restart {target}")),
    "guest_out_of_memory": Guide(
        text="The kernel's OOM killer killed sshd, or the kernel panicked for lack of memory (then restart the VM "
             "first). Restart sshd from the console, find what uses the memory, and resize if the workload needs "
             "it.",
        guest=("systemctl restart ssh sshd", "ps aux --sort=-%mem | head -15", "journalctl -k | grep -i oom",
               "free -m"),
        azure=("az vm restart {target}", "az vm list-vm-resize-options {target} -o table",
               "az vm resize {target} --size <a larger size>")),
    "guest_disk_full": Guide(
        text="Free space through the serial console, or Run Command if the agent runs. If auditd halts the system "
             "on a full log partition, set space_left_action and disk_full_action in /etc/audit/auditd.conf to "
             "SYSLOG or SUSPEND instead of HALT (on a repair VM: linux-alar2 --parameters auditd).",
        guest=("df -h", "du -xh / 2>/dev/null | sort -h | tail -20", "journalctl --vacuum-size=200M",
               "grep -E '^(space_left_action|admin_space_left_action|disk_full_action)' /etc/audit/auditd.conf",
               "df -i"),
        azure=('az vm run-command invoke {target} --command-id RunShellScript --scripts '
               '"df -h; du -xh / 2>/dev/null | sort -h | tail -20"',)),
    "storage_io_error": Guide(
        text="Either the platform's storage path or the disk itself fails. Check Resource Health first: a platform "
             "event means redeploy; if the errors stay, check the file system on a repair VM.",
        azure=(_HEALTH, "az vm redeploy {target}", _REPAIR_CREATE,
               "fsck -n /dev/<device>  (on the repair VM, read-only check first)", _REPAIR_RESTORE)),
    "guest_kernel_hang": Guide(
        text="If it hangs again, check the host (Resource Health) and redeploy, and read the kernel's call traces "
             "for the driver involved.",
        guest=("journalctl -k -b -1 --no-pager | grep -i -A 20 -e lockup -e 'rcu.*stall'",),
        azure=(_HEALTH, "az vm redeploy {target}")),
    "guest_safe_mode": Guide(
        text="Remote Desktop does not run in Safe Mode. In SAC open a cmd channel, remove the safeboot flag and "
             "restart (or on a repair VM: run-id win-toggle-safe-mode).",
        guest=(*_WIN_CONSOLE, "bcdedit /enum {current}", "bcdedit /deletevalue {current} safeboot",
               "shutdown /r /t 0")),
    "guest_network:dhcp_disabled": Guide(
        text="Without the DHCP Client the NIC has no address (169.254.x.x). Start it from a SAC cmd channel; Run "
             "Command needs the VM agent, which needs the network too; else repair VM run-id win-dhcp-fix.",
        guest=(*_WIN_CONSOLE, "sc config dhcp start= auto", "sc start dhcp", "ipconfig /renew", "ipconfig /all"),
        azure=('az vm run-command invoke {target} --command-id RunPowerShellScript --scripts '
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
        azure=("az vm get-instance-view {target} --query instanceView.vmAgent",)),
    "guest_network:stack/windows": Guide(
        text="The VM agent cannot reach Azure although Windows started and the NSGs let the responder in: look at "
             "the guest's own network.",
        guest=(*_WIN_CONSOLE, "ipconfig /all", "netsh interface show interface", "sc query dhcp",
               "sc query WindowsAzureGuestAgent"),
        azure=("az vm get-instance-view {target} --query instanceView.vmAgent",)),
    "platform_unavailable": Guide(
        text="First give Azure's own recovery time (the status may give a resolutionETA); redeploy when the VM "
             "does not come back, and open a support case if that fails too.",
        azure=(_HEALTH,)),
}

#: Finding kind (or prefix, longest match) → the commands for that very finding, asked first.
FINDING_COMMANDS: dict[str, tuple[str, ...]] = {
    "boot:network:service_failed": ("systemctl --failed --no-pager",
                                    "journalctl -b -u networking -u network -u NetworkManager -u systemd-networkd "
                                    "--no-pager | tail -50",
                                    "ip addr; ip route",
                                    "grep -rn -e address -e macaddress -e HWADDR -e IPADDR /etc/netplan "
                                    "/etc/network/interfaces* /etc/sysconfig/network-scripts 2>/dev/null"),
    "boot:network:no_dhcp_lease": ("ip link  # the NIC's MAC, against the instance view's and the configuration's",
                                   "grep -rn -e macaddress -e HWADDR /etc/netplan /etc/sysconfig/network-scripts "
                                   "/etc/udev/rules.d 2>/dev/null",
                                   "dhclient -v eth0  # or: networkctl renew eth0; nmcli device reapply eth0"),
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
    "boot:firmware:no_bootable_device": ("az snapshot list {scope} -o table",
                                         "az disk create {target}-os-restored --source <snapshot>",
                                         "az vm update {target} --os-disk {vm}-os-restored"),
    "boot:firmware:uefi_boot_failed": ("az snapshot list {scope} -o table",),
    "boot:firmware:gpt_corrupt": ("az snapshot list {scope} -o table",),
}
