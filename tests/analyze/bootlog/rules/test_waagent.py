"""The waagent family: the Azure Linux Agent's unit, provisioning, the wire server, the agent
failing (Not Ready) and its errors, in its own log format, the journal and systemd's status lines."""

from __future__ import annotations

import pytest
from bootlog_data import ESC, FAILED, OK, only

from kit.analyze.bootlog import parse_boot_log


@pytest.mark.parametrize(("line", "named"), [
    (f"{FAILED} Failed to start {ESC}[0;1;39mwalinuxagent.service{ESC}[0m - Azure Linux Agent.",
     "walinuxagent.service"),
    ("[[0;1;31mFAILED[0m] Failed to start [0;1;39mwaagent.service[0m - Azure Linux Agent.", "waagent.service"),
    ("[FAILED] Failed to start Azure Linux Agent.", "Azure Linux Agent"),
    ("Nov 25 09:14:02 vm-01 systemd[1]: walinuxagent.service: Main process exited, code=exited, status=1/FAILURE",
     "1/FAILURE"),
    ("2026-11-25T09:14:02.123456+00:00 vm-01 systemd[1]: waagent.service: Failed with result 'exit-code'.",
     "exit-code"),
])
def test_the_agent_unit_failing_is_an_error(line: str, named: str) -> None:
    finding = only(line, "boot:waagent:failed")
    assert finding.severity == "error" and named in finding.summary and "[0;" not in finding.summary


@pytest.mark.parametrize(("line", "kind", "severity", "named"), [
    ("2026-11-25T09:16:02.312121Z ERROR Daemon Daemon Provisioning failed: [ProvisionError] Failed to provision: no "
     "SSH key (24s)", "boot:waagent:provisioning_failed", "error", "no SSH key"),
    ("Nov 25 09:46:02 vm-01 python3[1036]: 2026-11-25T09:46:02.312121Z ERROR Daemon Daemon Provisioning with "
     "cloud-init failed: [ProvisionError] Giving up, ssh host key was not found at /etc/ssh/ssh_host_rsa_key.pub "
     "after 1800s",
     "boot:waagent:provisioning_failed", "error", "/etc/ssh/ssh_host_rsa_key.pub"),
    ("2026-11-25T09:16:02.312121Z ERROR Daemon Daemon Failed to connect to wireserver endpoint 168.63.129.16: "
     "[Errno 101] Network is unreachable", "boot:waagent:wireserver_unreachable", "warning", "Network is unreachable"),
    ("2026-11-25T09:16:02.312121Z WARNING ExtHandler ExtHandler An error occurred while retrieving the goal state: "
     "[ProtocolError] [HTTP Failed] GET http://168.63.129.16/machine/ -- IOError timed out -- 6 attempts made",
     "boot:waagent:wireserver_unreachable", "warning", "168.63.129.16"),
    ("Nov 25 09:13:52 vm-01 python3[1036]: 2026-11-25T09:13:52.100000Z WARNING Daemon Daemon No route exists to "
     "168.63.129.16", "boot:waagent:wireserver_unreachable", "warning", "No route exists"),
    ("2026-11-25T09:16:02.312121Z WARNING Daemon Daemon Agent WALinuxAgent-2.12.0.2 launched with command 'python3 -u "
     "bin/WALinuxAgent-2.12.0.2-py3.12.egg -run-exthandlers' failed with return code: 1",
     "boot:waagent:not_ready", "warning", "WALinuxAgent-2.12.0.2"),
    ("2026-11-25T09:16:02.312121Z WARNING ExtHandler ExtHandler Agent WALinuxAgent-2.9.1.1 is permanently disabled",
     "boot:waagent:not_ready", "warning", "Not Ready"),
    ("2026-11-25T09:16:02.312121Z ERROR ExtHandler ExtHandler Event: name=WALinuxAgent, op=ExtensionProcessing, "
     "message=Unable to read extension configuration", "boot:waagent:error", "warning",
     "Unable to read extension configuration"),
])
def test_agent_trouble(line: str, kind: str, severity: str, named: str) -> None:
    finding = only(line, kind)
    assert finding.severity == severity and named in finding.summary
    assert not finding.summary.startswith("waagent error: ExtHandler")  # the thread names are not the message


def test_the_agent_starting_is_info_and_its_healthy_lines_give_no_warning() -> None:
    log = "\r\n".join([
        "         Starting walinuxagent.service - Azure Linux Agent...",
        f"{OK} Started {ESC}[0;1;39mwalinuxagent.service{ESC}[0m - Azure Linux Agent.",
        "2026-11-25T09:13:58.412311Z INFO Daemon Daemon Azure Linux Agent Version: 2.9.1.1",
        "2026-11-25T09:13:58.500000Z INFO Daemon Daemon Clean protocol and wireserver endpoint",
        "2026-11-25T09:13:58.631221Z INFO ExtHandler ExtHandler Wire server endpoint:168.63.129.16",
        "2026-11-25T09:13:59.000000Z INFO ExtHandler ExtHandler Fetch goal state from WireServer completed",
        "2026-11-25T09:13:59.100000Z INFO Daemon Daemon Provisioning already completed, skipping.",
        "2026-11-25T09:14:30.000000Z INFO ExtHandler ExtHandler [HEARTBEAT] Agent WALinuxAgent-2.9.1.1 is running as "
        "the goal state agent [DEBUG HeartbeatCounter: 1]",
    ]).encode()
    report = parse_boot_log(log + b"\r\n")
    assert [(f.kind, f.severity) for f in report.findings] == [("boot:waagent:started", "info")]
    assert "walinuxagent.service" in report.findings[0].summary
    assert any(e.kind == "boot:waagent:endpoint" for e in report.events)
