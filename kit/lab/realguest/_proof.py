"""Proving a real guest's recovery: a real SSH login from the host, then the scenario's own condition.

SSH is the system OpenSSH client with the cache folder's key (``BatchMode``, no host-key prompt,
nothing written to ``~/.ssh``); commands that need root get the lab password on ``sudo -S``'s
stdin, never on a command line.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kit.lab.realguest._recipe import PASSWORD, USERNAME

__all__ = ["JUDGES", "SshResult", "ssh"]


@dataclass(frozen=True)
class SshResult:
    """What one command over SSH returned."""

    code: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        """Exit status 0."""
        return self.code == 0


def ssh(port: int, key: Path, command: str, *, sudo: bool = False, timeout: float = 30) -> SshResult:
    """Run ``command`` as ``azureuser`` on the guest through the forwarded ``port`` (255: no login)."""
    remote = f"sudo -S -p '' sh -c {_quote(command)}" if sudo else command
    argv = ["ssh", "-i", str(key), "-p", str(port), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=10", f"{USERNAME}@127.0.0.1", remote]
    try:
        done = subprocess.run(argv, input=PASSWORD + "\n" if sudo else "", capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return SshResult(255, "", f"no answer within {timeout:.0f} s")
    return SshResult(done.returncode, done.stdout, done.stderr.strip())


def _quote(command: str) -> str:
    return "'" + command.replace("'", "'\"'\"'") + "'"


_COUNTERS = re.compile(r"\[\d+:\d+\]")


def _rules(text: str) -> list[str]:
    """An iptables-save filter table without comments and counters, for comparing."""
    lines, table = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("*"):
            table = line
        if not line or line.startswith("#") or table != "*filter":
            continue
        lines.append(_COUNTERS.sub("", line).strip())
    return lines


def _firewall(port: int, key: Path) -> tuple[bool, str]:
    done = ssh(port, key, "iptables-save -t filter; echo =====; cat /etc/iptables/rules.v4", sudo=True)
    if not done.ok:
        return False, f"SSH works, but reading the rules failed: {done.err or done.out}"
    running, _, saved = done.out.partition("=====")
    if _rules(running) != _rules(saved):
        return False, ("SSH works now, but /etc/iptables/rules.v4 does not hold the running rules: the next boot "
                       "brings the lockout back (sudo netfilter-persistent save)")
    return True, "SSH works and the running rules are the ones saved in /etc/iptables/rules.v4"


def _fstab(port: int, key: Path) -> tuple[bool, str]:
    done = ssh(port, key, "findmnt --verify --tab-file /etc/fstab 2>&1; echo \"exit=$?\"", sudo=True)
    if "exit=0" not in done.out:
        lines = [line for line in done.out.splitlines() if "[E]" in line or "not found" in line]
        return False, "SSH works, but /etc/fstab still fails findmnt --verify: " + ("; ".join(lines) or done.out)
    return True, "SSH works and /etc/fstab passes findmnt --verify (the next boot mounts cleanly)"


def _sshd(port: int, key: Path) -> tuple[bool, str]:
    done = ssh(port, key, "sshd -t", sudo=True)
    if not done.ok:
        return False, f"SSH works, but sshd -t still fails: {done.err or done.out}"
    return True, "SSH works and sshd -t passes"


def _booted_with_initramfs(port: int, key: Path) -> tuple[bool, str]:
    done = ssh(port, key, 'test -s "/boot/initrd.img-$(uname -r)" && uname -r')
    if not done.ok:
        return False, "SSH works, but the running kernel has no initramfs in /boot: the next boot panics again"
    return True, f"SSH works and kernel {done.out.strip()} booted with its initramfs"


#: the scenario's condition, after the SSH login itself worked
JUDGES: dict[str, Callable[[int, Path], tuple[bool, str]]] = {
    "firewall-lockout": _firewall,
    "fstab-emergency": _fstab,
    "fstab-emergency-rootpw": _fstab,
    "sshd-broken": _sshd,
    "kernel-panic": _booted_with_initramfs,
    "initramfs-broken": _booted_with_initramfs,
    "healthy": lambda _port, _key: (True, "SSH works"),
}
