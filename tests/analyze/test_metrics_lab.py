"""Platform metrics end to end: the lab's metrics endpoint, the real SDK collector, the analysis.

The change points are found at the story's times, read from each bundle's own Activity Log (the
firewall push, the NSG rule write, the appliance deletion, the restart into the panic); the verdict
cites them and so does its card; a fix brings the flows back, and the recovery comparison says so
with numbers against the same hours before the incident.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kit.analyze.activity import activity_from_bundle
from kit.analyze.metrics import MetricChange, MetricsReading, compare_recovery, metrics_from_bundle
from kit.analyze.triage import triage
from kit.azure.changes import delete_security_rule
from kit.azure.collect import CollectionRequest, collect
from kit.azure.target import AzureTarget
from kit.evidence import Bundle, load_bundle
from kit.lab import RunningLab, running_lab
from kit.report.recovery_proofs import metrics_proof
from kit.report.verdict_card import card

#: scenario → (the operation that starts the story, whether it is on the broken VM itself, the change kinds it causes)
STORIES = {
    "firewall-lockout": ("Microsoft.Compute/virtualMachines/runCommand/action", True, ("flows_stopped",)),
    "nsg-deny": ("Microsoft.Network/networkSecurityGroups/securityRules/write", False, ("flows_stopped",)),
    "route-blackhole": ("Microsoft.Compute/virtualMachines/delete", False, ("flows_stopped",)),  # the appliance
    "kernel-panic": ("Microsoft.Compute/virtualMachines/restart/action", True, ("availability_lost",)),
}


def _collect(lab: Any, name: str, out: Path, **overrides: Any) -> Bundle:
    info = lab.scenario(name)
    fields: dict[str, Any] = {"subscription_id": info.subscription_id, "resource_group": info.resource_group,
                              "vm": info.broken_vm, "known_good": tuple(info.known_good),
                              "start": info.window_start, "end": info.window_end, "source": f"lab:{name}"}
    fields.update(overrides)
    result = collect(AzureTarget.for_lab(lab), CollectionRequest(**fields), out)
    return load_bundle(result.subject)


@pytest.fixture(scope="module")
def stories(lab: RunningLab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Bundle]:
    return {name: _collect(lab, name, tmp_path_factory.mktemp(name)) for name in STORIES}


def _last_start(bundle: Bundle, operation: str, own: bool) -> dt.datetime:
    """When the story's operation (its latest succeeded run in the window, on the VM itself if ``own``)
    began, from the bundle's Activity Log."""
    vm = str(bundle.manifest["vm_id"]).lower()
    ops = [op for op in activity_from_bundle(bundle).operations
           if op.operation_name.lower() == operation.lower() and not op.failed
           and (not own or op.resource_id.lower() == vm)]
    assert ops, f"{bundle.name}: no {operation} in its Activity Log"
    window = bundle.manifest["window"]
    inside = [op for op in ops if window["start"] <= op.start.isoformat().replace("+00:00", "Z") <= window["end"]]
    return (inside or ops)[-1].start


def _first_after(reading: MetricsReading, kinds: tuple[str, ...], after: dt.datetime) -> MetricChange:
    found = [c for c in reading.changes if c.kind in kinds and c.at > after - (c.bucket or dt.timedelta(minutes=1))]
    assert found, f"no {kinds} after {after}: {[c.to_json() for c in reading.changes]}"
    return found[0]


