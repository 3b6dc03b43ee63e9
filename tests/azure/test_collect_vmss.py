"""Collecting a uniform scale-set instance from the lab: real async SDK clients over HTTPS, TLS verified.

The ``vmss-canary-firewall`` scenario (scale set vmss-checkout, instance 2 broken by a model update)
is collected and each bundle is compared with the scenario's data files: the instance model and
instance view, boot diagnostics (serial log, screenshot), the instance's NIC under the scale set,
the scale set's model, the NSG and subnet behind the NIC; effective rules/routes are the manifest
failures ARM's API gives for instance NICs; the peers default to the other instances.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kit.azure.collect import CollectionRequest, collect
from kit.azure.target import AzureTarget
from kit.errors import ResourceNotFoundError, UsageError
from kit.evidence import load_bundle

SCENARIO = "vmss-canary-firewall"


def _resources(info: Any) -> dict[str, dict[str, Any]]:
    body = json.loads((Path(info.path) / "resources.json").read_text(encoding="utf-8"))
    return {resource["id"].lower(): resource for resource in body["value"]}


def _request(info: Any, instance: str, **overrides: Any) -> CollectionRequest:
    fields: dict[str, Any] = {"subscription_id": info.subscription_id, "resource_group": info.resource_group,
                              "vm": instance, "scale_set": info.scale_set, "start": info.window_start,
                              "end": info.window_end, "source": f"lab:{info.name}"}
    fields.update(overrides)
    return CollectionRequest(**fields)


@pytest.fixture(scope="module")
def collected(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    info = lab.scenario(SCENARIO)
    broken = info.instance_id(info.broken_vm)
    result = collect(AzureTarget.for_lab(lab), _request(info, broken), tmp_path_factory.mktemp("vmss"))
    return {"info": info, "result": result, "resources": _resources(info)}


def test_the_peers_default_to_the_other_instances_of_the_scale_set(collected: dict[str, Any]) -> None:
    info, result = collected["info"], collected["result"]
    assert [path.name for path in result.bundles] == [info.broken_vm, *sorted(info.known_good)]
    subject = load_bundle(result.subject)
    assert subject.manifest["peers"] == sorted(info.known_good)
    assert [peer.name for peer in subject.peers()] == sorted(info.known_good)
    assert {peer.role for peer in subject.peers()} == {"known-good"}


@pytest.mark.parametrize("which", ["broken", "peer"])
def test_each_bundle_holds_its_instance_as_the_scenario_defines_it(collected: dict[str, Any], which: str) -> None:
    info, result, resources = collected["info"], collected["result"], collected["resources"]
    name = info.broken_vm if which == "broken" else info.known_good[0]
    bundle = load_bundle(next(path for path in result.bundles if path.name == name))
    instance_id = info.vm_id(name)
    assert bundle.scale_set == info.scale_set and bundle.instance_id == info.instance_id(name)
    assert bundle.manifest["vm_id"] == instance_id and bundle.name == name
    expected = resources[instance_id.lower()]
    assert bundle.vm is not None and bundle.vm["id"] == expected["id"] and bundle.vm["instanceId"] == expected[
        "instanceId"]
    assert bundle.vm["properties"]["latestModelApplied"] is expected["properties"]["latestModelApplied"]
    view = json.loads((Path(info.path) / "instance_views" / f"{name}.json").read_text(encoding="utf-8"))
    assert bundle.instance_view is not None and bundle.instance_view["statuses"] == view["statuses"]
    assert bundle.serial_log == (Path(info.path) / "serial" / f"{name}.log").read_bytes()
    assert bundle.screenshot is not None and bundle.screenshot[:2] == b"BM"
    assert bundle.boot_diagnostics is not None and "sig=" not in json.dumps(bundle.boot_diagnostics)
    scale_set = resources[str(bundle.vm["id"]).lower().rsplit("/virtualmachines/", 1)[0]]
    assert bundle.scale_set_model == scale_set
    nic_ref = expected["properties"]["networkProfile"]["networkInterfaces"][0]["id"]
    nic = resources[nic_ref.lower()]
    assert bundle.nics == {nic["name"]: nic}
    subnet_id = nic["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]
    assert [body["id"] for body in bundle.subnets.values()] == [subnet_id]
    vnet = resources[subnet_id.lower().rsplit("/subnets/", 1)[0]]
    subnet = next(item for item in vnet["properties"]["subnets"] if item["id"] == subnet_id)
    nsg = resources[subnet["properties"]["networkSecurityGroup"]["id"].lower()]
    assert bundle.nsgs == {nsg["name"]: nsg}
    assert bundle.effective_nsgs == {} and bundle.effective_routes == {}
    by_call = {failure["call"]: failure for failure in bundle.failures}
    for call in ("network_interfaces.begin_list_effective_network_security_groups",
                 "network_interfaces.begin_get_effective_route_table"):
        assert by_call[call]["code"] == "NotOfferedForScaleSetNic" and by_call[call]["resource_id"] == nic_ref
    assert "virtual_machine_scale_set_vms.get" in {entry["call"] for entry in bundle.manifest["files"]}


def test_the_scale_sets_model_update_is_in_the_activity_log(collected: dict[str, Any]) -> None:
    info, result = collected["info"], collected["result"]
    bundle = load_bundle(result.subject)
    scale_set_id = bundle.scale_set_model["id"].lower() if bundle.scale_set_model else ""
    operations = {record["operationName"]["value"] for record in bundle.activity_log
                  if record["resourceId"].lower() == scale_set_id}
    assert {"Microsoft.Compute/virtualMachineScaleSets/write",
            "Microsoft.Compute/virtualMachineScaleSets/manualUpgrade/action"} <= operations
    assert info.scale_set in scale_set_id


def test_named_peers_and_an_instance_id_request(lab: Any, tmp_path: Path) -> None:
    info = lab.scenario(SCENARIO)
    request = CollectionRequest.for_vm_id(info.vm_id(info.broken_vm), known_good=("0",), start=info.window_start,
                                          end=info.window_end)
    assert (request.scale_set, request.vm) == (info.scale_set, info.instance_id(info.broken_vm))
    result = collect(AzureTarget.for_lab(lab), request, tmp_path)
    assert [path.name for path in result.bundles] == [info.broken_vm, f"{info.scale_set}_0"]


def test_an_unknown_instance_or_scale_set_is_a_clear_error_and_writes_nothing(lab: Any, tmp_path: Path) -> None:
    info = lab.scenario(SCENARIO)
    with pytest.raises(ResourceNotFoundError, match="instance '7' of scale set 'vmss-checkout' not found"):
        collect(AzureTarget.for_lab(lab), _request(info, "7", known_good=("0",)), tmp_path)
    with pytest.raises(ResourceNotFoundError, match="scale set 'vmss-nope' not found"):
        collect(AzureTarget.for_lab(lab), _request(info, "2", scale_set="vmss-nope"), tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(UsageError, match="named twice"):
        _request(info, "2", known_good=("2",))
