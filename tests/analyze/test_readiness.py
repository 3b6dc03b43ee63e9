"""Fleet readiness from Resource Graph rows: each reason from the property that causes it, with its fix."""

from __future__ import annotations

from typing import Any

import pytest

from kit.analyze.readiness import REASONS, FleetInput, assess
from kit.errors import AnalysisError

SUB = "0d7c1a2b-0000-4000-8000-000000000001"
OTHER = "0d7c1a2b-0000-4000-8000-000000000002"


def vm_id(name: str, sub: str = SUB, group: str = "rg-web") -> str:
    return f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{name}"


def vm_row(name: str, sub: str = SUB, **changes: Any) -> dict[str, Any]:
    """A row of kit.azure.fleet_queries.VMS as Resource Graph returns it (tostring of a bool is 'true')."""
    row = {"id": vm_id(name, sub), "name": name, "resourceGroup": "rg-web", "subscriptionId": sub,
           "location": "westeurope", "powerState": "PowerState/running", "osType": "Linux", "bootDiagnostics": "true",
           "bootStorageUri": "", "disablePasswordAuthentication": "false", "securityType": ""}
    row.update(changes)
    return row


def agent_view(status: str = "Ready", version: str = "2.9.1.1") -> dict[str, Any]:
    code = "ProvisioningState/succeeded" if status == "Ready" else "ProvisioningState/Unavailable"
    return {"vmAgent": {"vmAgentVersion": version, "statuses": [
        {"code": code, "level": "Info", "displayStatus": status, "message": "Guest Agent is running"}]},
        "statuses": [{"code": "ProvisioningState/succeeded"}, {"code": "PowerState/running"}]}


def account(name: str, **properties: Any) -> dict[str, Any]:
    """A row of kit.azure.fleet_queries.STORAGE_ACCOUNTS."""
    row = {"id": f"/subscriptions/{SUB}/resourceGroups/rg-diag/providers/Microsoft.Storage/storageAccounts/{name}",
           "name": name, "resourceGroup": "rg-diag", "subscriptionId": SUB,
           "blobEndpoint": f"https://{name}.blob.core.windows.net/", "publicNetworkAccess": "Enabled",
           "defaultAction": "Allow", "allowSharedKeyAccess": "true", "privateEndpointConnections": []}
    row.update(properties)
    return row


def fleet(vms: list[dict[str, Any]], *, agents: dict[str, Any] | None = None, consoles: dict[str, Any] | None = None,
          **rest: Any) -> FleetInput:
    views = agents if agents is not None else {r["id"].lower(): agent_view() for r in vms
                                                 if r["powerState"] == "PowerState/running"}
    subs = {r["subscriptionId"] for r in vms}
    return FleetInput(vms=vms, agents=views, agent_subscriptions=subs,
                      consoles=consoles if consoles is not None else dict.fromkeys(subs, True), **rest)


def only(report: Any, name: str) -> Any:
    return next(m for m in report.machines if m.name == name)


def test_a_healthy_vm_is_ready_and_trusted_launch_is_a_property_not_a_problem() -> None:
    report = assess(fleet([vm_row("web-01", securityType="TrustedLaunch")]))
    machine = only(report, "web-01")
    assert machine.ready and machine.reasons == ()
    assert machine.trusted_launch and machine.boot_diagnostics == "managed"
    assert (machine.agent_status, machine.agent_version, machine.serial_console) == ("Ready", "2.9.1.1", "enabled")


