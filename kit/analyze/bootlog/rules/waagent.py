"""The Azure Linux Agent (waagent / WALinuxAgent)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kit.analyze.bootlog.rules._base import Context, Hit, register

__all__ = ["WaagentRule"]

_NAMES = ("waagent", "WALinuxAgent", "walinuxagent", "Azure Linux Agent")
_FAILED = re.compile(r"Failed to start Azure Linux Agent|"
                     r"(?:walinuxagent|waagent)\.service: (?:Failed|Main process exited)")
_ERROR = re.compile(r"\bERROR\b|\[ERROR\]")
_PROVISIONING = re.compile(r"Provisioning failed|ProvisioningFailed|Failed to provision", re.IGNORECASE)
_WIRESERVER = re.compile(r"168\.63\.129\.16|wireserver|WireServer", re.IGNORECASE)


class WaagentRule:
    """waagent start, failure and error lines."""

    NAME = "waagent"
    TRIGGERS = ("WALinuxAgent", "Azure Linux Agent", "ERROR", "Wire server", "WireServer")

    def matches(self, line: str) -> bool:
        return any(name in line for name in _NAMES) or " Daemon " in line or " ExtHandler " in line

    def parse_line(self, line: str, context: Context) -> Sequence[Hit]:
        if _FAILED.search(line):
            return [Hit("boot:waagent:failed", "The Azure Linux Agent (waagent) failed: extensions, password reset "
                        "and provisioning reports will not work.", severity="error", os="linux")]
        if _PROVISIONING.search(line):
            return [Hit("boot:waagent:provisioning_failed", "waagent reported a provisioning failure.",
                        severity="error", os="linux")]
        if _ERROR.search(line):
            if _WIRESERVER.search(line):
                return [Hit("boot:waagent:wireserver_unreachable", "waagent could not talk to the Azure wire server "
                            "(168.63.129.16): a guest firewall or route may block it.", severity="warning", os="linux")]
            return [Hit("boot:waagent:error", f"waagent error: {line.strip()[-160:]}", severity="warning", os="linux")]
        if "Started Azure Linux Agent" in line or "Started walinuxagent" in line:
            return [Hit("boot:waagent:started", "The Azure Linux Agent started.", severity="info", os="linux")]
        return []


register(WaagentRule())
