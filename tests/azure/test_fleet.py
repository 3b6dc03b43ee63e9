"""Fleet readiness through the real SDK against a lab with a generated fleet: pages, quota, errors, every reason."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kit.analyze.readiness import REASONS, assess
from kit.azure.fleet import (
    MAX_SUBSCRIPTIONS_PER_REQUEST,
    CallLog,
    FleetScope,
    QuotaGate,
    collect_fleet,
    parse_resets_after,
    run_query,
)
from kit.azure.fleet_queries import QUERIES
from kit.azure.target import AzureTarget, RetrySettings
from kit.errors import AzureError, UsageError
from kit.lab import RunningLab, running_lab
from kit.lab.fleet import FleetSpec
from kit.lab.kql import evaluate

SPEC = FleetSpec(vms=1200, seed=11, subscriptions=6)
PAGE = 400

#: The command each reason's fix starts with (VMs; scale-set instances use ``az vmss``).
FIX_STARTS = {
    "not_running": ("az vm start", "az vmss start"),
    "boot_diagnostics_off": ("az vm boot-diagnostics enable", "az vmss update"),
    "storage_firewall": ("az storage account network-rule add",),
    "storage_private_endpoint": ("az storage account update",),
    "storage_shared_key_disabled": ("az storage account update",),
    "serial_console_disabled": ("az serial-console enable",),
    "agent_not_ready": ("from the serial console",),
    "extensions_disallowed": ("az vm update",),
    "no_local_password": ("az vm user update", "az vmss extension set"),
    "encrypted_disk_ade": ("az vm repair create", "re-image"),
    "confidential_vm": ("no repair VM",),
    "ephemeral_os_disk": ("no repair VM",),
}


@pytest.fixture(scope="module")
def fleet_lab() -> Iterator[RunningLab]:
    """A lab of this module's own, serving a fleet (the quota tests change its Resource Graph quota)."""
    with running_lab(fleet=SPEC) as lab:
        yield lab


@pytest.fixture(scope="module")
def collected(fleet_lab: RunningLab) -> Any:
    scope = FleetScope(subscriptions=tuple(fleet_lab.fleet.subscriptions))
    return collect_fleet(AzureTarget.for_lab(fleet_lab), scope, page_size=PAGE)


def test_every_machine_is_read_over_several_pages_and_never_a_call_per_vm(fleet_lab: RunningLab,
                                                                        collected: Any) -> None:
    planted = fleet_lab.fleet.planted
    ids = [row["id"].lower() for row in [*collected.vms, *collected.instances]]
    assert len(ids) == len(set(ids)), "a machine was read twice across pages"
    assert set(ids) == set(planted)
    assert collected.pages["vms"] >= 3
    subs = len(fleet_lab.fleet.subscriptions)
    calls = collected.calls.by_operation
    assert calls["serial_console.get_console_status"] == subs
    assert subs <= calls["virtual_machines.list_all"] <= 3 * subs
    assert calls["resource_graph.resources"] == sum(collected.pages.values())
    assert collected.calls.total < len(ids) / 20
    assert collected.failures == []


def test_every_reason_is_found_on_the_machines_it_was_planted_on_with_its_fix(fleet_lab: RunningLab,
                                                                            collected: Any) -> None:
    report = assess(collected)
    planted = fleet_lab.fleet.planted
    found = {m.id.lower(): m for m in report.machines}
    wrong = {key: (found[key].reasons, reasons) for key, reasons in planted.items() if found[key].reasons != reasons}
    assert not wrong, f"{len(wrong)} machines judged otherwise than planted, e.g. {list(wrong.items())[:3]}"
    seen = {r for m in report.machines for r in m.reasons}
    assert seen == set(REASONS), f"no generated machine has {set(REASONS) - seen}"
    for machine in report.machines:
        for finding in machine.findings:
            assert finding.fix.startswith(FIX_STARTS[finding.reason]), (finding.reason, finding.fix)
            assert finding.detail
    assert report.ready == sum(1 for reasons in planted.values() if not reasons)


def test_scale_set_instances_come_from_computeresources(collected: Any) -> None:
    report = assess(collected)
    instances = [m for m in report.machines if m.kind == "vmss_instance"]
    assert instances and len(instances) == len(collected.instances)
    assert all(m.agent_status == "n/a" for m in instances)
    assert any(f.fix.startswith("az vmss") for m in instances for f in m.findings)


