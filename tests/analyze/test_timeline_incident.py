"""The timeline an SRE reads at 3 a.m.: opened on the incident, the cause starred, the right last good boot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import pytest
import yaml

from kit.analyze.timeline import build_timeline, changes_before, reference_times, timeline_figure

#: Each scenario's causal change: the story fact that dates it (scenario.yaml ``facts``).
CAUSAL_FACT = {
    "deallocated": "deallocated_at", "firewall-lockout": "pushed_at", "fstab-emergency": "detached_at",
    "kernel-panic": "patched_at", "nsg-deny": "changed_at", "route-blackhole": "dead_nva_deleted_at",
    "sshd-broken": "agent_update_at", "windows-rdp": "gpo_linked_at",
}


def _fact(info: Any, key: str) -> str:
    return str(yaml.safe_load((info.path / "scenario.yaml").read_text(encoding="utf-8"))["facts"][key])


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def _figure(scenario_bundles: dict[str, Any], name: str) -> tuple[Any, pd.DataFrame, pd.Timestamp, Any]:
    info, subject, _ = scenario_bundles[name]
    timeline = build_timeline(subject)
    when = _utc(_fact(info, CAUSAL_FACT[name]))
    return timeline_figure(timeline, title=name, causal=(when.to_pydatetime(), f"{name} change")), timeline, when, info


@pytest.mark.parametrize("name", sorted(CAUSAL_FACT))
def test_the_figure_opens_on_the_causal_change_through_the_incident_start(scenario_bundles: dict[str, Any],
                                                                          name: str) -> None:
    fig, timeline, when, info = _figure(scenario_bundles, name)
    lo, hi = (_utc(t + "Z") for t in fig.layout.xaxis.range)
    refs = reference_times(timeline)
    assert lo < when < hi
    if "incident start" in refs:
        assert lo < refs["incident start"] < hi
    assert hi - lo >= pd.Timedelta(minutes=20), "at least ten minutes either side"
    start, end = info.window
    assert hi - lo < pd.Timestamp(end) - pd.Timestamp(start), "not the whole collection window"
    assert fig.layout.xaxis.rangeslider.visible
    assert [b.label for b in fig.layout.xaxis.rangeselector.buttons] == ["1 h", "6 h", "1 d", "all"]
    star = [t for t in fig.data if t.name == "causal change"]
    assert len(star) == 1 and star[0].text == (f"{name} change",) and star[0].marker.symbol == "star"


def test_a_week_long_window_still_opens_on_the_hour_of_the_incident() -> None:
    start = pd.Timestamp("2026-11-18T00:00:00Z")
    times = [start + pd.Timedelta(hours=h) for h in range(0, 7 * 24, 3)]
    n = len(times)
    df = pd.DataFrame({
        "time": pd.to_datetime(times, utc=True), "time_desc": ["event"] * n, "source": ["activity_log"] * n,
        "kind": ["Microsoft.Compute/virtualMachines/write"] * n, "summary": ["write"] * n, "actor": ["a"] * n,
        "resource_id": ["vm"] * n, "severity": ["info"] * (n - 1) + ["error"], "evidence": [""] * n,
        "details": [{} for _ in range(n)],
    })
    incident = df["time"].iloc[-1]
    causal = incident - pd.Timedelta(minutes=40)
    fig = timeline_figure(df, causal=(causal.to_pydatetime(), "alice@contoso.com: NSG rule"))
    lo, hi = (_utc(t + "Z") for t in fig.layout.xaxis.range)
    assert lo < causal and incident < hi
    assert hi - lo < pd.Timedelta(hours=2), f"zoomed on the incident, not the week: {lo} … {hi}"


def test_without_a_causal_change_the_zoom_runs_from_the_last_good_boot(scenario_bundles: dict[str, Any]) -> None:
    _, subject, _ = scenario_bundles["sshd-broken"]
    timeline = build_timeline(subject)
    refs = reference_times(timeline)
    lo, hi = (_utc(t + "Z") for t in timeline_figure(timeline).layout.xaxis.range)
    assert lo < refs["last good boot"] and refs["incident start"] < hi
    assert not [t for t in timeline_figure(timeline).data if t.name == "causal change"]


def test_reference_labels_closer_than_a_label_width_take_different_rows() -> None:
    df = pd.DataFrame({
        "time": pd.to_datetime(["2026-03-02T08:00:00Z", "2026-03-02T20:00:00Z"], utc=True),
        "time_desc": ["event"] * 2, "source": ["boot_log"] * 2, "kind": ["boot:x"] * 2, "summary": ["x"] * 2,
        "actor": [""] * 2, "resource_id": [""] * 2, "severity": ["info"] * 2, "evidence": [""] * 2,
        "details": [{}, {}],
    })
    # a 12 h timeline whose three lines fall within three minutes: zoomed, they are still close
    fig = timeline_figure(df, reference_lines={"last good boot": "2026-03-02T10:00:00Z",
                                               "incident start": "2026-03-02T10:02:00Z",
                                               "fix applied": "2026-03-02T10:03:00Z"})
    lo, hi = (_utc(t + "Z") for t in fig.layout.xaxis.range)
    assert hi - lo < pd.Timedelta(hours=1)
    labels = [(_utc(a.x + "Z"), a.yshift) for a in fig.layout.annotations]
    assert len({shift for _, shift in labels}) >= 2
    for i, (when, shift) in enumerate(labels):  # a label is about a tenth of the plot wide
        for other, other_shift in labels[i + 1:]:
            assert shift != other_shift or abs(when - other) > (hi - lo) / 10, labels
    assert fig.layout.xaxis.rangeselector.y > 1, "the range buttons sit above the labels"


def test_changes_before_lists_writes_newest_first_without_peers(scenario_bundles: dict[str, Any]) -> None:
    _, subject, _ = scenario_bundles["sshd-broken"]
    timeline = build_timeline(subject)
    start = reference_times(timeline)["incident start"]
    changes = changes_before(timeline, start, hours=6)
    assert list(changes.columns) == ["time", "who", "what", "resource", "status", "operation"]
    assert changes["time"].is_monotonic_decreasing
    assert (changes["time"] <= start).all() and (changes["time"] >= start - pd.Timedelta(hours=6)).all()
    extension = changes[changes["operation"] == "Microsoft.Compute/virtualMachines/extensions/write"]
    assert list(extension["resource"]) == ["build-coord-01/BuildAgent"], "the coordinator's, not the workers'"
    assert not changes["resource"].str.contains("build-worker").any()
    assert changes.iloc[0]["who"] == "aiko.tanaka@emberforge.games"  # the on-call restart, the newest write


def _story_login_times(name: str, vm_name: str, monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """When each of the story's boots of ``vm_name`` printed its login prompt (rendered afresh)."""
    from kit.lab.scenarios import build

    prompts: list[datetime] = []

    class Recording(build.Console):  # type: ignore[misc,name-defined]
        def plain(self, text: str, end: str = "\r\n") -> None:
            if text.endswith(" login: ") and end == "":
                prompts.append(self.now())
            super().plain(text, end)

    monkeypatch.setattr(build, "Console", Recording)
    story = build._prepare(next(s for s in build.STORIES if s["name"] == name))
    build._serial_log(story, next(vm for vm in story["vms"] if vm["name"] == vm_name))
    return prompts


