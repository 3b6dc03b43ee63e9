"""The built-in lab scenarios: committed files match their generator, parse, hang together, and
carry the evidence their story needs (ids, correlation, timestamps inside the window, console markers)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from answers import ANSWERS

from kit.ids import parse_resource_id
from kit.lab.scenarios import SCENARIOS_DIR
from kit.lab.scenarios.build import STORIES, render, write
from kit.times import require_time

NAMES = [story["name"] for story in STORIES]
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _ts(text: str) -> datetime:
    return require_time(text, "a scenario time")


def _load(name: str) -> dict[str, Any]:
    folder = SCENARIOS_DIR / name
    info = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
    return {
        "folder": folder, "info": info,
        "resources": json.loads((folder / "resources.json").read_text(encoding="utf-8"))["value"],
        "activity": json.loads((folder / "activity_log.json").read_text(encoding="utf-8"))["value"],
        "roles": json.loads((folder / "role_assignments.json").read_text(encoding="utf-8"))["value"],
        "views": {p.stem: json.loads(p.read_text(encoding="utf-8"))
                  for p in (folder / "instance_views").glob("*.json")},
        "serial": {p.stem: p.read_bytes() for p in (folder / "serial").glob("*.log")},
    }


@pytest.fixture(scope="module", params=NAMES)
def scenario(request: pytest.FixtureRequest) -> dict[str, Any]:
    return _load(request.param)


def _text(data: bytes) -> str:
    return ANSI.sub("", data.decode("utf-8").rstrip("\x00")).replace("\r", "")


#: a scale-set scenario's instances and their NICs (served under the scale set, without a ``type``) count as
#: VMs and NICs
_VMS = ("Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachineScaleSets/virtualMachines")
_NICS = ("Microsoft.Network/networkInterfaces",
         "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/networkInterfaces")


def _type(resource: dict[str, Any]) -> str:
    """The resource's type, or (a scale-set instance's NIC has none) the kind its id names."""
    return str(resource.get("type") or parse_resource_id(resource["id"]).kind)


def _window(info: dict[str, Any]) -> tuple[datetime, datetime]:
    return _ts(info["window"]["start"]), _ts(info["window"]["end"])


def test_eight_scenarios_are_defined():
    assert sorted(NAMES) == sorted(ANSWERS) or set(NAMES) <= set(ANSWERS)


def test_committed_files_are_what_the_generator_renders(tmp_path: Path):
    write(tmp_path)
    for story in STORIES:
        rendered = render(story)
        for rel, data in rendered.items():
            committed = SCENARIOS_DIR / story["name"] / rel
            assert committed.is_file(), f"{committed} is missing: run python -m kit.lab.scenarios.build"
            assert committed.read_bytes() == data, f"{committed} differs from the generator's output"
            assert (tmp_path / story["name"] / rel).read_bytes() == data, "rendering is not deterministic"
        folder = SCENARIOS_DIR / story["name"]
        on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
                   and p.name != "guest.yaml" and "guest" not in p.relative_to(folder).parts[:1]}
        assert on_disk == set(rendered), f"{folder}: stale or missing files"


def test_scenario_yaml_follows_the_contract(scenario):
    info = scenario["info"]
    for key in ("name", "title", "briefing", "subscription_id", "tenant_id", "resource_group", "location",
                "broken_vm", "known_good", "responder_ip", "window", "console_enabled", "expected", "guest",
                "fix", "facts"):
        assert key in info, key
    expected = info["expected"]
    assert (expected["hypothesis"], expected["next_step"], expected["level"]) == ANSWERS[info["name"]]
    assert info["guest"]["os"] in ("linux", "windows") and info["guest"]["password"]
    assert len(info["known_good"]) >= 2 and info["broken_vm"] not in info["known_good"]
    vms = {r["name"] for r in scenario["resources"] if _type(r) in _VMS}
    assert {info["broken_vm"], *info["known_good"]} <= vms
    assert set(scenario["views"]) == vms and set(scenario["serial"]) == vms
    start, end = _window(info)
    assert start < end


def test_every_scenario_has_its_own_subscription_and_group():
    infos = [_load(n)["info"] for n in NAMES]
    assert len({i["subscription_id"] for i in infos}) == len(infos)
    assert len({i["resource_group"] for i in infos}) == len(infos)


def _ids(node: Any) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "id" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_ids(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_ids(item))
    return found


def test_resource_ids_parse_and_references_resolve(scenario):
    info = scenario["info"]
    by_id = {r["id"].lower(): r for r in scenario["resources"]}
    for rid in _ids(scenario["resources"]):
        parsed = parse_resource_id(rid)
        assert parsed.subscription_id == info["subscription_id"]
    subnets = {s["id"].lower(): s for r in scenario["resources"] if _type(r) == "Microsoft.Network/virtualNetworks"
               for s in r["properties"]["subnets"]}
    ipconfigs = set()
    for r in scenario["resources"]:
        props = r["properties"]
        if _type(r) in _VMS:
            assert props["diagnosticsProfile"]["bootDiagnostics"] == {"enabled": True}
            for nic in props["networkProfile"]["networkInterfaces"]:
                assert nic["id"].lower() in by_id
                assert by_id[nic["id"].lower()]["properties"]["virtualMachine"]["id"] == r["id"]
        if _type(r) in _NICS:
            assert props["virtualMachine"]["id"].lower() in by_id
            if "networkSecurityGroup" in props:
                nsg = by_id[props["networkSecurityGroup"]["id"].lower()]
                assert r["id"] in [n["id"] for n in nsg["properties"]["networkInterfaces"]]
            for ipc in props["ipConfigurations"]:
                ipconfigs.add(ipc["id"].lower())
                assert ipc["properties"]["subnet"]["id"].lower() in subnets
                if "publicIPAddress" in ipc["properties"]:
                    pip = by_id[ipc["properties"]["publicIPAddress"]["id"].lower()]
                    assert pip["properties"]["ipConfiguration"]["id"] == ipc["id"]
                for asg in ipc["properties"].get("applicationSecurityGroups", []):
                    assert asg["id"].lower() in by_id
        if _type(r) == "Microsoft.Network/networkSecurityGroups":
            assert [d["name"] for d in props["defaultSecurityRules"]] == [
                "AllowVnetInBound", "AllowAzureLoadBalancerInBound", "DenyAllInBound",
                "AllowVnetOutBound", "AllowInternetOutBound", "DenyAllOutBound"]
            for rule in props["securityRules"]:
                p = rule["properties"]
                for side in ("source", "destination"):
                    assert (f"{side}PortRange" in p) != bool(p.get(f"{side}PortRanges"))
                    has_asg = bool(p.get(f"{side}ApplicationSecurityGroups"))
                    assert has_asg or (f"{side}AddressPrefix" in p) != bool(p.get(f"{side}AddressPrefixes"))
    for subnet in subnets.values():
        for ref in ("networkSecurityGroup", "routeTable"):
            if ref in subnet["properties"]:
                assert subnet["properties"][ref]["id"].lower() in by_id
        for ipc in subnet["properties"].get("ipConfigurations", []):
            assert ipc["id"].lower() in ipconfigs
    def vm_of(nic: dict[str, Any]) -> str:
        return str(by_id[nic["properties"]["virtualMachine"]["id"].lower()]["name"])

    broken_nic = next(r for r in scenario["resources"] if _type(r) in _NICS and vm_of(r) == info["broken_vm"])
    peer_subnets = {r["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"] for r in scenario["resources"]
                    if _type(r) in _NICS and vm_of(r) in info["known_good"]}
    if not info["facts"].get("peers_in_other_subnet"):  # route tables attach to subnets
        assert broken_nic["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"] in peer_subnets


def test_activity_log_operations_share_correlation_ids_and_lie_in_the_window(scenario):
    info = scenario["info"]
    start, end = _window(info)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in scenario["activity"]:
        parse_resource_id(record["resourceId"])
        if record["category"]["value"] != "ServiceHealth":  # those ids are /subscriptions/…/events/…
            parse_resource_id(record["id"])
        assert record["subscriptionId"] == info["subscription_id"]
        assert start <= _ts(record["eventTimestamp"]) <= end
        assert start <= _ts(record["submissionTimestamp"]) <= end
        assert _ts(record["submissionTimestamp"]) > _ts(record["eventTimestamp"])
        groups[record["correlationId"]].append(record)
    for records in groups.values():
        assert len({r["category"]["value"] for r in records}) == 1
        if records[0]["category"]["value"] == "Administrative":
            assert len({r["operationName"]["value"] for r in records}) == 1
            assert len({r["operationId"] for r in records}) == 1
            statuses = [r["status"]["value"] for r in sorted(records, key=lambda r: r["eventTimestamp"])]
            assert statuses[0] == "Started" and statuses[-1] in ("Succeeded", "Failed") and len(statuses) >= 2
    stamps = [r["eventTimestamp"] for r in scenario["activity"]]
    assert stamps == sorted(stamps, reverse=True), "the Activity Log lists newest first"


def test_instance_views_are_consistent(scenario):
    info = scenario["info"]
    start, end = _window(info)
    for vm, view in scenario["views"].items():
        codes = [s["code"] for s in view["statuses"]]
        assert codes[0] == "ProvisioningState/succeeded" and codes[1].startswith("PowerState/")
        for status in [*view["statuses"], *view.get("vmAgent", {}).get("statuses", []),
                       *(s for d in view["disks"] for s in d["statuses"])]:
            if "time" in status:
                assert start <= _ts(status["time"]) <= end, (vm, status)
        if vm in info["known_good"]:
            assert codes[1] == "PowerState/running" and view["vmAgent"]["statuses"][0]["displayStatus"] == "Ready"


_DATED = [
    (re.compile(r"running '[^']+' at (\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d) \+0000"), "%a, %d %b %Y %H:%M:%S"),
    (re.compile(r"finished at (\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d) \+0000"), "%a, %d %b %Y %H:%M:%S"),
    (re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z (?:INFO|WARNING|ERROR) ", re.M), "%Y-%m-%dT%H:%M:%S"),
]


def test_serial_logs_are_raw_azure_bytes_with_dated_lines_in_the_window(scenario):
    info = scenario["info"]
    start, end = _window(info)
    for vm, data in scenario["serial"].items():
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
        text = _text(data)
        lines = text.splitlines()
        dated = 0
        for pattern, fmt in _DATED:
            for match in pattern.finditer(text):
                moment = datetime.strptime(match.group(1), fmt).replace(tzinfo=UTC)
                assert start <= moment <= end, (vm, match.group(0))
                dated += 1
        if "Linux version" in text:
            assert len(lines) >= 200, f"{vm}: a whole boot is hundreds of lines"
            assert "Hypervisor detected: Microsoft Hyper-V" in text and "hv_vmbus" in text
            assert "Microsoft Corporation Virtual Machine" in text and dated >= 3
            assert "\x1b[0;32m  OK  \x1b[0m" in data.decode("utf-8")
            assert "ci-info:" in text and "168.63.129.16" in text
            assert re.search(r"^\[    0\.000000\] Linux version", text, re.M)
        else:
            assert "SAC>" in text, f"{vm}: neither a Linux nor a Windows (SAC) console"


def test_boots_line_up_with_the_restarts_in_the_activity_log(scenario):
    """Every restart/start of a Linux VM is followed, within two minutes, by a boot whose
    cloud-init 'init-local' banner is dated accordingly."""
    info = scenario["info"]
    for record in scenario["activity"]:
        name = record["operationName"]["value"].lower()
        if record["status"]["value"] != "Started" or not name.endswith(("restart/action", "start/action")):
            continue
        vm = record["resourceId"].rsplit("/", 1)[1]
        if vm not in scenario["serial"]:
            continue
        text = _text(scenario["serial"][vm])
        if "Linux version" not in text:
            continue
        started = _ts(record["eventTimestamp"])
        boots = [datetime.strptime(m, "%a, %d %b %Y %H:%M:%S").replace(tzinfo=UTC)
                 for m in re.findall(r"running 'init-local' at (\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d)", text)]
        if vm == info["broken_vm"] and info["name"] in ("kernel-panic", "fstab-emergency"):
            assert text.count("Linux version") >= 2  # the failing boot never reaches cloud-init
            continue
        assert any(0 < (b - started).total_seconds() < 120 for b in boots), (vm, record["eventTimestamp"], boots)


MARKERS: dict[str, list[str]] = {
    "firewall-lockout": ["login: ", "DPT=22", "SRC=203.0.113.7"],
    "fstab-emergency": ["Timed out waiting for device", "Dependency failed for", "Local File Systems",
                        "You are in emergency mode", "Give root password for maintenance"],
    "sshd-broken": ["login: ", "Bad configuration option", "status=255/EXCEPTION", "Failed to start ssh.service"],
    "nsg-deny": ["login: "],
    "route-blackhole": ["login: "],
    "windows-rdp": ["SAC started and initialized", "ch -?", "SAC>", "EVENT:"],
    "kernel-panic": ["VFS: Unable to mount root fs on unknown-block(0,0)", "Kernel panic - not syncing:",
                     "Call Trace:", "---[ end Kernel panic"],
    "deallocated": ["System Power Off", "reboot: Power down"],
    "vmss-canary-firewall": ["checkout000002 login: ", "DPT=22", "SRC=203.0.113.24", "DPT=8080 "],
}


def test_broken_vm_serial_log_shows_the_failure_and_peers_boot_cleanly(scenario):
    info = scenario["info"]
    text = _text(scenario["serial"][info["broken_vm"]])
    for marker in MARKERS[info["name"]]:
        assert marker in text, (info["name"], marker)
    facts = info["facts"]
    if info["name"] in ("firewall-lockout", "vmss-canary-firewall"):
        assert facts["log_marker"] in text
    if info["name"] == "fstab-emergency":
        assert facts["mount_point"] in text and facts["uuid"] in text
    for peer in info["known_good"]:
        peer_text = _text(scenario["serial"][peer])
        host = scenario["views"][peer].get("computerName", peer)  # a scale-set instance's is the computer name
        assert f"{host} login:" in peer_text or "SAC>" in peer_text
        for bad in ("Kernel panic", "emergency mode", "FAILED", "DROP:", "UFW BLOCK"):
            assert bad not in peer_text, (peer, bad)


def test_role_assignments_are_rest_bodies(scenario):
    info = scenario["info"]
    assert scenario["roles"]
    for ra in scenario["roles"]:
        assert ra["id"] == f"{ra['properties']['scope']}/providers/Microsoft.Authorization/roleAssignments/{ra['name']}"
        assert ra["type"] == "Microsoft.Authorization/roleAssignments"
        assert ra["properties"]["scope"].startswith(f"/subscriptions/{info['subscription_id']}")
