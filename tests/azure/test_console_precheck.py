"""``console_readiness`` through the lab over HTTPS: each new failure is produced by lab state and named with its fix.

The lab's scenarios stay as committed; each test changes one running lab's state
(:mod:`kit.lab.console_states`) and the fixture puts it back.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.storage import StorageManagementClient

from kit.azure.serialconsole import SerialConsoleClient
from kit.azure.target import AzureTarget
from kit.console.precheck import ConsoleReadiness, console_readiness
from kit.errors import AuthenticationError
from kit.ids import parse_resource_id
from kit.lab import RunningLab, running_lab
from kit.lab.console_states import (
    CONSOLE_ENDPOINT_EXTRA,
    RESPONDER_ROLES_EXTRA,
    set_console_endpoint,
    set_responder_roles,
    set_serial_log,
    storage_account_body,
    use_boot_storage,
)

SCENARIOS = ("firewall-lockout", "windows-rdp", "deallocated")
CONNECT = "Microsoft.SerialConsole/serialPorts/connect/action"
DATA = Path(__file__).parents[1] / "analyze" / "bootlog" / "data"


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    """A lab of this module's own: the tests change its state."""
    with running_lab(scenarios=SCENARIOS) as running:
        yield running


@pytest.fixture(autouse=True)
def _restore(lab: RunningLab) -> Iterator[None]:
    yield
    for name in SCENARIOS:
        lab.state.reload(name)
    lab.state.extras.pop(RESPONDER_ROLES_EXTRA, None)
    lab.state.extras.pop(CONSOLE_ENDPOINT_EXTRA, None)


def _vm(lab: RunningLab, scenario: str = "firewall-lockout") -> str:
    info = lab.scenario(scenario)
    return info.vm_id(info.broken_vm)


def _check(lab: RunningLab, scenario: str = "firewall-lockout", timeout: float = 3.0) -> ConsoleReadiness:
    return console_readiness(SerialConsoleClient.for_lab(lab), _vm(lab, scenario), timeout=timeout)


def _failed(result: ConsoleReadiness, code: str) -> Any:
    [check] = [c for c in result.failed if c.code == code]
    assert not result.ok and code in str(result) and "FAILED" in str(result)
    return check


@pytest.mark.parametrize("scenario", ["firewall-lockout", "windows-rdp"])
def test_a_healthy_vm_passes_every_check(lab: RunningLab, scenario: str) -> None:
    result = _check(lab, scenario)
    assert result.ok and result.codes == (), str(result)
    names = [c.name for c in result.checks]
    assert {"permissions", "boot storage", "console host"} <= set(names)
    assert any(n in names for n in ("SAC (guest)", "serial getty (guest)"))
    assert all(c.status == "ok" for c in result.checks), str(result)
    host = next(c for c in result.checks if c.name == "console host")
    assert host.reason.startswith("127.0.0.1:") and "TLS" in host.reason
    assert result.responder == lab.state.principal.name


def test_a_reader_lacks_connect_and_write_and_is_told_which_role_to_ask_for(lab: RunningLab) -> None:
    info = lab.scenario("firewall-lockout")
    set_responder_roles(lab.state, [(f"/subscriptions/{info.subscription_id}", "Reader")])
    result = _check(lab)
    check = _failed(result, "missing_permissions")
    assert CONNECT in check.reason and "virtualMachines/write" in check.reason
    assert "virtualMachines/read" not in check.reason  # */read covers it
    assert f"--assignee {lab.state.principal.name}" in check.fix and "Virtual Machine Contributor" in check.fix
    assert f"--scope {_vm(lab)}" in check.fix
    host = next(c for c in result.checks if c.name == "console host")  # Azure refuses the connect itself
    assert host.status == "unknown" and "403 AuthorizationFailed" in host.reason
    with pytest.raises(AuthenticationError, match=f"does not have authorization to perform action '{CONNECT}'"):
        SerialConsoleClient.for_lab(lab).connection_string(_vm(lab))


def test_not_actions_take_connect_away_from_a_role_that_has_everything_else(lab: RunningLab) -> None:
    info = lab.scenario("firewall-lockout")
    set_responder_roles(lab.state, [(f"/subscriptions/{info.subscription_id}/resourceGroups/{info.resource_group}",
                                     {"actions": ["*"], "notActions": ["Microsoft.SerialConsole/*"]})])
    check = _failed(_check(lab), "missing_permissions")
    assert check.reason.endswith(f"may not {CONNECT} on {info.broken_vm}")


