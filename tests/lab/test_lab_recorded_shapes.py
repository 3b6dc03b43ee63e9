"""The lab's answers against real Azure answers recorded by azure-cli (tests/data/azure-cli-recordings)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.resource.locks import ManagementLockClient

from kit.lab import running_lab
from kit.lab.locks import add_lock

from .conftest import Token, client_kwargs

DATA = Path(__file__).parents[1] / "data" / "azure-cli-recordings"


def _raw(response: Any, deserialized: Any, headers: Any) -> Any:
    return response.http_response.json()


def test_an_instances_managed_run_command_is_shaped_as_azure_answers_it() -> None:
    recorded = json.loads((DATA / "test_vmss_run_command_v2.run_command_show.json").read_text())["response"]
    with running_lab(scenarios=["vmss-canary-firewall"]) as lab:
        info = lab.scenario("vmss-canary-firewall")
        compute = ComputeManagementClient(Token(lab.token), info.subscription_id, **client_kwargs(lab))
        body = {"location": "swedencentral", "properties": {"source": {"script": "echo kit"}, "timeoutInSeconds": 60,
                                                            "asyncExecution": False}}
        compute.virtual_machine_scale_set_vm_run_commands.begin_create_or_update(
            info.resource_group, "vmss-checkout", "0", "cmd_kit", body, polling_interval=0.1).result()
        served = compute.virtual_machine_scale_set_vm_run_commands.get(info.resource_group, "vmss-checkout", "0",
                                                                       "cmd_kit", cls=_raw)
    assert served["type"] == recorded["type"] == "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands"
    shape = r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/virtualMachineScaleSets/[^/]+/" \
            r"virtualMachines/0/runCommands/[^/]+"
    assert re.fullmatch(shape, recorded["id"]) and re.fullmatch(shape, served["id"]), served["id"]
    assert served["id"].endswith("/runCommands/cmd_kit") and served["name"] == "cmd_kit"
    recorded_keys = set(recorded["properties"]) - {"runAsUser"}  # azure-cli's test passed a user; the kit does not
    assert recorded_keys <= set(served["properties"]), set(served["properties"])
    assert "instanceView" not in served["properties"], "without $expand Azure leaves the instance view out"


def test_the_lab_lists_locks_in_the_keys_azure_answers_with() -> None:
    recorded = json.loads((DATA / "test_cannotdelete_resource_group_lock.locks_list.json").read_text())["response"]
    with running_lab(scenarios=["kernel-panic"]) as lab:
        info = lab.scenario("kernel-panic")
        add_lock(lab.state, f"/subscriptions/{info.subscription_id}/resourceGroups/{info.resource_group}",
                 "CanNotDelete", "cli-test-lock")
        pages: list[Any] = []  # the raw page: the keys as served
        locks = ManagementLockClient(Token(lab.token), info.subscription_id, **client_kwargs(lab)).management_locks
        list(locks.list_at_subscription_level(raw_response_hook=lambda response: pages.append(
            response.http_response.json())))
    item, = pages[0]["value"]
    assert set(item) == {key for lock in recorded["value"] for key in lock}
    assert set(item["properties"]) == set(recorded["value"][-1]["properties"]) == {"level"}
    assert item["type"] == recorded["value"][0]["type"]
