"""The lab's fleet through the real SDKs: Resource Graph paging, quota, errors, statusOnly lists, console status.

The ground truth ``lab.fleet.planted`` is checked against what the lab serves, read back the way the
kit's fleet client reads it (the rules written in ``kit.lab.fleet``'s docstring).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from kit.errors import LabError
from kit.ids import name_of, parse_resource_id
from kit.lab import STATE_KEY, RunningLab, arunning_lab, running_lab
from kit.lab.fleet import REASONS, FleetSpec, generate_fleet
from kit.lab.fleet_answers import fleet_instance
from tests.lab.conftest import DATA, SUB, Token, client_kwargs

ROOT = Path(__file__).resolve().parents[2]
SPEC = FleetSpec(vms=2500, seed=11, subscriptions=4)
VMS = "resources | where type =~ 'Microsoft.Compute/virtualMachines' | project id, name, location"


@pytest.fixture(scope="module")
def fleet_lab() -> Iterator[RunningLab]:
    """The tiny scenario and a 2500-machine fleet in 4 subscriptions."""
    with running_lab(scenario_dirs=[DATA], fleet=SPEC) as lab:
        lab.set_resource_graph_quota(10_000, 1.0)
        yield lab


@pytest.fixture(scope="module")
def graph(fleet_lab: RunningLab) -> ResourceGraphClient:
    return ResourceGraphClient(Token(fleet_lab.token), **client_kwargs(fleet_lab))


def _all_pages(graph: ResourceGraphClient, query: str, subscriptions: list[str] | None,
               top: int = 1000) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    token, pages = None, 0
    while True:
        answer = graph.resources(QueryRequest(subscriptions=subscriptions, query=query,
                                              options=QueryRequestOptions(top=top, skip_token=token)))
        pages += 1
        rows.extend(answer.data)
        assert answer.total_records >= len(rows)
        token = answer.skip_token
        if not token:
            return rows, pages


def _console(lab: RunningLab, sub: str) -> requests.Response:
    url = f"{lab.endpoint}/subscriptions/{sub}/providers/Microsoft.SerialConsole/consoleServices/default"
    return requests.get(url, params={"api-version": "2024-07-01"}, verify=str(lab.ca_path), timeout=10,
                        headers={"Authorization": f"Bearer {lab.token}"})


# -- Resource Graph ---------------------------------------------------------------------------
def test_paging_with_skip_token_returns_every_vm_once(fleet_lab: RunningLab, graph: ResourceGraphClient) -> None:
    fleet = fleet_lab.fleet
    assert fleet is not None
    rows, pages = _all_pages(graph, VMS, list(fleet.subscriptions))
    ids = [row["id"].lower() for row in rows]
    standalone = {vm for vm in fleet.planted if "/virtualmachinescalesets/" not in vm}
    assert pages >= 3
    assert len(ids) == len(set(ids)) and set(ids) == standalone


def test_first_page_says_how_many_there_are(fleet_lab: RunningLab, graph: ResourceGraphClient) -> None:
    assert fleet_lab.fleet is not None
    answer = graph.resources(QueryRequest(subscriptions=list(fleet_lab.fleet.subscriptions), query=VMS,
                                          options=QueryRequestOptions(top=10, skip=5)))
    assert answer.count == 10 and answer.total_records > 2000 and answer.skip_token
    assert answer.result_truncated == "false"


def test_a_skip_token_after_skip_continues_where_the_page_ended(fleet_lab: RunningLab,
                                                                graph: ResourceGraphClient) -> None:
    assert fleet_lab.fleet is not None
    subs = list(fleet_lab.fleet.subscriptions)
    every = graph.resources(QueryRequest(subscriptions=subs, query=VMS, options=QueryRequestOptions(top=30))).data
    first = graph.resources(QueryRequest(subscriptions=subs, query=VMS, options=QueryRequestOptions(top=10, skip=5)))
    second = graph.resources(QueryRequest(subscriptions=subs, query=VMS,
                                          options=QueryRequestOptions(top=10, skip_token=first.skip_token)))
    assert first.data + second.data == every[5:25]
    with pytest.raises(HttpResponseError) as caught:
        graph.resources(QueryRequest(subscriptions=subs, query=VMS + " | take 3",
                                     options=QueryRequestOptions(skip_token=first.skip_token)))
    assert caught.value.status_code == 400  # a token belongs to its query


def test_a_result_without_id_is_truncated_not_paged(fleet_lab: RunningLab, graph: ResourceGraphClient) -> None:
    answer = graph.resources(QueryRequest(query="resources | project name", options=QueryRequestOptions(top=5)))
    assert answer.count == 5 and answer.skip_token is None and answer.result_truncated == "true"


def test_subscriptions_scope_the_rows(fleet_lab: RunningLab, graph: ResourceGraphClient) -> None:
    assert fleet_lab.fleet is not None
    one = fleet_lab.fleet.subscriptions[0]
    answer = graph.resources(QueryRequest(subscriptions=[one.upper()], query="resources | summarize "
                                          "count() by subscriptionId"))
    assert answer.data == [{"subscriptionId": one, "count_": pytest.approx(answer.data[0]["count_"])}]
    other = graph.resources(QueryRequest(subscriptions=[str(uuid.uuid4())], query="resources | count"))
    assert other.data == [{"Count": 0}]


def test_the_scenarios_vms_are_in_resources_too(fleet_lab: RunningLab, graph: ResourceGraphClient) -> None:
    answer = graph.resources(QueryRequest(subscriptions=[SUB], query="resources | where type == "
                                          "'microsoft.compute/virtualmachines' | project id, resourceGroup, "
                                          "power = tostring(properties.extended.instanceView.powerState.code)"))
    assert answer.data and all(row["id"].lower().startswith(f"/subscriptions/{SUB}/") for row in answer.data)
    assert {row["resourceGroup"] for row in answer.data} == {"rg-tiny"}
    assert all(row["power"].startswith("PowerState/") for row in answer.data)


def test_computeresources_and_resourcecontainers(fleet_lab: RunningLab, graph: ResourceGraphClient) -> None:
    fleet = fleet_lab.fleet
    assert fleet is not None
    instances, _ = _all_pages(graph, "computeresources | where type == "
                              "'microsoft.compute/virtualmachinescalesets/virtualmachines' | project id", None)
    assert {row["id"].lower() for row in instances} == {vm for vm in fleet.planted if "/virtualmachinescalesets/" in vm}
    subs = graph.resources(QueryRequest(query="resourcecontainers | where type == 'microsoft.resources/subscriptions'"
                                        " | project subscriptionId"))
    assert set(fleet.subscriptions) | {SUB} == {row["subscriptionId"] for row in subs.data}


def test_table_format_and_facets(fleet_lab: RunningLab, graph: ResourceGraphClient) -> None:
    answer = graph.resources(QueryRequest(
        query="resources | where type == 'microsoft.compute/virtualmachines' | project id, location",
        options=QueryRequestOptions(top=3, result_format="table"),
        facets=[{"expression": "location", "options": {"$top": 2}}, {"expression": "nosuch"}]))
    assert answer.data["columns"] == [{"name": "id", "type": "string"}, {"name": "location", "type": "string"}]
    assert len(answer.data["rows"]) == 3
    location, broken = answer.facets
    assert location.result_type == "FacetResult" and location.count == 2 and location.total_records >= 2
    assert broken.result_type == "FacetError" and broken.errors[0].code == "NoValidColumns"


def test_a_bad_query_answers_resource_graphs_error_body(fleet_lab: RunningLab, graph: ResourceGraphClient) -> None:
    with pytest.raises(HttpResponseError) as caught:
        graph.resources(QueryRequest(query="resources\n| where name == 'x' and"))
    assert caught.value.status_code == 400 and caught.value.error is not None
    assert caught.value.error.code == "BadRequest"
    body = caught.value.response.json()["error"]
    assert re.match(r"Please provide below info when asking for support: timestamp = \S+, correlationId = ",
                    body["message"])
    invalid, parser = body["details"]
    assert invalid["code"] == "InvalidQuery"
    assert parser["code"] == "ParserFailure" and parser["line"] == 2 and parser["characterPositionInLine"] == 23


def test_unknown_table_and_unsupported_operator_are_invalid_queries(graph: ResourceGraphClient) -> None:
    for query, code in (("nosuchtable | take 1", "UnknownTable"),
                        ("resources | parse name with x", "UnsupportedOperator")):
        with pytest.raises(HttpResponseError) as caught:
            graph.resources(QueryRequest(query=query))
        details = caught.value.response.json()["error"]["details"]
        assert [detail["code"] for detail in details] == ["InvalidQuery", code]


def test_more_than_1000_subscriptions_are_refused(graph: ResourceGraphClient) -> None:
    many = [str(uuid.UUID(int=index, version=4)) for index in range(1001)]
    with pytest.raises(HttpResponseError) as caught:
        graph.resources(QueryRequest(subscriptions=many, query="resources | count"))
    assert caught.value.status_code == 400
    assert caught.value.response.json()["error"]["details"][0]["code"] == "TooManySubscriptions"
    assert graph.resources(QueryRequest(subscriptions=many[:1000], query="resources | count")).data == [{"Count": 0}]


def test_quota_headers_on_every_answer_and_429_when_spent(fleet_lab: RunningLab, graph: ResourceGraphClient) -> None:
    seen: list[dict[str, str]] = []

    def hook(response: Any) -> None:
        seen.append(dict(response.http_response.headers))

    fleet_lab.set_resource_graph_quota(2, 60.0)
    try:
        graph.resources(QueryRequest(query="resources | take 1"), raw_response_hook=hook)
        with pytest.raises(HttpResponseError):
            graph.resources(QueryRequest(query="resources | where"), raw_response_hook=hook)
        with pytest.raises(HttpResponseError) as caught:
            graph.resources(QueryRequest(query="resources | take 1"))
    finally:
        fleet_lab.set_resource_graph_quota(10_000, 1.0)
    assert [headers["x-ms-user-quota-remaining"] for headers in seen] == ["1", "0"]
    assert all(re.fullmatch(r"00:0[01]:\d\d", headers["x-ms-user-quota-resets-after"]) for headers in seen)
    throttled = caught.value.response
    assert throttled.status_code == 429 and caught.value.error.code == "RateLimiting"
    assert throttled.headers["x-ms-user-quota-remaining"] == "0"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert re.fullmatch(r"00:0[01]:\d\d", throttled.headers["x-ms-user-quota-resets-after"])


# -- statusOnly and the console -----------------------------------------------------------------
def test_status_only_list_pages_and_carries_the_agent(fleet_lab: RunningLab) -> None:
    fleet = fleet_lab.fleet
    assert fleet is not None
    sub = fleet.subscriptions[0]
    compute = ComputeManagementClient(Token(fleet_lab.token), sub, **client_kwargs(fleet_lab))
    items = list(compute.virtual_machines.list_all(status_only="true"))
    expected = {vm for vm in fleet.planted if vm.startswith(f"/subscriptions/{sub}/")
                and "/virtualmachinescalesets/" not in vm}
    assert len(expected) > 500  # more than one page
    assert {item.id.lower() for item in items} == expected
    for item in items:
        codes = [status.code for status in item.instance_view.statuses]
        assert codes[0] == "ProvisioningState/succeeded" and codes[1].startswith("PowerState/")
        if codes[1] == "PowerState/running" and "agent_not_ready" not in fleet.planted[item.id.lower()]:
            assert item.instance_view.vm_agent.statuses[0].display_status == "Ready"
            assert item.instance_view.vm_agent.vm_agent_version


def test_plain_list_of_a_fleet_subscription_is_arm_shaped(fleet_lab: RunningLab) -> None:
    assert fleet_lab.fleet is not None
    sub = fleet_lab.fleet.subscriptions[1]
    compute = ComputeManagementClient(Token(fleet_lab.token), sub, **client_kwargs(fleet_lab))
    vm = next(iter(compute.virtual_machines.list_all()))
    assert vm.type == "Microsoft.Compute/virtualMachines" and vm.hardware_profile.vm_size
    assert vm.instance_view is None


def test_a_fleet_vm_answers_get_and_instance_view(fleet_lab: RunningLab) -> None:
    fleet = fleet_lab.fleet
    assert fleet is not None
    stopped = next(vm for vm, reasons in fleet.planted.items()
                   if "not_running" in reasons and "/virtualmachinescalesets/" not in vm)
    parsed = parse_resource_id(stopped)
    compute = ComputeManagementClient(Token(fleet_lab.token), parsed.subscription_id, **client_kwargs(fleet_lab))
    vm = compute.virtual_machines.get(str(parsed.resource_group), parsed.name, expand="instanceView")
    assert vm.id.lower() == stopped and vm.instance_view.statuses[1].code in ("PowerState/deallocated",
                                                                               "PowerState/stopped")
    view = compute.virtual_machines.instance_view(str(parsed.resource_group), parsed.name)
    assert view.statuses[1].code == vm.instance_view.statuses[1].code and view.vm_agent is None
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get(str(parsed.resource_group), "no-such-vm")


def test_status_only_for_a_scenario_subscription(fleet_lab: RunningLab) -> None:
    compute = ComputeManagementClient(Token(fleet_lab.token), SUB, **client_kwargs(fleet_lab))
    items = list(compute.virtual_machines.list_all(status_only="true"))
    assert items and all(item.instance_view is not None and item.instance_view.statuses for item in items)


def test_console_status_of_fleet_subscriptions(fleet_lab: RunningLab) -> None:
    fleet = fleet_lab.fleet
    assert fleet is not None and fleet.console_disabled
    for sub in fleet.subscriptions:
        assert _console(fleet_lab, sub).json() == {"properties": {"disabled": sub in fleet.console_disabled}}
    assert _console(fleet_lab, str(uuid.uuid4())).status_code == 404


# -- the ground truth -------------------------------------------------------------------------
def _judge(lab: RunningLab, graph: ResourceGraphClient) -> dict[str, tuple[str, ...]]:
    """The reasons each fleet machine has, read from what the lab serves (kit.lab.fleet's rules)."""
    fleet = lab.fleet
    assert fleet is not None
    subs = list(fleet.subscriptions)
    rows, _ = _all_pages(graph, "resources | where type in~ ('microsoft.compute/virtualmachines', "
                         "'microsoft.storage/storageaccounts', 'microsoft.compute/virtualmachines/extensions', "
                         "'microsoft.compute/virtualmachinescalesets') | project id, type, properties", subs)
    instances, _ = _all_pages(graph, "computeresources | project id, properties", subs)
    accounts = {name_of(row["id"]).lower(): row["properties"] for row in rows
                if row["type"] == "microsoft.storage/storageaccounts"}
    ade_vms = {str(parse_resource_id(row["id"]).parent).lower() for row in rows
               if row["type"] == "microsoft.compute/virtualmachines/extensions"
               and row["properties"]["type"] in ("AzureDiskEncryption", "AzureDiskEncryptionForLinux")}
    ade_sets = {row["id"].lower() for row in rows if row["type"] == "microsoft.compute/virtualmachinescalesets"
                and any(ext["properties"]["type"].startswith("AzureDiskEncryption")
                        for ext in row["properties"]["virtualMachineProfile"]["extensionProfile"]["extensions"])}
    disabled = {sub for sub in subs if _console(lab, sub).json()["properties"]["disabled"]}
    agents: dict[str, Any] = {}
    for sub in subs:
        compute = ComputeManagementClient(Token(lab.token), sub, **client_kwargs(lab))
        agents.update({item.id.lower(): item.instance_view for item in compute.virtual_machines.list_all(
            status_only="true")})
    found: dict[str, tuple[str, ...]] = {}
    machines = [(row, False) for row in rows if row["type"] == "microsoft.compute/virtualmachines"]
    machines += [(row, True) for row in instances]
    for row, instance in machines:
        key = row["id"].lower()
        properties = row["properties"]
        reasons = []
        running = properties["extended"]["instanceView"]["powerState"]["code"] == "PowerState/running"
        if not running:
            reasons.append("not_running")
        boot = properties["diagnosticsProfile"]["bootDiagnostics"]
        if not boot["enabled"]:
            reasons.append("boot_diagnostics_off")
        elif boot.get("storageUri"):
            account = accounts[urllib.parse.urlsplit(boot["storageUri"]).hostname.split(".")[0]]
            assert account["primaryEndpoints"]["blob"] == boot["storageUri"]
            if account["networkAcls"]["defaultAction"] == "Deny":
                reasons.append("storage_firewall")
            if account["publicNetworkAccess"] == "Disabled":
                assert account["privateEndpointConnections"]
                reasons.append("storage_private_endpoint")
            if account["allowSharedKeyAccess"] is False:
                reasons.append("storage_shared_key_disabled")
        if parse_resource_id(key).subscription_id in disabled:
            reasons.append("serial_console_disabled")
        if not instance and running:
            agent = agents[key].vm_agent
            if agent is None or agent.statuses[0].display_status != "Ready":
                reasons.append("agent_not_ready")
        if properties["osProfile"]["allowExtensionOperations"] is False:
            reasons.append("extensions_disallowed")
        linux = properties["osProfile"].get("linuxConfiguration")
        if linux is not None and linux["disablePasswordAuthentication"]:
            reasons.append("no_local_password")
        if (str(parse_resource_id(key).parent).lower() in ade_sets) if instance else (key in ade_vms):
            reasons.append("encrypted_disk_ade")
        if (properties.get("securityProfile") or {}).get("securityType") == "ConfidentialVM":
            reasons.append("confidential_vm")
        if (properties["storageProfile"]["osDisk"].get("diffDiskSettings") or {}).get("option") == "Local":
            reasons.append("ephemeral_os_disk")
        found[key] = tuple(reasons)
    return found


def test_the_planted_reasons_are_what_the_served_data_says(fleet_lab: RunningLab, graph: ResourceGraphClient) -> None:
    fleet = fleet_lab.fleet
    assert fleet is not None
    judged = _judge(fleet_lab, graph)
    assert judged == dict(fleet.planted)
    counts = {reason: sum(reason in reasons for reasons in judged.values()) for reason in REASONS}
    assert all(counts.values()), counts
    ready = sum(1 for reasons in judged.values() if not reasons)
    assert ready > len(judged) / 2  # most machines are ready
    assert any(len(reasons) >= 2 for reasons in judged.values())


def test_every_reason_is_planted_even_in_a_small_fleet() -> None:
    fleet = generate_fleet(FleetSpec(vms=40, seed=3, subscriptions=3))
    planted = {reason for reasons in fleet.planted.values() for reason in reasons}
    assert planted == set(REASONS)
    assert len(fleet.planted) == 40


def test_the_same_seed_gives_the_same_fleet_and_another_seed_another() -> None:
    first, again = generate_fleet(FleetSpec(vms=300, seed=5, subscriptions=5)), generate_fleet(
        FleetSpec(vms=300, seed=5, subscriptions=5))
    other = generate_fleet(FleetSpec(vms=300, seed=6, subscriptions=5))
    assert first.planted == again.planted and first.tables == again.tables
    assert first.subscriptions != other.subscriptions and first.planted != other.planted


@pytest.mark.parametrize("spec", [FleetSpec(vms=0), FleetSpec(vms=10, subscriptions=11), FleetSpec(seed="x"),  # type: ignore[arg-type]
                                  FleetSpec(scale_set_share=2.0), FleetSpec(vms=10**7)])
def test_a_bad_spec_is_a_lab_error(spec: FleetSpec) -> None:
    with pytest.raises(LabError, match="FleetSpec"):
        generate_fleet(spec)


def test_kit_lab_serve_serves_a_fleet() -> None:
    process = subprocess.Popen([sys.executable, "-m", "kit", "lab", "serve", "--scenario-dir", str(DATA),
                                "--fleet", "120", "--seed", "4"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = []
        while not lines or not lines[-1].startswith("Ctrl-C"):
            line = process.stdout.readline() if process.stdout else ""
            assert line, process.stderr.read() if process.stderr else ""
            lines.append(line.strip())
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    fleet_line = next(line for line in lines if line.startswith("fleet:"))
    expected = generate_fleet(FleetSpec(vms=120, seed=4, subscriptions=1))
    ready = sum(1 for reasons in expected.planted.values() if not reasons)
    assert f"120 VMs and scale-set instances in 1 subscriptions (seed 4), {ready} console-ready" in fleet_line


def test_an_unknown_api_version_is_refused_with_the_quota_headers(fleet_lab: RunningLab) -> None:
    answer = requests.post(f"{fleet_lab.endpoint}/providers/Microsoft.ResourceGraph/resources",
                           params={"api-version": "2099-01-01"}, json={"query": "resources | count"},
                           verify=str(fleet_lab.ca_path), timeout=10,
                           headers={"Authorization": f"Bearer {fleet_lab.token}"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "InvalidApiVersionParameter"
    assert "x-ms-user-quota-remaining" in answer.headers and "x-ms-user-quota-resets-after" in answer.headers


def test_a_fleet_instance_answers_for_the_scale_set_routes(fleet_lab: RunningLab) -> None:
    fleet = fleet_lab.fleet
    assert fleet is not None
    stopped = next(vm for vm, reasons in fleet.planted.items()
                   if "/virtualmachinescalesets/" in vm and "not_running" in reasons)
    parsed = parse_resource_id(stopped)
    params = {"sub": parsed.subscription_id, "rg": str(parsed.resource_group), "vmss": parsed.names[0],
              "instance": parsed.names[1]}
    app = web.Application()
    app[STATE_KEY] = fleet_lab.state
    request = make_mocked_request("GET", "/", app=app)
    body = json.loads(fleet_instance(request, params).text)  # type: ignore[union-attr]
    view = json.loads(fleet_instance(request, params, view_only=True).text)  # type: ignore[union-attr]
    assert body["id"].lower() == stopped and body["instanceId"] == parsed.names[1]
    assert body["type"] == "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
    assert "extended" not in body["properties"] and view["statuses"][1]["code"] != "PowerState/running"
    assert "vmAgent" not in view
    missing = fleet_instance(request, {**params, "instance": "99999"})
    assert missing is not None and missing.status == 404
    assert fleet_instance(request, {**params, "sub": SUB}) is None


def test_resource_graph_sees_a_scenario_vm_deallocated_at_once(fleet_lab: RunningLab,
                                                                graph: ResourceGraphClient) -> None:
    query = ("resources | where type == 'microsoft.compute/virtualmachines' and name == 'web-01' "
             "| project id, power = tostring(properties.extended.instanceView.powerState.code)")
    before = graph.resources(QueryRequest(subscriptions=[SUB], query=query)).data
    compute = ComputeManagementClient(Token(fleet_lab.token), SUB, **client_kwargs(fleet_lab))
    compute.virtual_machines.begin_deallocate("rg-tiny", "web-01").result()
    try:
        after = graph.resources(QueryRequest(subscriptions=[SUB], query=query)).data
    finally:
        compute.virtual_machines.begin_start("rg-tiny", "web-01").result()
    assert before[0]["power"] == "PowerState/running" and after[0]["power"] == "PowerState/deallocated"


def test_the_async_lab_serves_a_fleet_too() -> None:
    async def served() -> tuple[int, bool]:
        async with arunning_lab(scenario_dirs=[DATA], fleet=FleetSpec(vms=60, seed=2, subscriptions=2)) as lab:
            assert lab.fleet is not None
            sub = lab.fleet.subscriptions[0]
            answer = await asyncio.to_thread(_console, lab, sub)
            disabled = answer.json()["properties"]["disabled"]
            return len(lab.fleet.planted), disabled == (sub in lab.fleet.console_disabled)

    assert asyncio.run(served()) == (60, True)


@pytest.mark.parametrize(("body", "detail"), [
    ("{not json", "InvalidRequestContent"),
    ("[1, 2]", "InvalidRequestContent"),
    ('{"subscriptions": []}', "InvalidRequestContent"),
    ('{"query": "resources", "subscriptions": ["not-a-guid"]}', "InvalidSubscriptionId"),
    ('{"query": "resources", "options": {"$top": 5000}}', "InvalidQueryOption"),
    ('{"query": "resources", "options": {"$skipToken": "bm9wZQ=="}}', "InvalidSkipToken"),
    ('{"query": "resources", "managementGroups": ["some-group"]}', "ManagementGroupNotFound"),
])
def test_a_malformed_request_is_a_bad_request_naming_what(fleet_lab: RunningLab, body: str, detail: str) -> None:
    answer = requests.post(f"{fleet_lab.endpoint}/providers/Microsoft.ResourceGraph/resources",
                           params={"api-version": "2024-04-01"}, data=body.encode(), verify=str(fleet_lab.ca_path),
                           timeout=10, headers={"Authorization": f"Bearer {fleet_lab.token}",
                                                "Content-Type": "application/json"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "BadRequest" and error["details"][0]["code"] == detail


def test_the_tenant_root_management_group_holds_every_subscription(fleet_lab: RunningLab,
                                                                   graph: ResourceGraphClient) -> None:
    root = fleet_lab.state.principal.tenant_id
    answer = graph.resources(QueryRequest(management_groups=[root], query="resources | distinct subscriptionId"))
    assert fleet_lab.fleet is not None
    assert {row["subscriptionId"] for row in answer.data} == set(fleet_lab.fleet.subscriptions) | {SUB}
