"""Recommended next steps: the kind, a sentence for people, and the commands to run first.

The step kind's sentence (``_verdict_rules.STEP_TEXT``) is followed by the hypothesis's guide
(``_verdict_guides.GUIDES``); the commands lead with those for the findings behind it. Every ``az``
command names the subscription, resource group and resource from the evidence (``--subscription …
-g … -n …``, or ``--nsg-name`` / ``--route-table-name`` with the rule or route). A route that drops
replies is pointed at an appliance, never deleted: deleting it would let the traffic bypass the firewall.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any

from kit.analyze._verdict_evidence import Evidence
from kit.analyze._verdict_guides import FINDING_COMMANDS, GUIDES, Guide
from kit.analyze._verdict_rules import STEP_TEXT
from kit.analyze._verdict_scale_set import (
    INSTANCE_NO_REPAIR_VM,
    INSTANCE_REPAIR_TEXT,
    instance_commands,
    instance_repair_commands,
)
from kit.analyze.fix_scripts import FINDING_ALIASES, ONLINE_FIXES
from kit.analyze.repair_scripts_windows import WINDOWS_FINDINGS
from kit.ids import VMSS_VM, name_of, try_parse

if TYPE_CHECKING:
    from kit.analyze._verdict_facts import Facts
    from kit.analyze.network import NextHop, Route

__all__ = ["NextStep", "next_step_for"]

_PLACEHOLDER = re.compile(r"\{(sub|rg|vm|vm_id|target|scope|responder|run|fstab_match)\}")


@dataclass(frozen=True)
class NextStep:
    """What to do next.

    Parameters
    ----------
    kind
        ``serial_console``, ``change_nsg``, ``change_route``, ``repair_vm``, ``start_vm``,
        ``restart_vm``, ``redeploy_vm``, ``wait``, ``restore_backup``, ``escalate`` or ``none``.
    text
        What to do and why, for people.
    commands
        The commands to look at or run first, in order (guest commands for the serial console,
        ``az`` commands otherwise).
    details
        The rule or route to change, the NSG and its resource group …
    """

    kind: str
    text: str
    commands: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"kind": self.kind, "text": self.text, "commands": list(self.commands), "details": self.details}


def _vm_subscription(facts: Facts) -> str:
    """The VM's subscription, from its resource id."""
    parsed = try_parse(facts.vm_id)
    return parsed.subscription_id if parsed is not None else "<subscription-id>"


def _scope(resource_id: str | None, facts: Facts) -> tuple[str, str]:
    """The subscription and resource group of a resource (the VM's where its id does not say)."""
    parsed = try_parse(resource_id)
    sub = parsed.subscription_id if parsed is not None else _vm_subscription(facts)
    rg = (parsed.resource_group if parsed is not None else None) or facts.resource_group or "<resource-group>"
    return sub, rg


def _console_target(facts: Facts, target: str) -> str:
    """``az serial-console connect``'s arguments: a scale-set instance is ``-n <scale set> --instance-id <id>``."""
    parsed = try_parse(facts.vm_id)
    if parsed is None or not parsed.is_kind(VMSS_VM) or parsed.parent is None:
        return target
    return (f"--subscription {parsed.subscription_id} -g {parsed.resource_group} -n {parsed.parent.name} "
            f"--instance-id {parsed.name}")


def _console_how(facts: Facts, target: str) -> str:
    how = f"az serial-console connect {_console_target(facts, target)}, or the kit's console widget"
    props = (facts.console_status or {}).get("properties")
    disabled = isinstance(props, dict) and props.get("disabled") is True
    if disabled:
        how += (f"; it is disabled for this subscription: az serial-console enable --subscription "
                f"{_vm_subscription(facts)} (needs subscription Contributor)")
    return how