def test_a_spent_quota_is_waited_for_before_the_next_request(fleet_lab: RunningLab) -> None:
    fleet_lab.set_resource_graph_quota(3, 1.5)
    try:
        time.sleep(1.6)  # a fresh window
        scope = FleetScope(subscriptions=tuple(fleet_lab.fleet.subscriptions))
        began = time.monotonic()
        collection = collect_fleet(AzureTarget.for_lab(fleet_lab), scope, page_size=PAGE)
        took = time.monotonic() - began
    finally:
        fleet_lab.set_resource_graph_quota(10_000, 5.0)
    assert collection.calls.throttled == 0, "the kit should wait before the quota is spent, not after a 429"
    assert collection.calls.waits and took >= 1.0
    assert len(collection.vms) + len(collection.instances) == len(fleet_lab.fleet.planted)


def test_a_429_waits_as_long_as_resource_graph_says_then_succeeds(fleet_lab: RunningLab) -> None:
    target = AzureTarget.for_lab(fleet_lab, retry=RetrySettings(total=0))
    scope = FleetScope(subscriptions=tuple(fleet_lab.fleet.subscriptions[:1]))
    text = "resources | where type =~ 'microsoft.compute/virtualmachines' | project id | order by id asc"
    fleet_lab.set_resource_graph_quota(2, 2.0)
    try:
        time.sleep(2.1)
        for _ in range(2):  # spend the quota; each call its own gate, so the third does not know
            run_query(target, text, scope)
        log = CallLog()
        began = time.monotonic()
        rows = run_query(target, text, scope, log=log)
        took = time.monotonic() - began
    finally:
        fleet_lab.set_resource_graph_quota(10_000, 5.0)
    assert log.throttled == 1 and log.by_operation["resource_graph.resources"] == 2
    assert log.waits[0] > 0 and took >= log.waits[0] * 0.9
    assert rows and all(row["id"] for row in rows)


def test_a_bad_query_is_a_kit_error_saying_where(fleet_lab: RunningLab) -> None:
    scope = FleetScope(subscriptions=tuple(fleet_lab.fleet.subscriptions[:1]))
    with pytest.raises(AzureError, match="Resource Graph refused the custom query") as caught:
        run_query(AzureTarget.for_lab(fleet_lab), "resources | where type = 'x' | projekt id", scope)
    assert caught.value.status == 400
    assert "ParserFailure at line 1, column 24 near '='" in str(caught.value)


def test_a_management_group_covers_its_subscriptions(fleet_lab: RunningLab) -> None:
    """The lab's tenant root group holds every subscription: the fleet's and the scenarios'."""
    scope = FleetScope(management_group=fleet_lab.state.principal.tenant_id)
    collection = collect_fleet(AzureTarget.for_lab(fleet_lab), scope)
    ids = {row["id"].lower() for row in [*collection.vms, *collection.instances]}
    assert set(fleet_lab.fleet.planted) < ids
    assert set(fleet_lab.fleet.subscriptions) < set(collection.subscriptions)
    assert collection.calls.by_operation["serial_console.get_console_status"] == len(collection.subscriptions)


def test_subscriptions_are_batched_as_the_service_requires() -> None:
    subs = tuple(f"00000000-0000-4000-8000-{i:012d}" for i in range(2500))
    batches = FleetScope(subscriptions=subs).requests()
    assert [len(b["subscriptions"]) for b in batches] == [1000, 1000, 500]
    assert all(len(b["subscriptions"]) <= MAX_SUBSCRIPTIONS_PER_REQUEST for b in batches)
    assert FleetScope(management_group="corp-prod").requests() == [{"management_groups": ["corp-prod"]}]


@pytest.mark.parametrize("kwargs", [{}, {"subscriptions": ("not-a-guid",)},
                                    {"subscriptions": ("00000000-0000-4000-8000-000000000001",),
                                     "management_group": "mg"},
                                    {"management_group": "bad/name"}])
def test_a_scope_that_is_not_one_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        FleetScope(**kwargs)


@pytest.mark.parametrize(("text", "seconds"), [("00:00:05", 5.0), ("00:01:00.5", 60.5), ("01:00:00", 3600.0),
                                               ("", None), ("5", None), ("aa:bb:cc", None), ("-1:00:00", None)])
def test_quota_resets_after_is_read_as_hh_mm_ss(text: str, seconds: float | None) -> None:
    assert parse_resets_after(text) == seconds


