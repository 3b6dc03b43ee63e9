"""What the scripted Linux shell's commands work on: the guest's services and the state they change.

:mod:`._commands` sees the guest only through :class:`ShellState` (which
:class:`~._linux.LinuxGuest` is), so the interpreter and the guest do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from kit.lab.guest._iptables import Firewall

__all__ = ["Service", "ShellState"]


@dataclass
class Service:
    """A systemd service of the guest, as ``systemctl`` shows it.

    Parameters
    ----------
    unit
        The unit name (``ssh.service``).
    description
        Its ``Description=``.
    active
        Whether it is running.
    enabled
        Whether it starts at boot.
    since
        The ``Active: … since`` text.
    pid
        Its main PID (a restart moves it on).
    """

    unit: str
    description: str
    active: bool
    enabled: bool = True
    since: str = "Mon 2026-11-23 02:28:02 UTC; 1 day 20h ago"
    pid: int = 812


class ShellState(Protocol):
    """The Linux guest as its shell commands read and change it (see :class:`~._linux.LinuxGuest`)."""

    definition: dict[str, Any]
    hostname: str
    files: dict[str, str]
    firewall: Firewall
    mode: str
    user: str
    cwd: str
    pending_user: str
    sudo_shell: bool
    booted_emergency: bool
    services: dict[str, Service]
    mounted: set[str]

    def clock(self) -> str:
        """The guest's clock as syslog prints it (``Nov 24 22:14:05``)."""
        ...

    def kernel(self) -> str:
        """The running kernel release."""
        ...

    def fstab_entries(self) -> list[tuple[str, str]]:
        """``(mount point, device)`` of every active fstab line."""
        ...

    def fstab_failures(self) -> list[tuple[str, bool]]:
        """``(mount point, has nofail)`` of fstab lines whose device does not exist."""
        ...

    def sshd_errors(self) -> list[str]:
        """What ``sshd -t`` prints for the current configuration (empty when valid)."""
        ...

    def sshd_port(self) -> int:
        """The port sshd listens on."""
        ...

    def logout(self) -> str:
        """Leave the current shell; what the console prints."""
        ...
