"""Boot-diagnostics storage readiness (C4): the account settings that keep the serial console out, and their fixes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kit.analyze.boot_storage import STORAGE_REASONS, storage_problems
from kit.errors import AnalysisError

SUB = "6f1d2c3b-4a59-4e8f-9b1c-2d3e4f5a6b7c"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/app-01"
# The body of azure-rest-api-specs' StorageAccountGetProperties example (2023-05-01), trimmed: a reachable account.
HEALTHY: dict[str, Any] = {
    "id": f"/subscriptions/{SUB}/resourceGroups/rg-diag/providers/Microsoft.Storage/storageAccounts/sto8596",
    "kind": "Storage", "location": "eastus2", "name": "sto8596", "type": "Microsoft.Storage/storageAccounts",
    "sku": {"name": "Standard_GRS", "tier": "Standard"},
    "properties": {
        "networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow", "ipRules": [], "virtualNetworkRules": []},
        "primaryEndpoints": {"blob": "https://sto8596.blob.core.windows.net/"},
        "provisioningState": "Succeeded", "supportsHttpsTrafficOnly": False,
    },
}


def _account(**properties: Any) -> dict[str, Any]:
    body = copy.deepcopy(HEALTHY)
    for key, value in properties.items():
        if key == "defaultAction":
            body["properties"]["networkAcls"]["defaultAction"] = value
        else:
            body["properties"][key] = value
    return body


def test_a_reachable_account_and_one_left_at_azures_defaults_have_no_problem() -> None:
    assert storage_problems(HEALTHY) == ()
    assert storage_problems({"name": "bare", "properties": {}}) == ()
    assert storage_problems(_account(allowSharedKeyAccess=None, publicNetworkAccess="Enabled")) == ()


def test_a_firewall_names_the_account_its_group_and_both_fixes() -> None:
    [problem] = storage_problems(_account(defaultAction="Deny"), vm_id=VM)
    assert problem.reason == "storage_firewall"
    assert "defaultAction is Deny" in problem.detail and "sto8596" in problem.detail
    assert "az storage account network-rule add -n sto8596 -g rg-diag" in problem.fix
    assert "az vm boot-diagnostics enable --name app-01 -g rg-app" in problem.fix


def test_public_access_disabled_is_the_private_endpoint_reason_and_not_also_the_firewall() -> None:
    connection = {"name": "sto8596.pe-diag", "properties": {"privateEndpoint": {
        "id": f"/subscriptions/{SUB}/resourceGroups/rg-diag/providers/Microsoft.Network/privateEndpoints/pe-diag"}}}
    account = _account(defaultAction="Deny", publicNetworkAccess="Disabled", privateEndpointConnections=[connection])
    [problem] = storage_problems(account)
    assert problem.reason == "storage_private_endpoint"
    assert "publicNetworkAccess is Disabled" in problem.detail and "pe-diag" in problem.detail
    assert "--public-network-access Enabled" in problem.fix
    assert "--name VM -g RG" in problem.fix  # no VM given: the managed alternative says what to fill in


def test_shared_key_disabled_gives_the_az_command_that_turns_it_back_on() -> None:
    [problem] = storage_problems(_account(allowSharedKeyAccess=False), vm_id=VM)
    assert problem.reason == "storage_shared_key_disabled"
    assert problem.fix.startswith("az storage account update -n sto8596 -g rg-diag --allow-shared-key-access true")
    assert "allowSharedKeyAccess is false" in str(problem)


def test_every_problem_of_one_account_is_reported_in_the_documented_order() -> None:
    problems = storage_problems(_account(defaultAction="deny", allowSharedKeyAccess=False))
    assert [p.reason for p in problems] == ["storage_firewall", "storage_shared_key_disabled"]
    everything = storage_problems(_account(publicNetworkAccess="disabled", allowSharedKeyAccess=False))
    assert [p.reason for p in everything] == ["storage_private_endpoint", "storage_shared_key_disabled"]
    assert {p.reason for p in problems + everything} <= set(STORAGE_REASONS)


def test_a_resource_graph_row_reads_the_same_as_the_arm_body() -> None:
    row = {"id": HEALTHY["id"].lower(), "name": "sto8596", "type": "microsoft.storage/storageaccounts",
           "resourceGroup": "rg-diag", "subscriptionId": SUB, "location": "eastus2",
           "properties": {"networkAcls": {"defaultAction": "Deny"}, "allowSharedKeyAccess": False,
                          "publicNetworkAccess": "Enabled"}}
    assert [p.reason for p in storage_problems(row)] == ["storage_firewall", "storage_shared_key_disabled"]


@pytest.mark.parametrize("bad", [[], "sto8596", None, {"name": "x", "properties": "Deny"}, {"properties": [1]}])
def test_what_is_not_a_storage_account_is_refused_with_a_message(bad: Any) -> None:
    with pytest.raises(AnalysisError, match="storage account|JSON object"):
        storage_problems(bad)
