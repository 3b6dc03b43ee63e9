"""One real guest under QEMU: its boot files read from its own disk, serial socket, log, SSH, monitor.

Every boot reads the default kernel (the ``/vmlinuz`` and ``/initrd.img`` links, as Debian's
bootloader entry does) and ``GRUB_CMDLINE_LINUX`` from the disk itself, so a broken initramfs or
kernel on the disk really breaks the boot. QEMU runs with ``-no-reboot``: a reboot inside the
guest, SysRq ``b`` or the monitor's reset ends the process and the supervisor boots it again from
the disk; a power-off stays off. The serial port is a unix socket (one client at a time) with a
chardev log that keeps every byte of every boot whether or not a client is attached.

Acceleration is decided by a probe boot (:func:`accelerator`), never by ``/dev/kvm`` existing.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kit.errors import LabError
from kit.lab.realguest._image import debugfs_read
from kit.lab.realguest._recipe import ROOT_UUID

__all__ = ["BootFiles", "QemuGuest", "accelerator", "boot_files", "free_port"]

_QEMU = "qemu-system-x86_64"
_LINK = re.compile(rb'Fast link dest: "([^"]+)"')
_CMDLINE = re.compile(r'^\s*GRUB_CMDLINE_LINUX(?:_DEFAULT)?\s*=\s*"([^"]*)"', re.M)
_accel: str | None = None
_accel_lock = threading.Lock()


@dataclass(frozen=True)
class BootFiles:
    """What the bootloader would load: the kernel, the initramfs and the command line.

    ``bootloader_error`` is what GRUB prints before booting on when the initramfs is missing.
    """

    kernel: Path
    initrd: Path | None
    cmdline: str
    release: str
    bootloader_error: str | None = None


def boot_files(disk: Path, into: Path) -> BootFiles:
    """Read the default kernel, its initramfs and the kernel command line from ``disk`` into ``into``.

    Raises
    ------
    LabError
        The disk has no kernel behind ``/vmlinuz`` (the guest cannot boot: say so, as GRUB would).
    """
    kernel_path = _link(disk, "/vmlinuz")
    initrd_path = _link(disk, "/initrd.img")
    kernel = debugfs_read(disk, kernel_path) if kernel_path else None
    if not kernel or kernel_path is None:
        raise LabError(f"error: file '{kernel_path or '/vmlinuz'}' not found.\r\n"
                       "error: you need to load the kernel first.")
    into.mkdir(parents=True, exist_ok=True)
    (into / "vmlinuz").write_bytes(kernel)
    initrd = debugfs_read(disk, initrd_path) if initrd_path else None
    if initrd is not None:
        (into / "initrd.img").write_bytes(initrd)
    missing = f"error: file '{initrd_path}' not found." if initrd_path and initrd is None else None
    grub = (debugfs_read(disk, "/etc/default/grub") or b"").decode("utf-8", errors="replace")
    extra = " ".join(match.group(1) for match in _CMDLINE.finditer(grub))
    release = kernel_path.rsplit("vmlinuz-", 1)[-1]
    cmdline = f"BOOT_IMAGE={kernel_path} root=UUID={ROOT_UUID} ro {extra}".strip()
    return BootFiles(into / "vmlinuz", into / "initrd.img" if initrd is not None else None, cmdline, release,
                     missing)


def _link(disk: Path, path: str) -> str | None:
    done = subprocess.run(["debugfs", "-R", f"stat {path}", str(disk)], capture_output=True, timeout=60)
    match = _LINK.search(done.stdout)
    if match is None:
        return None
    target = match.group(1).decode()
    return target if target.startswith("/") else "/" + target


def accelerator(kernel: Path) -> str:
    """``kvm`` when a probe boot of ``kernel`` under KVM printed the kernel banner, else ``tcg``.

    ``KIT_QEMU_ACCEL`` forces one. The answer is kept for the process.
    """
    global _accel
    with _accel_lock:
        if _accel is None:
            forced = os.environ.get("KIT_QEMU_ACCEL", "").strip().lower()
            _accel = forced if forced in ("kvm", "tcg") else ("kvm" if _kvm_boots(kernel) else "tcg")
        return _accel


def _kvm_boots(kernel: Path) -> bool:
    if not os.path.exists("/dev/kvm"):
        return False
    argv = [_QEMU, "-accel", "kvm", "-cpu", "host", "-m", "256", "-display", "none", "-no-reboot",
            "-serial", "stdio", "-monitor", "none", "-kernel", str(kernel),
            "-append", "console=ttyS0 panic=-1 root=/dev/nonexistent"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=30)
    except (subprocess.TimeoutExpired, OSError):
        return False
    return done.returncode == 0 and b"Linux version" in done.stdout


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for the SSH forward)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class QemuGuest:
    """A disk booted under QEMU, kept booting across guest reboots until :meth:`stop`.

    Parameters
    ----------
    disk
        The guest's raw disk (edited in place by the guest, as a VM's OS disk is).
    folder
        Where the serial socket, serial log, monitor socket and extracted boot files live.
    memory, cpus
        The VM's size.
    rtc_base
        The guest clock at boot (``YYYY-MM-DDTHH:MM:SS``), e.g. the scenario's incident time.
    data_disks
        Raw disks attached after the OS disk (``/dev/vdb``, ``/dev/vdc`` … in the guest): a repair
        VM's copy of a broken OS disk.
    root
        The root device on the kernel command line instead of the disk's ``root=UUID=…``: a repair
        VM whose data disk is a copy of the same image has two file systems with that UUID.

    Attributes
    ----------
    ssh_port
        The loopback port forwarded to the guest's port 22.
    boots
        How many times QEMU was started.
    on_boot
        Called with the guest each time it starts booting again (not the first time).
    """

    disk: Path
    folder: Path
    memory: int = 1024
    cpus: int = 2
    rtc_base: str | None = None
    data_disks: tuple[Path, ...] = ()
    root: str | None = None
    ssh_port: int = field(default_factory=free_port)
    boots: int = 0
    on_boot: list[Callable[[QemuGuest], None]] = field(default_factory=list)
    powered_off: bool = False
    boot_error: str | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def serial_socket(self) -> Path:
        """The serial port (a unix socket; one client at a time)."""
        return self.folder / "ttyS0.sock"

    @property
    def serial_log(self) -> Path:
        """Every byte the serial port printed, across boots."""
        return self.folder / "serial.log"

    @property
    def agent_socket(self) -> Path:
        """The guest agent's virtio-serial port (``org.qemu.guest_agent.0``): Run Command's channel."""
        return self.folder / "agent.sock"

    @property
    def monitor_socket(self) -> Path:
        """QEMU's human monitor."""
        return self.folder / "monitor.sock"

    @property
    def running(self) -> bool:
        """Whether QEMU is up (booting or booted)."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> QemuGuest:
        """Boot the disk and keep it booting across reboots, in a background thread."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._launch()
        self._thread = threading.Thread(target=self._supervise, name=f"qemu-{self.disk.stem}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Power the VM off (no shutdown inside the guest, as a forced stop); safe to call twice."""
        self._stopping.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=15)

    def wait_for(self, pattern: str | re.Pattern[str], timeout: float, *, after: int = 0) -> re.Match[str]:
        """Wait until the serial log (from byte ``after``) matches ``pattern``.

        Raises
        ------
        LabError
            Not seen in time; the message gives the last lines the guest printed.
        """
        wanted = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_text(after)
            match = wanted.search(text)
            if match:
                return match
            if time.monotonic() > deadline or self._stopping.is_set():
                tail = " | ".join(line.strip() for line in text.splitlines()[-4:] if line.strip())
                raise LabError(f"the real guest did not print {wanted.pattern!r} within {timeout:.0f} s; "
                               f"last lines: {tail or '(nothing)'}")
            time.sleep(0.25)

    def log_text(self, after: int = 0) -> str:
        """The serial log from byte ``after``, decoded leniently."""
        try:
            with open(self.serial_log, "rb") as handle:
                handle.seek(after)
                return handle.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_size(self) -> int:
        """Bytes in the serial log so far."""
        try:
            return self.serial_log.stat().st_size
        except FileNotFoundError:
            return 0

    # ------------------------------------------------------------------ the monitor
    def monitor(self, command: str, timeout: float = 10) -> str:
        """Run one human-monitor command (``nmi``, ``system_reset``, ``sendkey alt-sysrq-h``)."""
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(timeout)
            try:
                conn.connect(str(self.monitor_socket))
                _read_prompt(conn)
                conn.sendall(command.encode() + b"\n")
                return _read_prompt(conn)
            except OSError as error:
                raise LabError(f"the QEMU monitor did not answer {command!r}: {error}") from None

    def reset(self) -> None:
        """A hard reset: the VM boots again, reading its kernel from the disk."""
        self.monitor("system_reset")

    def nmi(self) -> None:
        """An NMI to every CPU."""
        self.monitor("nmi")

    def sysrq(self, key: str) -> None:
        """Magic SysRq + ``key`` through the VM's keyboard."""
        self.monitor(f"sendkey alt-sysrq-{key}")

    # ------------------------------------------------------------------ process
    def _argv(self, files: BootFiles, accel: str) -> list[str]:
        chardev = (f"socket,id=s0,path={self.serial_socket},server=on,wait=off,"
                   f"logfile={self.serial_log},logappend=on")
        cmdline = files.cmdline
        if self.root:
            cmdline = re.sub(r"\broot=\S+", f"root={self.root}", cmdline)
        argv = [_QEMU, "-accel", accel, "-m", str(self.memory), "-smp", str(self.cpus), "-no-reboot",
                "-display", "none", "-kernel", str(files.kernel), "-append", cmdline,
                "-drive", f"file={self.disk},if=virtio,format=raw",
                *[arg for disk in self.data_disks for arg in ("-drive", f"file={disk},if=virtio,format=raw")],
                "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22",
                "-device", "virtio-net-pci,netdev=n0",
                "-chardev", chardev, "-serial", "chardev:s0",
                "-device", "virtio-serial-pci",
                "-chardev", f"socket,id=agent,path={self.agent_socket},server=on,wait=off",
                "-device", "virtserialport,chardev=agent,name=org.qemu.guest_agent.0",
                "-monitor", f"unix:{self.monitor_socket},server=on,wait=off"]
        if accel == "kvm":
            argv[3:3] = ["-cpu", "host"]
        if files.initrd is not None:
            argv += ["-initrd", str(files.initrd)]
        if self.rtc_base:
            argv += ["-rtc", f"base={self.rtc_base}"]
        return argv

    def _launch(self) -> None:
        try:
            files = boot_files(self.disk, self.folder / "boot")
        except LabError as error:  # nothing to boot: the console shows what GRUB would, and stays silent
            self.boot_error = str(error)
            with open(self.serial_log, "ab") as log:
                log.write(f"\r\n{error}\r\n\r\nPress any key to continue...\r\n".encode())
            self._process = None
            return
        if files.bootloader_error:  # GRUB says so on the console and boots the kernel without it
            with open(self.serial_log, "ab") as log:
                log.write(f"{files.bootloader_error}\r\n".encode())
        argv = self._argv(files, accelerator(files.kernel))
        self.boots += 1
        with open(self.folder / "qemu.log", "ab") as errors:
            errors.write(f"\n$ {shlex.join(argv)}\n".encode())
            self._process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=errors, stderr=errors)
        deadline = time.monotonic() + 10
        while not self.serial_socket.exists() and self._process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._process.poll() is not None:
            raise LabError(f"QEMU did not start: {self._qemu_error()}")

    def _qemu_error(self) -> str:
        text = (self.folder / "qemu.log").read_text(errors="replace").strip().splitlines()
        return text[-1] if text else "no output"

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            process.wait()
            if self._stopping.is_set():
                return
            if "reboot: Power down" in self.log_text(max(0, self.log_size() - 2000)):
                self.powered_off = True
                return
            try:
                self._launch()
            except LabError as error:
                self.boot_error = str(error)
                return
            for hook in self.on_boot:
                hook(self)


def _read_prompt(conn: socket.socket) -> str:
    seen = b""
    while not seen.endswith(b"(qemu) "):
        chunk = conn.recv(4096)
        if not chunk:
            break
        seen += chunk
    return seen.decode("utf-8", errors="replace")
