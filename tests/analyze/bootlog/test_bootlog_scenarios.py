"""Every lab scenario's serial logs: the broken VM shows what its story implies, the known-good
peers reach the login prompt with no warning or worse."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from answers import ANSWERS

from kit.analyze.bootlog import BootReport, parse_boot_log

SCENARIOS = Path(__file__).resolve().parents[3] / "kit" / "lab" / "scenarios"
LOGIN = ("login", "windows-login")

# expected.hypothesis → what the broken VM's boot log must show
GUEST_EVIDENCE = {
    "guest_firewall": ("boot:firewall:admin_port_blocked",),
    "boot_failure:fstab": ("boot:fstab:device_timeout", "boot:systemd:emergency_mode"),
    "boot_failure:kernel_panic": ("boot:kernel:panic",),
    "service_failure:sshd": ("boot:sshd:service_failed", "boot:sshd:bad_config"),
    "service_failure:rdp": ("boot:windows:rdp_service",),
}
# hypotheses outside the guest: its log must look healthy
HEALTHY_GUEST = {"vm_not_running", "nsg_deny", "route_blackhole", "platform", "no_fault_found"}


def _scenarios() -> list[tuple[str, dict]]:
    found = []
    for path in sorted(SCENARIOS.glob("*/scenario.yaml")):
        if list((path.parent / "serial").glob("*.log")):
            found.append((path.parent.name, yaml.safe_load(path.read_text())))
    return found


def _report(name: str, vm: str, form=lambda data: data) -> BootReport:
    return parse_boot_log(form((SCENARIOS / name / "serial" / f"{vm}.log").read_bytes()), source=f"{vm}.log")


pytestmark = pytest.mark.skipif(not _scenarios(), reason="no lab scenarios with serial logs in kit/lab/scenarios")


@pytest.mark.parametrize(("name", "story"), _scenarios(), ids=[n for n, _ in _scenarios()])
def test_broken_vm_log_shows_what_the_story_implies(name: str, story: dict, ansi_form) -> None:
    hypothesis = ANSWERS[name].hypothesis
    report = _report(name, story["broken_vm"], ansi_form)
    assert report.warnings == ()
    assert report.platform == ("azure-hyperv" if report.os == "linux" else report.platform)
    kinds = {f.kind for f in report.findings + report.earlier_findings}
    if hypothesis in GUEST_EVIDENCE:
        assert set(GUEST_EVIDENCE[hypothesis]) <= kinds, (hypothesis, sorted(kinds))
        assert report.worst_severity == "critical"
    else:
        assert hypothesis in HEALTHY_GUEST, f"no boot-log expectation for {hypothesis!r}"
        assert report.stage in LOGIN
        assert not [f for f in report.findings if f.severity in ("critical", "error")]
    if hypothesis == "boot_failure:fstab":
        assert report.stage == "systemd" and not report.reached("multi-user")
    if hypothesis == "boot_failure:kernel_panic":
        assert report.stage == "kernel"


@pytest.mark.parametrize(("name", "vm"), [(n, vm) for n, story in _scenarios() for vm in story.get("known_good", [])])
def test_known_good_peer_reaches_login_without_a_warning_or_worse(name: str, vm: str) -> None:
    report = _report(name, vm)
    assert report.stage in LOGIN
    assert [(f.kind, f.line) for f in report.findings if f.severity in ("critical", "error", "warning")] == []
    assert report.warnings == ()
