"""The lab's Azure Monitor metrics through the real azure-mgmt-monitor SDK: REST shape, Azure's errors,
each scenario's story at the times its Activity Log gives, and recovery after a fix the lab records."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from collections.abc import Iterator
from statistics import mean
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.monitor import MonitorManagementClient

from kit.analyze.repair_scripts import facts_from_boot_log, fix_script
from kit.azure.actions import WriteLog
from kit.azure.changes import delete_security_rule
from kit.azure.repair import boot_proof, read_boot_state, repair
from kit.azure.runcommand import run_command
from kit.azure.target import AzureTarget
from kit.lab import RunningLab, running_lab
from kit.times import parse_time

C5 = ("VmAvailabilityMetric", "Percentage CPU", "Available Memory Bytes", "Network In Total", "Network Out Total",
      "Inbound Flows", "Outbound Flows", "Disk Read Operations/Sec", "Disk Write Operations/Sec",
      "OS Disk Queue Depth", "OS Disk IOPS Consumed Percentage")
CLOCK = "metrics_clock"  # the lab's knob for "now" (kit.lab._metrics.CLOCK_EXTRA)


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    """A lab of this module's own: the recovery tests write through the ARM API."""
    with running_lab() as running:
        yield running


def _monitor(lab: RunningLab, scenario: str) -> MonitorManagementClient:
    target = AzureTarget.for_lab(lab)
    return MonitorManagementClient(target.sync_credential(), lab.scenario(scenario).subscription_id,
                                   **target.client_kwargs())