def _nsg_step(facts: Facts) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    verdict = (facts.verdicts or {}).get(facts.port)
    if verdict is None or verdict.flow.allowed:
        return "see the network verdict", (), {}
    flow = verdict.flow
    nsg = name_of(flow.nsg_id, "?")
    sub, rg = _scope(flow.nsg_id, facts)
    scope = f"--subscription {sub} -g {rg}"
    rule = flow.rule or ""
    hop = next((h for h in flow.trace if h.rule_name == flow.rule_name), None)
    priority = hop.priority if hop is not None else None
    service = "SSH" if facts.port == 22 else "RDP"
    source = f"{facts.responder_ip}/32" if facts.responder_given else "<your address>/32"
    what = (f"{flow.rule_name} (priority {priority}) in NSG {nsg} on the {flow.hop} denies TCP {facts.port} "
            f"({service}) from {facts.responder_ip}")
    commands: list[str] = []
    custom = (flow.rule_name or "").startswith("securityRules/")
    if custom:
        what += "; remove or narrow that rule, or allow the responder with a lower priority number"
        commands.append(f"az network nsg rule show {scope} --nsg-name {nsg} -n {rule}")
        commands.append(f"az network nsg rule delete {scope} --nsg-name {nsg} -n {rule}")
        allow_priority = priority - 1 if priority and priority > 100 else None
    else:
        what += "; no custom rule allows it, so the default rule denies it: add an allow rule for the responder"
        allow_priority = 4000  # custom rules use 100–4096; nothing matched, so any free priority works
    if allow_priority is not None:
        commands.append(
            f"az network nsg rule create {scope} --nsg-name {nsg} -n allow-{service.lower()}-responder "
            f"--priority {allow_priority} --direction Inbound --access Allow --protocol Tcp "
            f"--source-address-prefixes {source} --destination-port-ranges {facts.port}"
        )
    details = {"nsg": nsg, "nsg_id": flow.nsg_id, "resource_group": rg, "rule": flow.rule_name, "priority": priority,
               "hop": flow.hop, "port": facts.port}
    return what, tuple(commands), details


def _table_id(facts: Facts, hop: NextHop, route: Route) -> str | None:
    """The route table holding the route (effective routes name none: found by name and prefix)."""
    table_id = hop.route_table_id if hop.route_table_id and hop.route_table_id != "System Route" else None
    return table_id or route.route_table_id or (
        facts.network.table_holding(route) if facts.network is not None else None)


def _peer_appliance(facts: Facts, hop: NextHop, route: Route) -> tuple[str, str] | None:
    """The appliance a known-good peer's route for the same prefix goes to, and why it is the one."""
    for peer, verdicts in (facts.diff.peer_verdicts if facts.diff is not None else {}).items():
        theirs = verdicts[facts.port].route if facts.port in verdicts else None
        chosen = theirs.route if theirs is not None else None
        if (theirs is not None and chosen is not None and chosen.address_prefix == route.address_prefix
                and theirs.next_hop_type.lower() == "virtualappliance" and theirs.next_hop_ip
                and theirs.next_hop_ip != hop.next_hop_ip):
            return theirs.next_hop_ip, f"known-good peer {peer}'s {route.address_prefix} route goes there"
    return None


def _forwarding_nic(facts: Facts, hop: NextHop) -> tuple[str, str] | None:
    """A NIC in the evidence, not the VM's own primary one, with IP forwarding on: an appliance."""
    network = facts.network
    if network is None or not network.nics:
        return None
    for nic in (*network.nics, *network.known_nics):
        config = nic.primary_ip_configuration
        ip = config.private_ip if config is not None else None
        if nic.ip_forwarding and nic is not network.primary_nic and ip and ip != hop.next_hop_ip:
            return ip, f"NIC {nic.name} has IP forwarding on"
    return None


def _gone(facts: Facts, hop: NextHop) -> str:
    """Why the route's next hop does not forward: the deletion that removed it, else the route's notes."""
    for difference in facts.diff.differences if facts.diff is not None else ():
        operation = difference.operation
        if difference.kind.startswith("route:") and operation is not None and \
                operation.operation_name.lower().endswith("/delete"):
            when = f" at {operation.start.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if operation.start else ""
            return f"{name_of(operation.resource_id, '?')} was deleted{when}"
    return hop.notes[0] if hop.notes else f"its next hop is {hop.next_hop_type}"


