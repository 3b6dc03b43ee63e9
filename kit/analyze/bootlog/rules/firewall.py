"""Guest firewalls: ufw, iptables (netfilter-persistent), nftables and firewalld loading or failing
to load their rules, logged drops (SSH/RDP dropped in the guest), responders banned by fail2ban
or sshguard, and a full connection-tracking table.

Sources: netfilter's LOG target format (net/netfilter/nf_log_syslog.c) and ufw's ``[UFW BLOCK]``
prefix; iptables-restore and nft error output (iptables/iptables-restore.c, nftables
src/erec.c); firewalld's ``ERROR: <CODE>`` messages (firewall/errors.py); Debian's
netfilter-persistent (``run-parts`` over plugins.d); fail2ban's ``fail2ban.actions`` NOTICE
``Ban <ip>``; sshguard (src/sshguard.c, blocklist.c); the kernel's conntrack message
(net/netfilter/nf_conntrack_core.c ``nf_conntrack: table full, dropping packet``); gcpdiag
``gce/serial-log-analyzer`` (runbook/gce/constants.py SSHGUARD_PATTERNS); Microsoft, "Troubleshoot
SSH connection issues to an Azure VM" (learn.microsoft.com/troubleshoot/azure/virtual-machines/
linux/troubleshoot-ssh-connection) and "What is IP address 168.63.129.16?".
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_PREFIX = re.compile(r"(\[UFW [A-Z ]+\]|[A-Za-z][\w.-]*(?:[ -][A-Za-z][\w.-]*)*:?)\s*IN=")
_DROP_WORDS = re.compile(r"BLOCK|DROP|DENY|REJECT|Dropped|Denied|Blocked|drop|deny|reject|block", re.IGNORECASE)
_ADMIN_PORTS = {"22": "SSH", "3389": "RDP"}
_SSH_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/troubleshoot-ssh-connection"
#: The rest of a netfilter LOG line after ``IN=<dev> `` (fields in the kernel's order; skipped ones token by token).
_PACKET_HEAD = r"OUT=\S* (?:\S+ )*?SRC=(?P<src>\S+) DST=(?P<dst>\S+) (?:\S+ )*?PROTO=(?P<proto>\S+)"
_PACKET = _PACKET_HEAD + r"(?: SPT=\d+ DPT=(?P<dpt>\d+))?"
_IP = r"(?P<ip>\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:]+)"
#: Firewall units and their descriptions as systemd prints them (Ubuntu, Debian, RHEL, SUSE).
_UNITS = (r"ufw\.service|Uncomplicated firewall|firewalld\.service|firewalld - dynamic firewall daemon|"
          r"nftables\.service|Netfilter Tables|nftables|netfilter-persistent\.service|netfilter persistent "
          r"configuration|iptables\.service|ip6tables\.service|IPv4 firewall with iptables|"
          r"IPv6 firewall with ip6tables|Windows Defender Firewall")
_STRIP = re.compile(r"\[[0-9;]*(?:…|$)|\s+$")


def _clean(text: str) -> str:
    return _STRIP.sub("", text).rstrip(".").strip()


def _packet(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    """A netfilter LOG line that records a drop (not an accept or audit log).

    Thousands of these can fill a log, so the hit is made directly (no summary template).
    """
    line = match.string
    if "[UFW BLOCK]" not in line:
        if "[UFW ALLOW]" in line or "[UFW AUDIT]" in line:
            return None
        prefix = _PREFIX.search(line)
        label = prefix.group(1).strip() if prefix else ""
        if label and not _DROP_WORDS.search(label):
            return None
    proto, source, destination, port = match.group("proto", "src", "dst", "dpt")
    what = f"{proto} {source} → {destination}:{port})" if port else f"{proto} {source} → {destination})"
    if signature.kind == "boot:firewall:admin_port_blocked":
        return Hit(signature.kind, f"The guest firewall dropped {_ADMIN_PORTS[port]} traffic ({what}: it blocks remote "
                   "administration from inside the VM.", severity=signature.severity)
    return Hit(signature.kind, f"The guest firewall dropped a packet ({what}.", severity=signature.severity)


def _unit(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    unit = _clean(match.group("unit"))
    if signature.kind.endswith(":enabled"):
        return signature.hit(match, summary=f"A guest firewall is active: {unit} loaded its rules.")
    detail = match.groupdict().get("status") or match.groupdict().get("result")
    return signature.hit(match, summary=f"The firewall unit {unit} failed" + (f" ({detail})" if detail else "") +
                         ": its rules were not loaded as configured.")


RULE = register(Rule("firewall", [
    # --- logged packets -----------------------------------------------------------------------------
    # one signature per port: the literal " DPT=22 " routes only such lines here (drops of other ports can be
    # thousands of lines; they go to the generic signature alone)
    Signature("boot:firewall:admin_port_blocked", rf"IN=(?P<inbound>\S+) {_PACKET_HEAD} SPT=\d+ DPT=(?P<dpt>22) ",
              build=_packet, severity="critical", source=_SSH_DOCS + "; net/netfilter/nf_log_syslog.c (LOG target)",
              samples=("[  612.300000] [UFW BLOCK] IN=eth0 OUT= MAC=00:0d:3a:5b:8c:2e:12:34:56:78:9a:bc:08:00 "
                       "SRC=203.0.113.7 DST=10.0.0.4 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=40000 DF PROTO=TCP SPT=50000 "
                       "DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0",
                       "[156806.894107] fw-baseline-v7 DROP: IN=eth0 OUT= MAC=7c:1e:52:59:67:5f:12:34:56:78:9a:bc:08:"
                       "00 SRC=203.0.113.7 DST=10.42.1.4 LEN=60 TOS=0x00 PREC=0x00 TTL=51 ID=16286 DF PROTO=TCP "
                       "SPT=52611 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0")),
    Signature("boot:firewall:admin_port_blocked", rf"IN=(?P<inbound>\S+) {_PACKET_HEAD} SPT=\d+ DPT=(?P<dpt>3389) ",
              build=_packet, severity="critical", source=_SSH_DOCS + "; net/netfilter/nf_log_syslog.c (LOG target)",
              samples=("Nov 25 09:20:07 vm-01 kernel: [  612.3] IPTables-Dropped: IN=eth0 OUT= SRC=203.0.113.7 "
                       "DST=10.0.0.4 LEN=52 PROTO=TCP SPT=50912 DPT=3389 WINDOW=8192 SYN URGP=0",)),
    Signature("boot:firewall:blocked",
              rf"IN=(?P<inbound>\S*) {_PACKET}",
              build=_packet, severity="info", source="net/netfilter/nf_log_syslog.c (LOG target); ufw [UFW BLOCK]",
              samples=("[  612.300000] [UFW BLOCK] IN=eth0 OUT= MAC=00:0d:3a:5b:8c:2e:12:34:56:78:9a:bc:08:00 "
                       "SRC=198.51.100.23 DST=10.0.0.4 LEN=40 TOS=0x00 PREC=0x00 TTL=242 ID=54321 PROTO=TCP SPT=41234 "
                       "DPT=23 WINDOW=1024 RES=0x00 SYN URGP=0",
                       "Nov 25 09:20:07 vm-01 kernel: IPTables-Dropped: IN=eth0 OUT= MAC=00:0d:3a:5b:8c:2e "
                       "SRC=10.0.0.9 DST=10.0.0.4 LEN=84 PROTO=ICMP TYPE=8 CODE=0 ID=7 SEQ=1",
                       "[ 1201.5] [UFW BLOCK] IN= OUT=eth0 SRC=10.0.0.4 DST=203.0.113.7 LEN=60 PROTO=TCP SPT=50000 "
                       "DPT=22 WINDOW=64240 SYN URGP=0")),
    # --- responders banned and a full conntrack table -----------------------------------------------------
    Signature("boot:firewall:responder_banned",
              rf"fail2ban\.actions\s*\[\d+\]: (?:NOTICE|WARNING)\s+\[(?P<jail>[^\]]+)\]\s+(?:Restore )?Ban {_IP}",
              "fail2ban (jail {jail}) banned {ip}: connections from that address are dropped until the ban expires.",
              severity="error", source="fail2ban/server/actions.py (__checkBan: \"[%s] Ban %s\")",
              samples=("2026-11-25 09:20:11,482 fail2ban.actions        [1234]: NOTICE  [sshd] Ban 203.0.113.7",
                       "Nov 25 09:20:11 vm-01 fail2ban-server[1234]: fail2ban.actions [1234]: NOTICE [sshd] Ban "
                       "203.0.113.7",
                       "2026-11-25 09:14:03,100 fail2ban.actions        [1234]: NOTICE  [sshd] Restore Ban "
                       "198.51.100.9")),
    Signature("boot:firewall:responder_banned",
              rf"(?:Blocking|blocking) \"?{_IP}(?:/\d+|:\d+)?\"? for (?P<time>>?\d+ ?(?:secs|seconds))",
              "sshguard blocked {ip} for {time}: connections from that address are dropped until the block "
              "expires.", severity="error", source="GoogleCloudPlatform/gcpdiag:gcpdiag/runbook/gce/constants.py "
              "(SSHGUARD_PATTERNS); sshguard src/blocker/blocklist.c",
              samples=("Nov 25 09:20:11 vm-01 sshguard[77]: Blocking \"203.0.113.7/32\" for 120 secs (3 attacks in "
                       "5 secs, after 1 abuses over 5 secs.)",
                       "Nov 25 09:20:11 vm-01 sshguard[77]: Blocking 203.0.113.7:4 for >630secs: 40 danger in 4 "
                       "attacks over 1 seconds (all: 40d in 1 abuses over 1s).",
                       "sshguard[77]: blocking 203.0.113.7 for 240 seconds")),
    Signature("boot:firewall:responder_banned",
              rf"Attack from \"{_IP}\" on service (?P<service>\w+)",
              "sshguard counted an attack from {ip} on service {service}; it blocks the address once the attacks "
              "pass its threshold.", severity="warning", source="sshguard src/sshguard.c (report_address)",
              samples=("Nov 25 09:20:09 vm-01 sshguard[77]: Attack from \"203.0.113.7\" on service SSH with danger "
                       "10.",
                       "sshguard[77]: Attack from \"203.0.113.7\" on service 100 with danger 10.")),
    Signature("boot:firewall:conntrack_full", r"(?P<table>nf_conntrack|ip_conntrack): (?:nf_conntrack: )?table full, "
              r"dropping packet",
              "The kernel's connection-tracking table ({table}) is full: new connections, SSH included, are dropped.",
              severity="error", source="net/netfilter/nf_conntrack_core.c (__nf_conntrack_alloc)",
              samples=("[ 8123.441002] nf_conntrack: table full, dropping packet",
                       "[ 8123.441002] nf_conntrack: nf_conntrack: table full, dropping packet",
                       "Nov 25 09:20:11 vm-01 kernel: ip_conntrack: table full, dropping packet.")),
    # --- rule loading errors ------------------------------------------------------------------------------
    Signature("boot:firewall:rules_error",
              r"firewalld(?:\[\d+\])?: ERROR: (?P<code>[A-Z][A-Z_]+)(?::? (?P<detail>.+))?",
              build=lambda s, m, c: s.hit(m, summary=f"firewalld could not apply its rules ({m.group('code')}" +
                                          (f": {_clean(m.group('detail'))[:120]}" if m.group("detail") else "") + ")."),
              severity="warning", source="firewalld src/firewall/errors.py",
              samples=("Nov 25 09:14:02 vm-01 firewalld[812]: ERROR: COMMAND_FAILED: '/usr/sbin/iptables-restore -w "
                       "-n' failed: iptables-restore: line 3 failed",
                       "2026-11-25T09:14:02.123456+00:00 vm-01 firewalld[812]: ERROR: INVALID_ZONE: trusted2")),
    Signature("boot:firewall:rules_error",
              r"(?P<tool>(?:ip6?|eb|arp)tables(?:-legacy|-nft)?-restore)(?:/[\d.]+ | v[\d.]+(?: \([\w_]+\))?: |: )"
              r"(?P<detail>\S.*)",
              build=lambda s, m, c: s.hit(m, summary=f"{m.group('tool')} could not load the firewall rules "
                                          f"({_clean(m.group('detail'))[:120]}): the ruleset is not what was meant."),
              severity="warning", source="iptables/iptables-restore.c (\"%s: line %u failed\")",
              samples=("[   10.512000] netfilter-persistent[498]: iptables-restore: line 3 failed",
                       "iptables-restore v1.8.7 (nf_tables): line 12 failed",
                       "Nov 25 09:14:02 vm-01 netfilter-persistent[498]: ip6tables-restore: line 5 failed",
                       "iptables-restore/1.8.9 Failed to initialize nft: Protocol not supported")),
    Signature("boot:firewall:rules_error",
              r"(?P<tool>ip6?tables) v[\d.]+(?: \([\w_]+\))?: (?P<detail>.+)",
              build=lambda s, m, c: s.hit(m, summary=f"{m.group('tool')} refused a rule "
                                          f"({_clean(m.group('detail'))[:120]})."),
              severity="warning", source="iptables/xshared.c (xtables_error)",
              samples=("iptables v1.8.7 (nf_tables): Couldn't load target `LOGGING':No such file or directory",)),
    Signature("boot:firewall:rules_error",
              r"(?P<file>/\S*nft\S*?):(?P<line>\d+):[\d-]+: Error: (?P<detail>.+)|"
              r"Error: (?P<rule>Could not process rule: .+)",
              build=lambda s, m, c: s.hit(m, summary=(
                  f"nft could not load {m.group('file')} line {m.group('line')} ({_clean(m.group('detail'))[:120]})."
                  if m.group("file") else f"nft could not load the ruleset ({_clean(m.group('rule'))[:120]}).")),
              severity="warning", source="nftables src/erec.c (erec_print)",
              samples=("Nov 25 09:14:02 vm-01 nft[512]: /etc/nftables.conf:12:3-20: Error: Could not process rule: "
                       "No such file or directory",
                       "/etc/nftables.conf:7:17-18: Error: syntax error, unexpected string",
                       "Error: Could not process rule: Operation not supported")),
    Signature("boot:firewall:rules_error",
              r"ERROR: (?P<detail>problem running ufw-init.*|Couldn't determine iptables version.*|"
              r"Could not load logging rules.*|initcaps.*)|(?:ufw-init|ufw)\[\d+\]: ERROR: (?P<other>.+)",
              build=lambda s, m, c: s.hit(m, summary=f"ufw could not load its rules "
                                          f"({_clean(m.group('detail') or m.group('other'))[:120]})."),
              severity="warning", source="ufw src/ufw-init-functions, src/backend_iptables.py",
              samples=("Nov 25 09:14:02 vm-01 ufw-init[498]: ERROR: problem running ufw-init",
                       "[   10.300000] ufw-init[498]: ERROR: Couldn't determine iptables version",
                       "Nov 25 09:14:02 vm-01 ufw[498]: ERROR: Could not load logging rules")),
    Signature("boot:firewall:rules_error",
              r"netfilter-persistent(?:\[\d+\])?: run-parts: (?P<plugin>\S+) exited with return code (?P<code>\d+)",
              "netfilter-persistent could not load its rules: {plugin} exited with return code {code}.",
              severity="warning", source="Debian netfilter-persistent (netfilter-persistent, run-parts)",
              samples=("[   10.514000] netfilter-persistent[498]: run-parts: "
                       "/usr/share/netfilter-persistent/plugins.d/15-ip4tables exited with return code 1",)),
    Signature("boot:firewall:rules_error",
              rf"Failed to start (?P<unit>{_UNITS})",
              build=_unit, severity="warning", source="systemd src/core/job.c (job_done status line)",
              samples=("[FAILED] Failed to start ufw.service - Uncomplicated firewall.",
                       "[FAILED] Failed to start nftables.service - nftables.",
                       "[FAILED] Failed to start netfilter-persistent.service - netfilter persistent configuration.")),
    Signature("boot:firewall:rules_error",
              r"(?P<unit>ufw\.service|firewalld\.service|nftables\.service|netfilter-persistent\.service|"
              r"iptables\.service|ip6tables\.service): (?:Main process exited, code=\w+, "
              r"status=(?!0/)(?P<status>[^\s.]+)|Failed with result '(?P<result>[^']+)')",
              build=_unit, severity="warning", source="systemd src/core/service.c",
              samples=("Nov 25 09:14:02 vm-01 systemd[1]: nftables.service: Main process exited, code=exited, "
                       "status=1/FAILURE",
                       "[   10.520000] systemd[1]: netfilter-persistent.service: Failed with result 'exit-code'.")),
    # --- a firewall is on --------------------------------------------------------------------------------
    Signature("boot:firewall:enabled", rf"(?:Started|Finished) (?P<unit>{_UNITS})",
              build=_unit, severity="info", source="systemd src/core/job.c (job_done status line)",
              samples=("[  OK  ] Started Uncomplicated firewall.",
                       "[  OK  ] Finished ufw.service - Uncomplicated firewall.",
                       "[  OK  ] Finished netfilter-persistent.service - netfilter persistent configuration.",
                       "[  OK  ] Started firewalld.service - firewalld - dynamic firewall daemon.",
                       "[  OK  ] Finished nftables.service - Netfilter Tables.")),
    Signature("boot:firewall:enabled",
              r"netfilter-persistent(?:\[\d+\])?: (?:run-parts: executing (?P<plugin>\S+)|(?P<loading>Loading)\b)",
              build=lambda s, m, c: s.hit(m, summary=(
                  f"A guest firewall is active: netfilter-persistent loads its rules ({m.group('plugin')})."
                  if m.group("plugin") else "A guest firewall is active: netfilter-persistent loads its rules.")),
              severity="info", source="Debian netfilter-persistent (netfilter-persistent start)",
              samples=("[   10.510000] netfilter-persistent[498]: run-parts: executing "
                       "/usr/share/netfilter-persistent/plugins.d/15-ip4tables start",
                       "Nov 25 09:14:02 vm-01 netfilter-persistent[498]: Loading netfilter rules...",
                       "netfilter-persistent: Loading netfilter rules...")),
    Signature("boot:firewall:enabled", r"(?P<what>Firewall is active and enabled on system startup|"
              r"Firewall is active|^\s*Status: active\s*$)",
              "A guest firewall is active (ufw: {what}).", severity="info", source="ufw src/frontend.py (enable)",
              samples=("Firewall is active and enabled on system startup", "Status: active")),
]))
