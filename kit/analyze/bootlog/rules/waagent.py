"""The Azure Linux Agent (waagent / WALinuxAgent): its unit starting or failing, provisioning
failures, the wire server (168.63.129.16) out of reach, the agent itself failing (Azure then shows
it "Not Ready"), and its other errors.

Sources: WALinuxAgent's own messages (azurelinuxagent/pa/provision/default.py and cloudinit.py
``Provisioning failed`` / ``Provisioning with cloud-init failed`` / ``Giving up, ...``,
azurelinuxagent/common/dhcp.py ``No route exists to 168.63.129.16``,
azurelinuxagent/common/utils/restutil.py ``[HTTP Failed] ... -- N attempts made``,
azurelinuxagent/ga/update.py and guestagent.py ``Agent WALinuxAgent-… failed …``); its log format
``<ISO time>Z LEVEL <thread> <thread> message`` (azurelinuxagent/common/logger.py); Microsoft,
"Troubleshoot the Azure Linux Agent" (learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/
linux-azure-guest-agent: ``WARNING ExtHandler ExtHandler An error occurred while retrieving the
goal state``) and "What is IP address 168.63.129.16?".
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_AGENT_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-azure-guest-agent"
#: The agent's threads as its log lines name them (``ERROR ExtHandler ExtHandler …``).
_THREAD = (r"(?:Daemon|ExtHandler|MonitorHandler|EnvHandler|PollResourceUsage|SendTelemetryHandler|"
           r"TelemetryEventsCollector|CollectLogsHandler|SelfUpdate|Agent|Event)")
_CUT = re.compile(r"\[[0-9;]*(?:…|$)|…$")


def _message(match: re.Match[str]) -> str:
    return _CUT.sub("", match.group("message") or "").strip()[:160]


def _failed(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    unit = _CUT.sub("", match.group("unit") or "").strip() or "Azure Linux Agent"
    detail = match.groupdict().get("status") or match.groupdict().get("result")
    return signature.hit(match, summary=f"The Azure Linux Agent ({unit}) failed" + (f" ({detail})" if detail else "")
                         + ": extensions, password reset and provisioning reports will not work.")


RULE = register(Rule("waagent", [
    Signature("boot:waagent:failed",
              r"Failed to start (?P<unit>Azure Linux Agent|walinuxagent\.s[a-z]*…?|waagent\.s[a-z]*…?)",
              build=_failed, severity="error", os="linux", source="systemd src/core/job.c (job_done status line)",
              samples=("[FAILED] Failed to start walinuxagent.service - Azure Linux Agent.",
                       "[FAILED] Failed to start Azure Linux Agent.",
                       "[FAILED] Failed to start waagent.service - Azure Linux Agent.")),
    Signature("boot:waagent:failed",
              r"(?P<unit>walinuxagent\.service|waagent\.service): (?:[Mm]ain process exited, code=\w+, "
              r"status=(?!0/)(?P<status>[^\s.]+)|Failed with result '(?P<result>[^']+)')",
              build=_failed, severity="error", os="linux", source="systemd src/core/service.c",
              samples=("Nov 25 09:14:02 vm-01 systemd[1]: walinuxagent.service: Main process exited, code=exited, "
                       "status=1/FAILURE",
                       "[   10.520000] systemd[1]: waagent.service: Failed with result 'exit-code'.")),
    Signature("boot:waagent:provisioning_failed",
              r"(?P<message>Provisioning (?:with cloud-init )?failed: .*|ProvisioningFailed.*|Failed to provision.*|"
              r"Giving up, (?:ovf-env\.xml was not copied|ssh host key was not found).*)",
              build=lambda s, m, c: s.hit(m, summary=f"waagent reported a provisioning failure: {_message(m)}"),
              severity="error", os="linux",
              source="Azure/WALinuxAgent:azurelinuxagent/pa/provision/default.py, cloudinit.py",
              samples=("2026-11-25T09:16:02.312121Z ERROR Daemon Daemon Provisioning failed: [ProvisionError] "
                       "Failed to provision: no SSH key or password (24s)",
                       "2026-11-25T09:46:02.312121Z ERROR Daemon Daemon Provisioning with cloud-init failed: "
                       "[ProvisionError] Giving up, ssh host key was not found at /etc/ssh/ssh_host_rsa_key.pub after "
                       "1800s (1830s)",
                       "Nov 25 09:46:02 vm-01 python3[1036]: 2026-11-25T09:46:02.312121Z ERROR Daemon Daemon "
                       "Giving up, ovf-env.xml was not copied to /var/lib/waagent/ovf-env.xml after 1800s")),
    Signature("boot:waagent:wireserver_unreachable",
              rf"\b(?:WARNING|ERROR) {_THREAD}(?: {_THREAD})?\b(?P<message>.*(?:168\.63\.129\.16|WireServer|"
              r"wireserver|Wireserver|Wire server|wire server|the goal state).*)",
              build=lambda s, m, c: s.hit(m, summary="waagent could not talk to the Azure wire server (168.63.129.16): "
                                          f"a guest firewall or route may block it ({_message(m)})."),
              severity="warning", os="linux", source=_AGENT_DOCS,
              samples=("2026-11-25T09:16:02.312121Z ERROR Daemon Daemon Failed to connect to wireserver endpoint "
                       "168.63.129.16: [Errno 101] Network is unreachable",
                       "2026-11-25T09:16:02.312121Z WARNING ExtHandler ExtHandler An error occurred while retrieving "
                       "the goal state: [ProtocolError] [Wireserver Exception] [HttpError] [HTTP Failed] GET "
                       "http://168.63.129.16/machine/?comp=goalstate -- IOError timed out -- 6 attempts made",
                       "2026-11-25T09:13:52.100000Z WARNING Daemon Daemon No route exists to 168.63.129.16")),
    Signature("boot:waagent:not_ready",
              r"Agent (?P<agent>WALinuxAgent-[\d.]+) (?P<message>(?:launched with command '[^']*' )?failed with "
              r"(?:return code|exception).*|is permanently disabled.*|restarted more than .*|is an orphan.*|"
              r"is reached memory limit.*)|(?P<report>Reporting NotReady failed.*)",
              build=lambda s, m, c: s.hit(m, summary=(
                  f"The Azure Linux Agent {m.group('agent')} {_message(m)}: Azure shows the VM agent Not Ready "
                  "(no extensions, Run Command or password reset)." if m.group("agent") else
                  f"waagent could not report its status to Azure ({_CUT.sub('', m.group('report'))[:120]}): the VM "
                  "agent shows Not Ready.")),
              severity="warning", os="linux", source="Azure/WALinuxAgent:azurelinuxagent/ga/update.py, guestagent.py",
              samples=("2026-11-25T09:16:02.312121Z WARNING ExtHandler ExtHandler Agent WALinuxAgent-2.9.1.1 failed "
                       "with exception: [Errno 28] No space left on device",
                       "2026-11-25T09:16:02.312121Z WARNING Daemon Daemon Agent WALinuxAgent-2.12.0.2 launched with "
                       "command 'python3 -u bin/WALinuxAgent-2.12.0.2-py3.12.egg -run-exthandlers' failed with return "
                       "code: 1",
                       "2026-11-25T09:16:02.312121Z ERROR Daemon Daemon Reporting NotReady failed: [ProtocolError] "
                       "timed out")),
    Signature("boot:waagent:error",
              rf"\bERROR {_THREAD}(?: {_THREAD})?\b(?P<message>.*)",
              build=lambda s, m, c: s.hit(m, summary=f"waagent error: {_message(m)}"),
              severity="warning", os="linux", source="Azure/WALinuxAgent:azurelinuxagent/common/logger.py",
              samples=("2026-11-25T09:16:02.312121Z ERROR ExtHandler ExtHandler Event: name=WALinuxAgent, "
                       "op=ExtensionProcessing, message=Unable to read extension configuration",)),
    Signature("boot:waagent:endpoint", r"Wire server endpoint:(?P<ip>[\d.]+)",
              "waagent found the wire server endpoint {ip}.", os="linux",
              source="Azure/WALinuxAgent:azurelinuxagent/common/protocol/wire.py",
              samples=("2026-11-25T09:13:58.631221Z INFO ExtHandler ExtHandler Wire server endpoint:168.63.129.16",)),
    Signature("boot:waagent:started",
              r"Started (?P<unit>Azure Linux Agent|walinuxagent\.servi\S*|waagent\.servi\S*)",
              build=lambda s, m, c: s.hit(m, summary=f"The Azure Linux Agent started "
                                          f"({_CUT.sub('', m.group('unit')).rstrip('.')})."),
              severity="info", os="linux", source="systemd src/core/job.c (job_done status line)",
              samples=("[  OK  ] Started walinuxagent.service - Azure Linux Agent.",
                       "[  OK  ] Started Azure Linux Agent.",
                       "[  OK  ] Started waagent.service - Azure Linux Agent.")),
]))
