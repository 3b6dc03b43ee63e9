"""The firewall family: logged drops, rule-loading errors (iptables-restore, nft, ufw, firewalld,
netfilter-persistent), banned responders, a full conntrack table and a firewall coming up."""

from __future__ import annotations

import pytest
from bootlog_data import ESC, FAILED, OK, findings, only

from kit.analyze.bootlog import parse_boot_log


@pytest.mark.parametrize(("line", "named"), [
    ("[  612.300000] [UFW BLOCK] IN=eth0 OUT= MAC=00:0d:3a:5b:8c:2e:12:34:56:78:9a:bc:08:00 SRC=203.0.113.7 "
     "DST=10.0.0.4 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=40000 DF PROTO=TCP SPT=50000 DPT=22 WINDOW=64240 RES=0x00 "
     "SYN URGP=0", "SSH traffic (TCP 203.0.113.7 → 10.0.0.4:22)"),
    ("Nov 25 22:19:26 sched-01 kernel: [156806.894107] fw-baseline-v7 DROP: IN=eth0 OUT= MAC=7c:1e:52:59:67:5f "
     "SRC=203.0.113.7 DST=10.42.1.4 LEN=60 TTL=51 PROTO=TCP SPT=52611 DPT=22 WINDOW=64240 SYN URGP=0",
     "SSH traffic (TCP 203.0.113.7 → 10.42.1.4:22)"),
    ("2026-11-25T09:20:07.123456+00:00 vm-01 kernel: IPTables-Dropped: IN=eth0 OUT= SRC=203.0.113.7 DST=10.0.0.4 "
     "LEN=52 PROTO=TCP SPT=50912 DPT=3389 WINDOW=8192 SYN URGP=0", "RDP traffic"),
])
def test_inbound_ssh_or_rdp_dropped_in_the_guest_is_critical(line: str, named: str) -> None:
    finding = only(line, "boot:firewall:admin_port_blocked")
    assert finding.severity == "critical" and named in finding.summary


@pytest.mark.parametrize("line", [
    "[  700.100000] [UFW BLOCK] IN=eth0 OUT= MAC=00:0d SRC=198.51.100.23 DST=10.0.0.4 LEN=40 PROTO=TCP SPT=41234 "
    "DPT=23 WINDOW=1024 SYN URGP=0",
    "[  700.100000] [UFW BLOCK] IN= OUT=eth0 SRC=10.0.0.4 DST=203.0.113.7 LEN=60 PROTO=TCP SPT=50000 DPT=22 SYN URGP=0",
    "[  700.100000] [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.7 DST=10.0.0.4 LEN=60 PROTO=TCP SPT=50000 DPT=2222 URGP=0",
])
def test_other_drops_are_info(line: str) -> None:
    finding = only(line, "boot:firewall:blocked")
    assert finding.severity == "info" and "SRC" not in finding.summary and "→" in finding.summary


def test_accept_and_audit_logs_are_not_drops() -> None:
    for line in ("[  612.3] [UFW ALLOW] IN=eth0 OUT= SRC=203.0.113.7 DST=10.0.0.4 PROTO=TCP SPT=50000 DPT=22",
                 "[  612.3] [UFW AUDIT] IN=eth0 OUT= SRC=203.0.113.7 DST=10.0.0.4 PROTO=TCP SPT=50000 DPT=22",
                 "[  612.3] ssh-accepted: IN=eth0 OUT= SRC=203.0.113.7 DST=10.0.0.4 PROTO=TCP SPT=50000 DPT=22"):
        assert not [f for f in findings(line) if f.kind.startswith("boot:firewall:")], line


@pytest.mark.parametrize(("line", "named"), [
    # the form the old triggers never let through
    ("[   10.512000] netfilter-persistent[498]: iptables-restore: line 3 failed", "iptables-restore"),
    ("iptables-restore: line 3 failed", "line 3 failed"),
    ("Nov 25 09:14:02 vm-01 netfilter-persistent[498]: ip6tables-restore: line 5 failed", "ip6tables-restore"),
    ("iptables-restore v1.8.7 (nf_tables): line 12 failed", "line 12 failed"),
    ("iptables-restore/1.8.9 Failed to initialize nft: Protocol not supported", "Protocol not supported"),
    ("iptables v1.8.7 (nf_tables): Couldn't load target `LOGGING':No such file or directory", "LOGGING"),
    ("Nov 25 09:14:02 vm-01 nft[512]: /etc/nftables.conf:12:3-20: Error: Could not process rule: No such file or "
     "directory", "/etc/nftables.conf line 12"),
    ("Error: Could not process rule: Operation not supported", "Could not process rule"),
    ("2026-11-25T09:14:02.123456+00:00 vm-01 ufw-init[498]: ERROR: problem running ufw-init",
     "problem running ufw-init"),
    ("Nov 25 09:14:02 vm-01 firewalld[812]: ERROR: COMMAND_FAILED: '/usr/sbin/iptables-restore -w -n' failed: "
     "iptables-restore: line 3 failed", "COMMAND_FAILED"),
    ("[   10.514000] netfilter-persistent[498]: run-parts: /usr/share/netfilter-persistent/plugins.d/15-ip4tables "
     "exited with return code 1", "15-ip4tables exited with return code 1"),
    (f"{FAILED} Failed to start {ESC}[0;1;39mnftables.service{ESC}[0m - nftables.", "nftables.service"),
    ("[[0;1;31mFAILED[0m] Failed to start [0;1;39mufw.service[0m - Uncomplicated firewall.", "ufw.service"),
    ("Nov 25 09:14:02 vm-01 systemd[1]: netfilter-persistent.service: Main process exited, code=exited, "
     "status=1/FAILURE", "netfilter-persistent.service failed (1/FAILURE)"),
])
def test_rules_that_fail_to_load_are_a_warning_naming_the_tool(line: str, named: str) -> None:
    finding = only(line, "boot:firewall:rules_error")
    assert finding.severity == "warning" and named in finding.summary
    assert "[0;" not in finding.summary


