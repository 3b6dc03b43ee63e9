"""Every next-step command is complete and safe to paste.

Every ``az`` command names the subscription, resource group and resource of the evidence; every
``--run-id`` is one of Azure's repair script library (``tests/data/repair-script-library/map.json``)
and ``linux-alar2`` gets ALAR's actions; a route blackhole is repointed at an appliance, never
deleted; guest fixes fix and persist. Checked on every lab scenario (every hypothesis the
classifier lists) and on every hypothesis × OS of the rules table.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from kit.analyze._verdict_evidence import Evidence
from kit.analyze._verdict_facts import Facts, gather_facts
from kit.analyze._verdict_guides import FINDING_COMMANDS
from kit.analyze._verdict_rules import RULES
from kit.analyze._verdict_steps import NextStep, next_step_for
from kit.analyze.bootlog import Finding, parse_boot_log
from kit.analyze.network import IpConfiguration, NextHop, Nic
from kit.analyze.verdict import classify
from kit.lab import list_scenarios, load_scenario
from kit.train import questions_for

LIBRARY = Path(__file__).parents[1] / "data" / "repair-script-library" / "map.json"
RUN_IDS = {entry["id"] for entry in json.loads(LIBRARY.read_text(encoding="utf-8"))}
#: ALAR's actions (Azure/ALAR README, "What actions are available").
ALAR_ACTIONS = {"fstab", "kernel", "initrd", "serialconsole", "grubfix", "efifix", "auditd", "sudo", "corrupt"}
SCENARIOS = sorted(info.name for info in list_scenarios())

SUB = "1f3a2b4c-0000-4000-8000-0000000000aa"
RG, VM = "rg-steps", "vm-steps"
VM_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/{VM}"

#: ``az`` command groups → the flags that name what they act on, besides ``--subscription``.
#: ``None``: the VM's ``-g`` and ``-n``; a tuple: those flags, each with some value.
_NAMING: dict[str, tuple[str, ...] | None] = {
    "az vm": None,
    "az serial-console connect": None,
    "az serial-console enable": (),        # subscription-wide
    "az network nsg rule": ("-g", "--nsg-name", "-n"),
    "az network route-table route": ("-g", "--route-table-name", "-n"),
    "az network nic list": (),             # the appliance may sit in any group of the subscription
    "az snapshot list": ("-g",),
    "az disk create": ("-g", "-n"),
    "az vmss": None,
}
#: az vmss commands that act on the scale set, not on one instance (a model change, its sizes, its encryption)
_SCALE_SET_WIDE = ("az vmss update ", "az vmss list-skus ", "az vmss encryption show ")


def _flags(command: str) -> dict[str, str]:
    words = shlex.split(command, comments=True)
    return {word: words[i + 1] for i, word in enumerate(words[:-1]) if word.startswith("-")}


def check_az(command: str, sub: str, rg: str, vm: str, instance: str | None = None) -> None:
    """Fail unless ``command`` names the subscription, the group and what it acts on (``vm`` is the scale set
    and ``instance`` its instance id for a scale-set instance: only ``az serial-console connect`` takes those)."""
    flags = _flags(command)
    if instance is not None:
        assert not command.startswith("az vm "), f"{command}: no az vm command acts on a scale-set instance"
        if command.startswith("az rest "):  # ARM's instance operation: the URL is the instance's id
            assert flags["--url"].lower().startswith(f"/subscriptions/{sub}/resourcegroups/{rg}/providers/"
                                                     f"microsoft.compute/virtualmachinescalesets/{vm}/"
                                                     f"virtualmachines/{instance}/".lower()), command
            return
        if command.startswith(("az serial-console connect ", "az vmss ")) and not command.startswith(
                _SCALE_SET_WIDE):
            assert (flags.get("--instance-id") or flags.get("--instance-ids")) == instance, command
    if "--ids" in flags:  # the id carries subscription, group and name
        assert flags["--ids"].lower().startswith(f"/subscriptions/{sub}/resourcegroups/{rg}/".lower()), command
        named = f"/virtualMachineScaleSets/{vm}/virtualMachines/{instance}/" if instance else f"/virtualMachines/{vm}/"
        assert named.lower() in flags["--ids"].lower() + "/", command
        return
    assert flags.get("--subscription") == sub, command
    group = next((g for g in sorted(_NAMING, key=len, reverse=True) if command.startswith(g + " ")), None)
    assert group is not None, f"no naming rule for {command!r}: add one to _NAMING"
    needed = _NAMING[group]
    if needed is None:
        assert (flags.get("-g"), flags.get("-n")) == (rg, vm), command
    else:
        assert all(flags.get(flag) and not flags[flag].startswith("-") for flag in needed), command


def az_commands(step: NextStep) -> list[str]:
    """The ``az`` commands of a step, and the one its text names for the serial console."""
    named = re.findall(r"(az serial-console (?:connect|enable) [^,;()]+?)(?=,|;| \(|$)", step.text)
    return [c for c in step.commands if c.startswith("az ")] + [c.strip() for c in named]


def check_step(step: NextStep, sub: str, rg: str, vm: str, instance: str | None = None) -> None:
    """Every rule of the module docstring on one next step."""
    for command in az_commands(step):
        check_az(command, sub, rg, vm, instance)
    every = " ".join((step.text, *step.commands))
    for run_id in re.findall(r"run-id (\S+?)[),.;]*(?:\s|$)", every):
        assert run_id in RUN_IDS, f"{run_id} is not in map.json"
    for actions in re.findall(r"linux-alar2 --parameters (\S+?)[),.;]*(?:\s|$)", every):
        assert set(actions.split(",")) <= ALAR_ACTIONS, actions
    assert not any("route delete" in command for command in step.commands), step.commands
    assert not re.search(r"\{(sub|rg|vm|vm_id|target|scope|responder|run|fstab_match)\}", json.dumps(step.to_json()))


# ----------------------------------------------------------------- the lab's scenarios


def _scenario(scenario_bundles: dict[str, Any], name: str) -> tuple[Any, Any, list[Any]]:
    if name not in scenario_bundles:
        pytest.skip(f"scenario {name} is not in kit/lab/scenarios yet")
    return scenario_bundles[name]


def _facts_yaml(info: Any) -> dict[str, Any]:
    return dict(yaml.safe_load((info.path / "scenario.yaml").read_text(encoding="utf-8"))["facts"])


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_step_of_every_scenario_is_complete(scenario_bundles: dict[str, Any], name: str) -> None:
    info, subject, peers = _scenario(scenario_bundles, name)
    result = classify(subject, peers, responder_ip=info.responder_ip)
    vm, instance = (info.scale_set, info.instance_id(info.broken_vm)) if info.scale_set else (info.broken_vm, None)
    for hypothesis in result.hypotheses:
        check_step(hypothesis.next_step, info.subscription_id, info.resource_group, vm, instance)
    top = result.top.next_step
    if top.kind not in ("none", "escalate"):
        assert az_commands(top), f"{name}: the next step names no az command"
    assert "<subscription-id>" not in json.dumps(top.to_json())
    assert "<resource-group>" not in json.dumps(top.to_json())


def test_route_blackhole_repoints_the_route_and_says_which_appliance(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles, "route-blackhole")
    step = classify(subject, peers, responder_ip=info.responder_ip).top.next_step
    facts = _facts_yaml(info)
    ref = (f"--subscription {info.subscription_id} -g {info.resource_group} --route-table-name "
           f"{facts['route_table']} -n {facts['route']}")
    assert step.commands[0] == f"az network route-table route show {ref}"
    # no NIC of the bundle forwards: the command keeps the placeholder, the text says what to find
    assert step.commands[-1] == (f"az network route-table route update {ref} --next-hop-type VirtualAppliance "
                                 "--next-hop-ip-address <appliance-ip>")
    assert any(c.startswith("az network nic list") and "enableIPForwarding" in c for c in step.commands)
    assert f"{facts['dead_nva_nic']} was deleted" in step.text
    assert "Do not delete the route" in step.text and "bypass the firewall" in step.text
    assert step.details["appliance_ip"] is None


def _route_facts(scenario_bundles: dict[str, Any]) -> Facts:
    info, subject, peers = _scenario(scenario_bundles, "route-blackhole")
    return gather_facts(subject, peers, responder_ip=info.responder_ip)


def test_the_route_fix_points_at_a_forwarding_nic_of_the_evidence(scenario_bundles: dict[str, Any]) -> None:
    facts = _route_facts(scenario_bundles)
    assert facts.network is not None
    subnet = facts.network.primary_nic.ip_configurations[0].subnet_id
    appliance = Nic(id=facts.vm_id.replace("Microsoft.Compute/virtualMachines/tms-app-01",
                                           "Microsoft.Network/networkInterfaces/nva-fw-02-nic"),
                    name="nva-fw-02-nic", ip_forwarding=True,
                    ip_configurations=(IpConfiguration("ipconfig1", "10.70.0.5", subnet, primary=True),))
    facts.network = dataclasses.replace(facts.network, known_nics=(appliance,))
    step = next_step_for("route_blackhole", "change_route", facts)
    assert step.commands[-1].endswith("--next-hop-type VirtualAppliance --next-hop-ip-address 10.70.0.5")
    assert "at appliance 10.70.0.5 (NIC nva-fw-02-nic has IP forwarding on)" in step.text
    assert step.details["appliance_ip"] == "10.70.0.5"
    check_step(step, *_ids(facts))


def test_the_route_fix_points_where_a_known_good_peer_routes_the_same_prefix(
        scenario_bundles: dict[str, Any]) -> None:
    facts = _route_facts(scenario_bundles)
    assert facts.diff is not None and facts.verdicts is not None
    mine = facts.verdicts[22].route
    assert mine.route is not None
    peer, verdicts = next(iter(facts.diff.peer_verdicts.items()))
    theirs = NextHop(mine.destination, "VirtualAppliance", "10.70.0.6",
                     dataclasses.replace(mine.route, next_hop_ip="10.70.0.6", name="default-via-fw"), None,
                     "peer-nic", "effective", dropped=False)
    peer_verdicts = {**facts.diff.peer_verdicts, peer: {**verdicts, 22: dataclasses.replace(verdicts[22],
                                                                                            route=theirs)}}
    facts.diff = dataclasses.replace(facts.diff, peer_verdicts=peer_verdicts)
    step = next_step_for("route_blackhole", "change_route", facts)
    assert step.commands[-1].endswith("--next-hop-ip-address 10.70.0.6")
    assert f"known-good peer {peer}'s 0.0.0.0/0 route goes there" in step.text


def _ids(facts: Facts) -> tuple[str, str, str]:
    sub = facts.vm_id.split("/")[2]
    return sub, facts.resource_group, facts.vm_name


def test_the_guest_firewall_fix_opens_ssh_and_persists(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles, "firewall-lockout")
    commands = classify(subject, peers, responder_ip=info.responder_ip).top.next_step.commands
    assert f"sudo iptables -I INPUT -p tcp -s {info.responder_ip}/32 --dport 22 -j ACCEPT" in commands
    assert any(c.startswith("sudo netfilter-persistent save") for c in commands)
    assert any(c.startswith("sudo sh -c 'iptables-save > /etc/iptables/rules.v4'") for c in commands)
    assert any(c.startswith("sudo ufw allow 22/tcp") for c in commands)
    assert any(c.startswith("sudo firewall-cmd --permanent --add-service=ssh && sudo firewall-cmd --reload")
               for c in commands)


@pytest.mark.parametrize(("name", "fix"), [("firewall-lockout", "firewall"), ("sshd-broken", "sshd"),
                                         ("windows-rdp", "rdp"), ("vmss-canary-firewall", "firewall")])
def test_a_ready_vm_agent_puts_the_kits_run_command_before_the_console(scenario_bundles: dict[str, Any], name: str,
                                                                      fix: str) -> None:
    info, subject, peers = _scenario(scenario_bundles, name)
    step = classify(subject, peers, responder_ip=info.responder_ip).top.next_step
    run = f"kit run-command --vm {info.vm_id(info.broken_vm)} --approval <change-ref> --incident <INC-ID>"
    assert step.kind == "serial_console" and step.commands[0] == f"{run} --diagnose"
    assert step.commands[1].startswith(f"{run} --fix {fix}")
    assert step.text.startswith("The VM agent is Ready")
    assert "If Run Command fails, open the serial console" in step.text
    assert step.details["run_command"] == fix
    if fix == "firewall":  # the flows the drop log shows: the responder's SSH and what the VNet and Azure sent
        flows = step.commands[1].split(" --fact blocked=", 1)[1].split(",")
        assert f"{info.responder_ip}:22" in flows
        sources = {ipaddress.ip_address(flow.rsplit(":", 1)[0]) for flow in flows}
        inside = [ipaddress.ip_network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
        assert all(any(s in net for net in inside) or str(s) in (info.responder_ip, "168.63.129.16")
                   for s in sources), flows


def test_the_firewall_fix_lets_in_what_the_drop_log_shows_but_never_an_internet_scanner() -> None:
    def dropped(src: str, port: int) -> Any:
        text = (f"[  9.1] fw DROP: IN=eth0 OUT= MAC=00 SRC={src} DST=10.0.0.4 LEN=60 TOS=0x00 PREC=0x00 TTL=51 "
                f"ID=1 DF PROTO=TCP SPT=40000 DPT={port} WINDOW=64240 RES=0x00 SYN URGP=0")
        return Finding("boot:firewall:blocked", "info", 1, text, "serial.log:1", "drop")

    boot = parse_boot_log(b"")
    drops = (dropped("203.0.113.7", 22), dropped("198.51.100.9", 23), dropped("10.0.0.5", 5432),
             dropped("168.63.129.16", 80), dropped("203.0.113.7", 22), dropped("fd00::5", 22))
    facts = dataclasses.replace(_facts("linux"), boot=dataclasses.replace(boot, findings=drops),
                                agent_statuses=[{"code": "ProvisioningState/succeeded", "displayStatus": "Ready"}])
    fix = next_step_for("guest_firewall", "serial_console", facts).commands[1]
    assert fix.endswith(" --fix firewall --fact blocked=203.0.113.7:22,10.0.0.5:5432,168.63.129.16:80"), fix
    quiet = dataclasses.replace(facts, boot=boot)  # no drop lines: SSH from the responder
    assert next_step_for("guest_firewall", "serial_console", quiet).commands[1].endswith(
        " --fix firewall --fact responder_ip=203.0.113.7")


def test_no_run_command_without_a_ready_agent_or_a_kit_fix() -> None:
    facts = _facts("linux")
    assert not next_step_for("guest_firewall", "serial_console", facts).commands[0].startswith("kit run-command")
    ready = [{"code": "ProvisioningState/succeeded", "displayStatus": "Ready"}]
    facts = dataclasses.replace(facts, agent_statuses=ready)
    assert next_step_for("guest_firewall", "serial_console", facts).commands[1].startswith("kit run-command")
    stopped = dataclasses.replace(facts, power="deallocated")
    assert "run_command" not in next_step_for("guest_firewall", "serial_console", stopped).details
    windows = dataclasses.replace(facts, os="windows")  # the kit's firewall fix is iptables: Linux only
    assert "run_command" not in next_step_for("guest_firewall", "serial_console", windows).details
    assert next_step_for("service_failure:rdp", "serial_console", windows).details["run_command"] == "rdp"
    assert "run_command" not in next_step_for("boot_failure:fstab", "serial_console", facts).details


def test_the_fstab_fix_comments_out_the_missing_disk_and_names_the_locked_root_way_out(
        scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles, "fstab-emergency")
    step = classify(subject, peers, responder_ip=info.responder_ip).top.next_step
    uuid = _facts_yaml(info)["uuid"]
    assert f"cp /etc/fstab /etc/fstab.bak && sed -i '\\|{uuid}|s|^|# |' /etc/fstab" in step.commands
    assert "nofail" in step.text and "root locked" in step.text and "init=/bin/bash" in step.text
    assert (f"az vm repair run --subscription {info.subscription_id} -g {info.resource_group} -n {info.broken_vm} "
            "--run-on-repair --run-id linux-alar2 --parameters fstab --verbose") in step.commands


def test_the_rdp_fix_starts_the_service_and_warns_about_group_policy(scenario_bundles: dict[str, Any]) -> None:
    info, subject, peers = _scenario(scenario_bundles, "windows-rdp")
    step = classify(subject, peers, responder_ip=info.responder_ip).top.next_step
    assert {"sc config TermService start= demand", "net start TermService"} <= set(step.commands)
    assert "Group Policy" in step.text and "gpresult /r /scope computer" in step.commands


# ----------------------------------------------------------------- every hypothesis of the rules table


def _facts(os: str) -> Facts:
    return Facts(vm_name=VM, vm_id=VM_ID, role="subject", resource_group=RG, os=os, power="running",
                 power_row=None, operations=[], responder_ip="203.0.113.7", responder_given=True,
                 console_status={"properties": {"disabled": True}})


def _findings() -> list[Evidence]:
    return [Evidence("boot_log", kind, f"{kind} happened", "serial.log:1") for kind in FINDING_COMMANDS]


@pytest.mark.parametrize("os", ["linux", "windows"])
@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.kind)
def test_every_hypothesis_step_is_complete(rule: Any, os: str) -> None:
    step = next_step_for(rule.kind, rule.next_step, _facts(os), _findings())
    check_step(step, SUB, RG, VM)


INSTANCE_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/ss/" \
              "virtualMachines/7"


@pytest.mark.parametrize("os", ["linux", "windows"])
@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.kind)
def test_every_step_for_a_scale_set_instance_names_it_the_az_vmss_way(rule: Any, os: str) -> None:
    facts = dataclasses.replace(_facts(os), vm_id=INSTANCE_ID, vm_name="ss_7")
    step = next_step_for(rule.kind, rule.next_step, facts, _findings())
    check_step(step, SUB, RG, "ss", "7")
    assert not any(command.startswith(("az vm repair", "kit repair")) for command in step.commands), step.commands
    reimage = f"az vmss reimage --subscription {SUB} -g {RG} -n ss --instance-ids 7"
    if step.kind == "repair_vm":
        assert "cannot go to a repair VM" in step.text and reimage in step.commands
    elif "repair VM" in step.text:  # a guide that speaks of one says what takes its place
        assert "re-image the instance instead" in step.text and reimage in step.commands


def test_the_windows_firewall_fix_warns_about_group_policy() -> None:
    step = next_step_for("guest_firewall", "serial_console", _facts("windows"))
    assert any("netsh advfirewall firewall" in c and "3389" in c for c in step.commands)
    assert "Group Policy" in step.text


@pytest.mark.parametrize("hypothesis", ["insufficient_evidence"])
def test_collecting_more_names_the_vm(hypothesis: str) -> None:
    step = next_step_for(hypothesis, "escalate", _facts("linux"))
    assert step.commands and all(c.endswith(f"--subscription {SUB} -g {RG} -n {VM}") for c in step.commands)


def test_a_trainee_can_pick_every_next_step_a_rule_leads_to() -> None:
    choices = set(questions_for(load_scenario("kernel-panic"))["next_step"].choices)
    assert {rule.next_step for rule in RULES} <= choices
    assert {"restart_vm", "redeploy_vm", "wait"} <= choices


def test_a_windows_rdp_failure_without_a_ready_agent_offers_the_offline_kit_repair_after_the_console() -> None:
    facts = _facts("windows")
    step = next_step_for("service_failure:rdp", "serial_console", facts)
    repair = f"kit repair --vm {facts.vm_id} --approval <change-ref> --incident <INC-ID> --finding rdp"
    assert step.commands[-1] == repair and step.details["kit_repair"] == "rdp"
    assert step.commands.index(repair) > step.commands.index("sc config TermService start= demand")
    assert "If neither SAC nor the VM agent answers, `kit repair` makes the same fix offline" in step.text
    ready = dataclasses.replace(facts, agent_statuses=[{"code": "ProvisioningState/succeeded",
                                                        "displayStatus": "Ready"}])
    online = next_step_for("service_failure:rdp", "serial_console", ready)
    assert online.details["run_command"] == "rdp" and not any(c.startswith("kit repair") for c in online.commands)
    linux = next_step_for("service_failure:sshd", "serial_console", _facts("linux"))
    assert not any(c.startswith("kit repair") for c in linux.commands)
    dhcp = next_step_for("guest_network:dhcp_disabled", "serial_console", facts)  # no address: never an agent
    assert dhcp.commands[-1].endswith("--finding dhcp") and "sc config dhcp start= auto" in dhcp.commands