def _route_step(facts: Facts) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    verdict = (facts.verdicts or {}).get(facts.port)
    hop = verdict.route if verdict is not None else None
    route = hop.route if hop is not None else None
    if hop is None or route is None:
        return "see the next-hop verdict", (), {}
    what = f"replies to {hop.destination} go {hop.explain()}"
    details: dict[str, Any] = {"destination": hop.destination, "next_hop_type": hop.next_hop_type,
                               "next_hop_ip": hop.next_hop_ip, "prefix": route.address_prefix}
    table_id = _table_id(facts, hop, route)
    if not table_id or not route.name:
        return what, (), details
    sub, rg = _scope(table_id, facts)
    table = name_of(table_id, "?")
    ref = f"--subscription {sub} -g {rg} --route-table-name {table} -n {route.name}"
    found = _peer_appliance(facts, hop, route) or _forwarding_nic(facts, hop)
    commands = [f"az network route-table route show {ref}"]
    current = f"{hop.next_hop_type} {hop.next_hop_ip}" if hop.next_hop_ip else hop.next_hop_type
    if found is not None:
        what += f"; point route {route.name} in route table {table} at appliance {found[0]} ({found[1]})"
    else:
        what += (f"; point route {route.name} in route table {table} at the firewall appliance that replaces "
                 f"{current} ({_gone(facts, hop)}): find its private address among the NICs with IP forwarding "
                 f"on and put it in place of <appliance-ip>")
        commands.append(f"az network nic list --subscription {sub} --query \"[?enableIPForwarding].{{nic:name, "
                        f"group:resourceGroup, ip:ipConfigurations[0].privateIPAddress}}\" -o table")
    commands.append(f"az network route-table route update {ref} --next-hop-type VirtualAppliance "
                    f"--next-hop-ip-address {found[0] if found else '<appliance-ip>'}")
    what += (f". Do not delete the route: {route.address_prefix} traffic would then take Azure's system routes "
             f"and bypass the firewall")
    details.update({"route_table": table, "route_table_id": table_id, "route": route.name, "resource_group": rg,
                    "appliance_ip": found[0] if found else None})
    return what, tuple(commands), details


_FSTAB_UUID = re.compile(r"by-uuid/([0-9A-Fa-f-]{8,})")
_FSTAB_MOUNT = re.compile(r"\.mount - (/\S+?)\.?(?:\s|$)")


def _fstab_match(supporting: Sequence[Evidence]) -> str:
    """A ``sed`` address body for the /etc/fstab line the boot failed on: its UUID, else its mount point."""
    texts = [f"{row.summary} {row.details.get('text', '')}" for row in supporting
             if row.source == "boot_log" and row.kind.startswith("boot:fstab")]
    for pattern, shape in ((_FSTAB_UUID, "{}"), (_FSTAB_MOUNT, "[[:space:]]{}[[:space:]]")):
        found = next((match.group(1) for text in texts if (match := pattern.search(text))), None)
        if found:
            return shape.format(found)
    return "<UUID-or-mount-point>"


def _fill(text: str, values: dict[str, str]) -> str:
    """``text`` with its known placeholders filled in; other braces (``{current}``) stay."""
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def _guide(hypothesis: str, facts: Facts) -> Guide:
    return GUIDES.get(f"{hypothesis}/{facts.os}") or GUIDES.get(hypothesis) or Guide()


def _finding_commands(supporting: Sequence[Evidence]) -> list[str]:
    """The commands for the boot findings behind a hypothesis, in the order the findings came."""
    commands: list[str] = []
    for row in supporting:
        if row.source != "boot_log":
            continue
        parts = row.kind.split(":")
        found = next((FINDING_COMMANDS[key] for cut in range(len(parts), 1, -1)
                      if (key := ":".join(parts[:cut])) in FINDING_COMMANDS), ())
        commands.extend(found)
    return commands


#: Hypotheses ``kit repair --finding`` fixes, by its short name.
_KIT_REPAIRS = {"boot_failure:fstab": "fstab", "boot_failure:kernel_panic": "kernel"}
_KIT_REPAIR_TEXT = (" `kit repair` does it through the SDK (snapshot, copy, repair VM with no inbound access, the "
                    "fix, OS-disk swap), proves the recovery and swaps the original disk back if it is not proven; "
                    "the `az vm repair` commands do the same by hand.")

#: Windows hypotheses fixed in the guest when it answers, and offline by ``kit repair --finding`` when it does not
_KIT_WINDOWS_REPAIRS = {kind: alias for alias, kind in FINDING_ALIASES.items() if kind in WINDOWS_FINDINGS}
_KIT_WINDOWS_REPAIR_TEXT = (" If neither SAC nor the VM agent answers, `kit repair` makes the same fix offline: a "
                            "Windows repair VM (no inbound access) edits the SYSTEM hive of a copy of the OS disk, "
                            "the copy is swapped in and the recovery proven, or the original disk goes back.")

