"""The field guide's case studies on a real Debian 12: wake, log in, diagnose, fix, prove it over SSH.

Each test boots the scenario's broken VM as a real guest in the lab, collects the evidence with
the kit (the boot log is the guest's own serial output), checks what ``kit analyze boot`` and
``kit analyze verdict`` say about it, then walks the console through the kit's own session and
ends with ``kit lab check``: a real SSH login from the host plus the scenario's condition.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kit.cli import main
from kit.console import open_lab_session
from kit.errors import ConsoleError
from kit.lab import running_lab

pytestmark = [pytest.mark.realguest, pytest.mark.xdist_group("realguest"), pytest.mark.timeout(900)]

PASSWORD = "Lab-Only-Pa55!"


@pytest.fixture
def real_lab(request: pytest.FixtureRequest, base_image: Any) -> Iterator[Any]:
    scenario, variant = request.param
    with running_lab(scenarios=[scenario]) as lab:
        guest = lab.add_real_guest(scenario, variant=variant, progress=print)
        yield lab, guest


def _evidence(lab: Any, scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``kit collect`` from the lab, then ``kit analyze boot`` and ``kit analyze verdict`` as JSON."""
    info = lab.scenario(scenario)
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    assert main(["collect", "--subscription", info.subscription_id, "--resource-group", info.resource_group,
                 "--vm", info.broken_vm, "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path),
                 "--credential", "env-token", "--out", str(tmp_path)]) == 0
    bundle = tmp_path / info.broken_vm
    assert b"Linux version 6.1" in (bundle / "serial.log").read_bytes(), "the bundle holds the real guest's log"
    capsys.readouterr()
    main(["analyze", "boot", str(bundle), "--json"])
    boot = json.loads(capsys.readouterr().out)
    main(["analyze", "verdict", str(bundle), "--json", "--responder-ip", info.responder_ip])
    verdict = json.loads(capsys.readouterr().out)
    return boot, verdict


def _kinds(boot: dict[str, Any]) -> set[str]:
    return {finding["kind"] for finding in boot["findings"]}


