"""Recommended next steps: the kind, a sentence for people, and the commands to run first.

The step kind's sentence (``_verdict_rules.STEP_TEXT``) is followed by the hypothesis's guide
(``_verdict_guides.GUIDES``); the commands lead with those for the findings behind it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kit.analyze._verdict_evidence import Evidence
from kit.analyze._verdict_guides import FINDING_COMMANDS, GUIDES, Guide
from kit.analyze._verdict_rules import STEP_TEXT
from kit.ids import name_of, resource_group_of

if TYPE_CHECKING:
    from kit.analyze._verdict_facts import Facts

__all__ = ["NextStep", "next_step_for"]

_PLACEHOLDER = re.compile(r"\{(rg|vm|vm_id|responder|run)\}")


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


def _console_how(facts: Facts) -> str:
    how = f"az serial-console connect -g {facts.resource_group} -n {facts.vm_name}, or the kit's console widget"
    props = (facts.console_status or {}).get("properties")
    disabled = isinstance(props, dict) and props.get("disabled") is True
    if disabled:
        how += "; it is disabled for this subscription: az serial-console enable (needs subscription Contributor)"
    return how


def _nsg_step(facts: Facts) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    verdict = (facts.verdicts or {}).get(facts.port)
    if verdict is None or verdict.flow.allowed:
        return "see the network verdict", (), {}
    flow = verdict.flow
    nsg = name_of(flow.nsg_id, "?")
    rg = resource_group_of(flow.nsg_id) or facts.resource_group
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
        commands.append(f"az network nsg rule show -g {rg} --nsg-name {nsg} -n {rule}")
        commands.append(f"az network nsg rule delete -g {rg} --nsg-name {nsg} -n {rule}")
        allow_priority = priority - 1 if priority and priority > 100 else None
    else:
        what += "; no custom rule allows it, so the default rule denies it: add an allow rule for the responder"
        allow_priority = 4000  # custom rules use 100–4096; nothing matched, so any free priority works
    if allow_priority is not None:
        commands.append(
            f"az network nsg rule create -g {rg} --nsg-name {nsg} -n allow-{service.lower()}-responder "
            f"--priority {allow_priority} --direction Inbound --access Allow --protocol Tcp "
            f"--source-address-prefixes {source} --destination-port-ranges {facts.port}"
        )
    details = {"nsg": nsg, "nsg_id": flow.nsg_id, "resource_group": rg, "rule": flow.rule_name, "priority": priority,
               "hop": flow.hop, "port": facts.port}
    return what, tuple(commands), details


def _route_step(facts: Facts) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    verdict = (facts.verdicts or {}).get(facts.port)
    route = verdict.route if verdict is not None else None
    if route is None or route.route is None:
        return "see the next-hop verdict", (), {}
    what = f"replies to {route.destination} go {route.explain()}"
    commands: list[str] = []
    details: dict[str, Any] = {"destination": route.destination, "next_hop_type": route.next_hop_type,
                               "next_hop_ip": route.next_hop_ip, "prefix": route.route.address_prefix}
    table_id = route.route_table_id if route.route_table_id and route.route_table_id != "System Route" else None
    table_id = table_id or getattr(route.route, "route_table_id", None) or (
        facts.network.table_holding(route.route) if facts.network is not None else None)
    if table_id and route.route.name:
        table, rg = name_of(table_id, "?"), resource_group_of(table_id) or facts.resource_group
        what += f"; fix or remove route {route.route.name} in route table {table}"
        commands = [
            f"az network route-table route show -g {rg} --route-table-name {table} -n {route.route.name}",
            f"az network route-table route delete -g {rg} --route-table-name {table} -n {route.route.name}",
        ]
        details.update({"route_table": table, "route_table_id": table_id, "route": route.route.name,
                        "resource_group": rg})
    return what, tuple(commands), details


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


def next_step_for(hypothesis: str, kind: str, facts: Facts, supporting: Sequence[Evidence] = ()) -> NextStep:
    """The next step for a hypothesis, filled in with this VM's names, rules, routes and findings."""
    rg, vm = facts.resource_group or "<resource-group>", facts.vm_name or "<vm>"
    if hypothesis == "insufficient_evidence":
        missing = "; ".join(facts.missing) or "nothing points anywhere"
        if facts.serial_log_failure:  # an unreachable endpoint is no reason to change the VM's settings
            return NextStep("escalate", f"Collect more before deciding ({missing}): collect again once the boot "
                            "log can be read, or open the serial console to look.",
                            (f"az vm boot-diagnostics get-boot-log -g {rg} -n {vm}",))
        return NextStep("escalate", f"Collect more before deciding ({missing}): enable boot diagnostics and collect "
                        f"again, or open the serial console to look.",
                        (f"az vm boot-diagnostics enable -g {rg} -n {vm}",
                         f"az vm boot-diagnostics get-boot-log -g {rg} -n {vm}"))
    if hypothesis == "no_fault_found":
        return NextStep("none", STEP_TEXT["none"][0])
    template, base = STEP_TEXT[kind]
    guide = _guide(hypothesis, facts)
    values = {"rg": rg, "vm": vm, "vm_id": facts.vm_id or "<vm-resource-id>",
              "responder": facts.responder_ip if facts.responder_given else "<your address>"}
    details: dict[str, Any] = {}
    commands: list[str] = _finding_commands(supporting)
    if kind == "serial_console":
        text = template.format(how=_console_how(facts))
        commands += [*guide.guest, *guide.azure]
    elif kind == "change_nsg":
        what, found, details = _nsg_step(facts)
        text, commands = template.format(what=what), list(found)
    elif kind == "change_route":
        what, found, details = _route_step(facts)
        text, commands = template.format(what=what), list(found)
    elif kind == "repair_vm":
        create, run, restore = base
        runs = [_fill(run, {"run": script}) for script in guide.repair]
        text, commands = template, [*commands, *guide.azure, create, *runs, *guide.guest, restore]
        if runs:
            details["repair_scripts"] = list(guide.repair)
    else:
        text, commands = template, [*commands, *guide.azure, *base, *guide.guest]
    if guide.text:
        text += " " + guide.text
    commands = list(dict.fromkeys(_fill(command, values) for command in commands))
    if kind == "serial_console" and commands:
        text += " Start with: " + "; ".join(commands[:3]) + "."
    return NextStep(kind, _fill(text, values), tuple(commands), details)
