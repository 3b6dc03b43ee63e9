"""Platform metrics: series from metrics.list answers, the change points that matter, the timeline's
metrics rows and panel, the verdict's metrics signals and the recovery comparison."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kit.analyze._verdict_evidence import Evidence
from kit.analyze._verdict_metrics import availability_lost_while_down, flows_stopped_after
from kit.analyze.metrics import compare_recovery, metrics_from_bundle, read_metrics
from kit.analyze.timeline import build_timeline, timeline_figure
from kit.errors import AnalysisError
from kit.evidence.bundle import load_bundle
from kit.evidence.manifest import new_manifest
from kit.evidence.writer import BundleWriter
from kit.report.recovery_proofs import metrics_proof
from tests.metrics_docs import VM_ID, metric, metrics_document

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
DAY = 1440


def level(n: int, value: float, *, wobble: float = 0.1) -> list[float | None]:
    """``n`` one-minute values around ``value`` (a deterministic wobble, never a threshold crossing)."""
    return [value * (1 + wobble * math.sin(i / 7)) for i in range(n)]


def test_flows_falling_to_zero_is_one_change_at_its_minute() -> None:
    drop = 600
    doc = metrics_document(START, metric("Inbound Flows", START, level(drop, 40) + [0.0] * 120))
    reading = read_metrics([doc], sources=["metrics/1.json"])
    assert reading.warnings == ()
    [change] = reading.changes
    assert change.kind == "flows_stopped" and change.metric == "Inbound Flows" and change.bad
    assert change.at == START + timedelta(minutes=drop)
    assert 30 < change.before < 50 and change.after == 0
    assert change.time_desc == "1-minute bucket" and change.bucket_end == change.at + timedelta(minutes=1)
    assert change.evidence == "metrics/1.json: Inbound Flows"
    assert f"fell to ~0: {change.before:.3g} → 0 (average per bucket) from 2026-03-01 10:00 UTC" in change.describe()


def test_availability_lost_and_regained_in_percent() -> None:
    values = [1.0] * 300 + [0.0] * 45 + [1.0] * 100
    reading = read_metrics([metrics_document(START, metric("VmAvailabilityMetric", START, values))])
    lost, regained = reading.changes
    assert (lost.kind, lost.before, lost.after, lost.at) == ("availability_lost", 100.0, 0.0,
                                                             START + timedelta(minutes=300))
    assert (regained.kind, regained.before, regained.after, regained.at) == (
        "availability_regained", 0.0, 100.0, START + timedelta(minutes=345))
    assert "100.0% → 0.0%" in lost.describe()


def test_a_short_blip_is_not_a_change_but_a_short_outage_at_the_end_is() -> None:
    blip = [1.0] * 200 + [0.0] * 2 + [1.0] * 200  # a restart: two minutes without the heartbeat
    assert read_metrics([metrics_document(START, metric("VmAvailabilityMetric", START, blip))]).changes == ()
    tail = [1.0] * 200 + [0.0] * 3  # went down three minutes before the collection
    [change] = read_metrics([metrics_document(START, metric("VmAvailabilityMetric", START, tail))]).changes
    assert change.kind == "availability_lost" and change.at == START + timedelta(minutes=200)


def test_gaps_carry_the_state_and_a_change_after_a_gap_is_placed_at_its_first_data() -> None:
    values: list[float | None] = level(300, 50)
    values[100:130] = [None] * 30  # half an hour without data while flowing: no change
    values += [None] * 20 + [0.0] * 60  # data stops, comes back at 0
    doc = metrics_document(START, metric("Outbound Flows", START, values))
    [change] = read_metrics([doc]).changes
    assert change.kind == "flows_stopped" and change.at == START + timedelta(minutes=320)


def test_the_last_partial_bucket_is_left_out() -> None:
    values = level(120, 2e6) + [1e4]  # the bucket holding "now": a total over a few seconds
    doc = metrics_document(START, metric("Network In Total", START, values), minutes=120.2)
    reading = read_metrics([doc])
    [series] = reading.series
    assert series.partial_last and series.aggregation == "total" and len(series.values) == 121
    assert reading.changes == ()
    whole = metrics_document(START, metric("Network In Total", START, values[:-1] + [0.0] * 10))
    assert [c.kind for c in read_metrics([whole]).changes] == ["traffic_stopped"]


def test_saturation_and_exhaustion() -> None:
    cpu = level(200, 30) + [99.0] * 30 + level(60, 30)
    memory = level(200, 6e9) + [5e7] * 40
    disk = level(100, 20) + [100.0] * 10
    doc = metrics_document(START, metric("Percentage CPU", START, cpu), metric("Available Memory Bytes", START, memory),
                           metric("OS Disk IOPS Consumed Percentage", START, disk))
    kinds = [(c.kind, c.at - START) for c in read_metrics([doc]).changes]
    assert kinds == [("disk_saturated", timedelta(minutes=100)), ("cpu_saturated", timedelta(minutes=200)),
                     ("memory_exhausted", timedelta(minutes=200)), ("cpu_cleared", timedelta(minutes=230))]


def test_noise_around_a_level_is_no_change() -> None:
    values = [40 + 25 * math.sin(i * 1.7) + 10 * math.cos(i * 0.31) for i in range(3 * DAY)]
    doc = metrics_document(START, metric("Inbound Flows", START, values), metric("Percentage CPU", START, values))
    assert read_metrics([doc]).changes == ()


def test_broken_documents_are_named_and_the_rest_is_kept() -> None:
    good = metric("Inbound Flows", START, level(100, 40) + [0.0] * 20)
    refused = {"name": {"value": "Available Memory Bytes"}, "errorCode": "BadRequest",
               "errorMessage": "Metric not supported", "timeseries": []}
    bad_points = metric("Percentage CPU", START, level(50, 20))
    bad_points["timeseries"][0]["data"][3]["timeStamp"] = "yesterday"
    bad_points["timeseries"][0]["data"][4]["average"] = "n/a"
    no_name = {"unit": "Count", "timeseries": []}
    docs: list[Any] = [
        "not json object", {"value": "x"},
        metrics_document(START, good, refused, bad_points, no_name),
    ]
    reading = read_metrics(docs, sources=["metrics/1.json", "metrics/2.json", "metrics/3.json"])
    text = "\n".join(reading.warnings)
    assert "metrics/1.json: not a metrics.list answer" in text and "metrics/2.json" in text
    assert "Available Memory Bytes: Azure answered BadRequest (Metric not supported)" in text
    assert "unreadable timeStamp" in text and "'yesterday'" in text and "not numbers" in text
    assert "value[3] has no metric name" in text
    assert [s.name for s in reading.series] == ["Inbound Flows", "Percentage CPU"]
    cpu = reading.named("percentage cpu")
    assert cpu is not None and len(cpu.values) == 49 and cpu.points == 48
    assert [c.kind for c in reading.changes] == ["flows_stopped"]


def test_not_a_list_of_documents_is_an_analysis_error() -> None:
    with pytest.raises(AnalysisError, match="list of metrics.list answers"):
        read_metrics({"value": []})  # type: ignore[arg-type]


# ---------------------------------------------------------------- bundle and timeline


def make_bundle(tmp_path: Path, documents: list[Any] | None, *, failures: list[dict[str, Any]] = (),  # type: ignore[assignment]
                broken: bytes | None = None) -> Any:
    manifest = new_manifest(source="lab:test", subscription_id="1f3a2b4c-0000-4000-8000-000000000001",
                            resource_group="rg-web", vm_name="vm-web-01", vm_id=VM_ID,
                            window={"start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z"},
                            collector={"principal": "responder@contoso.com", "tenant": "t"})
    manifest["collected_at"] = "2026-03-02T00:00:00Z"
    with BundleWriter(tmp_path / "vm-web-01") as writer:
        writer.add_json("activity_log.json", {"value": []}, call="activity_logs.list")
        for n, document in enumerate(documents or [], 1):
            writer.add_json(f"metrics/{n}.json", document, call="metrics.list", api_version="2023-10-01")
        if broken is not None:
            writer.add_bytes(f"metrics/{len(documents or []) + 1}.json", broken, call="metrics.list")
        for failure in failures:
            writer.add_failure(failure)
        path = writer.commit(manifest)
    return load_bundle(path)


def outage_document() -> dict[str, Any]:
    return metrics_document(
        START, metric("VmAvailabilityMetric", START, [1.0] * 600 + [0.0] * 240 + [1.0] * 600),
        metric("Inbound Flows", START, level(600, 40) + [0.0] * 240 + level(600, 40)),
        metric("Percentage CPU", START, level(1440, 20)))


def test_bundle_metrics_become_timeline_rows(tmp_path: Path) -> None:
    failure = {"call": "metrics.list", "resource_id": VM_ID, "status": 400, "code": "BadRequest",
               "message": "Available Memory Bytes: the metric is not supported for this resource"}
    bundle = make_bundle(tmp_path, [outage_document()], failures=[failure])
    reading = metrics_from_bundle(bundle)
    assert reading.unsupported == (failure["message"],)
    df = build_timeline(bundle)
    rows = df[df["source"] == "metrics"]
    assert list(rows["kind"]) == ["metrics:availability_lost", "metrics:flows_stopped",
                                  "metrics:availability_regained", "metrics:flows_resumed"]
    first = rows.iloc[0]
    assert first["time"].to_pydatetime() == START + timedelta(minutes=600)
    assert first["time_desc"] == "1-minute bucket" and first["severity"] == "warning"
    assert "100.0% → 0.0%" in first["summary"] and first["evidence"] == "metrics/1.json: VmAvailabilityMetric"
    assert rows.iloc[2]["severity"] == "info"
    assert df.attrs["metrics"].series[0].name == "VmAvailabilityMetric"


def test_a_broken_metrics_file_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path, [outage_document()], broken=b"{not json")
    reading = metrics_from_bundle(bundle)
    assert reading.series == () and "metrics not read" in reading.warnings[0] and "2.json" in reading.warnings[0]
    df = build_timeline(bundle)
    assert any("metrics not read" in w for w in df.attrs["warnings"])


def test_figure_draws_the_metrics_panel_on_the_shared_x_axis(tmp_path: Path) -> None:
    df = build_timeline(make_bundle(tmp_path, [outage_document()]))
    fig = timeline_figure(df, webgl=False)
    meta = fig.layout.meta["kit"]
    assert meta["metrics"]["charts"] == ["availability", "flows", "cpu"]
    assert "metrics" in meta["lanes"]
    lines = [t for t in fig.data if t.mode == "lines"]
    assert {t.name for t in lines} == {"VmAvailabilityMetric", "Inbound Flows", "Percentage CPU"}
    assert {t.xaxis for t in lines} == {"x"} and {t.yaxis for t in lines} == {"y2", "y3", "y4"}
    lanes_bottom = fig.layout.yaxis.domain[0]
    assert all(fig.layout[f"yaxis{n}"].domain[1] <= lanes_bottom for n in (2, 3, 4))
    assert fig.layout.xaxis.anchor == "y4"  # the time axis and its slider under the last chart
    bare = timeline_figure(df, metrics=False)
    assert "metrics" not in bare.layout.meta["kit"] and not [t for t in bare.data if t.mode == "lines"]


# ---------------------------------------------------------------- verdict and recovery


def _row(when: datetime, what: str) -> Evidence:
    return Evidence("activity_log", "Microsoft.Network/networkSecurityGroups/securityRules/write", what,
                    "activity_log.json#4", when)


def test_flows_stopping_within_minutes_after_a_change_supports_it() -> None:
    reading = read_metrics([outage_document()])
    stop = START + timedelta(minutes=600)
    strength, rows = flows_stopped_after(reading, [_row(stop - timedelta(seconds=50), "rule DenyAll written")])
    assert strength == 1.0
    assert rows[0].source == "metrics" and rows[0].kind == "metrics:flows_stopped"
    assert "within the same minute after rule DenyAll written" in rows[0].summary
    assert rows[-1].summary == "rule DenyAll written"
    assert flows_stopped_after(reading, [_row(stop - timedelta(hours=2), "an older change")]) == (0.0, [])
    assert flows_stopped_after(reading, [_row(stop + timedelta(minutes=5), "a later change")]) == (0.0, [])


def test_availability_lost_supports_a_boot_failure_only_while_still_down() -> None:
    boot = [Evidence("boot_log", "stage:kernel", "the last boot stopped at the kernel stage", "serial.log")]
    still_down = read_metrics([metrics_document(START, metric("VmAvailabilityMetric", START, [1.0] * 60 + [0.0] * 30))])
    strength, rows = availability_lost_while_down(still_down, boot)
    assert strength == 1.0 and rows[0].kind == "metrics:availability_lost" and rows[1] is boot[0]
    assert availability_lost_while_down(read_metrics([outage_document()]), boot) == (0.0, [])


def test_recovery_compares_with_the_same_hours_before_the_incident() -> None:
    two_days = [1.0] * (DAY + 600) + [0.0] * 240 + [1.0] * 600
    flows = level(DAY + 600, 40) + [0.0] * 240 + level(600, 36)
    low = level(DAY + 600, 40) + [0.0] * 240 + level(600, 8)
    doc = metrics_document(START, metric("VmAvailabilityMetric", START, two_days),
                           metric("Inbound Flows", START, flows), metric("Outbound Flows", START, low))
    fixed = START + timedelta(minutes=DAY + 840)
    figures = {f.metric: f for f in compare_recovery(read_metrics([doc]), fixed_at=fixed)}
    availability, inbound, outbound = (figures[name] for name in ("VmAvailabilityMetric", "Inbound Flows",
                                                                  "Outbound Flows"))
    assert availability.passed and availability.after == 100.0 and availability.buckets == 600
    assert availability.seen == "availability 100.0% since the fix (600 of 600 1-minute buckets up)"
    assert inbound.passed and 0.8 < inbound.after / inbound.baseline < 1.0
    assert "band 50%–200%" in inbound.seen and "the same hours before the incident" in inbound.seen
    assert outbound.passed is False and outbound.after / outbound.baseline < 0.5
    later = compare_recovery(read_metrics([doc]), fixed_at=START + timedelta(days=3))
    assert all(f.passed is None and "no data since the fix" in f.seen for f in later)


def test_bundle_json_round_trip_of_changes(tmp_path: Path) -> None:
    reading = metrics_from_bundle(make_bundle(tmp_path, [outage_document()]))
    data = json.loads(json.dumps([c.to_json() for c in reading.changes]))
    assert data[0] == {"metric": "VmAvailabilityMetric", "kind": "availability_lost", "at": "2026-03-01T10:00:00Z",
                       "before": 100.0, "after": 0.0, "bucket": "1-minute bucket", "bucket_end": "2026-03-01T10:01:00Z",
                       "unit": "Percent", "aggregation": "average", "evidence": "metrics/1.json: VmAvailabilityMetric"}


def test_the_recovery_proof_is_not_available_without_metrics(tmp_path: Path) -> None:
    failure = {"call": "metrics.list", "resource_id": VM_ID, "status": 403, "code": "AuthorizationFailed",
               "message": "the client has no permission to read metrics (Monitoring Reader)"}
    proof = metrics_proof(make_bundle(tmp_path, None, failures=[failure]), "evidence/x/vm-web-01",
                          since=START + timedelta(hours=20))
    assert proof.passed is None and proof.name == "metrics"
    assert proof.seen.startswith("not available: no platform metrics were collected")
    assert "Monitoring Reader" in proof.seen


def test_metrics_not_back_yet_are_shown_but_do_not_fail_the_recovery(tmp_path: Path) -> None:
    down = metrics_document(START, metric("VmAvailabilityMetric", START, [1.0] * 600 + [0.0] * 30),
                            metric("Inbound Flows", START, level(600, 40) + [0.0] * 30))
    proof = metrics_proof(make_bundle(tmp_path, [down]), "evidence/x/vm-web-01", since=START + timedelta(minutes=610))
    assert proof.passed is None and proof.seen.startswith("not back yet since the fix")
    assert "availability 0.0% since the fix" in proof.seen and "never fail one" in proof.seen


@pytest.mark.parametrize("form", ["%Y-%m-%dT%H:%M:%S.0000000Z", "%Y-%m-%dT%H:%M:%S+00:00", "%Y-%m-%dT%H:%M:%SZ"])
def test_every_iso_form_of_the_time_stamps_reads_the_same(form: str) -> None:
    doc = metrics_document(START, metric("Inbound Flows", START, level(300, 40) + [0.0] * 30))
    for point in doc["value"][0]["timeseries"][0]["data"]:
        point["timeStamp"] = datetime.fromisoformat(point["timeStamp"]).strftime(form)
    reading = read_metrics([doc])
    assert reading.warnings == ()
    [series] = reading.series
    assert series.times[0] == np.datetime64("2026-03-01T00:00:00") and len(series.times) == 330
    assert [c.at for c in reading.changes] == [START + timedelta(minutes=300)]
