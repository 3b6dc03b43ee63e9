"""The verdict on a real Debian 12 guest's serial log (tests/analyze/bootlog/data/real), read with the
lab's Azure-side evidence of the matching scenario: the boot log is what a real guest printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kit.analyze.bootlog import parse_boot_log
from kit.analyze.verdict import classify

REAL = Path(__file__).parent / "bootlog" / "data" / "real"


def _classify(scenario_bundles: dict[str, Any], scenario: str, log: str) -> Any:
    info, subject, peers = scenario_bundles[scenario]
    report = parse_boot_log((REAL / log).read_bytes(), source="serial.log")
    return classify(subject, peers, responder_ip=info.responder_ip, boot_report=report)


def test_a_real_failed_sshd_is_the_ssh_service_not_the_guest_firewall(scenario_bundles: dict[str, Any]) -> None:
    result = _classify(scenario_bundles, "sshd-broken", "debian12-sshd-bad-option.log")
    assert (result.top.kind, result.top.level, result.top.next_step.kind) == (
        "service_failure:sshd", "guest", "serial_console")


def test_a_real_stale_fstab_entry_is_a_boot_failure(scenario_bundles: dict[str, Any]) -> None:
    result = _classify(scenario_bundles, "fstab-emergency", "debian12-fstab-stale-root-locked.log")
    assert (result.top.kind, result.top.level) == ("boot_failure:fstab", "guest")


@pytest.mark.parametrize("log", ["debian12-healthy.log", "debian12-iptables-bad-target.log"])
def test_a_real_healthy_console_leaves_the_network_verdict_to_the_network(scenario_bundles: dict[str, Any],
                                                                          log: str) -> None:
    result = _classify(scenario_bundles, "nsg-deny", log)
    assert result.top.kind == "nsg_deny"


def test_a_real_oom_kill_of_another_process_after_login_is_not_the_cause(scenario_bundles: dict[str, Any]) -> None:
    result = _classify(scenario_bundles, "nsg-deny", "debian12-oom-kill.log")
    assert result.top.kind == "nsg_deny"
