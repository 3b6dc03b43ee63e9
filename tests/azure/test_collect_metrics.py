"""Metrics in the evidence bundle: the collector's ``metrics.list`` calls through the real async SDK to the lab.

Every VM scenario is collected (subject and peers); the drop each story tells is found in the raw
``metrics/<n>.json`` at the time the bundle's own Activity Log gives; a metric the VM does not
support is a manifest failure while the rest are kept; a 30-day window stays at 1,440 points or fewer.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import mean
from typing import Any

import pytest

from kit.azure.collect import CollectionRequest, collect
from kit.azure.metrics import METRIC_NAMES, batches, choose_interval
from kit.azure.target import AzureTarget
from kit.evidence import load_bundle
from kit.evidence.bundle import Bundle
from kit.lab import list_scenarios, running_lab
from kit.times import parse_time

SCENARIOS = [info.name for info in list_scenarios() if not getattr(info, "scale_set", None)]
GRAIN = {"PT1M": timedelta(minutes=1), "PT5M": timedelta(minutes=5), "PT15M": timedelta(minutes=15),
         "PT30M": timedelta(minutes=30), "PT1H": timedelta(hours=1)}


def _collect(lab: Any, name: str, out: Path, **overrides: Any) -> dict[str, Bundle]:
    info = lab.scenario(name)
    fields: dict[str, Any] = {"subscription_id": info.subscription_id, "resource_group": info.resource_group,
                              "vm": info.broken_vm, "known_good": tuple(info.known_good),
                              "start": info.window_start, "end": info.window_end, "source": f"lab:{name}"}
    fields.update(overrides)
    collect(AzureTarget.for_lab(lab), CollectionRequest(**fields), out)
    return {vm: load_bundle(out / vm) for vm in (fields["vm"], *fields["known_good"])}


@pytest.fixture(scope="module")
def bundles(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Bundle]]:
    """Every VM scenario collected once: scenario → VM name → bundle."""
    return {name: _collect(lab, name, tmp_path_factory.mktemp(name)) for name in SCENARIOS}


def _points(bundle: Bundle, metric: str, key: str = "average") -> list[tuple[datetime, float | None]]:
    for document in bundle.metrics:
        for item in document["value"]:
            if item["name"]["value"] == metric:
                return [(parse_time(point["timeStamp"]), point.get(key)) for point in item["timeseries"][0]["data"]]
    raise AssertionError(f"{bundle.name}: no {metric} in the bundle")


def _started(bundle: Bundle, operation: str, resource: str) -> datetime:
    """When the latest ``operation`` on ``resource`` began, from the bundle's Activity Log."""
    records = bundle.activity_log
    hits = {record["correlationId"] for record in records
            if record["operationName"]["value"].lower() == operation.lower()
            and record["resourceId"].lower().endswith("/" + resource.lower())}
    assert hits, f"no {operation} on {resource} in the Activity Log"
    return max(min(parse_time(r["eventTimestamp"]) for r in records if r["correlationId"] == key) for key in hits)


def _mean(points: list[tuple[datetime, float | None]], start: datetime, end: datetime) -> float:
    values = [value for when, value in points if start <= when < end and value is not None]
    assert values, f"no data between {start} and {end}"
    return mean(values)


# -- every scenario ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCENARIOS)
def test_every_vm_of_every_scenario_has_its_metrics(bundles: dict[str, dict[str, Bundle]], name: str) -> None:
    for vm, bundle in bundles[name].items():
        documents = bundle.metrics
        assert documents, f"{name}/{vm}: no metrics collected"
        collected = [item["name"]["value"] for document in documents for item in document["value"]]
        refused = [failure for failure in bundle.failures if failure.get("call") == "metrics.list"]
        missing = [metric for metric in METRIC_NAMES if metric not in collected]
        assert len(collected) == len(set(collected)) and len(missing) == len(refused)
        assert all(metric in failure["message"] for metric, failure in zip(missing, refused, strict=True))
        entries = [entry for entry in bundle.manifest["files"] if entry["path"].startswith("metrics/")]
        assert len(entries) == len(documents) and all(entry["call"] == "metrics.list" for entry in entries)
        window = bundle.manifest["window"]
        span = parse_time(window["end"]) - parse_time(window["start"])
        for document in documents:
            assert document["interval"] == choose_interval(parse_time(window["start"]), parse_time(window["end"]))
            for item in document["value"]:
                data = item["timeseries"][0]["data"]
                assert len(data) <= 1440 and len(data) >= span / GRAIN[document["interval"]]
                assert item["type"] == "Microsoft.Insights/metrics"