#: the ``kit run-command --fix`` name of each online fix
_RUN_COMMAND_FIXES = {kind: alias for alias, kind in FINDING_ALIASES.items() if kind in ONLINE_FIXES}
_RUN_COMMAND_TEXT = ("The VM agent is Ready, so Run Command reaches the guest without a console session: `kit "
                     "run-command --diagnose` reads the state (it changes nothing) and `--fix {fix}` makes the fix "
                     "and persists it, both behind the approval and recorded in the incident. If Run Command fails, "
                     "open the serial console ({how}).")


_DROPPED = re.compile(r"SRC=(?P<src>\S+) DST=\S+ (?:\S+ )*?PROTO=TCP SPT=\d+ DPT=(?P<port>\d+)")
_PLATFORM = ipaddress.ip_address("168.63.129.16")  # Azure's load-balancer probes and DNS come from here
#: where a VNet's own traffic comes from: RFC 1918 and shared address space (RFC 6598)
_INSIDE = tuple(ipaddress.ip_network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                      "100.64.0.0/10"))
_MOST_FLOWS = 12


def _blocked_flows(facts: Facts) -> str:
    """``SRC:PORT,…`` the guest firewall dropped from the responder, private addresses or Azure's platform.

    Sources on the Internet other than the responder are left out (documentation ranges too, which
    Python calls private): a drop log holds scans, and the fix must not open the guest to them.
    """
    flows: dict[tuple[str, str], None] = {}
    for finding in facts.boot.findings_of("boot:firewall") if facts.boot is not None else ():
        match = _DROPPED.search(finding.text)
        if match is None:
            continue
        try:
            source = ipaddress.ip_address(match.group("src"))
        except ValueError:
            continue
        if source.version != 4:  # the fix is iptables (IPv4); IPv6 drops are for ip6tables, by hand
            continue
        responder = facts.responder_given and match.group("src") == facts.responder_ip
        if responder or source == _PLATFORM or any(source in net for net in _INSIDE):
            flows[(match.group("src"), match.group("port"))] = None
    return ",".join(f"{src}:{port}" for src, port in list(flows)[:_MOST_FLOWS])


def _let_in(facts: Facts) -> str:
    """The firewall fix's fact: the flows the drop log shows, else SSH from the responder."""
    blocked = _blocked_flows(facts)
    return f" --fact blocked={blocked}" if blocked else " --fact responder_ip={responder}"


def _kit_repair_finding(hypothesis: str, facts: Facts) -> str | None:
    """The ``kit repair --finding`` that fixes ``hypothesis`` on this VM offline (``None``: none of the kit's)."""
    if facts.os != "windows":
        return _KIT_REPAIRS.get(hypothesis)
    if hypothesis == "boot_failure:storage_driver" and facts.disk_controller != "nvme":
        return None  # the kit's fix is the NVMe driver's; on SCSI another driver is to blame
    return _KIT_WINDOWS_REPAIRS.get(hypothesis)


def _agent_ready(facts: Facts) -> bool:
    """Whether the instance view says the VM runs and its agent is Ready (Run Command can reach the guest)."""
    return facts.power == "running" and any(
        str(status.get("code", "")).lower() == "provisioningstate/succeeded"
        and str(status.get("displayStatus", "")).lower() == "ready" for status in facts.agent_statuses)


_LOCKED = ("The boot stopped in emergency mode and the root account is locked (the default of Azure's images), so "
           "the serial console cannot get a shell: \"Press Enter to continue\" only resumes the failing boot.")