def test_a_vm_contributor_on_the_group_may_use_the_console(lab: RunningLab) -> None:
    info = lab.scenario("firewall-lockout")
    set_responder_roles(lab.state, [(f"/subscriptions/{info.subscription_id}/resourceGroups/{info.resource_group}",
                                     "Virtual Machine Contributor")])
    result = _check(lab)
    assert result.ok, str(result)
    set_responder_roles(lab.state, [(f"/subscriptions/{info.subscription_id}/resourceGroups/rg-elsewhere",
                                     "Virtual Machine Contributor")])
    assert "missing_permissions" in _check(lab).codes  # a role on another group grants nothing here


@pytest.mark.parametrize(("settings", "code", "fix"), [
    ({"default_action": "Deny"}, "storage_firewall", "az storage account network-rule add -n diagsched01"),
    ({"public_network_access": "Disabled", "default_action": "Deny", "private_endpoint": "pe-diag"},
     "storage_private_endpoint", "--public-network-access Enabled"),
    ({"allow_shared_key_access": False}, "storage_shared_key_disabled", "--allow-shared-key-access true"),
])
def test_custom_boot_storage_that_keeps_the_console_out_is_named_with_its_fix(
        lab: RunningLab, settings: dict[str, Any], code: str, fix: str) -> None:
    use_boot_storage(lab.state, _vm(lab), storage_account_body(_vm(lab), "diagsched01", **settings))
    result = _check(lab)
    check = _failed(result, code)
    assert "diagsched01" in check.reason and fix in check.fix
    assert "az vm boot-diagnostics enable --name sched-01" in check.fix  # or managed boot diagnostics
    assert result.codes == (code,)  # nothing else fails: the responder may read the account
    assert next(c for c in result.checks if c.name == "boot diagnostics").reason == "on, custom storage"


def test_a_custom_account_that_lets_the_console_in_passes(lab: RunningLab) -> None:
    use_boot_storage(lab.state, _vm(lab), storage_account_body(_vm(lab), "diagsched01", allow_shared_key_access=True))
    result = _check(lab)
    assert result.ok, str(result)
    assert any(c.name == "storage permissions" and c.status == "ok" for c in result.checks)


def test_storage_rights_are_checked_on_the_account_not_the_vm(lab: RunningLab) -> None:
    info = lab.scenario("firewall-lockout")
    group = f"/subscriptions/{info.subscription_id}/resourceGroups/{info.resource_group}"
    account = storage_account_body(_vm(lab), "diagsched01")
    use_boot_storage(lab.state, _vm(lab), account)
    set_responder_roles(lab.state, [(_vm(lab), "Virtual Machine Contributor"), (group, "Reader")])
    check = _failed(_check(lab), "storage_permissions")
    assert "listKeys/action" in check.reason and "storageAccounts/read" not in check.reason
    assert f"--scope {account['id']}" in check.fix


def test_an_account_that_no_longer_exists_is_named(lab: RunningLab) -> None:
    account = storage_account_body(_vm(lab), "diaggone01")
    use_boot_storage(lab.state, _vm(lab), account)
    assert lab.state.delete(account["id"])
    check = _failed(_check(lab), "storage_account_missing")
    assert "https://diaggone01.blob.core.windows.net/" in check.reason and "managed boot diagnostics" in check.fix


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_console_host_that_does_not_resolve(lab: RunningLab) -> None:
    set_console_endpoint(lab.state, "https://westeurope.gateway.serialconsole.invalid")
    check = _failed(_check(lab), "console_host_dns")
    assert "westeurope.gateway.serialconsole.invalid does not resolve" in check.reason
    assert "resolvable" in check.fix


def test_a_console_host_that_refuses_tcp(lab: RunningLab) -> None:
    port = _closed_port()
    set_console_endpoint(lab.state, f"https://127.0.0.1:{port}")
    check = _failed(_check(lab), "console_host_refused")
    assert f"127.0.0.1:{port} refused" in check.reason and f"outbound TCP {port}" in check.fix


def test_a_console_host_that_never_finishes_the_handshake_times_out(lab: RunningLab) -> None:
    with socket.socket() as silent:  # accepts TCP (the kernel does), never says a TLS word
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        set_console_endpoint(lab.state, f"https://127.0.0.1:{silent.getsockname()[1]}")
        check = _failed(_check(lab, timeout=0.5), "console_host_timeout")
    assert "did not finish the TLS handshake within 0.5 s" in check.reason