@pytest.mark.parametrize(("changes", "reason", "fix_has"), [
    ({"powerState": "PowerState/deallocated"}, "not_running", "az vm start --name web-01 -g rg-web"),
    ({"powerState": "PowerState/stopped"}, "not_running", "az vm start"),
    ({"bootDiagnostics": "false"}, "boot_diagnostics_off", "az vm boot-diagnostics enable --name web-01 -g rg-web"),
    ({"bootDiagnostics": ""}, "boot_diagnostics_off", "az vm boot-diagnostics enable"),
    ({"disablePasswordAuthentication": "true"}, "no_local_password", "az vm user update --name web-01"),
    ({"securityType": "ConfidentialVM"}, "confidential_vm", "no repair VM"),
    ({"ephemeralOsDisk": "Local"}, "ephemeral_os_disk", "az vm reimage --name web-01 -g rg-web"),
    ({"allowExtensionOperations": "false"}, "extensions_disallowed",
     "az vm update --name web-01 -g rg-web --subscription"),
])
def test_each_property_gives_its_reason_and_the_fix_names_the_vm(changes: dict[str, Any], reason: str,
                                                                  fix_has: str) -> None:
    machine = only(assess(fleet([vm_row("web-01", **changes)], agents={})), "web-01") if reason == "not_running" \
        else only(assess(fleet([vm_row("web-01", **changes)])), "web-01")
    assert machine.reasons == (reason,)
    assert fix_has in machine.findings[0].fix
    assert not machine.ready


def test_windows_never_gets_no_local_password() -> None:
    machine = only(assess(fleet([vm_row("win-01", osType="Windows", disablePasswordAuthentication="true")])), "win-01")
    assert machine.ready


def test_a_deallocated_vm_is_not_running_not_agent_not_ready() -> None:
    row = vm_row("web-01", powerState="PowerState/deallocated")
    machine = only(assess(fleet([row], agents={row["id"].lower(): {"statuses": [{"code": "PowerState/deallocated"}]}})),
                   "web-01")
    assert machine.reasons == ("not_running",)
    assert machine.agent_status == "missing"


@pytest.mark.parametrize("view", [agent_view("Not Ready"), {"statuses": [{"code": "PowerState/running"}]}, None])
def test_a_running_vm_whose_agent_is_not_ready_or_missing(view: dict[str, Any] | None) -> None:
    row = vm_row("web-01")
    machine = only(assess(fleet([row], agents={row["id"].lower(): view} if view else {})), "web-01")
    assert machine.reasons == ("agent_not_ready",)
    assert "walinuxagent" in machine.findings[0].fix


def test_the_subscriptions_serial_console_disabled_marks_every_vm_in_it() -> None:
    rows = [vm_row("a"), vm_row("b"), vm_row("c", sub=OTHER)]
    report = assess(fleet(rows, consoles={SUB: False, OTHER: True}))
    assert [only(report, n).reasons for n in "abc"] == [("serial_console_disabled",)] * 2 + [()]
    assert only(report, "a").findings[0].fix == f"az serial-console enable --subscription {SUB}"


@pytest.mark.parametrize(("properties", "reason"), [
    ({"defaultAction": "Deny"}, "storage_firewall"),
    ({"publicNetworkAccess": "Disabled", "privateEndpointConnections": [
        {"name": "pe", "properties": {"privateEndpoint": {"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/"
                                                               "Microsoft.Network/privateEndpoints/pe-diag"}}}]},
     "storage_private_endpoint"),
    ({"allowSharedKeyAccess": "false"}, "storage_shared_key_disabled"),
])
def test_a_custom_boot_diagnostics_account_that_keeps_the_console_out(properties: dict[str, Any], reason: str) -> None:
    rows = [vm_row("web-01", bootStorageUri="https://diagacct01.blob.core.windows.net/"),
            vm_row("web-02", bootStorageUri="https://healthyacct.blob.core.windows.net/")]
    report = assess(fleet(rows, storage_accounts=[account("diagacct01", **properties), account("healthyacct")]))
    broken, fine = only(report, "web-01"), only(report, "web-02")
    assert broken.reasons == (reason,)
    assert broken.boot_diagnostics == "custom" and broken.boot_storage_account == "diagacct01"
    assert "diagacct01" in broken.findings[0].detail and "diagacct01" in broken.findings[0].fix
    assert fine.ready


def test_an_account_resource_graph_does_not_show_is_a_note_not_a_reason() -> None:
    row = vm_row("web-01", bootStorageUri="https://elsewhere.blob.core.windows.net/")
    machine = only(assess(fleet([row])), "web-01")
    assert machine.ready
    assert any("elsewhere" in note for note in machine.notes)


