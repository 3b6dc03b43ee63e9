"""OpenSSH server: configuration errors, host keys, the ssh/sshd service failing or starting."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kit.analyze.bootlog.rules._base import Context, Hit, register

__all__ = ["SshdRule"]

_BAD_OPTION = re.compile(r"(\S*sshd_config\S*)? ?(?:line (\d+): )?Bad configuration option: ?(\S*)")
_HOST_KEY = re.compile(r"(?:Unable to|Could not) load host key:? ?(\S*)|no hostkeys available")
_SERVICE_FAILED = re.compile(
    r"Failed to start (?:OpenBSD Secure Shell server|OpenSSH server daemon|OpenSSH Daemon|ssh\.service|sshd\.service)"
    r"|\bsshd?\.service: (?:Failed with result|Main process exited, code=exited, status=(?!0/))"
    r"|\bsshd?\.service: Start request repeated too quickly"
)
_STARTED = re.compile(r"Started (?:OpenBSD Secure Shell server|OpenSSH server daemon|OpenSSH Daemon|ssh\.service|"
                      r"sshd\.service)|sshd\[\d+\]: Server listening on")


class SshdRule:
    """sshd and ssh.service lines."""

    NAME = "sshd"
    TRIGGERS = ("Bad configuration option", "Unable to load host key", "Could not load host key",
                "OpenBSD Secure Shell", "OpenSSH", "Server listening on", "Failed with result", "Main process exited",
                "Start request repeated")

    def matches(self, line: str) -> bool:
        return "ssh" in line or "Secure Shell" in line or "SSH" in line or "Bad configuration option" in line or (
            "host key" in line)

    def parse_line(self, line: str, context: Context) -> Sequence[Hit]:
        option = _BAD_OPTION.search(line)
        if option:
            where = f"{option.group(1) or 'sshd_config'}" + (f" line {option.group(2)}" if option.group(2) else "")
            return [Hit("boot:sshd:bad_config", f"sshd refuses its configuration: bad option "
                        f"{option.group(3) or '?'} in {where}; sshd will not start until it is fixed.",
                        severity="error", os="linux")]
        if "bad configuration options" in line and "terminating" in line:
            return [Hit("boot:sshd:bad_config", "sshd exited because of bad options in sshd_config.",
                        severity="error", os="linux")]
        key = _HOST_KEY.search(line)
        if key:
            return [Hit("boot:sshd:host_key", f"sshd could not load a host key {key.group(1) or ''}".rstrip() +
                        " (missing, empty or wrong permissions).", severity="error", os="linux")]
        if _SERVICE_FAILED.search(line):
            return [Hit("boot:sshd:service_failed", "The SSH service failed: nothing is listening on port 22.",
                        severity="critical", os="linux")]
        if _STARTED.search(line):
            return [Hit("boot:sshd:started", "The SSH server started.", severity="info", os="linux")]
        return []


register(SshdRule())
