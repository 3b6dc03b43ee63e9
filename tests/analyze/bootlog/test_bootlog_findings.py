"""Each realistic log yields the findings, stage, OS and platform an SRE would read from it,
with the ESC byte and without it (``[[0;1;31mFAILED``)."""

from __future__ import annotations

import re

import pytest
from bootlog_data import read

from kit.analyze.bootlog import parse_boot_log

_ANSI = re.compile(r"\x1b?\[[0-9;]*[mKHJ]")

# fixture → (os, platform, stage, {kind: text the evidence line contains})
CASES = {
    "ubuntu-healthy.log": ("linux", "azure-hyperv", "login", {
        "boot:systemd:multi_user": "Reached target Multi-User System",
        "boot:sshd:started": "Started OpenBSD Secure Shell server",
        "boot:systemd:login_prompt": "vm-web-01 login:",
    }),
    "ubuntu-fstab-emergency.log": ("linux", "hyperv", "systemd", {
        "boot:fstab:device_timeout": "Timed out waiting for device",
        "boot:fstab:dependency_failed": "Dependency failed for /data.",
        "boot:systemd:emergency_mode": "Emergency",
        "boot:systemd:root_locked": "root account is locked",
    }),
    "rhel-dracut-root-missing.log": ("linux", "hyperv", "initramfs", {
        "boot:initramfs:timeout": "dracut-initqueue timeout",
        "boot:initramfs:root_missing": "Could not boot",
        "boot:initramfs:emergency_shell": "Dracut Emergency Shell",
    }),
    "ubuntu-initramfs-busybox.log": ("linux", "hyperv", "initramfs", {
        "boot:initramfs:root_missing": "Gave up waiting for root file system device",
        "boot:initramfs:emergency_shell": "BusyBox v1.30.1",
    }),
    "ubuntu-kernel-panic-two-boots.log": ("linux", "azure-hyperv", "kernel", {
        "boot:kernel:panic": "Kernel panic - not syncing: VFS: Unable to mount root fs",
        "boot:kernel:root_device": "VFS: Cannot open root device",
        "boot:bootloader:file_not_found": "initrd.img-5.15.0-1052-azure' not found",
    }),
    "ubuntu-kernel-oops-lockup.log": ("linux", "azure-hyperv", "login", {
        "boot:kernel:soft_lockup": "soft lockup - CPU#2 stuck",
        "boot:kernel:oops": "BUG: kernel NULL pointer dereference",
        "boot:kernel:general_protection_fault": "general protection fault",
        "boot:kernel:hung_task": "blocked for more than 120 seconds",
    }),
    "hyperv-storvsc-probe-failed.log": ("linux", "hyperv", "initramfs", {
        "boot:kernel:hv_driver_failed": "hv_storvsc f8b3781a-1e82-4818-a1c3-63d806ec15bb: probe failed",
        "boot:initramfs:root_missing": "ALERT!",
    }),
    "rhel-xfs-corruption.log": ("linux", "hyperv", "systemd", {
        "boot:filesystem:xfs_error": "Metadata corruption detected",
        "boot:fstab:mount_failed": "Failed to mount /data.",
        "boot:systemd:emergency_mode": "Emergency",
    }),
    "ubuntu-ext4-fsck-manual.log": ("linux", "hyperv", "initramfs", {
        "boot:filesystem:fsck_failed": "UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY.",
        "boot:filesystem:ext4_error": "EXT4-fs error (device sda1)",
        "boot:initramfs:emergency_shell": "BusyBox",
    }),
    "grub-rescue.log": ("linux", "unknown", "bootloader", {
        "boot:bootloader:rescue_shell": "Entering rescue mode...",
        "boot:bootloader:error": "error: no such device: 0c3c1b5f",
    }),
    "grub-kernel-missing.log": ("linux", "unknown", "bootloader", {
        "boot:bootloader:file_not_found": "error: file `/boot/vmlinuz-5.15.0-1052-azure' not found.",
        "boot:bootloader:error": "you need to load the kernel first",
    }),
    "cloud-init-no-network.log": ("linux", "azure-hyperv", "login", {
        "boot:cloud-init:network_down": "|  eth0  | False |",
        "boot:cloud-init:datasource_failed": "DataSourceAzure.py[ERROR]",
        "boot:waagent:wireserver_unreachable": "Failed to connect to wireserver endpoint 168.63.129.16",
    }),
    "sshd-bad-config.log": ("linux", "azure-hyperv", "login", {
        "boot:sshd:bad_config": "Bad configuration option: PermitRootLogn",
        "boot:sshd:service_failed": "Failed to start OpenBSD Secure Shell server",
        "boot:systemd:login_prompt": "login:",
    }),
    "sshd-host-key-missing.log": ("linux", "azure-hyperv", "login", {
        "boot:sshd:host_key": "Unable to load host key: /etc/ssh/ssh_host_rsa_key",
        "boot:sshd:service_failed": "Failed to start OpenBSD Secure Shell server",
    }),
    "ufw-ssh-blocked.log": ("linux", "azure-hyperv", "login", {
        "boot:firewall:enabled": "Started Uncomplicated firewall",
        "boot:firewall:admin_port_blocked": "DPT=22",
        "boot:firewall:blocked": "DPT=23",
    }),
    "windows-sac-healthy.log": ("windows", "unknown", "windows-login", {
        "boot:windows:cmd_available": "EVENT: The CMD command is now available.",
    }),
    "windows-rdp-disabled.log": ("windows", "unknown", "windows-login", {
        "boot:windows:rdp_service": "Remote Desktop Services (TermService)",
    }),
    "windows-bugcheck.log": ("windows", "unknown", "sac", {
        "boot:windows:bugcheck": "INACCESSIBLE_BOOT_DEVICE",
    }),
    "windows-bcd-missing.log": ("windows", "unknown", "boot-manager", {
        "boot:windows:bcd_error": "0xc0000034",
    }),
    "windows-health-report.log": ("windows", "azure-hyperv", "none", {
        "boot:windows:health_report": "Azure VM Health Report",
    }),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_yields_its_findings_stage_and_platform(name: str, ansi_form) -> None:
    os_name, platform, stage, expected = CASES[name]
    raw = ansi_form(read(name))
    report = parse_boot_log(raw, source=name)
    assert (report.os, report.platform, report.stage) == (os_name, platform, stage)
    assert report.warnings == ()
    lines = [_ANSI.sub("", line).rstrip("\r\x00") for line in raw.decode().split("\n")]
    for kind, phrase in expected.items():
        found = [f for f in report.findings if f.kind == kind]
        assert found, f"{kind} missing; got {[f.kind for f in report.findings]}"
        assert any(phrase in f.text for f in found), (kind, [f.text for f in found])
        for finding in found:
            assert finding.evidence == f"{name}:{finding.line}"
            # the line number points at the physical line (as grep -n counts) holding the evidence
            assert lines[finding.line - 1].strip().startswith(finding.text.strip()[:40])


def test_healthy_log_has_no_problem_findings() -> None:
    report = parse_boot_log(read("ubuntu-healthy.log"))
    assert {f.severity for f in report.findings} == {"info"}
    assert report.worst_severity == "info"


def test_emergency_mode_is_critical_and_fstab_findings_come_before_it() -> None:
    report = parse_boot_log(read("ubuntu-fstab-emergency.log"))
    timeout = report.findings_of("boot:fstab:device_timeout")[0]
    emergency = report.findings_of("boot:systemd:emergency_mode")[0]
    assert timeout.line < emergency.line
    assert emergency.severity == "critical" and report.worst_severity == "critical"
    assert "6f0c1a7e-3b4d-4c2a-9e8f-1d2c3b4a5f60" in timeout.summary  # systemd's \x2d unescaped


def test_unit_failure_is_reported_once_by_the_most_specific_rule() -> None:
    report = parse_boot_log(read("sshd-bad-config.log"))
    failed_line = next(f.line for f in report.findings if f.text.startswith("[FAILED]"))
    kinds = [f.kind for f in report.findings if f.line == failed_line]
    assert kinds == ["boot:sshd:service_failed"]
    assert any(e.kind == "boot:systemd:unit_failed" and e.line == failed_line for e in report.events)


def test_dracut_emergency_is_an_initramfs_finding_not_systemd_emergency_mode() -> None:
    report = parse_boot_log(read("rhel-dracut-root-missing.log"))
    assert report.findings_of("boot:systemd:emergency_mode") == ()
    assert report.findings_of("boot:initramfs")


def test_grub_missing_initrd_is_an_error_but_missing_kernel_is_critical() -> None:
    initrd = parse_boot_log(read("ubuntu-kernel-panic-two-boots.log")).findings_of("boot:bootloader:file_not_found")
    kernel = parse_boot_log(read("grub-kernel-missing.log")).findings_of("boot:bootloader:file_not_found")
    assert [f.severity for f in initrd] == ["error"]
    assert [f.severity for f in kernel] == ["critical"]


def test_firewall_drop_to_ssh_port_names_source_and_port() -> None:
    report = parse_boot_log(read("ufw-ssh-blocked.log"))
    blocked = report.findings_of("boot:firewall:admin_port_blocked")
    assert len(blocked) == 4
    assert "SSH" in blocked[0].summary and "203.0.113.7" in blocked[0].summary and ":22" in blocked[0].summary
    assert report.findings_of("boot:firewall:blocked")[0].severity == "info"


def test_platform_markers_never_claim_azure_without_azure_markers() -> None:
    hyperv_only = parse_boot_log(read("ubuntu-fstab-emergency.log"))
    assert hyperv_only.platform == "hyperv"
    assert "hv_vmbus" in hyperv_only.platform_markers
    assert not {"168.63.129.16", "DataSourceAzure", "waagent"} & set(hyperv_only.platform_markers)
    plain = parse_boot_log(b"[    0.000000] Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org)\r\n"
                           b"[    0.100000] DMI: QEMU Standard PC (Q35 + ICH9, 2009)\r\nvm login: ")
    assert (plain.platform, plain.platform_markers) == ("unknown", ())
    azure = parse_boot_log(read("ubuntu-healthy.log"))
    assert azure.platform == "azure-hyperv"
    assert {"hv_vmbus", "Microsoft Corporation Virtual Machine", "168.63.129.16", "DataSourceAzure",
            "waagent"} <= set(azure.platform_markers)


def test_marker_event_is_recorded_once_per_marker() -> None:
    report = parse_boot_log(read("ubuntu-healthy.log"))
    markers = [e for e in report.events if e.kind == "boot:platform:marker"]
    assert len(markers) <= len(report.platform_markers)
