"""Resource Health and the VM agent as evidence: collected from the lab with the real SDK, then classified.

The built-in scenarios give guest problems (Resource Health Available) and a deallocation (Unavailable,
Customer Initiated). A copy of ``firewall-lockout`` made here adds what none of them has: a host failure
of ``sched-02`` (Unavailable, Unplanned, Platform Initiated, in the Activity Log the lab serves Resource
Health from) and a VM agent that is Not Ready on ``sched-03`` although its guest booted.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from kit.analyze._verdict_platform import unplanned_before, unplanned_now
from kit.analyze.verdict import Classification, classify
from kit.azure.collect import CollectionRequest, collect
from kit.azure.target import AzureTarget
from kit.evidence import import_folder, load_bundle
from kit.lab import ROUTE_MODULES, LabState, RunningLab, list_scenarios, running_lab
from kit.lab.scenarios import SCENARIOS_DIR

OUTAGE_AT = "2026-11-24T22:41:07.1180000Z"
NAME = "host-failure"


def _health_record(info: Any, vm: str, at: str, status: str, current: str, previous: str, title: str,
                   details: str) -> dict[str, Any]:
    """A Resource Health record of the Activity Log, as Azure writes one for a platform-initiated outage."""
    rid = info.vm_id(vm)
    event = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{rid}/{at}"))
    return {
        "channels": "Admin, Operation", "correlationId": "5d2e8f61-7a3c-4b9e-a1d0-2c4f6e8a0b13", "description": "",
        "eventDataId": event, "eventName": {"value": "", "localizedValue": ""},
        "category": {"value": "ResourceHealth", "localizedValue": "Resource Health"}, "eventTimestamp": at,
        "id": f"{rid}/events/{event}/ticks/639311000000000000",
        "level": "Critical" if current == "Unavailable" else "Informational",
        "operationId": "7c41e2d0-9f3b-4a58-b6e1-0d2c4a6f8e31",
        "operationName": {"value": f"Microsoft.Resourcehealth/healthevent/{status}/action",
                          "localizedValue": f"Health Event {status}"},
        "resourceGroupName": info.resource_group,
        "resourceProviderName": {"value": "Microsoft.Resourcehealth/healthevent/action",
                                 "localizedValue": "Microsoft.Resourcehealth/healthevent/action"},
        "resourceType": {"value": "Microsoft.Compute/virtualMachines",
                         "localizedValue": "Microsoft.Compute/virtualMachines"},
        "resourceId": rid, "status": {"value": "Active", "localizedValue": "Active"},
        "subStatus": {"value": "", "localizedValue": ""}, "submissionTimestamp": at,
        "subscriptionId": info.subscription_id, "tenantId": info.tenant_id,
        "properties": {"title": title, "details": details, "currentHealthStatus": current,
                       "previousHealthStatus": previous, "type": "Downtime", "cause": "PlatformInitiated"},
        "relatedEvents": [],
    }


@pytest.fixture(scope="module")
def platform_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A lab serving the copy of firewall-lockout with a host failure (sched-02) and a silent agent (sched-03)."""
    root = tmp_path_factory.mktemp("scenarios")
    folder = root / NAME
    shutil.copytree(SCENARIOS_DIR / "firewall-lockout", folder)
    spec = yaml.safe_load((folder / "scenario.yaml").read_text())
    spec.update(name=NAME, broken_vm="sched-02", known_good=["sched-03"],
                expected={"hypothesis": "platform_unavailable", "next_step": "redeploy_vm", "level": "platform"})
    (folder / "scenario.yaml").write_text(yaml.safe_dump(spec))
    info = list_scenarios([root])[0]
    log = json.loads((folder / "activity_log.json").read_text())
    log["value"].append(_health_record(
        info, "sched-02", OUTAGE_AT, "Activated", "Unavailable", "Available", "Unavailable",
        "We're sorry, your virtual machine isn't available because an unexpected failure on the host server "
        "is being investigated. Azure is attempting to recover it."))
    (folder / "activity_log.json").write_text(json.dumps(log))
    view_path = folder / "instance_views" / "sched-03.json"
    view = json.loads(view_path.read_text())
    view["vmAgent"]["statuses"] = [{"code": "ProvisioningState/Unavailable", "level": "Warning",
                                    "displayStatus": "Not Ready", "message": "VM Agent is unresponsive.",
                                    "time": "2026-11-24T23:58:02.5510000+00:00"}]
    view_path.write_text(json.dumps(view))
    with running_lab(scenario_dirs=[root]) as lab:
        yield lab


