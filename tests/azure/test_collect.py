"""The collector against the lab: real async SDK clients over HTTPS, TLS verified.

Every scenario in ``kit/lab/scenarios`` is collected and the bundle compared with the
scenario's data files; then faults, a deallocated VM, and refused credentials.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kit import ids
from kit.azure.collect import CollectionRequest, collect
from kit.azure.target import AzureTarget, RetrySettings
from kit.errors import AuthenticationError, BundleExistsError, ResourceNotFoundError
from kit.evidence import load_bundle
from kit.lab import Faults, list_scenarios

#: the VM scenarios (a scale set's instances are collected, and compared, in test_collect_vmss.py)
SCENARIOS = [info.name for info in list_scenarios() if not info.scale_set]
needs_scenarios = pytest.mark.skipif(not SCENARIOS, reason="no lab scenarios under kit/lab/scenarios yet")


def _request(info: Any, **overrides: Any) -> CollectionRequest:
    fields: dict[str, Any] = {
        "subscription_id": info.subscription_id, "resource_group": info.resource_group, "vm": info.broken_vm,
        "known_good": tuple(info.known_good), "start": info.window_start, "end": info.window_end,
        "source": f"lab:{info.name}"}
    fields.update(overrides)
    return CollectionRequest(**fields)


def _data(info: Any) -> dict[str, Any]:
    """The scenario's files: resources by lower-cased id, activity events, serial logs."""
    root = Path(info.path)
    resources = json.loads((root / "resources.json").read_text())
    resources = resources["value"] if isinstance(resources, dict) else resources
    events = json.loads((root / "activity_log.json").read_text())
    return {
        "resources": {body["id"].lower(): body for body in resources},
        "events": events["value"] if isinstance(events, dict) else events,
        "root": root,
    }


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _props(body: dict[str, Any]) -> dict[str, Any]:
    return body.get("properties") or {}


def _assert_matches_scenario(bundle: Any, info: Any, data: dict[str, Any], vm: str) -> None:
    resources = data["resources"]
    vm_id = info.vm_id(vm).lower()
    assert bundle.vm == resources[vm_id]
    assert bundle.manifest["vm_id"].lower() == vm_id
    assert bundle.manifest["source"] == f"lab:{info.name}"
    # NICs: exactly those of the VM, as the scenario defines them
    nic_ids = [nic["id"] for nic in _props(bundle.vm)["networkProfile"]["networkInterfaces"]]
    assert sorted(bundle.nics) == sorted(ids.parse_resource_id(nic).name for nic in nic_ids)
    for nic_id in nic_ids:
        assert bundle.nics[ids.parse_resource_id(nic_id).name] == resources[nic_id.lower()]
    # NSGs on the NICs and on their subnets, subnets, VNets and route tables, as the scenario defines them
    wanted_nsgs, wanted_subnets = set(), set()
    for nic in bundle.nics.values():
        if _props(nic).get("networkSecurityGroup"):
            wanted_nsgs.add(_props(nic)["networkSecurityGroup"]["id"].lower())
        for configuration in _props(nic)["ipConfigurations"]:
            wanted_subnets.add(_props(configuration)["subnet"]["id"].lower())
    assert {body["id"].lower() for body in bundle.subnets.values()} == wanted_subnets
    for subnet in bundle.subnets.values():
        if _props(subnet).get("networkSecurityGroup"):
            wanted_nsgs.add(_props(subnet)["networkSecurityGroup"]["id"].lower())
    assert {body["id"].lower() for body in bundle.nsgs.values()} == wanted_nsgs
    for nsg in bundle.nsgs.values():
        assert nsg == resources[nsg["id"].lower()]
    for group in (bundle.vnets, bundle.route_tables, bundle.public_ips):
        for body in group.values():
            assert body == resources[body["id"].lower()]
    assert len(bundle.vnets) == len({ids.parse_resource_id(s).parent for s in wanted_subnets})
    # Activity Log: every event of the resource group in the window, all pages merged
    start, end = info.window_start, info.window_end
    expected = {event["eventDataId"] for event in data["events"]
                if start <= _when(event["eventTimestamp"]) <= end
                and str(event.get("resourceGroupName", "")).lower() == info.resource_group.lower()}
    assert {event["eventDataId"] for event in bundle.activity_log} == expected
    # boot diagnostics: the serial log bytes as stored, a BMP screenshot, no SAS left
    assert bundle.serial_log == (data["root"] / "serial" / f"{vm}.log").read_bytes()
    assert bundle.screenshot is not None and bundle.screenshot[:2] == b"BM"
    assert "sig=" not in json.dumps(bundle.boot_diagnostics)
    assert bundle.instance_view and bundle.instance_view.get("statuses")
    assert bundle.serial_console_status is not None
    assert all(_props(item).get("roleDefinitionName") for item in bundle.role_assignments)


