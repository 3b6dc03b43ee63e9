"""``kit console precheck`` as a user runs it: every check listed with its status, reason and fix; the exit code."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kit.cli import main
from kit.lab import RunningLab, running_lab
from kit.lab.console_states import RESPONDER_ROLES_EXTRA, set_responder_roles, storage_account_body, use_boot_storage

CHECKS = ("subscription console", "boot diagnostics", "power state", "permissions", "boot storage", "console host",
          "serial getty (guest)")


@pytest.fixture(scope="module")
def cli_lab() -> Iterator[RunningLab]:
    """A lab of this module's own: a test changes its state."""
    with running_lab(scenarios=["firewall-lockout", "deallocated"]) as lab:
        yield lab


def _precheck(lab: RunningLab, scenario: str, *extra: str) -> list[str]:
    """``kit console precheck`` as against real Azure: endpoint, CA, env-token and the VM's full id."""
    info = lab.scenario(scenario)
    return ["console", "precheck", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path),
            "--credential", "env-token", "--vm", info.vm_id(info.broken_vm), *extra]


def test_a_ready_console_lists_every_check_ok_and_exits_0(cli_lab: RunningLab, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", cli_lab.token)
    assert main(_precheck(cli_lab, "firewall-lockout")) == 0
    out = capsys.readouterr().out
    assert ": ready" in out and "FAILED" not in out
    for name in CHECKS:
        assert any(line.split()[:1] == ["ok"] and name in line for line in out.splitlines()), (name, out)


def test_failed_checks_exit_1_with_their_reason_codes_and_fixes(cli_lab: RunningLab,
                                                                capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", cli_lab.token)
    info = cli_lab.scenario("firewall-lockout")
    vm = info.vm_id(info.broken_vm)
    use_boot_storage(cli_lab.state, vm, storage_account_body(vm, "diagsched01", allow_shared_key_access=False))
    set_responder_roles(cli_lab.state, [(f"/subscriptions/{info.subscription_id}", "Reader")])
    try:
        code = main(_precheck(cli_lab, "firewall-lockout"))
    finally:
        cli_lab.state.reload("firewall-lockout")
        cli_lab.state.extras.pop(RESPONDER_ROLES_EXTRA, None)
    out = capsys.readouterr().out
    assert code == 1 and ": NOT available" in out
    lines = out.splitlines()
    for reason, fix in (("[missing_permissions]", '--role "Virtual Machine Contributor"'),
                        ("[storage_shared_key_disabled]", "--allow-shared-key-access true"),
                        ("[storage_permissions]", "listKeys")):
        [at] = [i for i, line in enumerate(lines) if reason in line]
        assert lines[at].lstrip().startswith("FAILED")
        assert "fix:" in lines[at + 1] and (fix in lines[at + 1] or fix in lines[at])


def test_what_could_not_be_checked_is_shown_and_the_deallocated_vm_exits_1(
        cli_lab: RunningLab, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", cli_lab.token)
    assert main(_precheck(cli_lab, "deallocated")) == 1
    out = capsys.readouterr().out
    assert any(line.lstrip().startswith("could not check") and "console host" in line for line in out.splitlines())
    assert "[not_running]" in out and "fix: az vm start --name rpt-db-01" in out


@pytest.mark.parametrize("timeout", ["0", "soon", "500"])
def test_a_bad_timeout_is_a_usage_error(cli_lab: RunningLab, timeout: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(_precheck(cli_lab, "firewall-lockout", "--timeout", timeout))
    assert exited.value.code == 2 and "--timeout" in capsys.readouterr().err
