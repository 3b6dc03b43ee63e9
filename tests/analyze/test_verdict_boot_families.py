"""Boot-log families drive the classification, and only findings that survive a good boot count.

Boot reports are built here from :class:`Finding` and :class:`BootEvent` objects (not parsed from
text), so these tests pin the verdict's rules, not the boot-log parser's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from kit.analyze._verdict_boot import counted_findings
from kit.analyze._verdict_guides import FINDING_COMMANDS, GUIDES
from kit.analyze._verdict_rules import RULES
from kit.analyze.bootlog import BootEvent, BootReport, Finding
from kit.analyze.verdict import Classification, classify
from kit.evidence import load_bundle
from kit.evidence.manifest import new_manifest
from kit.evidence.writer import BundleWriter

SUB = "1f3a2b4c-0000-4000-8000-000000000013"
RESPONDER = "203.0.113.7"
#: What every ``az vm`` command names: subscription, resource group and VM.
VM1 = f"--subscription {SUB} -g rg -n vm1"
#: ``az vm repair run --run-id`` ids in Azure/repair-script-library's map.json, and ALAR's actions.
LIBRARY = {"win-dhcp-fix", "win-sac-on", "win-sacdump-on", "win-LKGC", "win-GA-fix", "win-chkdsk-fs-corruption",
           "win-sfc-sf-corruption", "win-bcdedit-ignoreAllFailure", "linux-alar2", "win-enable-nested-hyperv",
           "win-toggle-safe-mode", "win-dumpconfigurator", "win-collect-attached-disk-logs",
           "win-create-troubleshooting-user", "win-get-patches", "win-remove-patch", "win-get-apps", "win-remove-app",
           "win-update-registry"}
ALAR_ACTIONS = {"fstab", "kernel", "initrd", "serialconsole", "grubfix", "efifix", "auditd", "sudo"}


# ----------------------------------------------------------------- building reports and bundles

def finding(kind: str, severity: str = "critical", line: int = 100, *, boot: int = 0, text: str = "",
            detect_only: bool = False) -> Finding:
    """A finding as the parser makes them."""
    return Finding(kind=kind, severity=severity, line=line, text=text or f"line for {kind}",
                   evidence=f"serial.log:{line}", summary=f"{kind} happened", boot=boot, detect_only=detect_only)


def report(findings: list[Finding], *, os: str = "linux", login: dict[int, int] | None = None,
           boots: int = 1) -> BootReport:
    """A boot report: each boot starts at line ``1000 * boot + 1``; ``login`` maps a boot to its login prompt's line."""
    login = login or {}
    late, prompt = ("windows-kernel", "windows-login") if os == "windows" else ("kernel", "login")
    start = "boot:windows:sac_started" if os == "windows" else "boot:kernel:start"
    events = []
    for boot in range(boots):
        events.append(BootEvent(1000 * boot + 1, boot, None, None, None, start, "start", late))
        if boot in login:
            events.append(BootEvent(login[boot], boot, None, None, None, "boot:systemd:login_prompt", "login:", prompt))
    events.sort(key=lambda event: event.line)
    last = boots - 1
    return BootReport(
        source="serial.log", os=os, platform="azure-hyperv", platform_markers=("hv_vmbus",),
        stage=prompt if last in login else late, events=tuple(events),
        findings=tuple(f for f in findings if f.boot == last), warnings=(), boots=boots, anchor=None,
        earlier_findings=tuple(f for f in findings if f.boot != last))


def bundle(tmp_path: Path, *, os: str = "linux", agent: str = "Ready", controller: str | None = None) -> Any:
    """A running VM's bundle with a serial log (its report is handed to ``classify``) and no network."""
    vm_id = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
    manifest = new_manifest(source="import", subscription_id=SUB, resource_group="rg", vm_name="vm1", vm_id=vm_id,
                            window={"start": "2026-11-24T00:00:00Z", "end": "2026-11-25T00:00:00Z"})
    with BundleWriter(tmp_path / "vm1") as writer:
        storage: dict[str, Any] = {"osDisk": {"osType": os.capitalize()}}
        if controller:
            storage["diskControllerType"] = controller
        writer.add_json("vm.json", {"id": vm_id, "name": "vm1", "type": "Microsoft.Compute/virtualMachines",
                                    "properties": {"storageProfile": storage}}, call="virtual_machines.get")
        writer.add_json("instance_view.json", {
            "statuses": [{"code": "PowerState/running", "displayStatus": "VM running"}],
            "vmAgent": {"statuses": [{"code": "ProvisioningState/succeeded" if agent == "Ready"
                                      else "ProvisioningState/Unavailable", "displayStatus": agent}]}},
            call="virtual_machines.instance_view")
        writer.add_bytes("serial.log", b"[    0.000000] Linux version 6.8.0\n", call="boot_diagnostics.serial_log")
        return load_bundle(writer.commit(manifest))