# -- the stories in the raw data --------------------------------------------------------------------
@pytest.mark.parametrize(("name", "operation", "resource", "metric"), [
    ("firewall-lockout", "Microsoft.Compute/virtualMachines/runCommand/action", "sched-01", "Inbound Flows"),
    ("nsg-deny", "Microsoft.Network/networkSecurityGroups/securityRules/write", "Deny-SSH-Inbound", "Inbound Flows"),
    ("route-blackhole", "Microsoft.Compute/virtualMachines/delete", "nva-fw-01", "Outbound Flows"),
])
def test_the_traffic_drop_is_in_the_bundle_at_the_changes_time(bundles: dict[str, dict[str, Bundle]], name: str,
                                                               operation: str, resource: str, metric: str) -> None:
    subject = next(bundle for bundle in bundles[name].values() if bundle.role == "subject")
    changed = _started(subject, operation, resource)
    grain = GRAIN[subject.metrics[0]["interval"]]
    before = (changed - timedelta(hours=2), changed - grain)
    after = (changed + 2 * grain, changed + timedelta(hours=1))
    for bundle in bundles[name].values():
        points = _points(bundle, metric)
        ratio = _mean(points, *after) / _mean(points, *before)
        if bundle.role == "subject":
            assert ratio < 0.1, f"{bundle.name}: {metric} fell only to {ratio:.0%} after {changed}"
        else:
            assert 0.5 < ratio < 2, f"peer {bundle.name}: {metric} moved to {ratio:.0%}"


def test_the_kernel_panic_is_availability_zero_after_the_restart(bundles: dict[str, dict[str, Bundle]]) -> None:
    subject = bundles["kernel-panic"]["hist-app-01"]
    restart = _started(subject, "Microsoft.Compute/virtualMachines/restart/action", "hist-app-01")
    grain = GRAIN[subject.metrics[0]["interval"]]
    points = _points(subject, "VmAvailabilityMetric")
    assert _mean(points, restart - timedelta(hours=3), restart - grain) == 1
    assert {value for when, value in points if when >= restart + 2 * grain} <= {0.0, None}
    assert _mean(_points(bundles["kernel-panic"]["hist-app-02"], "VmAvailabilityMetric"),
                 restart + timedelta(hours=1), restart + timedelta(hours=2)) == 1


def test_the_deallocated_vm_has_no_data_after_the_deallocation(bundles: dict[str, dict[str, Bundle]]) -> None:
    subject = bundles["deallocated"]["rpt-db-01"]
    off = _started(subject, "Microsoft.Compute/virtualMachines/deallocate/action", "rpt-db-01")
    grain = GRAIN[subject.metrics[0]["interval"]]
    for metric in ("Percentage CPU", "VmAvailabilityMetric", "Network In Total"):
        points = _points(subject, metric, "total" if metric.endswith("Total") else "average")
        assert all(value is None for when, value in points if when >= off + grain), metric
        assert sum(value is not None for when, value in points if when < off) > 100, metric
    peer = [value for when, value in _points(bundles["deallocated"]["rpt-db-02"], "Percentage CPU")
            if when >= off + grain]
    assert len(peer) > 20 and all(value is not None for value in peer)  # the peer keeps reporting