def next_step_for(hypothesis: str, kind: str, facts: Facts, supporting: Sequence[Evidence] = ()) -> NextStep:
    """The next step for a hypothesis, filled in with this VM's names, rules, routes and findings."""
    rg, vm = facts.resource_group or "<resource-group>", facts.vm_name or "<vm>"
    sub = _vm_subscription(facts)
    target = f"--subscription {sub} -g {rg} -n {vm}"
    if hypothesis == "insufficient_evidence":
        missing = "; ".join(facts.missing) or "nothing points anywhere"
        if facts.serial_log_failure:  # an unreachable endpoint is no reason to change the VM's settings
            return NextStep("escalate", f"Collect more before deciding ({missing}): collect again once the boot "
                            "log can be read, or open the serial console to look.",
                            (f"az vm boot-diagnostics get-boot-log {target}",))
        return NextStep("escalate", f"Collect more before deciding ({missing}): enable boot diagnostics and collect "
                        f"again, or open the serial console to look.",
                        (f"az vm boot-diagnostics enable {target}", f"az vm boot-diagnostics get-boot-log {target}"))
    if hypothesis == "no_fault_found":
        return NextStep("none", STEP_TEXT["none"][0])
    parsed = try_parse(facts.vm_id)
    instance = parsed if parsed is not None and parsed.is_kind(VMSS_VM) else None
    locked = kind == "serial_console" and any(row.kind == "boot:systemd:root_locked" for row in supporting)
    if locked:  # the emergency shell needs the root password: the console cannot get in
        kind = "repair_vm"
    template, base = STEP_TEXT[kind]
    guide = _guide(hypothesis, facts)
    values = {"sub": sub, "rg": rg, "vm": vm, "vm_id": facts.vm_id or "<vm-resource-id>", "target": target,
              "scope": f"--subscription {sub} -g {rg}", "fstab_match": _fstab_match(supporting),
              "responder": facts.responder_ip if facts.responder_given else "<your address>"}
    details: dict[str, Any] = {}
    commands: list[str] = _finding_commands(supporting)
    if kind == "serial_console":
        text = template.format(how=_console_how(facts, target))
        commands += [*guide.guest, *guide.azure]
        fix = _RUN_COMMAND_FIXES.get(hypothesis) if ONLINE_FIXES.get(hypothesis) == facts.os else None
        if fix and _agent_ready(facts):  # the kit's Run Command first, the console's commands after
            text = _RUN_COMMAND_TEXT.format(fix=fix, how=_console_how(facts, target))
            run = "kit run-command --vm {vm_id} --approval <change-ref> --incident <INC-ID>"
            commands[:0] = [f"{run} --diagnose", f"{run} --fix {fix}{_let_in(facts) if fix == 'firewall' else ''}"]
            details["run_command"] = fix
        elif facts.os == "windows" and hypothesis in _KIT_WINDOWS_REPAIRS and instance is None:  # offline
            text += _KIT_WINDOWS_REPAIR_TEXT
            commands.append(f"kit repair --vm {{vm_id}} --approval <change-ref> --incident <INC-ID> "
                            f"--finding {_KIT_WINDOWS_REPAIRS[hypothesis]}")
            details["kit_repair"] = _KIT_WINDOWS_REPAIRS[hypothesis]
    elif kind == "change_nsg":
        what, found, details = _nsg_step(facts)
        text, commands = template.format(what=what), list(found)
    elif kind == "change_route":
        what, found, details = _route_step(facts)
        text, commands = template.format(what=what), list(found)
    elif kind == "repair_vm" and instance is not None:  # no repair VM for an instance: re-image or replace it
        text, commands = (_LOCKED + " " if locked else "") + INSTANCE_REPAIR_TEXT, instance_repair_commands(instance)
    elif kind == "repair_vm":
        create, run, restore = base
        runs = [_fill(run, {"run": script}) for script in guide.repair]
        if locked:  # ALAR fixes the disk on the repair VM; console commands cannot run on this guest
            text, commands = _LOCKED + " " + template, [create, *runs, restore]
        else:
            text, commands = template, [*commands, *guide.azure, create, *runs, *guide.guest, restore]
        finding = _kit_repair_finding(hypothesis, facts)
        if finding:  # the kit's own repair first, az vm repair's commands second
            text += _KIT_REPAIR_TEXT
            commands.insert(0, f"kit repair --vm {{vm_id}} --approval <change-ref> --incident <INC-ID> "
                               f"--finding {finding}")
        if runs:
            details["repair_scripts"] = list(guide.repair)
    else:
        text, commands = template, [*commands, *guide.azure, *base, *guide.guest]
    if guide.text and not (kind == "repair_vm" and instance is not None):
        text += " " + guide.text
    if instance is not None:
        commands = instance_commands(commands, instance)
        if kind != "repair_vm" and ("repair VM" in text or guide.repair):  # no repair VM for an instance
            text += INSTANCE_NO_REPAIR_VM
            commands += instance_repair_commands(instance)[1:2]
    commands = list(dict.fromkeys(_fill(command, values) for command in commands))
    if kind == "serial_console" and commands and "run_command" not in details:
        text += " Start with: " + "; ".join(commands[:3]) + "."
    return NextStep(kind, _fill(text, values), tuple(commands), details)
