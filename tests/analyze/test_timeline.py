"""The timeline DataFrame, its figure, its HTML page and its Timesketch export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kit.analyze.timeline import COLUMNS, build_timeline, timeline_figure, to_timesketch_jsonl, write_timeline_html
from kit.errors import AnalysisError
from kit.evidence.bundle import load_bundle
from kit.evidence.manifest import new_manifest
from kit.evidence.writer import BundleWriter

SUB = "1f3a2b4c-0000-4000-8000-000000000001"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-web"
VM = f"{RG}/providers/Microsoft.Compute/virtualMachines/vm-web-01"
RULE = f"{RG}/providers/Microsoft.Network/networkSecurityGroups/nsg-web/securityRules/DenyAll"


def record(correlation: str, operation: str, status: str, when: str, *, resource: str = RULE,
           caller: str = "alice@contoso.com", sub_status: str = "", **extra: Any) -> dict[str, Any]:
    body = {
        "caller": caller, "correlationId": correlation, "eventDataId": f"{correlation}-{status}",
        "category": {"value": "Administrative"}, "level": "Informational",
        "operationName": {"value": operation, "localizedValue": operation.rsplit("/", 2)[-2].title()},
        "status": {"value": status}, "subStatus": {"value": sub_status},
        "eventTimestamp": when, "submissionTimestamp": when, "resourceId": resource,
    }
    body.update(extra)
    return body


START = "Microsoft.Compute/virtualMachines/start/action"
RULE_WRITE = "Microsoft.Network/networkSecurityGroups/securityRules/write"

ACTIVITY = [
    record("c-start", START, "Started", "2026-03-02T08:00:00.0000000Z", resource=VM),
    record("c-start", START, "Succeeded", "2026-03-02T08:00:45.5Z", resource=VM),
    record("c-rule", RULE_WRITE, "Started", "2026-03-02T09:14:05.1234567Z"),
    record("c-rule", RULE_WRITE, "Failed", "2026-03-02T09:14:07Z", sub_status="Conflict"),
]

INSTANCE_VIEW = {
    "statuses": [
        {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded",
         "time": "2026-03-02T08:00:44.8051917+00:00"},
        {"code": "PowerState/running", "level": "Info", "displayStatus": "VM running"},
    ],
    "vmAgent": {"statuses": [{"code": "ProvisioningState/Unavailable", "level": "Warning", "displayStatus": "Not Ready",
                              "message": "VM agent status is not available", "time": "2026-03-02T09:30:00+00:00"}]},
}


def make_bundle(tmp_path: Path, *, activity: list[dict[str, Any]] | None = None, instance_view: dict | None = None,
                serial: bytes | None = None, failures: list[dict] | None = None, name: str = "vm-web-01") -> Any:
    manifest = new_manifest(source="lab:test", subscription_id=SUB, resource_group="rg-web", vm_name=name,
                            vm_id=VM, window={"start": "2026-03-02T06:00:00Z", "end": "2026-03-02T10:00:00Z"},
                            collector={"principal": "responder@contoso.com", "tenant": "t"})
    manifest["collected_at"] = "2026-03-02T10:00:00Z"
    with BundleWriter(tmp_path / name) as writer:
        writer.add_json("activity_log.json", {"value": ACTIVITY if activity is None else activity},
                        call="activity_logs.list")
        if instance_view is not False:
            writer.add_json("instance_view.json", instance_view or INSTANCE_VIEW, call="virtual_machines.instance_view")
        if serial is not None:
            writer.add_bytes("serial.log", serial, call="boot_diagnostics")
        for failure in failures or []:
            writer.add_failure(failure)
        path = writer.commit(manifest)
    return load_bundle(path)


def test_columns_dtypes_and_utc(tmp_path: Path) -> None:
    df = build_timeline(make_bundle(tmp_path))
    assert tuple(df.columns) == COLUMNS
    assert isinstance(df["time"].dtype, pd.DatetimeTZDtype) and str(df["time"].dtype.tz) == "UTC"
    assert all(isinstance(d, dict) for d in df["details"])
    assert df["time"].is_monotonic_increasing
    assert set(df["source"]) == {"activity_log", "instance_view", "kit"}
    assert set(df["severity"]) <= {"info", "warning", "error", "critical"}


def test_one_row_per_operation_with_original_strings(tmp_path: Path) -> None:
    df = build_timeline(make_bundle(tmp_path))
    ops = df[df["source"] == "activity_log"]
    assert len(ops) == 2
    rule = ops[ops["kind"] == RULE_WRITE].iloc[0]
    assert rule["time"] == pd.Timestamp("2026-03-02T09:14:05.123456Z")
    assert rule["severity"] == "error" and rule["actor"] == "alice@contoso.com"
    assert rule["resource_id"] == RULE
    assert rule["details"]["status"] == "Failed"
    assert rule["details"]["records"][0]["eventTimestamp"] == "2026-03-02T09:14:05.1234567Z"
    assert rule["evidence"] == "activity_log.json#2,3"
    assert rule["time_desc"] == "event"


def test_instance_view_statuses_with_and_without_time(tmp_path: Path) -> None:
    df = build_timeline(make_bundle(tmp_path))
    view = df[df["source"] == "instance_view"].set_index("kind")
    assert view.loc["instance_view:ProvisioningState/succeeded", "time_desc"] == "status"
    running = view.loc["instance_view:PowerState/running"]
    assert running["time_desc"] == "observed at collection"
    assert running["time"] == pd.Timestamp("2026-03-02T10:00:00Z")
    agent = view.loc["instance_view:ProvisioningState/Unavailable"]
    assert agent["severity"] == "warning" and "VM agent" in agent["summary"]


def test_collection_failures_show_on_the_kit_lane(tmp_path: Path) -> None:
    failure = {"call": "network_interfaces.effective_nsg", "resource_id": VM, "status": 409,
               "code": "NicNotAttached", "message": "the VM is deallocated"}
    df = build_timeline(make_bundle(tmp_path, failures=[failure]))
    kit = df[df["source"] == "kit"]
    assert list(kit["kind"]) == ["kit:collected", "kit:collection_failed"]
    assert "effective_nsg" in kit.iloc[1]["summary"] and kit.iloc[1]["severity"] == "warning"


def test_console_events_join_the_console_lane(tmp_path: Path) -> None:
    events = [
        {"time": "2026-03-02T10:05:00Z", "kind": "console:command", "summary": "iptables -S", "actor": "responder"},
        {"time": datetime(2026, 3, 2, 10, 6, tzinfo=UTC), "kind": "console:fix_applied", "summary": "iptables -F"},
    ]
    df = build_timeline(make_bundle(tmp_path), console_events=events)
    console = df[df["source"] == "console"]
    assert list(console["summary"]) == ["iptables -S", "iptables -F"]
    assert console.iloc[0]["details"]["time_text"] == "2026-03-02T10:05:00Z"


def test_bad_console_event_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="console event 0 has no readable time"):
        build_timeline(make_bundle(tmp_path), console_events=[{"time": "yesterday-ish", "summary": "x"}])
    with pytest.raises(AnalysisError, match="needs a loaded evidence bundle"):
        build_timeline("not a bundle")


def test_empty_bundle_gives_an_empty_but_typed_timeline(tmp_path: Path) -> None:
    df = build_timeline(make_bundle(tmp_path, activity=[], instance_view=False))
    assert list(df["kind"]) == ["kit:collected"]
    assert isinstance(df["time"].dtype, pd.DatetimeTZDtype)
    fig = timeline_figure(df.iloc[0:0])
    assert len(fig.data) == 0


# ----------------------------------------------------------------- figure


def synthetic(n: int, *, source: str = "boot_log", start: str = "2026-03-02T08:00:00Z") -> pd.DataFrame:
    t0 = pd.Timestamp(start)
    return pd.DataFrame({
        "time": pd.to_datetime([t0 + pd.Timedelta(seconds=i) for i in range(n)], utc=True),
        "time_desc": ["estimated from uptime" if i % 2 else "event" for i in range(n)],
        "source": [source] * n,
        "kind": ["boot:kernel"] * n,
        "summary": [f"<6>[{i}.0] line {i} & more" for i in range(n)],
        "actor": [""] * n,
        "resource_id": [VM] * n,
        "severity": ["info"] * (n - 1) + ["error"],
        "evidence": [f"serial.log:{i}" for i in range(n)],
        "details": [{} for _ in range(n)],
    }, columns=list(COLUMNS))


def test_figure_has_one_lane_per_source_and_hover_with_actor(tmp_path: Path) -> None:
    df = build_timeline(make_bundle(tmp_path))
    fig = timeline_figure(df)
    lanes = fig.layout.meta["kit"]["lanes"]
    assert lanes == ["activity_log", "instance_view", "kit"]
    assert list(fig.layout.yaxis.ticktext) == ["Activity Log", "instance view", "kit"]
    texts = [t for trace in fig.data for t in trace.text]
    assert any("alice@contoso.com" in t and "Failed" in t for t in texts)
    colours = {trace.name: trace.marker.color for trace in fig.data}
    assert colours["error"] != colours["info"]
    assert all(trace.type == "scatter" for trace in fig.data)


def test_figure_switches_to_webgl_for_many_points() -> None:
    small, big = timeline_figure(synthetic(100)), timeline_figure(synthetic(20_000))
    assert {t.type for t in small.data} == {"scatter"}
    assert {t.type for t in big.data} == {"scattergl"}
    assert sum(len(t.x) for t in big.data) == 20_000


def test_hover_text_is_escaped_and_estimates_are_marked() -> None:
    fig = timeline_figure(synthetic(10))
    texts = [t for trace in fig.data for t in trace.text]
    assert any("&lt;6&gt;" in t and "&amp; more" in t for t in texts)
    estimated = [trace for trace in fig.data if "estimated" in trace.name]
    assert estimated and estimated[0].marker.symbol == "circle-open"


def test_reference_lines_derived_and_given() -> None:
    df = synthetic(50)
    fig = timeline_figure(df)
    refs = fig.layout.meta["kit"]["references"]
    assert refs == {"incident start": df["time"].iloc[-1].isoformat()}
    assert [a.text for a in fig.layout.annotations] == ["incident start"]
    given = timeline_figure(df, reference_lines={"fix applied": "2026-03-02T08:00:30Z"})
    assert [a.text for a in given.layout.annotations] == ["fix applied"]
    assert given.layout.shapes[0].x0.startswith("2026-03-02 08:00:30")
    assert timeline_figure(df, reference_lines={}).layout.shapes == ()
    with pytest.raises(AnalysisError, match="not a time"):
        timeline_figure(df, reference_lines={"x": "soon"})


def test_figure_rejects_a_frame_that_is_not_a_timeline() -> None:
    with pytest.raises(AnalysisError, match="missing column"):
        timeline_figure(pd.DataFrame({"a": [1]}))


def test_untimed_rows_are_listed_but_not_plotted() -> None:
    df = synthetic(5)
    df.loc[len(df)] = [pd.NaT, "uptime only (no anchor)", "boot_log", "boot:kernel", "x", "", "", "info",
                       "serial.log:9", {}]
    fig = timeline_figure(df)
    assert sum(len(t.x) for t in fig.data) == 5
    assert "1 without wall time not shown" in fig.layout.title.text


def test_html_page_is_self_contained_and_small(tmp_path: Path) -> None:
    fig = timeline_figure(synthetic(5000))
    out = tmp_path / "t.html"
    size = write_timeline_html(fig, out, note="vm-web-01")
    page = out.read_text()
    assert size == out.stat().st_size < 3_000_000
    assert "<script src=" not in page and "cdn.plot.ly" not in page
    assert page.count('id="kit-plotlyjs"') == 1


# ----------------------------------------------------------------- Timesketch


def test_timesketch_jsonl_fields(tmp_path: Path) -> None:
    df = build_timeline(make_bundle(tmp_path))
    df.loc[len(df)] = [pd.NaT, "uptime only (no anchor)", "boot_log", "boot:kernel", "x", "", "", "info",
                       "serial.log:9", {"line": 9}]
    out = tmp_path / "t.jsonl"
    written = to_timesketch_jsonl(df, out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert written == len(lines) == len(df) - 1
    rule = next(e for e in lines if e["kind"] == RULE_WRITE)
    assert rule["message"] == df[df["kind"] == RULE_WRITE].iloc[0]["summary"]
    assert rule["datetime"] == "2026-03-02T09:14:05.123456+00:00"
    assert rule["timestamp"] == 1772442845123456
    assert rule["timestamp_desc"] == "event"
    assert rule["data_type"] == "kit:activity_log"
    assert rule["status"] == "Failed"
    assert json.loads(rule["records"])[0]["eventTimestamp"] == "2026-03-02T09:14:05.1234567Z"


def test_operation_records_read_as_the_original_strings_everywhere(tmp_path: Path) -> None:
    """An operation's records are a view made when read: equal to the dicts, JSON in exports and tables."""
    from kit.report.present import table

    rule = build_timeline(make_bundle(tmp_path)).query("kind == @RULE_WRITE").iloc[0]
    records = rule["details"]["records"]
    expected = [dict(record) for record in records]
    assert len(records) == 2 and records == expected and records[:1] == expected[:1]
    assert [r["status"] for r in records] == ["Started", "Failed"]
    assert all(r["eventTimestamp"].startswith("2026-03-02T09:14") for r in records)
    cell = str(table([{"details": rule["details"]}]))
    assert "eventTimestamp" in cell and "RecordList" not in cell and "&quot;Failed&quot;" in cell