def test_what_could_not_be_read_is_a_note_never_a_guessed_reason() -> None:
    row = vm_row("web-01")
    machine = only(assess(FleetInput(vms=[row], consoles={SUB: None})), "web-01")
    assert machine.ready
    assert (machine.serial_console, machine.agent_status) == ("unknown", "not read")
    assert len(machine.notes) == 2


def test_ade_on_a_vm_and_on_a_scale_sets_instances() -> None:
    vm = vm_row("db-01")
    extension = {"id": vm["id"] + "/extensions/AzureDiskEncryptionForLinux", "name": "AzureDiskEncryptionForLinux",
                 "subscriptionId": SUB, "extensionType": "AzureDiskEncryptionForLinux"}
    scale_set = f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/ss"
    instance = {**vm_row("ss_3"), "id": f"{scale_set}/virtualMachines/3"}
    sets = [{"id": scale_set, "name": "ss", "subscriptionId": SUB, "securityType": "ConfidentialVM", "extensions": [
        {"name": "ade", "properties": {"publisher": "Microsoft.Azure.Security", "type": "AzureDiskEncryption"}}]}]
    report = assess(fleet([vm], instances=[instance], scale_sets=sets, ade_extensions=[extension]))
    assert only(report, "db-01").reasons == ("encrypted_disk_ade",)
    assert "--unlock-encrypted-vm" in only(report, "db-01").findings[0].fix
    member = only(report, "ss_3")
    assert member.kind == "vmss_instance" and member.agent_status == "n/a"
    assert member.reasons == ("encrypted_disk_ade", "confidential_vm")


def test_a_scale_set_instance_is_fixed_with_az_vmss() -> None:
    scale_set = f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/ss"
    instance = {**vm_row("ss_7", powerState="PowerState/deallocated", bootDiagnostics="false",
                         ephemeralOsDisk="Local"), "id": f"{scale_set}/virtualMachines/7"}
    member = only(assess(fleet([], instances=[instance], consoles={SUB: True})), "ss_7")
    assert member.reasons == ("not_running", "boot_diagnostics_off", "ephemeral_os_disk")
    assert member.findings[0].fix.startswith("az vmss start --name ss -g rg-web --instance-ids 7")
    assert "az vmss update" in member.findings[1].fix
    assert "az vmss reimage --name ss -g rg-web --instance-ids 7" in member.findings[2].fix


def test_worst_offenders_first_and_summaries_by_subscription_and_reason() -> None:
    rows = [vm_row("ok-1"), vm_row("one", disablePasswordAuthentication="true"),
            vm_row("three", powerState="PowerState/deallocated", bootDiagnostics="false",
                   disablePasswordAuthentication="true"),
            vm_row("other", sub=OTHER, bootDiagnostics="false")]
    report = assess(fleet(rows))
    assert [m.name for m in report.worst()] == ["three", "other", "one"]
    assert report.ready == 1
    subs = report.by_subscription()
    assert [(s["subscription_id"], s["machines"], s["not_ready"]) for s in subs] == [(SUB, 3, 2), (OTHER, 1, 1)]
    assert subs[0]["no_local_password"] == 2 and subs[1]["boot_diagnostics_off"] == 1
    reasons = report.by_reason()
    assert [(r["reason"], r["machines"], r["subscriptions"]) for r in reasons] == [
        ("boot_diagnostics_off", 2, 2), ("no_local_password", 2, 1), ("not_running", 1, 1)]
    assert all(r["example_fix"].startswith("az ") for r in reasons)


def test_rows_flatten_for_csv() -> None:
    report = assess(fleet([vm_row("web-01", bootDiagnostics="false", disablePasswordAuthentication="true")]))
    row = report.rows()[0]
    assert row["reasons"] == "boot_diagnostics_off;no_local_password"
    assert row["ready"] is False and row["reason_count"] == 2
    assert row["fixes"].count(" | ") == 1
    assert set(REASONS) >= set(row["reasons"].split(";"))


@pytest.mark.parametrize("bad", [["not a row"], [{"name": "no id"}], [None]])
def test_malformed_rows_are_an_analysis_error(bad: list[Any]) -> None:
    with pytest.raises(AnalysisError, match="row"):
        assess(FleetInput(vms=bad))
