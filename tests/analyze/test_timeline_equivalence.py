"""What a user sees in the timeline, pinned on a small realistic bundle.

The timeline's hot paths are built column by column for speed (``_activity_rows``, ``_add_events``,
``Rows.frame``, ``_hover_texts``, the figure's traces): these tests pin their output row by row —
hover lines, boot rows' text and time, escaping, ISO times, order — so a faster rewrite cannot
change it unnoticed.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kit.analyze._timeline_rows import Rows
from kit.analyze.timeline import _isoformats, build_timeline, timeline_figure
from kit.evidence.bundle import load_bundle
from kit.evidence.manifest import new_manifest
from kit.evidence.writer import BundleWriter

SUB = "1f3a2b4c-0000-4000-8000-000000000001"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-web"
VM = f"{RG}/providers/Microsoft.Compute/virtualMachines/vm-web-01"
RULE = f"{RG}/providers/Microsoft.Network/networkSecurityGroups/nsg-web/securityRules/DenyAll"
START = "Microsoft.Compute/virtualMachines/start/action"
RULE_WRITE = "Microsoft.Network/networkSecurityGroups/securityRules/write"


def record(correlation: str, operation: str, status: str, when: str, *, resource: str = RULE,
           caller: str = "alice@contoso.com", sub_status: str = "") -> dict[str, Any]:
    return {
        "caller": caller, "correlationId": correlation, "eventDataId": f"{correlation}-{status}",
        "category": {"value": "Administrative"}, "level": "Informational",
        "operationName": {"value": operation, "localizedValue": operation.rsplit("/", 2)[-2].title()},
        "status": {"value": status}, "subStatus": {"value": sub_status},
        "eventTimestamp": when, "submissionTimestamp": when, "resourceId": resource,
    }


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


def make_bundle(folder: Path, *, activity: list[dict[str, Any]] | None = None, serial: bytes | None = None) -> Any:
    manifest = new_manifest(source="lab:test", subscription_id=SUB, resource_group="rg-web", vm_name="vm-web-01",
                            vm_id=VM, window={"start": "2026-03-02T06:00:00Z", "end": "2026-03-02T10:00:00Z"},
                            collector={"principal": "responder@contoso.com", "tenant": "t"})
    manifest["collected_at"] = "2026-03-02T10:00:00Z"
    with BundleWriter(folder / "vm-web-01") as writer:
        writer.add_json("activity_log.json", {"value": ACTIVITY if activity is None else activity},
                        call="activity_logs.list")
        writer.add_json("instance_view.json", INSTANCE_VIEW, call="virtual_machines.instance_view")
        if serial is not None:
            writer.add_bytes("serial.log", serial, call="boot_diagnostics")
        path = writer.commit(manifest)
    return load_bundle(path)

EVIL = "<img src=x onerror=alert(1)>&co@evil.com"
SERIAL = (
    b"[    0.000000] Linux version 6.8.0-1017-azure (buildd@lcy02-amd64-017) #20-Ubuntu SMP\r\n"
    b"[    5.200000] cloud-init[523]: Cloud-init v. 24.3.1-0ubuntu0~24.04.2 running 'init-local' at "
    b"Mon, 02 Mar 2026 08:01:05 +0000. Up 5.20 seconds.\r\n"
    b"[   12.500000] [UFW BLOCK] IN=eth0 OUT= MAC=00:0d:3a SRC=198.51.100.7 DST=10.0.0.4 LEN=40 PROTO=TCP "
    b"SPT=51234 DPT=22 WINDOW=1024 SYN URGP=0 \r\n"
    b"\x1b[0;32m  OK  \x1b[0m] Started \x1b[0;1;39mOpenBSD Secure Shell server\x1b[0m.\r\n"
)


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Any]:
    activity = [*ACTIVITY, record("c-evil", RULE_WRITE, "Succeeded", "2026-03-02T09:20:00Z", caller=EVIL),
                record("c-anon", RULE_WRITE, "Succeeded", "2026-03-02T09:25:00.5Z", caller="")]
    bundle = make_bundle(tmp_path_factory.mktemp("equivalence"), activity=activity, serial=SERIAL)
    df = build_timeline(bundle)
    return df, timeline_figure(df)


def hover_of(fig: Any) -> dict[str, list[str]]:
    """Trace name → its points' hover texts."""
    return {trace.name: list(trace.text) for trace in fig.data}


def test_nsg_rule_write_hover_names_the_operation_and_the_caller(timeline: tuple[pd.DataFrame, Any]) -> None:
    _, fig = timeline
    assert hover_of(fig)["error"] == [
        "<b>Microsoft.Network/networkSecurityGroups/securityRules/write</b><br>"
        "Securityrules nsg-web/DenyAll — Failed (Conflict) after 2 s, by alice@contoso.com<br>by alice@contoso.com"]


def test_markup_in_a_caller_is_escaped_in_the_hover_text(timeline: tuple[pd.DataFrame, Any]) -> None:
    df, fig = timeline
    evil = [text for text in hover_of(fig)["info"] if "evil.com" in text]
    assert evil == ["<b>Microsoft.Network/networkSecurityGroups/securityRules/write</b><br>"
                    "Securityrules nsg-web/DenyAll — Succeeded, by &lt;img src=x onerror=alert(1)&gt;&amp;co@ev<br>"
                    "il.com<br>by &lt;img src=x onerror=alert(1)&gt;&amp;co@evil.com"]
    assert "<img" not in "".join(text for texts in hover_of(fig).values() for text in texts)
    assert df.loc[df["actor"] == EVIL, "evidence"].tolist() == ["activity_log.json#4"]  # the row keeps the raw name