def _arg_rows() -> dict[str, list[dict[str, Any]]]:
    """A few resources in Resource Graph's shape, for the evaluator."""
    sub = "00000000-0000-4000-8000-000000000001"
    group = f"/subscriptions/{sub}/resourceGroups/RG/providers"
    vm = {"id": f"{group}/Microsoft.Compute/virtualMachines/web-01", "name": "web-01", "resourceGroup": "RG",
          "type": "microsoft.compute/virtualmachines", "subscriptionId": sub, "location": "westeurope",
          "properties": {"extended": {"instanceView": {"powerState": {"code": "PowerState/deallocated"}}},
                         "storageProfile": {"osDisk": {"osType": "Linux"}},
                         "diagnosticsProfile": {"bootDiagnostics": {"enabled": True,
                                                                    "storageUri": "https://d1.blob.core.windows.net/"}},
                         "osProfile": {"linuxConfiguration": {"disablePasswordAuthentication": True}},
                         "securityProfile": {"securityType": "TrustedLaunch"}}}
    extension = {"id": vm["id"] + "/extensions/AzureDiskEncryptionForLinux", "name": "AzureDiskEncryptionForLinux",
                 "type": "microsoft.compute/virtualmachines/extensions", "subscriptionId": sub, "resourceGroup": "RG",
                 "properties": {"publisher": "Microsoft.Azure.Security", "type": "AzureDiskEncryptionForLinux",
                                "provisioningState": "Succeeded"}}
    monitor = {**extension, "id": vm["id"] + "/extensions/AzureMonitorLinuxAgent", "name": "AzureMonitorLinuxAgent",
               "properties": {"publisher": "Microsoft.Azure.Monitor", "type": "AzureMonitorLinuxAgent"}}
    account = {"id": f"{group}/Microsoft.Storage/storageAccounts/d1", "name": "d1", "resourceGroup": "RG",
               "type": "microsoft.storage/storageaccounts", "subscriptionId": sub,
               "properties": {"primaryEndpoints": {"blob": "https://d1.blob.core.windows.net/"},
                              "publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Deny"},
                              "allowSharedKeyAccess": False, "privateEndpointConnections": []}}
    scale_set = {"id": f"{group}/Microsoft.Compute/virtualMachineScaleSets/ss", "name": "ss", "resourceGroup": "RG",
                 "type": "microsoft.compute/virtualmachinescalesets", "subscriptionId": sub,
                 "properties": {"virtualMachineProfile": {"securityProfile": {"securityType": "ConfidentialVM"},
                                                          "extensionProfile": {"extensions": []}}}}
    instance = {**vm, "id": scale_set["id"] + "/virtualMachines/0", "name": "ss_0",
                "type": "microsoft.compute/virtualmachinescalesets/virtualmachines"}
    return {"resources": [vm, extension, monitor, account, scale_set], "computeresources": [instance]}


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_each_query_runs_on_the_labs_kql_evaluator_and_returns_its_rows(query: Any) -> None:
    result = evaluate(query.text, _arg_rows())
    assert len(result.rows) == 1, "one matching row each (the Azure Monitor extension is no ADE)"
    row = result.rows[0]
    assert row["id"].startswith("/subscriptions/") and result.columns[0][0] == "id"
    expected = {"vms": ("powerState", "PowerState/deallocated"), "instances": ("bootStorageUri",
                                                                             "https://d1.blob.core.windows.net/"),
                "scale_sets": ("securityType", "ConfidentialVM"),
                "ade_extensions": ("extensionType", "AzureDiskEncryptionForLinux"),
                "storage_accounts": ("allowSharedKeyAccess", "false")}[query.name]
    assert row[expected[0]] == expected[1]


def test_the_quota_gate_waits_for_the_reset_once_spent_whatever_order_answers_arrive_in() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    async def run() -> None:
        gate = QuotaGate(CallLog(), sleep=sleep, clock=lambda: now[0])
        await gate.turn()  # the first request goes alone and learns the window
        await gate.done({"x-ms-user-quota-remaining": "2", "x-ms-user-quota-resets-after": "00:00:04"})
        await gate.turn()
        await gate.turn()  # two in flight: the two left in the window
        await gate.done({"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:04"})
        await gate.done({"x-ms-user-quota-remaining": "1", "x-ms-user-quota-resets-after": "00:00:04"})  # late
        assert slept == []
        await gate.turn()  # spent: waits for the window to reset
        assert slept == [4.0]

    asyncio.run(run())
