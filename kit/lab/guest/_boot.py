"""What a scripted Linux guest prints when it boots again: its last boot, changed by what was fixed."""

from __future__ import annotations

import datetime as dt
import re

from kit.lab.guest._linux import EMERGENCY_PROMPT, LinuxGuest

__all__ = ["default_kernel", "last_boot", "next_boot", "start_boot", "with_cloud_init"]

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


# ---------------------------------------------------------------------- starting from a (repaired) disk
_PANIC = re.compile(r"Kernel panic - not syncing")


def start_boot(text: str, shell: LinuxGuest) -> tuple[str, bool]:
    """The first boot of a VM started from a disk holding ``shell``'s files, and whether it reaches login.

    ``text`` is the serial log of the disk's last boot. A boot that panicked for want of an initrd
    boots GRUB's default kernel when that kernel has its initrd and a ``grub.cfg`` entry loading it;
    otherwise it panics the same way again. Other boots are :func:`next_boot`.
    """
    last = last_boot(text)
    if not _PANIC.search(last):
        boot = next_boot(text, shell)
        return boot, not shell.booted_emergency
    kernel = default_kernel(shell.files)
    if kernel is None or not _has_initrd(shell.files, kernel):
        return last, False
    cut = last.find("List of all partitions")
    head = last[:last.rfind("\n", 0, cut) + 1] if cut >= 0 else last
    head = re.sub(r"(Linux version |vmlinuz-)\d[\w.-]*-azure", lambda m: m.group(1) + kernel, head)
    return head + _INITRD_BOOT.format(kernel=kernel) + _healthy_tail(shell), True


def with_cloud_init(text: str, started: dt.datetime) -> str:
    """``text`` (a boot that reached login) with cloud-init's ``init`` banner before its login screen.

    The banner ties the boot's uptime to the wall clock (``started`` is when the VM started), as
    on Azure, where cloud-init runs at every boot.
    """
    up = 6.12
    when = (started + dt.timedelta(seconds=up)).astimezone(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    banner = (f"[    {up:.6f}] cloud-init[612]: Cloud-init v. 24.1.3-0ubuntu3.3 running 'init' at {when}. "
              f"Up {up:.2f} seconds.\r\n")
    at = text.rfind("[  OK  ] Reached target Local File Systems.")
    at = at if at >= 0 else text.rfind("\r\n", 0, max(text.rfind(" login:"), 0)) + 2
    return text[:at] + banner + text[at:]


def default_kernel(files: dict[str, str]) -> str | None:
    """The kernel GRUB boots: ``GRUB_DEFAULT=saved`` with a saved entry naming one, else the newest."""
    kernels = sorted((path.removeprefix("/boot/vmlinuz-") for path in files if path.startswith("/boot/vmlinuz-")),
                     key=lambda version: [int(n) for n in re.findall(r"\d+", version)])
    grub = re.search(r"^GRUB_DEFAULT=[\"']?([^\"'\n]*)", files.get("/etc/default/grub", ""), re.M)
    saved = re.search(r"^saved_entry=(.*)$", files.get("/boot/grub/grubenv", ""), re.M)
    chosen = saved.group(1) if grub and grub.group(1) == "saved" and saved else grub.group(1) if grub else ""
    named = [kernel for kernel in kernels if kernel in chosen]
    return named[-1] if named else (kernels[-1] if kernels else None)


def _has_initrd(files: dict[str, str], kernel: str) -> bool:
    """Whether ``kernel`` has its initrd and ``grub.cfg`` loads it."""
    config = files.get("/boot/grub/grub.cfg")
    return f"/boot/initrd.img-{kernel}" in files and (config is None or f"initrd.img-{kernel}" in config)


_INITRD_BOOT = ("[    0.912436] Freeing initrd memory: 31564K\r\n"
                "[    1.402117] Run /init as init process\r\n"
                "Loading, please wait...\r\n"
                "Starting systemd-udevd version 255.4-1ubuntu8.4\r\n"
                "Begin: Loading essential drivers ... done.\r\n"
                "Begin: Mounting root file system ... done.\r\n"
                "[    3.881652] EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.\r\n"
                "[    4.512230] systemd[1]: systemd 255.4-1ubuntu8.4 running in system mode (+PAM +AUDIT +SELINUX)\r\n"
                "[    4.533018] systemd[1]: Detected virtualization microsoft.\r\n"
                "\r\nWelcome to Ubuntu 24.04.1 LTS!\r\n\r\n"
                "[  OK  ] Mounted boot.mount - /boot.\r\n")