def test_timesketch_rejects_other_frames(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="missing columns"):
        to_timesketch_jsonl(pd.DataFrame({"x": [1]}), tmp_path / "x.jsonl")


# ----------------------------------------------------------------- boot log and anchoring

PANIC_LOG = (
    b"[    0.000000] Linux version 6.8.0-1017-azure (buildd@lcy02-amd64-017) #20-Ubuntu SMP\r\n"
    b"[    0.000000] DMI: Microsoft Corporation Virtual Machine/Virtual Machine,"
    b" BIOS Hyper-V UEFI Release v4.1 05/09/2022\r\n"
    b"[    0.281402] hv_vmbus: Vmbus version:5.2\r\n"
    b"[    2.500000] VFS: Cannot open root device \"sda1\" or unknown-block(0,0): error -6\r\n"
    b"[    2.600000] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\r\n"
)


def test_uptime_is_anchored_to_the_vm_start_in_the_activity_log(tmp_path: Path) -> None:
    df = build_timeline(make_bundle(tmp_path, serial=PANIC_LOG))
    assert df.attrs["anchor"]["from"] == "activity_log"
    assert df.attrs["anchor"]["correlation_id"] == "c-start"
    boot = df[df["source"] == "boot_log"]
    assert set(boot["time_desc"]) == {"estimated from uptime"}
    panic = boot[boot["kind"].str.contains("panic")].iloc[0]
    assert panic["time"] == pd.Timestamp("2026-03-02T08:00:02.6Z")  # start of the start operation + 2.6 s
    assert panic["severity"] == "critical" and panic["evidence"] == "serial.log:5"
    assert panic["details"]["uptime"] == 2.6 and panic["details"]["line"] == 5


