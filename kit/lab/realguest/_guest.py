"""A real guest as the lab's console gateway sees one: serial bytes in and out, admin commands, the check.

It answers the gateway like a scripted guest (``connect``, ``feed``, ``nmi``, ``reboot``,
``sysrq``, ``check``, ``boot_log``) except that output is not returned by ``feed``: the guest
prints when it prints, and :meth:`RealGuest.relay` pumps its serial socket to the websockets,
reconnecting when QEMU starts again after a reboot.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from kit.errors import LabError
from kit.lab.guest import CheckResult
from kit.lab.realguest._agent import guest_exec
from kit.lab.realguest._image import BaseImage
from kit.lab.realguest._proof import JUDGES, ssh
from kit.lab.realguest._qemu import QemuGuest

__all__ = ["BOOTED", "RealGuest"]

#: what a finished boot prints: getty's login prompt, emergency mode, the initramfs shell, or a kernel panic
BOOTED = (r"login: |Give root password for maintenance|Press Enter to continue|Kernel panic - not syncing"
          r"|\(initramfs\) |you need to load the kernel first")


@dataclass
class RealGuest:
    """A scenario's broken VM as a real Debian 12 under QEMU.

    Parameters
    ----------
    scenario
        The scenario it stands in for.
    variant
        The real-guest variant its disk was made from.
    qemu
        The running QEMU guest.
    image
        The base image (its SSH key logs in).
    """

    scenario: str
    variant: str
    qemu: QemuGuest
    image: BaseImage
    os: str = "linux"
    silent: bool = False
    on_reboot: list[Callable[[Any], None]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _writer: asyncio.StreamWriter | None = field(default=None, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.qemu.on_boot.append(self._booted_again)

    def _booted_again(self, _qemu: QemuGuest) -> None:
        for hook in self.on_reboot:
            hook(self)

    @property
    def reboots(self) -> int:
        """How many times the VM booted again."""
        return max(0, self.qemu.boots - 1)

    # ------------------------------------------------------------------ console
    def connect(self) -> str:
        """A real serial line prints nothing on connect; the guest's output follows through :meth:`relay`."""
        return ""

    def feed(self, data: str | bytes) -> str:
        """Keystrokes to the serial port (dropped while QEMU restarts, as on a rebooting VM)."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(raw)
        return ""

    async def relay(self, send: Callable[[bytes], Awaitable[None]]) -> None:
        """Start pumping the serial socket to ``send`` (once; later calls keep the running pump)."""
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._pump(send))
            for _ in range(100):  # until connected, so the first keystrokes are not lost
                if self._writer is not None or self._task.done():
                    break
                await asyncio.sleep(0.02)

    async def _pump(self, send: Callable[[bytes], Awaitable[None]]) -> None:
        while not self.qemu.powered_off:
            try:
                reader, writer = await asyncio.open_unix_connection(str(self.qemu.serial_socket))
            except OSError:
                await asyncio.sleep(0.2)
                continue
            self._writer = writer
            try:
                while chunk := await reader.read(4096):
                    await send(chunk)
            except (ConnectionError, OSError):
                pass
            finally:
                self._writer = None
                writer.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await writer.wait_closed()
            await asyncio.sleep(0.2)  # QEMU is starting again after a reboot

    # ------------------------------------------------------------------ admin commands
    def nmi(self) -> str:
        """An NMI through the QEMU monitor; the kernel's answer arrives on the serial line."""
        self.qemu.nmi()
        return ""

    def reboot(self, *, reset: bool = False) -> str:
        """A hard reset through the QEMU monitor (the next boot reads the kernel from the disk again)."""
        self.qemu.reset()
        return ""

    def sysrq(self, key: str) -> str:
        """Magic SysRq + ``key`` through the VM's keyboard."""
        self.qemu.sysrq(key[:1])
        return ""

    # ------------------------------------------------------------------ evidence and the check
    def boot_log(self) -> bytes:
        """The serial log of every boot, as boot diagnostics keeps it."""
        return self.qemu.serial_log.read_bytes() if self.qemu.serial_log.exists() else b""

    def wait_until_booted(self, timeout: float = 300, *, after: int = 0) -> str:
        """Wait for a login prompt, emergency mode or a panic; what was seen."""
        return self.qemu.wait_for(BOOTED, timeout, after=after).group(0)

    async def run_script(self, script: str, shell: str = "bash", timeout: float = 1800) -> tuple[str, str, int]:
        """Run a Run Command script as root through the guest agent: ``(stdout, stderr, exit code)``.

        Like Azure's VM agent, the channel is the VM's own (virtio-serial): a guest firewall or a
        dead sshd does not stop it.
        """
        if shell != "bash":
            raise LabError(f"{self.scenario}: a real Linux guest runs shell scripts, not {shell}")
        return await asyncio.to_thread(guest_exec, self.qemu.agent_socket, script, timeout=timeout)

    def check(self) -> CheckResult:
        """A real SSH login through the forwarded port, then the scenario's condition."""
        if not self.qemu.running:
            return CheckResult(self.scenario, False, f"the VM is not running ({self.qemu.boot_error or 'powered off'})")
        login = ssh(self.qemu.ssh_port, self.image.key, "true", timeout=40)
        if not login.ok:
            reason = login.err.splitlines()[-1] if login.err else f"exit {login.code}"
            return CheckResult(self.scenario, False, f"SSH to azureuser@127.0.0.1:{self.qemu.ssh_port} fails: {reason}")
        judge = JUDGES.get(self.variant)
        if judge is None:
            raise LabError(f"real-guest variant {self.variant!r} has no check")
        passed, message = judge(self.qemu.ssh_port, self.image.key)
        return CheckResult(self.scenario, passed, message)
