"""What a scripted Linux guest prints when it boots again: its last boot, changed by what was fixed."""

from __future__ import annotations

import re

from kit.lab.guest._linux import EMERGENCY_PROMPT, LinuxGuest

__all__ = ["last_boot", "next_boot"]

_FAILURE = re.compile(r"Timed out waiting for device|Dependency failed for|You are in emergency mode|"
                      r"Give root password for maintenance")
# What a boot whose sshd refused its configuration printed, dropped once sshd runs again.
_SSHD_FAILURE_LINES = (
    re.compile(r"[^\n]*sshd\[\d+\]: [^\n]*"
               r"(?:Bad configuration option|terminating|Badly formatted|unsupported option)[^\n]*\n"),
    re.compile(r"[^\n]*ssh\.service: (?:Main process exited|Failed with result|Control process exited)[^\n]*\n"),
    re.compile(r"See 'systemctl status ssh\.service' for details\.\r?\n"),
)
_SSHD_FAILED_START = re.compile(r"\[(?:\x1b\[0;1;31m)?FAILED(?:\x1b\[0m)?\] Failed to start "
                                r"([^\n]*?)(ssh\.service)([^\n]*?)OpenBSD Secure Shell server\.")


def last_boot(text: str) -> str:
    """The last boot in a serial log (from the line with its kernel banner), or the whole text."""
    index = text.rfind("Linux version ")
    if index < 0:
        return text
    return text[text.rfind("\n", 0, index) + 1:]


def next_boot(text: str, shell: LinuxGuest) -> str:
    """The next boot's serial output: the last boot in ``text`` (a serial log), changed by the guest's state.

    A boot that failed (emergency mode, sshd refusing its configuration) gets a healthy end once
    the guest is fixed; a guest whose fstab still requires a missing disk stops in emergency mode.
    """
    text = last_boot(text)
    match = _FAILURE.search(text)
    if shell.booted_emergency:
        return text if match else text + _emergency_tail(shell)
    if match:
        start = text.rfind("\n", 0, match.start()) + 1
        start = _block_start(text, start)
        text = text[:start] + _healthy_tail(shell)
    elif not text.rstrip().endswith("login:"):
        text += _healthy_tail(shell)
    if shell.services["ssh"].active:
        for pattern in _SSHD_FAILURE_LINES:
            text = pattern.sub("", text)
        text = _SSHD_FAILED_START.sub("[\x1b[0;32m  OK  \x1b[0m] Started \\1\\2\\3OpenBSD Secure Shell server.", text)
    return text


def _block_start(text: str, start: int) -> int:
    """Back up over the ``[ TIME ]``/``[DEPEND]`` lines right before a failure message."""
    while start > 0:
        previous = text.rfind("\n", 0, start - 1) + 1
        line = text[previous:start]
        if "TIME" in line[:20] or "DEPEND" in line[:20] or "Dependency failed" in line or "Timed out" in line:
            start = previous
            continue
        break
    return start


def _healthy_tail(shell: LinuxGuest) -> str:
    return ("[  OK  ] Reached target Local File Systems.\r\n"
            "         Starting Create Volatile Files and Directories...\r\n"
            "[  OK  ] Finished Create Volatile Files and Directories.\r\n"
            "[  OK  ] Reached target System Initialization.\r\n"
            "[  OK  ] Reached target Basic System.\r\n"
            "         Starting OpenBSD Secure Shell server...\r\n"
            + ("[  OK  ] Started OpenBSD Secure Shell server.\r\n" if shell.services["ssh"].active else
               "[FAILED] Failed to start OpenBSD Secure Shell server.\r\n")
            + "[  OK  ] Reached target Multi-User System.\r\n"
            "[  OK  ] Reached target Graphical Interface.\r\n" + shell.login_screen())


def _emergency_tail(shell: LinuxGuest) -> str:
    failing = [m for m, nofail in shell.fstab_failures() if not nofail]
    lines = []
    for mount in failing:
        unit = mount.strip("/").replace("/", "-") or "-"
        lines += [f"[ TIME ] Timed out waiting for device /dev/disk/by-uuid/… ({mount}).",
                  f"[DEPEND] Dependency failed for {mount}.", "[DEPEND] Dependency failed for Local File Systems.",
                  f"         Mounting {unit}.mount skipped."]
    return "".join(line + "\r\n" for line in lines) + EMERGENCY_PROMPT