@pytest.mark.parametrize("real_lab", [("firewall-lockout", None)], indirect=True)
def test_firewall_lockout_fixed_from_the_console_and_persisted(
        real_lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    lab, guest = real_lab
    assert guest.wait_until_booted(600) == "login: "
    assert "fails" in lab.check("firewall-lockout").message  # SSH is really blocked
    boot, verdict = _evidence(lab, "firewall-lockout", tmp_path, monkeypatch, capsys)
    assert boot["stage"] == "login" and "boot:sshd:started" in _kinds(boot)
    assert verdict["top"] == "guest_firewall" and verdict["level"] == "guest"
    commands = " ".join(verdict["hypotheses"][0]["commands"])
    assert "iptables" in commands and ("netfilter-persistent save" in commands or "iptables-save" in commands)
    with open_lab_session(lab, "firewall-lockout", approval="CHG-RG-1", transcript=tmp_path / "fw.cast") as session:
        session.login("azureuser", PASSWORD)
        rules = session.execute("sudo iptables -S INPUT", password=PASSWORD)
        assert rules.ok and "-P INPUT DROP" in rules.output.splitlines()
        assert session.execute("sudo iptables -I INPUT -p tcp --dport 22 -j ACCEPT", password=PASSWORD).ok
        assert "SSH works now, but" in lab.check("firewall-lockout").message  # open, not yet persisted
        saved = session.execute("sudo netfilter-persistent save", password=PASSWORD)
        assert saved.ok, saved.output
    result = lab.check("firewall-lockout")
    assert result.passed, result.message
    transcript = (tmp_path / "fw.txt").read_text()
    assert "approval: CHG-RG-1" in transcript and "netfilter-persistent save" in transcript
    assert PASSWORD not in transcript and PASSWORD not in (tmp_path / "fw.cast").read_text()


@pytest.mark.parametrize("real_lab", [("sshd-broken", None)], indirect=True)
def test_sshd_broken_fixed_from_the_console(
        real_lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    lab, guest = real_lab
    assert guest.wait_until_booted(600) == "login: "
    boot, verdict = _evidence(lab, "sshd-broken", tmp_path, monkeypatch, capsys)
    assert "boot:sshd:service_failed" in _kinds(boot)
    assert verdict["top"] == "service_failure:sshd", verdict["hypotheses"][:2]
    with open_lab_session(lab, "sshd-broken", approval="CHG-RG-2") as session:
        session.login("azureuser", PASSWORD)
        test = session.execute("sudo sshd -t", password=PASSWORD)
        assert test.exit_status == 255 and "StreamLocalBindUnlnk" in test.output
        path = re.search(r"(/etc/ssh/\S+\.conf)", test.output)
        assert path is not None, test.output
        assert session.execute(f"sudo sed -i '/StreamLocalBindUnlnk/d' {path.group(1)}", password=PASSWORD).ok
        # the failed unit never made its runtime folder: sshd -t says so until ssh.service starts
        assert "/run/sshd" in session.execute("sudo sshd -t", password=PASSWORD).output
        # when systemd gave up on ssh.service at boot (its start limit: five failures within 10 s, which a
        # loaded TCG host does not always reach), a plain restart fails until reset-failed
        if not session.execute("sudo systemctl restart ssh", password=PASSWORD).ok:
            assert "repeated too quickly" in session.execute("sudo journalctl -u ssh -b --no-pager | tail -3",
                                                             password=PASSWORD).output
        started = session.execute("sudo systemctl reset-failed ssh; sudo systemctl restart ssh && "
                                  "systemctl is-active ssh", password=PASSWORD)
        assert started.ok and started.output.strip().endswith("active"), started.output
        assert session.execute("sudo sshd -t", password=PASSWORD).exit_status == 0
    result = lab.check("sshd-broken")
    assert result.passed, result.message


@pytest.mark.parametrize("real_lab", [("fstab-emergency", "fstab-emergency")], indirect=True)
def test_fstab_emergency_with_root_locked_is_a_dead_end_the_kit_names(
        real_lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    lab, guest = real_lab
    assert "Press Enter" in guest.wait_until_booted(600)
    boot, verdict = _evidence(lab, "fstab-emergency", tmp_path, monkeypatch, capsys)
    assert {"boot:systemd:emergency_mode", "boot:systemd:root_locked"} <= _kinds(boot)
    top = verdict["hypotheses"][0]
    assert verdict["top"] == "boot_failure:fstab" and verdict["next_step"] == "repair_vm", top["next_step_text"]
    assert "root account is locked" in top["next_step_text"]
    assert any("--run-id linux-alar2 --parameters fstab" in command for command in top["commands"])
    before = guest.qemu.log_size()
    with open_lab_session(lab, "fstab-emergency", approval="CHG-RG-3") as session, \
            pytest.raises(ConsoleError, match="root account is locked") as refused:
        session.login("root", PASSWORD)
    assert "linux-alar2" in str(refused.value) and "rd.break" in str(refused.value)
    assert "Reached target" not in guest.qemu.log_text(before), "Enter was never pressed: the boot did not resume"


@pytest.mark.parametrize("real_lab", [("fstab-emergency", None)], indirect=True)
def test_fstab_emergency_with_a_root_password_fixed_and_rebooted(
        real_lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    lab, guest = real_lab
    assert "Give root password" in guest.wait_until_booted(600)
    boot, verdict = _evidence(lab, "fstab-emergency", tmp_path, monkeypatch, capsys)
    assert "boot:systemd:emergency_mode" in _kinds(boot) and "boot:systemd:root_locked" not in _kinds(boot)
    assert verdict["top"] == "boot_failure:fstab"
    with open_lab_session(lab, "fstab-emergency", approval="CHG-RG-4") as session:
        session.login("root", PASSWORD)
        fstab = session.execute("cat /etc/fstab")
        assert "b4e2d8f0-61a3-4c57-9d2e-08f7c3a1b965" in fstab.output
        assert session.execute("cp /etc/fstab /etc/fstab.kit-backup && "
                               "sed -i 's|^UUID=b4e2d8f0-61a3-4c57-9d2e-08f7c3a1b965|# &|' /etc/fstab").ok
        assert session.execute("findmnt --verify --tab-file /etc/fstab").exit_status == 0
        before = guest.qemu.log_size()
        session.sendline("systemctl reboot")
    assert guest.wait_until_booted(600, after=before) == "login: "
    result = lab.check("fstab-emergency")
    assert result.passed, result.message