@pytest.mark.parametrize("scenario", sorted(STORIES))
def test_the_change_point_comes_at_the_storys_time_and_the_verdict_cites_it(stories: dict[str, Bundle],
                                                                            lab: RunningLab, scenario: str) -> None:
    bundle = stories[scenario]
    info = lab.scenario(scenario)
    operation, own, kinds = STORIES[scenario]
    started = _last_start(bundle, operation, own)
    reading = metrics_from_bundle(bundle)
    assert reading.warnings == () and not reading.empty
    change = _first_after(reading, kinds, started)
    grain = change.bucket or dt.timedelta(minutes=1)
    assert started - grain < change.at <= started + 2 * grain, (change.to_json(), started)
    assert change.after < 0.1 * change.before, change.describe()

    result = triage(bundle, bundle.peers(), responder_ip=info.responder_ip)
    top = result.classification.top
    assert top.kind == info.expected.hypothesis, "metrics support the right answer, they do not overturn it"
    cited = [e for e in top.supporting if e.source == "metrics"]
    assert cited and any(e.time == change.at and e.details["kind"] == change.kind for e in cited), \
        [e.summary for e in top.supporting]
    rows = result.timeline[result.timeline["source"] == "metrics"]
    assert change.describe() in set(rows["summary"]) and change.time_desc in set(rows["time_desc"])
    html = str(card(top.to_json(), None, vm=bundle.name, subscription=info.subscription_id))
    assert 'class="kit-card-metrics"' in html and change.metric in html and change.evidence in html


def test_peers_show_no_change_point(stories: dict[str, Bundle]) -> None:
    for bundle in stories.values():
        for peer in bundle.peers():
            bad = [c.describe() for c in metrics_from_bundle(peer).changes if c.bad and c.family != "cpu"]
            assert bad == [], f"{peer.name}: {bad}"


# -- fix → recovery (a lab of its own: the fix changes the scenario) ---------------------------


@pytest.fixture(scope="module")
def own_lab() -> Iterator[RunningLab]:
    with running_lab(scenarios=["nsg-deny"]) as lab:
        yield lab


def test_deleting_the_deny_rule_brings_the_flows_back_against_the_same_hours_before(own_lab: RunningLab,
                                                                                    tmp_path: Path) -> None:
    info = own_lab.scenario("nsg-deny")
    incident = _collect(own_lab, "nsg-deny", tmp_path / "incident")
    before = metrics_from_bundle(incident)
    target = AzureTarget.for_lab(own_lab)
    fixed = dt.datetime.now(dt.UTC)
    delete_security_rule(target, info.subscription_id, info.resource_group, "nsg-pos-api-01", "Deny-SSH-Inbound")
    later = fixed + dt.timedelta(minutes=45)
    own_lab.state.extras["metrics_clock"] = lambda: later  # kit.lab._metrics.CLOCK_EXTRA: 45 minutes pass
    try:
        after_bundle = _collect(own_lab, "nsg-deny", tmp_path / "after", start=fixed - dt.timedelta(hours=1),
                                end=later)
    finally:
        own_lab.state.extras.pop("metrics_clock")
    after = metrics_from_bundle(after_bundle)
    resumed = _first_after(after, ("flows_resumed",), fixed)
    grain = resumed.bucket or dt.timedelta(minutes=1)
    assert resumed.metric == "Inbound Flows" and fixed - grain < resumed.at <= fixed + 3 * grain, resumed.to_json()
    assert not [c for c in after.changes if c.kind == "availability_lost"]

    figures = {f.metric: f for f in compare_recovery(after, fixed_at=fixed, baseline=before)}
    flows = figures["Inbound Flows"]
    assert flows.passed is True and 0.5 <= flows.after / flows.baseline <= 2.0, flows.seen
    assert "the same hours before the incident" in flows.seen and "band 50%–200%" in flows.seen
    assert figures["VmAvailabilityMetric"].passed is True and figures["VmAvailabilityMetric"].after >= 99.9

    proof = metrics_proof(after_bundle, "evidence/x/pos-api-01", since=fixed, baseline=before)
    assert proof.passed is True and "availability 100.0% since the fix" in proof.seen and "Inbound Flows" in proof.seen
    blocked = metrics_proof(incident, "evidence/x/pos-api-01", since=_last_start(
        incident, *STORIES["nsg-deny"][:2]) + dt.timedelta(minutes=10))
    assert blocked.passed is None and "not back yet since the fix" in blocked.seen, blocked.seen