@pytest.mark.parametrize("name", sorted(CAUSAL_FACT))
def test_last_good_boot_is_when_the_story_reached_the_login_prompt(scenario_bundles: dict[str, Any], name: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    info, subject, _ = scenario_bundles[name]
    refs = reference_times(build_timeline(subject))
    prompts = [pd.Timestamp(t).tz_convert("UTC") for t in _story_login_times(name, info.broken_vm, monkeypatch)]
    if "last good boot" not in refs:
        assert not prompts, f"{name}: the story reaches a login prompt the timeline does not show"
        return
    before = [t for t in prompts if t <= refs.get("incident start", prompts[-1])] or prompts
    expected = before[-1]
    # the prompt has no stamp: it is dated by the line before it, printed within a second or two
    assert pd.Timedelta(0) <= expected - refs["last good boot"] < pd.Timedelta(seconds=3), (
        f"{name}: last good boot {refs['last good boot']}, the story's login prompt {expected}")


def test_a_windows_guest_has_a_boot_lane_placed_at_the_vm_start(scenario_bundles: dict[str, Any]) -> None:
    _, subject, _ = scenario_bundles["windows-rdp"]
    timeline = build_timeline(subject)
    boot = timeline[(timeline["source"] == "boot_log") & timeline["time"].notna()]
    assert not boot.empty and set(boot["time_desc"]) == {"estimated from the VM start"}
    assert "boot:windows:rdp_service" in set(boot["kind"])
    assert "boot_log" in timeline_figure(timeline).layout.meta["kit"]["lanes"]
    assert "last good boot" not in reference_times(timeline), "the broken boot's SAC start is not a good boot"
