"""``kit repair`` on a real Debian 12: the copy really edited on a real repair VM, the swapped disk really booted.

The broken VM is a real guest (a kernel that panics without its initramfs; an fstab entry whose
disk is gone, with root locked so the emergency shell is closed). ``kit repair`` copies its disk,
boots a real rescue VM with the copy attached, runs the kit's offline fix there over Run Command,
swaps the disk in and starts the VM: it must boot to a login prompt, and ``kit lab check`` logs in
over SSH from the host.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kit.azure.actions import read_actions
from kit.cli import main
from kit.lab import running_lab

pytestmark = [pytest.mark.realguest, pytest.mark.xdist_group("realguest"), pytest.mark.timeout(1200)]


@pytest.fixture
def real_lab(request: pytest.FixtureRequest, base_image: Any) -> Iterator[Any]:
    scenario, variant = request.param
    with running_lab(scenarios=[scenario]) as lab:
        guest = lab.add_real_guest(scenario, variant=variant, progress=print)
        yield lab, guest


@pytest.mark.parametrize(("real_lab", "finding", "broken", "fixed"), [
    (("kernel-panic", "kernel-panic"), "kernel", "Kernel panic - not syncing", "update-initramfs: Generating"),
    (("fstab-emergency", "fstab-emergency"), "fstab", "Press Enter to continue", "# UUID="),
], indirect=["real_lab"], ids=["kernel-panic", "fstab-root-locked"])
def test_kit_repair_fixes_the_real_disk_and_the_vm_boots_to_login(
        real_lab: Any, finding: str, broken: str, fixed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    lab, guest = real_lab
    scenario = guest.scenario
    assert guest.wait_until_booted(600) == broken, "the real guest fails as the scenario says"
    assert not lab.check(scenario).passed
    info = lab.scenario(scenario)
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    code = main(["repair", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential",
                 "env-token", "--vm", str(info.vm_id(info.broken_vm)), "--approval", "CHG-900", "--incident",
                 "INC-REAL", "--archive", str(tmp_path), "--finding", finding])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "prove the recovery: ok" in out and "delete the repair VM: ok" in out
    booted = lab.state.serial_logs[str(info.vm_id(info.broken_vm)).lower()]
    assert "login: " in booted.read_text(errors="replace"), "the swapped disk booted to a login prompt"
    result = lab.check(scenario)
    assert result.passed, result.message  # a real SSH login from the host, and the scenario's condition
    [repair] = [a for a in read_actions(tmp_path / "INC-REAL") if a["kind"] == "repair"]
    assert repair["status"] == "succeeded" and repair["details"]["rolled_back"] is False
    assert fixed in (tmp_path / "INC-REAL" / repair["run"] / "stdout.txt").read_text(), "the fix ran on the copy"


@pytest.mark.parametrize("real_lab", [("firewall-lockout", None)], indirect=True)
def test_run_command_fixes_the_real_firewall_through_the_guest_agent(
        real_lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    lab, guest = real_lab
    guest.wait_until_booted(600)
    assert not lab.check("firewall-lockout").passed, "SSH is dropped by the guest firewall"
    info = lab.scenario("firewall-lockout")
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
    common = ["run-command", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path), "--credential",
              "env-token", "--vm", str(info.vm_id(info.broken_vm)), "--approval", "CHG-901", "--incident", "INC-RC",
              "--archive", str(tmp_path)]
    assert main([*common, "--diagnose"]) == 0
    assert "-P INPUT DROP" in capsys.readouterr().out, "the diagnostics pack ran in the real guest"
    # the host reaches the guest from QEMU's user network: that is the responder the guest sees
    assert main([*common, "--fix", "firewall", "--fact", "blocked=10.0.2.0/24:22"]) == 0
    result = lab.check("firewall-lockout")
    assert result.passed, result.message  # a real SSH login, and the running rules are the saved ones
    kinds = [(a["kind"], a["details"].get("exit_code")) for a in read_actions(tmp_path / "INC-RC")]
    assert kinds == [("run-command", 0), ("run-command", 0)]