def test_a_console_host_whose_certificate_is_not_trusted_here(lab: RunningLab) -> None:
    with running_lab(scenarios=["deallocated"]) as other:  # another lab: another CA
        set_console_endpoint(lab.state, other.endpoint)
        check = _failed(_check(lab), "console_host_certificate")
    assert "certificate is not trusted" in check.reason and "--ca-bundle" in check.fix


def test_a_plain_tcp_service_where_tls_should_be(lab: RunningLab) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(1024)
            connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    worker = threading.Thread(target=answer, daemon=True)
    worker.start()
    try:
        set_console_endpoint(lab.state, f"https://127.0.0.1:{server.getsockname()[1]}")
        check = _failed(_check(lab), "console_host_tls")
    finally:
        worker.join(5)
        server.close()
    assert "TLS handshake" in check.reason


def test_windows_without_sac_fails_and_says_how_to_turn_ems_on(lab: RunningLab, tmp_path: Path) -> None:
    set_serial_log(lab.state, _vm(lab, "windows-rdp"), (DATA / "windows-health-report.log").read_bytes(), tmp_path)
    check = _failed(_check(lab, "windows-rdp"), "sac_disabled")
    assert check.name == "SAC (guest)" and "EMS is off" in check.reason
    assert "bcdedit /ems {current} on" in check.fix


def test_linux_without_a_serial_getty_fails_and_says_how_to_start_one(lab: RunningLab, tmp_path: Path) -> None:
    info = lab.scenario("firewall-lockout")
    log = (info.path / "serial" / f"{info.broken_vm}.log").read_bytes()
    dropped = re.compile(rb"Serial Getty|serial-getty|ttyS0\s*$| login:")
    kept = b"\n".join(line for line in log.split(b"\n") if not dropped.search(line))
    set_serial_log(lab.state, _vm(lab), kept, tmp_path)
    check = _failed(_check(lab), "no_serial_getty")
    assert check.name == "serial getty (guest)" and "systemctl enable --now serial-getty@ttyS0.service" in check.fix


def test_a_deallocated_vm_fails_and_what_cannot_be_checked_says_so(lab: RunningLab) -> None:
    result = _check(lab, "deallocated")
    assert result.codes == ("not_running",)
    host = next(c for c in result.checks if c.name == "console host")
    assert host.status == "unknown" and "409" in host.reason
    assert "could not check" in str(result) and "fix: az vm start --name rpt-db-01" in str(result)


def test_the_lab_answers_in_the_shapes_the_real_sdks_read(lab: RunningLab) -> None:
    target = AzureTarget.for_lab(lab)
    info = lab.scenario("firewall-lockout")
    vm = parse_resource_id(_vm(lab))
    account = storage_account_body(_vm(lab), "diagsched01", default_action="Deny", allow_shared_key_access=False)
    use_boot_storage(lab.state, _vm(lab), account)
    set_responder_roles(lab.state, [(f"/subscriptions/{info.subscription_id}", "Reader"),
                                    (_vm(lab), {"actions": [CONNECT], "notActions": []})])
    authorization = AuthorizationManagementClient(target.sync_credential(), info.subscription_id,
                                                  **target.client_kwargs())
    permissions = list(authorization.permissions.list_for_resource(
        vm.resource_group, "Microsoft.Compute", "", "virtualMachines", vm.name))
    assert [p.actions for p in permissions] == [["*/read"], [CONNECT]]
    assert list(authorization.permissions.list_for_resource_group(info.resource_group))[0].actions == ["*/read"]
    storage = StorageManagementClient(target.sync_credential(), info.subscription_id, **target.client_kwargs())
    got = storage.storage_accounts.get_properties(info.resource_group, "diagsched01")
    assert got.network_rule_set.default_action == "Deny" and got.allow_shared_key_access is False
    assert got.primary_endpoints.blob == "https://diagsched01.blob.core.windows.net/"
    assert got.public_network_access == "Enabled" and got.location == (lab.state.get(_vm(lab)) or {})["location"]
    assert [a.name for a in storage.storage_accounts.list()] == ["diagsched01"]
    assert [a.name for a in storage.storage_accounts.list_by_resource_group(info.resource_group)] == ["diagsched01"]