def test_an_empty_caller_gives_no_by_line(timeline: tuple[pd.DataFrame, Any]) -> None:
    df, fig = timeline
    row = df[df["evidence"] == "activity_log.json#5"].iloc[0]
    assert row["actor"] == ""
    assert row["details"]["end"] == "2026-03-02T09:25:00.500000+00:00"
    assert [text for text in hover_of(fig)["info"] if text.endswith("Securityrules nsg-web/DenyAll — Succeeded")] == [
        "<b>Microsoft.Network/networkSecurityGroups/securityRules/write</b><br>"
        "Securityrules nsg-web/DenyAll — Succeeded"]


def test_boot_event_rows_have_their_text_and_anchored_time(timeline: tuple[pd.DataFrame, Any]) -> None:
    df, fig = timeline
    boot = df[df["source"] == "boot_log"]
    assert boot["evidence"].tolist() == ["serial.log:1", "serial.log:2", "serial.log:3", "serial.log:4"]
    assert boot["time"].tolist() == [pd.Timestamp("2026-03-02 08:00:59.8", tz="UTC"),
                                     pd.Timestamp("2026-03-02 08:01:05", tz="UTC"),
                                     pd.Timestamp("2026-03-02 08:01:12.3", tz="UTC"),
                                     pd.Timestamp("2026-03-02 08:01:12.3", tz="UTC")]
    assert boot["time_desc"].tolist() == ["estimated from uptime"] * 3 + ["estimated from the preceding line"]
    kernel = boot.iloc[0]
    assert (kernel["kind"], kernel["summary"], kernel["severity"]) == (
        "boot:kernel:start", "[    0.000000] Linux version 6.8.0-1017-azure (buildd@lcy02-amd64-017) #20-Ubuntu SMP",
        "info")
    assert kernel["details"] == {"line": 1, "boot": 0, "uptime": 0.0, "text": kernel["summary"], "stage": "kernel"}
    blocked = boot.iloc[2]  # a finding merged into its line's event
    assert (blocked["kind"], blocked["severity"]) == ("boot:firewall:admin_port_blocked", "critical")
    assert blocked["details"]["event_kind"] == "boot:firewall:admin_port_blocked"
    assert blocked["details"]["text"].startswith("[   12.500000] [UFW BLOCK] IN=eth0")
    assert hover_of(fig)["info (estimated time)"][0] == (
        "<b>boot:kernel:start</b><br>[    0.000000] Linux version 6.8.0-1017-azure (buildd@lcy02-amd64-017) "
        "#20-Ubuntu SMP<br><i>estimated from uptime</i>")
    assert hover_of(fig)["critical (estimated time)"] == [
        "<b>boot:firewall:admin_port_blocked</b><br>The guest firewall dropped SSH traffic (TCP 198.51.100.7 → "
        "10.0.0.4:22): it blocks remote <br>administration from inside the VM.<br><i>estimated from uptime</i>"]


def test_every_trace_point_has_its_hover_text_and_time(timeline: tuple[pd.DataFrame, Any]) -> None:
    df, fig = timeline
    points = sum(len(trace.x) for trace in fig.data)
    assert points == int(df["time"].notna().sum()) == sum(len(texts) for texts in hover_of(fig).values())
    for trace in fig.data:
        assert len(trace.text) == len(trace.x) == len(trace.y)
    as_json = fig.to_plotly_json()
    assert all(isinstance(trace["text"][0], str) for trace in as_json["data"])


def test_rows_are_in_time_order_and_ties_keep_lane_and_insertion_order(timeline: tuple[pd.DataFrame, Any]) -> None:
    df, _ = timeline
    assert df["time"].is_monotonic_increasing
    assert list(df.index) == list(range(len(df)))
    rows = Rows()
    when = datetime(2026, 3, 2, 8, tzinfo=UTC)
    for summary, source in (("b1", "kit"), ("a1", "activity_log"), ("b2", "kit"), ("a2", "activity_log")):
        rows.add(when, "event", source, "k", summary)
    rows.add(None, "no time in the log", "boot_log", "k", "untimed")
    rows.add(when - timedelta(hours=1), "event", "elsewhere", "k", "first")
    assert rows.frame()["summary"].tolist() == ["first", "a1", "a2", "b1", "b2", "untimed"]


def test_isoformats_match_datetime_isoformat() -> None:
    times = [datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC), None, datetime(2026, 3, 2, 8, 0, 0, 1, tzinfo=UTC),
             datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]
    assert _isoformats(times) == [t.isoformat() if t else None for t in times]
    other = [datetime(2026, 3, 2, 8, tzinfo=timezone(timedelta(hours=2))), *times]
    assert _isoformats(other) == [t.isoformat() if t else None for t in other]
    assert _isoformats([None]) == [None]
    assert _isoformats([]) == []


def test_building_a_timeline_leaves_the_collector_as_it_was(tmp_path: Path) -> None:
    enabled = gc.isenabled()
    build_timeline(make_bundle(tmp_path, serial=SERIAL))
    assert gc.isenabled() == enabled
    assert gc.get_freeze_count() == 0