def _collect(lab: Any, out: Path, scenario: str, vm: str | None = None, peers: tuple[str, ...] | None = None) -> Any:
    info = lab.scenario(scenario)
    start, end = info.window
    request = CollectionRequest(info.subscription_id, info.resource_group, vm or info.broken_vm,
                                info.known_good if peers is None else peers, start=start, end=end,
                                source=f"lab:{scenario}")
    return load_bundle(collect(AzureTarget.for_lab(lab), request, out).subject)


def _explain(result: Classification) -> str:
    return "\n".join(f"{h.kind} {h.score:.2f}: {h.summary}" for h in result.hypotheses)


# ----------------------------------------------------------------- collection

def test_resource_health_is_collected_raw_with_manifest_entries(lab: Any, tmp_path: Path) -> None:
    bundle = _collect(lab, tmp_path, "firewall-lockout", peers=())
    current = bundle.resource_health
    assert current["name"] == "current" and current["type"] == "Microsoft.ResourceHealth/AvailabilityStatuses"
    assert current["id"].lower().endswith("/providers/microsoft.resourcehealth/availabilitystatuses/current")
    assert current["properties"]["availabilityState"] == "Available"
    assert bundle.resource_health_history and bundle.resource_health_history[0]["name"] == "current"
    files = {record["path"]: record for record in bundle.manifest["files"]}
    assert files["resource_health.json"]["call"] == "availability_statuses.get_by_resource"
    assert files["resource_health_history.json"]["call"] == "availability_statuses.list"
    assert files["resource_health.json"]["api_version"]
    assert bundle.failures == []


def test_a_deallocated_vm_is_unavailable_by_its_owner_not_the_platform(lab: Any, tmp_path: Path) -> None:
    bundle = _collect(lab, tmp_path, "deallocated", peers=())
    props = bundle.resource_health["properties"]
    assert (props["availabilityState"], props["reasonType"]) == ("Unavailable", "Customer Initiated")
    assert [status["properties"]["availabilityState"] for status in bundle.resource_health_history] == [
        "Unavailable", "Available"]
    result = classify(bundle, responder_ip=lab.scenario("deallocated").responder_ip)
    assert result.top.kind == "vm_not_running"
    assert "platform_unavailable" not in [h.kind for h in result.hypotheses]


def test_a_resource_health_failure_is_recorded_not_raised(tmp_path: Path) -> None:
    info = next(info for info in list_scenarios() if info.name == "firewall-lockout")
    without = [module for module in ROUTE_MODULES if module != "kit.lab.arm_resourcehealth"]
    lab = RunningLab(LabState([info]), without).start()
    try:
        bundle = _collect(lab, tmp_path, "firewall-lockout", peers=())
    finally:
        lab.stop()
    failed = {failure["call"]: failure for failure in bundle.failures}
    assert {"availability_statuses.get_by_resource", "availability_statuses.list"} <= set(failed)
    assert failed["availability_statuses.get_by_resource"]["status"] == 404
    assert bundle.resource_health is None and bundle.resource_health_history == []
    result = classify(bundle, bundle.peers(), responder_ip=info.responder_ip)
    assert result.top.kind == "guest_firewall"
    assert any("Resource Health" in missing for missing in result.missing)


def test_saved_az_rest_output_is_imported(lab: Any, tmp_path: Path) -> None:
    collected = _collect(lab, tmp_path / "collected", "deallocated", peers=())
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "vm.json").write_text(json.dumps(collected.vm))
    (saved / "a.json").write_text(json.dumps(collected.resource_health))
    (saved / "b.json").write_text(json.dumps({"value": collected.resource_health_history}))
    result = import_folder(saved, tmp_path / "imported")
    imported = load_bundle(result.bundle)
    assert result.recognised == {"vm.json": "vm", "a.json": "resource-health", "b.json": "resource-health-history"}
    assert imported.resource_health == collected.resource_health
    assert imported.resource_health_history == collected.resource_health_history