def verdict(tmp_path: Path, boot: BootReport, **kwargs: Any) -> Classification:
    return classify(bundle(tmp_path, os=boot.os, **kwargs), responder_ip=RESPONDER, boot_report=boot)


def kinds(result: Classification) -> list[str]:
    return [h.kind for h in result.hypotheses]


def explain(result: Classification) -> str:
    return "\n".join(f"{h.kind} {h.score:.2f}: {h.summary}" for h in result.hypotheses)


# ----------------------------------------------------------------- every family that explains an outage

class Case(NamedTuple):
    findings: tuple[tuple[str, str], ...]      # (kind, severity)
    os: str
    login: bool                                # the boot reached its login prompt before the findings
    hypothesis: str
    next_step: str
    command: str                               # a command the next step must name


CASES: dict[str, Case] = {
    "disk full": Case((("boot:disk:no_space", "error"),), "linux", True,
                      "guest_disk_full", "serial_console", "du -xh / 2>/dev/null | sort -h | tail -20"),
    "auditd halts": Case((("boot:disk:auditd_halt", "critical"),), "linux", True, "guest_disk_full",
                         "serial_console", "journalctl --vacuum-size=200M"),
    "sshd OOM-killed": Case((("boot:memory:oom_killed_sshd", "critical"), ("boot:sshd:service_failed", "critical")),
                            "linux", True, "guest_out_of_memory", "serial_console", "ps aux --sort=-%mem | head -15"),
    "OOM panic": Case((("boot:memory:oom_panic", "critical"), ("boot:kernel:panic", "critical")), "linux", False,
                      "guest_out_of_memory", "serial_console", f"az vm resize {VM1} --size <a larger size>"),
    "LUKS passphrase": Case((("boot:volume:luks_passphrase", "critical"),), "linux", False,
                            "boot_failure:encrypted_disk", "serial_console", "--unlock-encrypted-vm"),
    "LVM missing": Case((("boot:volume:lvm_missing", "critical"), ("boot:initramfs:emergency_shell", "critical")),
                        "linux", False, "boot_failure:volume", "repair_vm",
                        "--run-id linux-alar2 --parameters fstab,initrd"),
    "switch_root": Case((("boot:initramfs:switch_root_failed", "critical"),), "linux", False,
                        "boot_failure:switch_root", "repair_vm", "--run-id linux-alar2 --parameters initrd"),
    "systemd freezes": Case((("boot:systemd:freezing", "critical"),), "linux", False, "boot_failure:systemd",
                            "repair_vm", "--run-id linux-alar2 --parameters kernel"),
    "SELinux policy": Case((("boot:selinux:policy_load_failed", "critical"), ("boot:systemd:freezing", "critical")),
                           "linux", False, "boot_failure:selinux", "serial_console", "add enforcing=0"),
    "disk I/O errors": Case((("boot:storage:io_error", "error"), ("boot:storage:read_only_remount", "error")),
                            "linux", True, "storage_io_error", "redeploy_vm", f"az vm redeploy {VM1}"),
    "Secure Boot": Case((("boot:firmware:secure_boot_violation", "critical"),), "linux", False,
                        "boot_failure:firmware", "repair_vm", f"az vm update {VM1} --enable-secure-boot false"),
    "no bootable device": Case((("boot:firmware:no_bootable_device", "critical"),), "linux", False,
                               "boot_failure:firmware", "repair_vm",
                               f"az snapshot list --subscription {SUB} -g rg -o table"),
    "hard lockup": Case((("boot:kernel:hard_lockup", "error"),), "linux", True, "guest_kernel_hang", "restart_vm",
                        f"az vm restart {VM1}"),
    "RCU stall": Case((("boot:kernel:rcu_stall", "error"),), "linux", True, "guest_kernel_hang", "restart_vm",
                      "/providers/Microsoft.ResourceHealth/availabilityStatuses/current"),
    "Automatic Repair": Case((("boot:windows:automatic_repair", "critical"),), "windows", False,
                             "boot_failure:windows_recovery", "repair_vm", "--run-id win-chkdsk-fs-corruption"),
    "recovery screen": Case((("boot:windows:recovery", "critical"),), "windows", False,
                            "boot_failure:windows_recovery", "repair_vm", "--run-id win-bcdedit-ignoreAllFailure"),
    "BOOTMGR missing": Case((("boot:windows:bootmgr_missing", "critical"),), "windows", False,
                            "boot_failure:bootloader", "repair_vm", "bcdboot <W>:\\Windows /s <S>: /f ALL"),
    "updating": Case((("boot:windows:updating", "warning"),), "windows", False, "boot_stalled:windows", "wait",
                     f"az vm restart {VM1}"),
    "applying policy": Case((("boot:windows:applying_policy", "warning"),), "windows", False,
                            "boot_stalled:windows", "wait", f"az vm boot-diagnostics get-boot-log-uris {VM1}"),
    "safe mode": Case((("boot:windows:safe_mode", "error"),), "windows", True, "guest_safe_mode", "serial_console",
                      "bcdedit /deletevalue {current} safeboot"),
    "DHCP disabled": Case((("boot:windows:dhcp_disabled", "error"),), "windows", True,
                          "guest_network:dhcp_disabled", "serial_console", "sc config dhcp start= auto"),
    "privsep dir": Case((("boot:sshd:privsep_missing", "critical"),), "linux", True, "service_failure:sshd",
                        "serial_console", "mkdir -p /run/sshd && chmod 0755 /run/sshd"),
    "home ownership": Case((("boot:sshd:bad_ownership", "error"),), "linux", True, "service_failure:sshd",
                           "serial_console", "chmod go-w ~<user> && chmod 700 ~<user>/.ssh"),
    "key permissions": Case((("boot:sshd:key_permissions", "error"),), "linux", True, "service_failure:sshd",
                            "serial_console", "chmod 600 /etc/ssh/ssh_host_*_key && chown root:root "
                                              "/etc/ssh/ssh_host_*_key"),
    "conntrack full": Case((("boot:firewall:conntrack_full", "error"),), "linux", True, "guest_conntrack_full",
                           "serial_console", "sysctl net.netfilter.nf_conntrack_count net.netfilter.nf_conntrack_max"),
    "network service failed": Case((("boot:network:service_failed", "error"),), "linux", True,
                                   "guest_network:stack", "serial_console", "ip addr; ip route"),
    "no DHCP lease": Case((("boot:network:no_dhcp_lease", "error"),), "linux", True, "guest_network:stack",
                          "serial_console", "grep -rn -e macaddress -e HWADDR"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_family_gets_its_hypothesis_and_next_step(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    found = [finding(kind, severity, 200 + i) for i, (kind, severity) in enumerate(case.findings)]
    result = verdict(tmp_path, report(found, os=case.os, login={0: 150} if case.login else None))
    top = result.top
    assert (top.kind, top.next_step.kind) == (case.hypothesis, case.next_step), explain(result)
    assert any(case.command in command for command in top.next_step.commands), top.next_step.commands
    assert any(row.source == "boot_log" and row.evidence.startswith("serial.log:") for row in top.supporting)
    assert not re.search(r"\{(sub|rg|vm|vm_id|target|scope|responder|run|fstab_match)\}", json.dumps(top.to_json()))


def test_the_responder_banned_by_fail2ban_is_unbanned_by_address(tmp_path: Path) -> None:
    ban = finding("boot:firewall:responder_banned", "error", 300,
                  text=f"fail2ban.actions [812]: NOTICE [sshd] Ban {RESPONDER}")
    top = verdict(tmp_path, report([ban], login={0: 150})).top
    assert (top.kind, top.level, top.next_step.kind) == ("responder_banned", "guest", "serial_console")
    assert f"fail2ban-client set sshd unbanip {RESPONDER}" in top.next_step.commands
    assert top.score == pytest.approx(4.0 * 0.9 + 0.5)  # the responder's own address: full strength


def test_a_ban_of_another_address_is_weaker(tmp_path: Path) -> None:
    ban = finding("boot:firewall:responder_banned", "error", 300, text="sshguard[77]: Blocking 198.51.100.9")
    top = verdict(tmp_path, report([ban], login={0: 150})).top
    assert top.kind == "responder_banned" and top.score == pytest.approx(4.0 * 0.7 + 0.5)


def test_a_selinux_relabel_loop_over_boots_stops_the_boot(tmp_path: Path) -> None:
    relabels = [finding("boot:selinux:relabel", "warning", 1000 * boot + 50, boot=boot) for boot in range(3)]
    result = verdict(tmp_path, report(relabels, boots=3))
    assert result.top.kind == "boot_failure:selinux", explain(result)
    assert "touch /.autorelabel only once the policy loads" in result.top.next_step.text


def test_one_relabel_is_no_outage(tmp_path: Path) -> None:
    result = verdict(tmp_path, report([finding("boot:selinux:relabel", "warning", 50)]))
    assert "boot_failure:selinux" not in kinds(result)


def test_guest_network_stack_when_the_agent_is_not_ready_after_login(tmp_path: Path) -> None:
    result = verdict(tmp_path, report([], login={0: 150}), agent="Not Ready")
    top = result.top
    assert (top.kind, top.level, top.next_step.kind) == ("guest_network:stack", "guest", "serial_console")
    assert {"ip addr", "ip route", "systemctl status systemd-networkd NetworkManager --no-pager"} <= set(
        top.next_step.commands)
    assert any(row.source == "instance_view" and "Not Ready" in row.summary for row in top.supporting)


def test_an_agent_not_ready_without_login_is_not_the_network(tmp_path: Path) -> None:
    result = verdict(tmp_path, report([finding("boot:kernel:panic", "critical", 300)]), agent="Not Ready")
    assert result.top.kind == "boot_failure:kernel_panic" and "guest_network:stack" not in kinds(result)


# ----------------------------------------------------------------- survives a good boot

@pytest.mark.parametrize(("kind", "hypothesis"), [
    ("boot:fstab:mount_failed", "boot_failure:fstab"),
    ("boot:kernel:panic", "boot_failure:kernel_panic"),
    ("boot:volume:lvm_missing", "boot_failure:volume"),
    ("boot:firmware:uefi_boot_failed", "boot_failure:firmware"),
    ("boot:initramfs:root_missing", "boot_failure:root_device"),
    ("boot:kernel:hard_lockup", "guest_kernel_hang"),
])
def test_a_boot_failure_followed_by_a_login_prompt_does_not_count(tmp_path: Path, kind: str, hypothesis: str) -> None:
    before = verdict(tmp_path / "a", report([finding(kind, "critical", 300)]))
    assert hypothesis in kinds(before), explain(before)
    after = verdict(tmp_path / "b", report([finding(kind, "critical", 300)], login={0: 400}))
    assert hypothesis not in kinds(after), explain(after)
    assert not counted_findings(report([finding(kind, "critical", 300)], login={0: 400}))


def test_a_finding_of_a_boot_followed_by_a_good_boot_does_not_count(tmp_path: Path) -> None:
    old = [finding("boot:memory:oom_killed_sshd", "critical", 300, boot=0),
           finding("boot:kernel:panic", "critical", 320, boot=0)]
    result = verdict(tmp_path, report(old, boots=2, login={1: 1500}))
    assert result.top.kind == "no_fault_found" or result.insufficient, explain(result)
    assert not {"guest_out_of_memory", "boot_failure:kernel_panic"} & set(kinds(result))


def test_a_finding_of_an_earlier_boot_counts_when_no_boot_reached_login_since(tmp_path: Path) -> None:
    old = [finding("boot:memory:oom_panic", "critical", 300, boot=0)]
    result = verdict(tmp_path, report(old, boots=2))
    assert result.top.kind == "guest_out_of_memory", explain(result)
    assert "(boot 1 of 2)" in result.top.supporting[0].summary


@pytest.mark.parametrize(("kind", "hypothesis"), [
    ("boot:sshd:privsep_missing", "service_failure:sshd"),
    ("boot:sshd:service_failed", "service_failure:sshd"),
    ("boot:firewall:admin_port_blocked", "guest_firewall"),
    ("boot:memory:oom_killed_sshd", "guest_out_of_memory"),
    ("boot:disk:no_space", "guest_disk_full"),
    ("boot:firewall:conntrack_full", "guest_conntrack_full"),
    ("boot:firewall:responder_banned", "responder_banned"),
])
@pytest.mark.parametrize("where", ["before", "after"])
def test_an_access_breaking_finding_counts_before_and_after_the_login_prompt(tmp_path: Path, kind: str,
                                                                             hypothesis: str, where: str) -> None:
    line = 100 if where == "before" else 300
    result = verdict(tmp_path, report([finding(kind, "critical", line)], login={0: 200}))
    assert result.top.kind == hypothesis, explain(result)


def test_detect_only_findings_never_count(tmp_path: Path) -> None:
    context = [finding("boot:kernel:soft_lockup", "error", 300, detect_only=True),
               finding("boot:memory:oom_kill", "error", 310, detect_only=True),
               finding("boot:kernel:panic", "critical", 320, detect_only=True)]
    assert counted_findings(report(context)) == ()
    result = verdict(tmp_path, report(context, login={0: 100}))
    assert not {"boot_failure:kernel_panic", "guest_out_of_memory"} & set(kinds(result)), explain(result)


def test_counted_findings_keep_log_order_and_drop_info(tmp_path: Path) -> None:
    found = [finding("boot:sshd:started", "info", 90), finding("boot:fstab:mount_failed", "error", 95),
             finding("boot:sshd:service_failed", "critical", 300)]
    counted = counted_findings(report(found, login={0: 200}))
    assert [f.kind for f in counted] == ["boot:sshd:service_failed"]


# ----------------------------------------------------------------- the tables themselves

def test_every_repair_script_exists_in_azure_repair_script_library() -> None:
    for name, guide in GUIDES.items():
        for script in guide.repair:
            run_id, *rest = script.split()
            assert run_id in LIBRARY, f"{name}: {run_id}"
            if rest:
                assert rest[0] == "--parameters" and set(rest[1].split(",")) <= ALAR_ACTIONS, f"{name}: {script}"


def test_every_guide_and_finding_command_belongs_to_a_rule() -> None:
    rules = {rule.kind for rule in RULES}
    assert {name.split("/")[0] for name in GUIDES} <= rules
    assert all(kind.startswith("boot:") for kind in FINDING_COMMANDS)


@pytest.mark.parametrize("controller", ["NVMe", "SCSI"])
def test_inaccessible_boot_device_is_the_storage_driver_and_on_nvme_the_kit_repairs_it(tmp_path: Path,
                                                                                      controller: str) -> None:
    stop = finding("boot:windows:bugcheck", "critical", 300, text="Stop code: INACCESSIBLE_BOOT_DEVICE")
    result = verdict(tmp_path, report([stop], os="windows"), controller=controller)
    top = result.top
    assert (top.kind, top.next_step.kind) == ("boot_failure:storage_driver", "repair_vm"), explain(result)
    kit = [c for c in top.next_step.commands if c.startswith("kit repair")]
    if controller == "NVMe":
        assert kit == [top.next_step.commands[0]] and kit[0].endswith("--finding nvme"), top.next_step.commands
        assert any(row.kind == "disk_controller:nvme" for row in top.supporting)
    else:  # the kit's fix is the NVMe driver's: on SCSI another driver is to blame
        assert not kit and any("--run-id win-chkdsk-fs-corruption" in c for c in top.next_step.commands)
    assert "stornvme" in top.next_step.text


def test_another_stop_code_is_not_the_storage_driver(tmp_path: Path) -> None:
    stop = finding("boot:windows:bugcheck", "critical", 300, text="Stop code: CRITICAL_PROCESS_DIED")
    result = verdict(tmp_path, report([stop], os="windows"), controller="NVMe")
    assert "boot_failure:storage_driver" not in kinds(result)[:1], explain(result)