# -- an unsupported metric -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def legacy_lab() -> Iterator[Any]:
    """A lab of its own serving, beside nsg-deny's VMs, ``pos-legacy-01``: a VM on an unmanaged VHD."""
    with running_lab() as running:
        info = running.scenario("nsg-deny")
        body = copy.deepcopy(running.state.get(info.vm_id("pos-api-02")))
        vm_id = info.vm_id("pos-legacy-01")
        body.update(id=vm_id, name="pos-legacy-01")
        body["properties"]["storageProfile"]["osDisk"] = {
            "osType": "Linux", "name": "pos-legacy-01-osdisk", "createOption": "FromImage", "caching": "ReadWrite",
            "vhd": {"uri": "https://stlegacyvhds.blob.core.windows.net/vhds/pos-legacy-01-osdisk.vhd"}}
        running.state.put(vm_id, body)
        running.state.instance_views[vm_id.lower()] = copy.deepcopy(
            running.state.instance_views[info.vm_id("pos-api-02").lower()])
        running.state.serial_logs[vm_id.lower()] = running.state.serial_logs[info.vm_id("pos-api-02").lower()]
        yield running


def test_an_unsupported_metric_is_a_manifest_failure_and_the_rest_are_kept(legacy_lab: Any, tmp_path: Path) -> None:
    found = _collect(legacy_lab, "nsg-deny", tmp_path / "ev", vm="pos-legacy-01", known_good=("pos-api-02",))
    legacy, managed = found["pos-legacy-01"], found["pos-api-02"]
    failures = [failure for failure in legacy.failures if failure.get("call") == "metrics.list"]
    refused = {"OS Disk Queue Depth", "OS Disk IOPS Consumed Percentage"}
    assert len(failures) == 2 and all(failure["status"] == 400 and failure["code"] == "BadRequest"
                                      for failure in failures)
    assert all("Failed to find metric configuration" in failure["message"] for failure in failures)
    assert {name for name in refused for failure in failures if f"metric: {name}," in failure["message"]} == refused
    assert legacy.failures == failures  # nothing else failed
    kept = [item["name"]["value"] for document in legacy.metrics for item in document["value"]]
    assert sorted(kept) == sorted(set(METRIC_NAMES) - refused)  # each supported one kept, once
    assert all(item["timeseries"][0]["data"] for document in legacy.metrics for item in document["value"])
    assert {item["name"]["value"] for document in managed.metrics for item in document["value"]} == set(METRIC_NAMES)
    assert managed.failures == [] and len(managed.metrics) == 1  # eleven names fit one call


# -- the interval --------------------------------------------------------------------------------------
def test_a_thirty_day_window_stays_within_1440_points(lab: Any, tmp_path: Path) -> None:
    info = lab.scenario("nsg-deny")
    end = info.window_end
    found = _collect(lab, "nsg-deny", tmp_path / "ev", known_good=(), start=end - timedelta(days=30), end=end)
    documents = found[info.broken_vm].metrics
    assert [document["interval"] for document in documents] == ["PT30M"]
    for item in documents[0]["value"]:
        data = item["timeseries"][0]["data"]
        assert 1400 <= len(data) <= 1440
        assert sum(point.get("average") is not None for point in data) > 1000


@pytest.mark.parametrize(("span", "grain"), [
    (timedelta(hours=1), "PT1M"), (timedelta(hours=24), "PT1M"), (timedelta(hours=24, minutes=1), "PT5M"),
    (timedelta(days=5), "PT5M"), (timedelta(days=7), "PT15M"), (timedelta(days=30), "PT30M"),
    (timedelta(days=60), "PT1H"), (timedelta(days=90), "PT6H"),
])
def test_the_interval_is_the_finest_grain_within_1440_points(span: timedelta, grain: str) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    assert choose_interval(start, start + span) == grain


def test_names_go_twenty_to_a_call() -> None:
    names = [f"m{index}" for index in range(45)]
    cut = batches(names)
    assert [len(batch) for batch in cut] == [20, 20, 5] and sum(cut, []) == names