def test_instance_view_anchors_when_the_activity_log_has_no_start(tmp_path: Path) -> None:
    df = build_timeline(make_bundle(tmp_path, activity=[], serial=PANIC_LOG))
    assert df.attrs["anchor"]["from"] == "instance_view"
    panic = df[df["kind"].str.contains("panic")].iloc[0]
    assert panic["time"] == pd.Timestamp("2026-03-02T08:00:47.4051917Z").floor("us")


def test_without_any_anchor_uptime_events_are_listed_without_time(tmp_path: Path) -> None:
    df = build_timeline(make_bundle(tmp_path, activity=[], instance_view=False, serial=PANIC_LOG))
    boot = df[df["source"] == "boot_log"]
    assert len(boot) >= 3
    assert boot["time"].isna().all() and set(boot["time_desc"]) == {"uptime only (no anchor)"}
    assert df.attrs["anchor"] is None
    assert any("could not be anchored" in w for w in df.attrs["warnings"])
    assert df["time"].isna().iloc[-len(boot):].all()  # listed after every timed row
    fig = timeline_figure(df)
    assert "boot_log" not in fig.layout.meta["kit"]["lanes"]
    assert f"{len(boot)} without wall time not shown" in fig.layout.title.text


# ----------------------------------------------------------------- a lab scenario end to end


