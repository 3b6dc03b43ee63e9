"""SocketTransport against a real Linux kernel booted under QEMU (marker ``qemu``).

The test builds a tiny initramfs (busybox-static + an init running a shell on ttyS0), boots the
host's Debian kernel with the serial port on a unix socket, reads the boot output and runs
commands through the session. QEMU is always killed.
"""

from __future__ import annotations

import glob
import os
import random
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from kit.console import Session, SocketTransport

pytestmark = [pytest.mark.qemu, pytest.mark.slow, pytest.mark.timeout(120)]

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo KIT-INIT-READY
exec setsid cttyhack sh
"""


def _cpio_entry(name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0), ino: int = 1) -> bytes:
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    header = b"070701" + b"".join(f"{value:08x}".encode() for value in fields)
    out = header + name.encode() + b"\0"
    out += b"\0" * (-len(out) % 4)
    out += data + b"\0" * (-len(data) % 4)
    return out


def build_initramfs(path: Path) -> None:
    """A newc cpio archive: busybox, /init, /dev/console; written without root or cpio(1)."""
    entries = [("dev", stat.S_IFDIR | 0o755, b"", (0, 0)), ("proc", stat.S_IFDIR | 0o755, b"", (0, 0)),
               ("sys", stat.S_IFDIR | 0o755, b"", (0, 0)), ("bin", stat.S_IFDIR | 0o755, b"", (0, 0)),
               ("dev/console", stat.S_IFCHR | 0o600, b"", (5, 1)),
               ("bin/busybox", stat.S_IFREG | 0o755, Path("/bin/busybox").read_bytes(), (0, 0)),
               ("init", stat.S_IFREG | 0o755, INIT.encode(), (0, 0))]
    blob = b"".join(_cpio_entry(n, m, d, r, i + 1) for i, (n, m, d, r) in enumerate(entries))
    blob += _cpio_entry("TRAILER!!!", 0, ino=0)
    path.write_bytes(blob + b"\0" * (-len(blob) % 512))


@pytest.fixture
def qemu_guest(tmp_path: Path):
    kernels = sorted(glob.glob("/boot/vmlinuz-*"))
    if not kernels or not os.path.exists("/bin/busybox"):
        pytest.skip("needs /boot/vmlinuz-* (linux-image-amd64) and /bin/busybox (busybox-static)")
    initramfs = tmp_path / "initramfs.cpio"
    build_initramfs(initramfs)
    sock = tmp_path / "ttyS0.sock"
    process = subprocess.Popen(
        [shutil.which("qemu-system-x86_64") or "qemu-system-x86_64", "-machine", "accel=tcg", "-m", "256",
         "-nographic", "-no-reboot", "-monitor", "none", "-serial", f"unix:{sock},server=on,wait=off",
         "-kernel", kernels[-1], "-initrd", str(initramfs),
         "-append", "console=ttyS0 panic=-1 quiet loglevel=3"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while not sock.exists():
            if process.poll() is not None:
                pytest.fail(f"qemu exited early: {process.stderr.read().decode(errors='replace')[-500:]}")
            if time.monotonic() > deadline:
                pytest.fail("qemu did not create its serial socket within 10 s")
            time.sleep(0.05)
        yield sock
    finally:
        process.kill()
        process.wait(timeout=10)


def test_boot_output_is_read_and_commands_run_through_the_session(qemu_guest: Path, tmp_path: Path) -> None:
    marker = f"hello-{random.randint(1000, 99999)}"
    with Session(SocketTransport(qemu_guest), approval="TEST-QEMU", transcript=tmp_path / "qemu.cast",
                 vm_id="qemu:test", responder="pytest", timeout=60) as session:
        session.expect("KIT-INIT-READY", timeout=60)
        session.sendline("")
        session.expect_prompt(timeout=20)
        assert session.run(f"echo {marker}") == f"{marker}\n"
        release = session.run("uname -r").strip()
        assert release == Path(sorted(glob.glob("/boot/vmlinuz-*"))[-1]).name.removeprefix("vmlinuz-")
        assert "proc /proc proc" in session.run("cat /proc/mounts")
    text = (tmp_path / "qemu.txt").read_text()
    assert marker in text and "approval: TEST-QEMU" in text
