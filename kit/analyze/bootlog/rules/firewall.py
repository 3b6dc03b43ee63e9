"""Guest firewalls: ufw/iptables/nftables/firewalld start-up, rule errors, and logged drops."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kit.analyze.bootlog.rules._base import Context, Hit, register

__all__ = ["FirewallRule"]

# netfilter LOG lines: "[UFW BLOCK] IN=eth0 OUT= MAC=… SRC=203.0.113.7 DST=10.0.0.4 … PROTO=TCP SPT=50000 DPT=22 …"
_PACKET = re.compile(r"IN=(\S*) OUT=(\S*) .*?SRC=(\S+) DST=(\S+) .*?PROTO=(\S+)(?: SPT=(\d+) DPT=(\d+))?")
_PREFIX = re.compile(r"(\[UFW [A-Z ]+\]|[A-Za-z][\w.-]*(?:[ -][A-Za-z][\w.-]*)*:?)\s*IN=")
_DROP_WORDS = re.compile(r"BLOCK|DROP|DENY|REJECT|Dropped|Denied|Blocked|drop|deny|reject|block", re.IGNORECASE)
_ADMIN_PORTS = {"22": "SSH", "3389": "RDP"}
_STARTED = re.compile(r"Started (?:Uncomplicated firewall|ufw\.service|firewalld|nftables|netfilter persistent|"
                      r"iptables|Netfilter Tables|Windows Defender Firewall)")
_RULE_ERROR = re.compile(r"(?:ip6?tables-restore|nft|ufw|firewalld|iptables)\S*:? .*(?:fail|error|Error|invalid|Bad|"
                         r"unknown|Could not|Couldn't)")


class FirewallRule:
    """Firewall messages on the console."""

    NAME = "firewall"
    TRIGGERS = ("UFW", "IN=", "Firewall", "Started ")

    def matches(self, line: str) -> bool:
        return "IN=" in line or "UFW" in line or "irewall" in line or "tables" in line or "ufw" in line or (
            "nft" in line)

    def parse_line(self, line: str, context: Context) -> Sequence[Hit]:
        packet = _PACKET.search(line)
        if packet:
            if "[UFW ALLOW]" in line or "[UFW AUDIT]" in line:
                return []
            if "[UFW BLOCK]" not in line:
                prefix = _PREFIX.search(line)
                label = prefix.group(1).strip() if prefix else ""
                if label and not _DROP_WORDS.search(label):
                    return []
            inbound, _, source, destination, protocol, _, port = packet.groups()
            what = f"{protocol} {source} → {destination}" + (f":{port}" if port else "")
            if port in _ADMIN_PORTS and inbound:
                service = _ADMIN_PORTS[port]
                return [Hit("boot:firewall:admin_port_blocked", f"The guest firewall dropped {service} traffic "
                            f"({what}): it blocks remote administration from inside the VM.", severity="critical")]
            return [Hit("boot:firewall:blocked", f"The guest firewall dropped a packet ({what}).", severity="info")]
        if _STARTED.search(line) or ("Firewall is active" in line) or ("ufw" in line and "active" in line):
            return [Hit("boot:firewall:enabled", "A guest firewall is active.", severity="info")]
        if _RULE_ERROR.search(line):
            return [Hit("boot:firewall:rules_error", f"Loading firewall rules failed: {line.strip()[-160:]}",
                        severity="warning")]
        return []


register(FirewallRule())