@pytest.fixture(scope="module")
def firewall_bundle(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from kit.azure.collect import CollectionRequest, collect
    from kit.azure.target import AzureTarget

    info = lab.scenario("firewall-lockout")
    start, end = info.window
    request = CollectionRequest(info.subscription_id, info.resource_group, info.broken_vm, info.known_good,
                                start=start, end=end, source="lab:firewall-lockout")
    result = collect(AzureTarget.for_lab(lab), request, tmp_path_factory.mktemp("firewall"))
    return load_bundle(result.subject)


def test_lab_timeline_lines_up_control_plane_and_guest(firewall_bundle: Any) -> None:
    df = build_timeline(firewall_bundle)
    assert df.attrs["anchor"]["from"] == "boot_log"  # cloud-init's dated "Up N seconds" line
    push = df[df["kind"] == "Microsoft.Compute/virtualMachines/runCommand/action"].iloc[0]
    drops = df[df["kind"] == "boot:firewall:admin_port_blocked"]
    assert not drops.empty and (drops["time"] > push["time"]).all()  # the push came before the SSH drops
    refs = timeline_figure(df).layout.meta["kit"]["references"]
    assert set(refs) >= {"incident start", "last good boot"}
    assert pd.Timestamp(refs["last good boot"]) <= pd.Timestamp(refs["incident start"])


def test_cli_timeline_writes_jsonl_and_html(firewall_bundle: Any, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from kit.cli import main

    jsonl, page = tmp_path / "t.jsonl", tmp_path / "t.html"
    assert main(["timeline", str(firewall_bundle.path), "--jsonl", str(jsonl), "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "boot:firewall:admin_port_blocked" not in out  # writing files prints what was written, not every row
    assert len(out.splitlines()) == 3 and " events" in out.splitlines()[0]
    assert f"wrote {jsonl}" in out and f"wrote {page}" in out
    first = json.loads(jsonl.read_text().splitlines()[0])
    assert {"message", "datetime", "timestamp_desc", "timestamp"} <= set(first)
    assert page.stat().st_size < 8_000_000


def test_cli_timeline_prints_the_rows_with_files_only_when_asked(firewall_bundle: Any, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from kit.cli import main

    assert main(["timeline", str(firewall_bundle.path), "--jsonl", str(tmp_path / "t.jsonl"), "--rows"]) == 0
    assert "boot:firewall:admin_port_blocked" in capsys.readouterr().out
    assert main(["timeline", str(firewall_bundle.path)]) == 0
    assert "boot:firewall:admin_port_blocked" in capsys.readouterr().out


def test_cli_timeline_bad_bundle_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kit.cli import main

    assert main(["timeline", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "manifest" in err


@pytest.mark.browser
def test_html_page_draws_every_point_offline_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    out = tmp_path / "t.html"
    write_timeline_html(timeline_figure(synthetic(20_000)), out)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("http*://**", lambda route: route.abort())  # offline: nothing may be fetched
        page.goto(out.as_uri())
        page.wait_for_selector('#kit-timeline[data-ready="1"]', timeout=60_000)
        drawn = page.evaluate("document.getElementById('kit-timeline')._fullData.reduce((n, t) => n + t._length, 0)")
        browser.close()
    assert errors == []
    assert drawn == 20_000


def test_odd_instance_view_and_records_become_rows_or_warnings(tmp_path: Path) -> None:
    view = {"statuses": ["not a status", {"code": 7, "time": "garbage"}, {"level": "Error", "displayStatus": "x"}],
            "vmAgent": {"statuses": None},
            "disks": ["x", {"name": "os", "statuses": [{"code": "ProvisioningState/failed", "level": "Error"}]}]}
    bundle = make_bundle(tmp_path, instance_view=view, activity=[*ACTIVITY, "junk", {"correlationId": "x"}])
    df = build_timeline(bundle)
    assert len(df.attrs["warnings"]) == 2  # the two unusable Activity Log records, each named
    disk = df[df["kind"] == "instance_view:ProvisioningState/failed"].iloc[0]
    assert disk["severity"] == "error" and "disk os" in disk["summary"]


def test_console_transcript_commands_and_fix_marker_join_the_timeline(tmp_path: Path) -> None:
    from kit.console.transcript import Transcript

    cast = tmp_path / "session.cast"
    transcript = Transcript(cast, vm_id=VM, responder="oncall@contoso.com", approval="INC-1")
    transcript.output("sched-01 login: ")
    for key in "iptables -SX\x7f\r":  # typed key by key, with a backspace
        transcript.input(key)
    transcript.marker("fix applied: INPUT rules restored")
    transcript.close()
    df = build_timeline(make_bundle(tmp_path), console_events=cast)
    console = df[df["source"] == "console"]
    command = console[console["kind"] == "console:command"].iloc[0]
    assert command["summary"] == "iptables -S" and command["actor"] == "oncall@contoso.com"
    assert command["evidence"].startswith("session.cast:")
    assert "console:marker:fix_applied_input_rules_restored" in set(console["kind"])
    refs = timeline_figure(df).layout.meta["kit"]["references"]
    assert "fix applied" in refs and "incident start" in refs


def test_unreadable_transcript_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cast"
    bad.write_text("not json\n")
    with pytest.raises(AnalysisError, match="cannot read the console transcript"):
        build_timeline(make_bundle(tmp_path), console_events=bad)


def test_labels_of_nearby_reference_lines_are_staggered_far_ones_share_a_row() -> None:
    df = synthetic(3600)  # one hour of points
    close = timeline_figure(df, reference_lines={"last good boot": "2026-03-02T08:30:00Z",
                                                 "incident start": "2026-03-02T08:31:00Z",
                                                 "fix applied": "2026-03-02T08:32:00Z"})
    shifts = {a.text: a.yshift for a in close.layout.annotations}
    assert len(set(shifts.values())) == 3, f"three close lines, three label rows: {shifts}"
    assert shifts["last good boot"] < shifts["incident start"] < shifts["fix applied"]
    assert close.layout.margin.t >= 70 + max(shifts.values()), "room above the plot for the top row"
    apart = timeline_figure(df, reference_lines={"last good boot": "2026-03-02T08:05:00Z",
                                                 "incident start": "2026-03-02T08:50:00Z"})
    assert len({a.yshift for a in apart.layout.annotations}) == 1, "far apart: one row"