def _raw(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
    return pipeline_response.http_response.json()


def _z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _query(lab: RunningLab, scenario: str, vm: str, names: str, start: dt.datetime, end: dt.datetime,
           interval: str = "PT1M", aggregation: str = "average") -> dict[str, Any]:
    info = lab.scenario(scenario)
    return _monitor(lab, scenario).metrics.list(info.vm_id(vm), timespan=f"{_z(start)}/{_z(end)}", interval=interval,
                                                metricnames=names, aggregation=aggregation, cls=_raw)


def _series(body: dict[str, Any], name: str, key: str = "average") -> list[tuple[dt.datetime, float | None]]:
    metric = next(item for item in body["value"] if item["name"]["value"] == name)
    return [(parse_time(point["timeStamp"]), point.get(key)) for point in metric["timeseries"][0]["data"]]


def _operation(lab: RunningLab, scenario: str, operation: str, resource: str | None = None) -> dt.datetime:
    """When the scenario's Activity Log says the latest ``operation`` began (its first record), from the data file."""
    info = lab.scenario(scenario)
    records = json.loads((info.path / "activity_log.json").read_text())["value"]
    hits = {record["correlationId"] for record in records
            if record["operationName"]["value"].lower() == operation.lower()
            and (resource is None or record["resourceId"].lower().endswith("/" + resource.lower()))}
    assert hits, f"{scenario}: no {operation} record"
    return max(min(parse_time(record["eventTimestamp"]) for record in records if record["correlationId"] == key)
               for key in hits)


def _mean(points: list[tuple[dt.datetime, float | None]], start: dt.datetime, end: dt.datetime) -> float:
    values = [value for when, value in points if start <= when < end and value is not None]
    assert values, f"no data between {start} and {end}"
    return mean(values)


# -- shape -----------------------------------------------------------------------------------
def test_definitions_list_the_vm_metrics_with_every_grain(lab: RunningLab) -> None:
    info = lab.scenario("nsg-deny")
    found = list(_monitor(lab, "nsg-deny").metric_definitions.list(info.vm_id(info.broken_vm)))
    by_name = {item.name.value: item for item in found}
    assert set(C5) <= set(by_name)
    cpu = by_name["Percentage CPU"]
    assert (cpu.unit, cpu.primary_aggregation_type) == ("Percent", "Average")
    assert [str(a.time_grain) for a in cpu.metric_availabilities] == [
        "0:01:00", "0:05:00", "0:15:00", "0:30:00", "1:00:00", "6:00:00", "12:00:00", "1 day, 0:00:00"]


def test_answer_has_the_rest_shape_aligned_points_and_nulls_for_missing_data(lab: RunningLab) -> None:
    info = lab.scenario("nsg-deny")
    origin = info.window_start + dt.timedelta(hours=2)  # after the patch-night restarts
    start, end = origin + dt.timedelta(minutes=7, seconds=30), origin + dt.timedelta(hours=5)
    body = _query(lab, "nsg-deny", info.broken_vm, "Percentage CPU,Network In Total", start, end, interval="PT5M",
                  aggregation="average,total,count")
    assert set(body) == {"cost", "timespan", "interval", "value", "namespace", "resourceregion"}
    assert (body["interval"], body["namespace"], body["resourceregion"]) == (
        "PT5M", "Microsoft.Compute/virtualMachines", info.location)
    metric = body["value"][0]
    assert metric["type"] == "Microsoft.Insights/metrics" and metric["errorCode"] == "Success"
    assert metric["id"] == f"{info.vm_id(info.broken_vm)}/providers/Microsoft.Insights/metrics/Percentage CPU"
    points = metric["timeseries"][0]["data"]
    assert metric["timeseries"][0]["metadatavalues"] == []
    assert points[0]["timeStamp"] == _z(origin + dt.timedelta(minutes=5))  # floored to the grain
    assert len(points) == math.ceil((end - (origin + dt.timedelta(minutes=5))) / dt.timedelta(minutes=5))
    assert all(point["timeStamp"].endswith("Z") for point in points)
    assert all(set(point) == {"timeStamp", "average", "total", "count"} for point in points)
    assert all(0 < point["average"] <= 100 for point in points)
    assert all(point["count"] == 5 for point in points[1:])  # five one-minute samples per bucket


def test_a_query_ending_now_has_a_partial_last_bucket_and_nothing_after(lab: RunningLab) -> None:
    info = lab.scenario("nsg-deny")
    now = dt.datetime.now(dt.UTC)
    body = _query(lab, "nsg-deny", "pos-api-02", "Network In Total", now - dt.timedelta(hours=3),
                  now + dt.timedelta(hours=1), interval="PT1H", aggregation="total,count")
    counts = [point.get("count") for point in body["value"][0]["timeseries"][0]["data"]]
    assert counts[-1] is None  # the future has no data, only its timestamp
    known = [count for count in counts if count is not None]
    assert known[:-1] == [60] * (len(known) - 1)  # whole hours in the past
    assert known[-1] < 60  # the hour holding "now" is still filling
    gap_body = _query(lab, "nsg-deny", "pos-api-02", "Percentage CPU", info.window_start, info.window_end)
    missing = [when for when, value in _series(gap_body, "Percentage CPU") if value is None]
    assert 0 < len(missing) < 60  # a few one-minute points never arrived, as in real data


def test_the_same_query_gives_the_same_numbers(lab: RunningLab) -> None:
    info = lab.scenario("kernel-panic")
    first = _query(lab, "kernel-panic", "hist-app-02", ",".join(C5), info.window_start, info.window_end, "PT15M")
    second = _query(lab, "kernel-panic", "hist-app-02", ",".join(C5), info.window_start, info.window_end, "PT15M")
    assert first["value"] == second["value"]


# -- errors ----------------------------------------------------------------------------------
def plant_unmanaged_vm(lab: RunningLab, scenario: str, like: str, name: str) -> str:
    """A copy of VM ``like`` whose OS disk is an unmanaged VHD (a page blob), served by ``lab``; its id."""
    info = lab.scenario(scenario)
    source = info.vm_id(like).lower()
    body = copy.deepcopy(lab.state.get(source))
    assert body is not None
    vm_id = info.vm_id(name)
    body.update(id=vm_id, name=name)
    body["properties"]["storageProfile"]["osDisk"] = {
        "osType": "Linux", "name": f"{name}-osdisk", "createOption": "FromImage", "caching": "ReadWrite",
        "vhd": {"uri": f"https://stlegacyvhds.blob.core.windows.net/vhds/{name}-osdisk.vhd"}, "diskSizeGB": 30}
    lab.state.put(vm_id, body)
    lab.state.instance_views[vm_id.lower()] = copy.deepcopy(lab.state.instance_views[source])
    if source in lab.state.serial_logs:
        lab.state.serial_logs[vm_id.lower()] = lab.state.serial_logs[source]
    return vm_id


def test_a_metric_the_vm_has_no_configuration_for_is_azures_400(lab: RunningLab) -> None:
    info = lab.scenario("nsg-deny")
    plant_unmanaged_vm(lab, "nsg-deny", "pos-api-02", "pos-legacy-01")
    with pytest.raises(HttpResponseError) as caught:
        _query(lab, "nsg-deny", "pos-legacy-01", "Percentage CPU,OS Disk Queue Depth", info.window_start,
               info.window_end, "PT1H")
    assert caught.value.status_code == 400
    body = caught.value.response.json()
    assert body["code"] == "BadRequest"
    assert body["message"].startswith("Failed to find metric configuration for provider: Microsoft.Compute, resource "
                                      "Type: virtualMachines, metric: OS Disk Queue Depth, Valid metrics: ")
    valid = body["message"].split("Valid metrics: ")[1].split(",")
    assert "Percentage CPU" in valid and "OS Disk Queue Depth" not in valid
    answer = _query(lab, "nsg-deny", "pos-legacy-01", "Percentage CPU", info.window_start, info.window_end, "PT1H")
    assert [item["name"]["value"] for item in answer["value"]] == ["Percentage CPU"]
    managed = _query(lab, "nsg-deny", "pos-api-02", "OS Disk Queue Depth", info.window_start, info.window_end,
                     "PT1H")  # the same metric on a VM with a managed disk is answered
    assert [item["name"]["value"] for item in managed["value"]] == ["OS Disk Queue Depth"]
    names = [item.name.value for item in _monitor(lab, "nsg-deny").metric_definitions.list(
        info.vm_id("pos-legacy-01"))]
    assert "OS Disk Queue Depth" not in names and "Percentage CPU" in names


@pytest.mark.parametrize(("names", "interval", "wanted"), [
    ("Percentage CPU", "PT2M", "Invalid time grain duration: PT2M"),
    (",".join(["Percentage CPU"] * 21), "PT1H", "Requested metrics count: 21 bigger than allowed max: 20"),
    ("No Such Metric", "PT1H", "metric: No Such Metric, Valid metrics:"),
])
def test_bad_queries_get_azures_messages(lab: RunningLab, names: str, interval: str, wanted: str) -> None:
    info = lab.scenario("nsg-deny")
    with pytest.raises(HttpResponseError) as caught:
        _query(lab, "nsg-deny", info.broken_vm, names, info.window_start, info.window_end, interval)
    assert caught.value.status_code == 400 and wanted in caught.value.response.json()["message"]


# -- the stories -----------------------------------------------------------------------------
@pytest.mark.parametrize(("scenario", "operation", "metric"), [
    ("firewall-lockout", "Microsoft.Compute/virtualMachines/runCommand/action", "Inbound Flows"),
    ("firewall-lockout", "Microsoft.Compute/virtualMachines/runCommand/action", "Network In Total"),
    ("nsg-deny", "Microsoft.Network/networkSecurityGroups/securityRules/write:Deny-SSH-Inbound", "Inbound Flows"),
    ("route-blackhole", "Microsoft.Compute/virtualMachines/delete", "Outbound Flows"),
])
def test_traffic_collapses_after_the_change_and_peers_stay_normal(lab: RunningLab, scenario: str, operation: str,
                                                                   metric: str) -> None:
    info = lab.scenario(scenario)
    name, _, resource = operation.partition(":")
    changed = _operation(lab, scenario, name, resource or None)
    start, end = changed - dt.timedelta(hours=2), changed + dt.timedelta(hours=2)
    key = "total" if metric.endswith("Total") else "average"
    for vm in info.vms:
        points = _series(_query(lab, scenario, vm, metric, start, end, aggregation=key), metric, key)
        before = _mean(points, start, changed - dt.timedelta(minutes=1))
        after = _mean(points, changed + dt.timedelta(minutes=3), end)
        if vm == info.broken_vm:
            assert after < 0.1 * before, f"{vm}: {metric} {before:.0f} → {after:.0f}"
            minutes = [value for when, value in points
                       if changed - dt.timedelta(minutes=3) <= when <= changed - dt.timedelta(minutes=1)]
            assert minutes and all(value is None or value > 0.5 * before for value in minutes)  # normal until then
        else:
            assert 0.5 < after / before < 2, f"peer {vm}: {metric} {before:.0f} → {after:.0f}"


def test_kernel_panic_takes_availability_to_zero_after_the_patch_restart(lab: RunningLab) -> None:
    info = lab.scenario("kernel-panic")
    restart = _operation(lab, "kernel-panic", "Microsoft.Compute/virtualMachines/restart/action", info.broken_vm)
    start, end = restart - dt.timedelta(hours=1), restart + dt.timedelta(hours=1)
    broken = _series(_query(lab, "kernel-panic", info.broken_vm, "VmAvailabilityMetric", start, end),
                     "VmAvailabilityMetric")
    assert _mean(broken, start, restart - dt.timedelta(minutes=1)) == 1
    down = [value for when, value in broken if when >= restart + dt.timedelta(minutes=2)]
    assert len(down) > 50 and set(down) <= {0.0, None}
    peer = _series(_query(lab, "kernel-panic", "hist-app-02", "VmAvailabilityMetric", start, end),
                   "VmAvailabilityMetric")
    assert _mean(peer, restart + dt.timedelta(minutes=45), end) == 1  # its own patch restart came and went


def test_a_deallocated_vm_has_no_data_after_the_deallocation(lab: RunningLab) -> None:
    info = lab.scenario("deallocated")
    off = _operation(lab, "deallocated", "Microsoft.Compute/virtualMachines/deallocate/action", info.broken_vm)
    start, end = off - dt.timedelta(hours=1), off + dt.timedelta(hours=2)
    body = _query(lab, "deallocated", info.broken_vm, "Percentage CPU,VmAvailabilityMetric,Inbound Flows", start, end)
    for name in ("Percentage CPU", "VmAvailabilityMetric", "Inbound Flows"):
        points = _series(body, name)
        assert all(value is None for when, value in points if when >= off + dt.timedelta(minutes=1)), name
        assert sum(value is not None for when, value in points if when < off) > 50, name


# -- fix → recovery ----------------------------------------------------------------------------
def _later(lab: RunningLab, minutes: int) -> dt.datetime:
    """Move the metrics' clock ``minutes`` ahead of the wall clock; returns the wall clock."""
    now = dt.datetime.now(dt.UTC)
    lab.state.extras[CLOCK] = lambda: now + dt.timedelta(minutes=minutes)
    return now


def test_deleting_the_deny_rule_brings_inbound_flows_back(lab: RunningLab) -> None:
    info = lab.scenario("nsg-deny")
    target = AzureTarget.for_lab(lab)
    fixed = dt.datetime.now(dt.UTC)
    delete_security_rule(target, info.subscription_id, info.resource_group, "nsg-pos-api-01", "Deny-SSH-Inbound")
    _later(lab, 15)
    try:
        points = _series(_query(lab, "nsg-deny", info.broken_vm, "Inbound Flows", fixed - dt.timedelta(minutes=10),
                                fixed + dt.timedelta(minutes=12)), "Inbound Flows")
    finally:
        lab.state.extras.pop(CLOCK)
    blocked = _mean(points, fixed - dt.timedelta(minutes=10), fixed - dt.timedelta(minutes=1))
    recovered = _mean(points, fixed + dt.timedelta(minutes=2), fixed + dt.timedelta(minutes=12))
    assert recovered > 10 * blocked


def test_a_diagnostic_run_command_changes_nothing_and_the_fix_ends_the_lockout(lab: RunningLab) -> None:
    info = lab.scenario("firewall-lockout")
    target = AzureTarget.for_lab(lab)
    vm_id = info.vm_id(info.broken_vm)
    looked = dt.datetime.now(dt.UTC)
    run_command(target, vm_id, "iptables -S INPUT", os_type="linux")
    _later(lab, 6)
    try:
        still = _series(_query(lab, "firewall-lockout", info.broken_vm, "Inbound Flows",
                               looked - dt.timedelta(minutes=5), looked + dt.timedelta(minutes=3)), "Inbound Flows")
    finally:
        lab.state.extras.pop(CLOCK)
    before = _mean(still, looked - dt.timedelta(minutes=5), looked)
    assert _mean(still, looked + dt.timedelta(minutes=1), looked + dt.timedelta(minutes=3)) < 2 * before + 1
    fixed = dt.datetime.now(dt.UTC)
    run_command(target, vm_id, "iptables -P INPUT ACCEPT\nnetfilter-persistent save", os_type="linux")
    _later(lab, 15)
    try:
        points = _series(_query(lab, "firewall-lockout", info.broken_vm, "Inbound Flows",
                                fixed - dt.timedelta(minutes=5), fixed + dt.timedelta(minutes=12)), "Inbound Flows")
    finally:
        lab.state.extras.pop(CLOCK)
    assert _mean(points, fixed + dt.timedelta(minutes=2), fixed + dt.timedelta(minutes=12)) > 10 * (before + 1)


def test_starting_the_deallocated_vm_brings_its_data_back(lab: RunningLab) -> None:
    info = lab.scenario("deallocated")
    target = AzureTarget.for_lab(lab)
    compute = ComputeManagementClient(target.sync_credential(), info.subscription_id, **target.client_kwargs())
    started = dt.datetime.now(dt.UTC)
    compute.virtual_machines.begin_start(info.resource_group, info.broken_vm, polling_interval=0.05).result()
    _later(lab, 15)
    try:
        points = _series(_query(lab, "deallocated", info.broken_vm, "VmAvailabilityMetric",
                                started - dt.timedelta(minutes=10), started + dt.timedelta(minutes=12)),
                         "VmAvailabilityMetric")
    finally:
        lab.state.extras.pop(CLOCK)
    assert all(value is None for when, value in points if when < started - dt.timedelta(minutes=1))
    after = [value for when, value in points if when >= started + dt.timedelta(minutes=2)]
    assert after and sum(value == 1 for value in after) >= len(after) - 1  # a one-minute gap may happen


def test_swapping_in_a_repaired_os_disk_brings_a_panicked_vm_back() -> None:
    with running_lab(scenarios=["kernel-panic"]) as own:
        info = own.scenario("kernel-panic")
        target = AzureTarget.for_lab(own)
        vm_id = info.vm_id(info.broken_vm)
        state = read_boot_state(target, vm_id)
        script = fix_script("boot_failure:kernel_panic", facts_from_boot_log(state.serial_log), os_type=state.os_type)
        began = dt.datetime.now(dt.UTC)
        outcome = repair(target, vm_id, script=script, finding="boot_failure:kernel_panic", approval="CHG-1",
                         prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2), write_log=WriteLog())
        assert outcome.status == "recovered", outcome.message
        done = dt.datetime.now(dt.UTC)
        _later(own, 15)
        points = _series(_query(own, "kernel-panic", info.broken_vm, "VmAvailabilityMetric",
                                began - dt.timedelta(minutes=10), done + dt.timedelta(minutes=12)),
                         "VmAvailabilityMetric")
    assert {value for when, value in points if when < began - dt.timedelta(minutes=1)} <= {0.0, None}
    after = [value for when, value in points if when >= done + dt.timedelta(minutes=1)]
    assert len(after) > 8 and sum(value == 1.0 for value in after) >= len(after) - 1