@pytest.mark.parametrize(("line", "named", "severity"), [
    ("2026-11-25 09:20:11,482 fail2ban.actions        [1234]: NOTICE  [sshd] Ban 203.0.113.7", "203.0.113.7", "error"),
    ("Nov 25 09:20:11 vm-01 fail2ban-server[1234]: fail2ban.actions [1234]: NOTICE [sshd] Ban 203.0.113.7",
     "jail sshd", "error"),
    ("Nov 25 09:20:11 vm-01 sshguard[77]: Blocking \"203.0.113.7/32\" for 120 secs (3 attacks in 5 secs, after 1 "
     "abuses over 5 secs.)", "203.0.113.7 for 120 secs", "error"),
    ("2026-11-25T09:20:11.000000+00:00 vm-01 sshguard[77]: Blocking 203.0.113.7:4 for >630secs: 40 danger in 4 "
     "attacks over 1 seconds", "203.0.113.7", "error"),
    ("Nov 25 09:20:09 vm-01 sshguard[77]: Attack from \"203.0.113.7\" on service SSH with danger 10.",
     "203.0.113.7 on service SSH", "warning"),
])
def test_a_banned_responder_is_named_by_address(line: str, named: str, severity: str) -> None:
    finding = only(line, "boot:firewall:responder_banned")
    assert finding.severity == severity and named in finding.summary


def test_an_unban_is_not_a_ban() -> None:
    line = "2026-11-25 09:30:11,482 fail2ban.actions        [1234]: NOTICE  [sshd] Unban 203.0.113.7"
    assert not [f for f in findings(line) if f.kind.startswith("boot:firewall:")]


@pytest.mark.parametrize("line", [
    "[ 8123.441002] nf_conntrack: table full, dropping packet",
    "[ 8123.441002] nf_conntrack: nf_conntrack: table full, dropping packet",
    "Nov 25 09:20:11 vm-01 kernel: nf_conntrack: nf_conntrack: table full, dropping packet",
])
def test_a_full_conntrack_table_is_an_error(line: str) -> None:
    finding = only(line, "boot:firewall:conntrack_full")
    assert finding.severity == "error" and "nf_conntrack" in finding.summary


@pytest.mark.parametrize(("line", "named"), [
    (f"{OK} Finished {ESC}[0;1;39mufw.service{ESC}[0m - Uncomplicated firewall.", "ufw.service"),
    ("[[0;32m  OK  [0m] Finished [0;1;39mnetfilter-persistent.service[0m - netfilter persistent configuration.",
     "netfilter-persistent.service"),
    ("[  OK  ] Started Uncomplicated firewall.", "Uncomplicated firewall"),
    (f"{OK} Started {ESC}[0;1;39mfirewalld.service{ESC}[0m - firewalld - dynamic firewall daemon.",
     "firewalld.service"),
    ("[  OK  ] Finished nftables.service - Netfilter Tables.", "nftables.service"),
    ("[   10.510000] netfilter-persistent[498]: run-parts: executing "
     "/usr/share/netfilter-persistent/plugins.d/15-ip4tables start", "15-ip4tables"),
    ("Nov 25 09:14:02 vm-01 netfilter-persistent[498]: Loading netfilter rules...", "netfilter-persistent"),
])
def test_a_firewall_coming_up_is_info(line: str, named: str) -> None:
    finding = only(line, "boot:firewall:enabled")
    assert finding.severity == "info" and named in finding.summary


def test_healthy_firewall_lines_give_no_warning() -> None:
    log = "\r\n".join([
        "         Starting ufw.service - Uncomplicated firewall...",
        f"{OK} Finished {ESC}[0;1;39mufw.service{ESC}[0m - Uncomplicated firewall.",
        "[   10.510000] netfilter-persistent[498]: run-parts: executing "
        "/usr/share/netfilter-persistent/plugins.d/25-ip6tables start",
        "[   10.511000] netfilter-persistent[498]: Warning: skipping IPv6 (no rules to load)",
        "2026-11-25 09:14:03,100 fail2ban.server         [1234]: INFO    Starting Fail2ban v1.0.2",
        "2026-11-25 09:20:10,100 fail2ban.filter         [1234]: INFO    [sshd] Found 203.0.113.7 - 2026-11-25 "
        "09:20:10",
        "Status: inactive",
    ]).encode()
    assert {f.severity for f in parse_boot_log(log + b"\r\n").findings} == {"info"}