@needs_scenarios
@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_is_collected_as_the_scenario_defines_it(lab: Any, tmp_path: Path, name: str) -> None:
    info = lab.scenario(name)
    data = _data(info)
    result = collect(AzureTarget.for_lab(lab), _request(info), tmp_path)
    assert [path.name for path in result.bundles] == [info.broken_vm, *info.known_good]
    subject = load_bundle(result.subject)
    assert subject.role == "subject"
    assert [peer.name for peer in subject.peers()] == list(info.known_good)
    for bundle in [subject, *subject.peers()]:
        _assert_matches_scenario(bundle, info, data, bundle.name)
        running = any(s.get("code") == "PowerState/running" for s in bundle.instance_view["statuses"])
        effective_failures = [f for f in bundle.failures if "effective" in f["call"]]
        if running:
            assert bundle.failures == []
            assert set(bundle.effective_nsgs) == set(bundle.nics) == set(bundle.effective_routes)
            assert all(body["value"] for body in bundle.effective_routes.values())
        else:  # deallocated: effective state is unavailable and named in the failures
            assert bundle.effective_nsgs == {} and bundle.effective_routes == {}
            assert {f["call"] for f in effective_failures} == {
                "network_interfaces.begin_list_effective_network_security_groups",
                "network_interfaces.begin_get_effective_route_table"}
            assert all(f["status"] and f["message"] for f in effective_failures)
    assert not [entry for entry in tmp_path.iterdir() if entry.name.startswith(".")]


@needs_scenarios
def test_manifest_records_provenance_of_every_file(lab: Any, tmp_path: Path) -> None:
    info = lab.scenario(SCENARIOS[0])
    bundle = load_bundle(collect(AzureTarget.for_lab(lab), _request(info, known_good=()), tmp_path).subject)
    records = {record["path"]: record for record in bundle.manifest["files"]}
    assert records["vm.json"]["call"] == "virtual_machines.get" and records["vm.json"]["api_version"]
    assert records["activity_log.json"]["api_version"] == "2015-04-01"
    assert records["serial.log"]["call"] == "boot_diagnostics.serial_log"
    assert bundle.manifest["window"] == {"start": info.window_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                         "end": info.window_end.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert bundle.manifest["collector"]["tenant"] or bundle.manifest["collector"]["principal"]


@needs_scenarios
@pytest.mark.slow
def test_injected_faults_are_retried_or_recorded_and_nothing_escapes(lab: Any, tmp_path: Path) -> None:
    info = lab.scenario(SCENARIOS[0])
    lab.set_faults(Faults(error_rate=0.3, seed=11, timeout_seconds=2.0))
    try:
        target = AzureTarget.for_lab(lab, retry=RetrySettings(total=4, backoff_factor=0.05, backoff_max=0.5,
                                                              connection_timeout=2.0, read_timeout=0.5))
        result = collect(target, _request(info), tmp_path, polling_interval=0.1)
    finally:
        lab.set_faults(Faults())
    assert len(result.bundles) == 1 + len(info.known_good)
    for path in result.bundles:
        bundle = load_bundle(path)  # hashes verify: nothing half-written
        stored = {record["call"] for record in bundle.manifest["files"]}
        failed = {failure["call"] for failure in bundle.failures}
        assert "virtual_machines.get" in stored | failed
        assert "activity_logs.list" in stored | failed
        assert "virtual_machines.retrieve_boot_diagnostics_data" in stored | failed
        assert all(failure["message"] for failure in bundle.failures)
    assert not [entry for entry in tmp_path.iterdir() if entry.name.startswith(".")]


@needs_scenarios
def test_wrong_token_is_an_authentication_error_and_writes_nothing(lab: Any, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    info = lab.scenario(SCENARIOS[0])
    target = AzureTarget(arm_endpoint=lab.endpoint, credential="env-token", ca_bundle=lab.ca_path)
    monkeypatch.setenv("KIT_ARM_TOKEN", "not-the-lab-token")
    with pytest.raises(AuthenticationError, match="401") as caught:
        collect(target, _request(info), tmp_path)
    assert "\n" not in str(caught.value)
    monkeypatch.delenv("KIT_ARM_TOKEN")
    with pytest.raises(AuthenticationError, match="KIT_ARM_TOKEN is empty or not set"):
        collect(target, _request(info), tmp_path)
    assert list(tmp_path.iterdir()) == []


@needs_scenarios
def test_unknown_vm_is_not_found_and_writes_nothing(lab: Any, tmp_path: Path) -> None:
    info = lab.scenario(SCENARIOS[0])
    with pytest.raises(ResourceNotFoundError, match="'no-such-vm' not found"):
        collect(AzureTarget.for_lab(lab), _request(info, known_good=("no-such-vm",)), tmp_path)
    assert list(tmp_path.iterdir()) == []


@needs_scenarios
def test_existing_bundle_is_never_overwritten(lab: Any, tmp_path: Path) -> None:
    info = lab.scenario(SCENARIOS[0])
    (tmp_path / info.broken_vm).mkdir()
    (tmp_path / info.broken_vm / "notes.txt").write_text("mine")
    with pytest.raises(BundleExistsError):
        collect(AzureTarget.for_lab(lab), _request(info), tmp_path)
    assert sorted(os.listdir(tmp_path)) == [info.broken_vm]
    assert (tmp_path / info.broken_vm / "notes.txt").read_text() == "mine"


@needs_scenarios
def test_calls_past_the_deadline_are_recorded_and_the_bundles_still_written(lab: Any, tmp_path: Path) -> None:
    info = lab.scenario(SCENARIOS[0])
    lab.set_faults(Faults(latency=1.0))
    try:
        target = AzureTarget.for_lab(lab, retry=RetrySettings(total=0, read_timeout=5.0, deadline=0.3))
        result = collect(target, _request(info, known_good=()), tmp_path)
    finally:
        lab.set_faults(Faults())
    bundle = load_bundle(result.subject)
    assert bundle.vm is None and bundle.manifest["files"] == []
    assert {failure["code"] for failure in bundle.failures} == {"Timeout"}
    assert "virtual_machines.get" in {failure["call"] for failure in bundle.failures}