# ----------------------------------------------------------------- the hypotheses

def test_platform_initiated_unavailability_is_a_platform_problem_to_wait_out_or_redeploy(
        platform_lab: Any, tmp_path: Path) -> None:
    bundle = _collect(platform_lab, tmp_path, NAME)
    props = bundle.resource_health["properties"]
    assert (props["availabilityState"], props["reasonType"], props["context"]) == (
        "Unavailable", "Unplanned", "Platform Initiated")
    assert props["reasonChronicity"] == "Persistent" and "host server" in props["summary"]
    result = classify(bundle, bundle.peers(), responder_ip=platform_lab.scenario(NAME).responder_ip)
    top = result.top
    assert (top.kind, top.level, top.next_step.kind) == ("platform_unavailable", "platform", "redeploy_vm"), \
        _explain(result)
    assert top.supporting[0].source == "resource_health"
    assert top.supporting[0].evidence == "resource_health.json: properties"
    group, vm_id = bundle.manifest["resource_group"], bundle.manifest["vm_id"]
    sub = bundle.manifest["subscription_id"]
    assert f"az vm redeploy --subscription {sub} -g {group} -n sched-02" in top.next_step.commands
    assert (f"az resource show --ids {vm_id}/providers/Microsoft.ResourceHealth/availabilityStatuses/current "
            f"--api-version 2025-05-01") in top.next_step.commands
    assert "resource_health" in result.checked
    peers = classify(bundle.peers()[0], [bundle], responder_ip=platform_lab.scenario(NAME).responder_ip)
    assert peers.top.kind != "platform_unavailable"


def test_agent_not_ready_after_a_good_boot_points_at_the_guest_network_stack(platform_lab: Any,
                                                                             tmp_path: Path) -> None:
    bundle = _collect(platform_lab, tmp_path, NAME, vm="sched-03", peers=("sched-02",))
    result = classify(bundle, bundle.peers(), responder_ip=platform_lab.scenario(NAME).responder_ip)
    top = result.top
    assert (top.kind, top.level, top.next_step.kind) == ("guest_network:stack", "guest", "serial_console"), \
        _explain(result)
    sources = {row.source for row in top.supporting}
    assert {"instance_view", "boot_log", "network"} <= sources  # agent Not Ready, login prompt, NSG allows
    assert top.next_step.commands[:2] == ("ip addr", "ip route")


def test_degraded_counts_less_than_unavailable() -> None:
    degraded = {"properties": {"availabilityState": "Degraded", "reasonType": "Unplanned", "summary": "slow"}}
    unavailable = {"properties": {"availabilityState": "Unavailable", "context": "Platform Initiated"}}
    planned = {"properties": {"availabilityState": "Unavailable", "reasonType": "Customer Initiated"}}
    assert unplanned_now(degraded)[0] == 0.8 and unplanned_now(unavailable)[0] == 1.0
    assert unplanned_now(planned) == (0.0, []) and unplanned_now(None) == (0.0, [])


def test_earlier_platform_unavailability_counts_inside_the_window_only() -> None:
    def status(when: str) -> dict[str, Any]:
        return {"name": when, "properties": {"availabilityState": "Unavailable", "reasonType": "Unplanned",
                                             "occuredTime": when}}

    window = (datetime.fromisoformat("2026-11-24T00:00:00+00:00"), datetime.fromisoformat("2026-11-25T00:00:00+00:00"))
    history = [{"name": "current", "properties": {"availabilityState": "Available"}},
               status("2026-11-24T10:00:00Z"), status("2026-10-01T10:00:00Z")]
    strength, rows = unplanned_before(history, window)
    assert strength == 1.0 and [row.evidence for row in rows] == ["resource_health_history.json: value[1]"]
