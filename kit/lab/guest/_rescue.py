"""The repair VM's shell: Run Command scripts against a copy of a broken VM's OS disk.

The repair VM is a scripted Linux guest logged in as root (the VM agent runs scripts as root).
Its data disks show in ``lsblk`` as ``/dev/sdc``, ``/dev/sdd`` … (LUN 0, 1 …) with the
partitions of an Ubuntu cloud image (``1`` root ``cloudimg-rootfs``, ``15`` ``UEFI``, and ``16``
``BOOT`` when the image has a separate ``/boot``). ``mount`` exposes a partition's files under
the mount point, ``umount`` writes the edits back to the disk; ``chroot DIR CMD`` runs ``CMD``
on the files under ``DIR``. Rescue-only commands (``lsblk``, ``mount``/``umount`` of those
partitions, ``mkdir``, ``touch``, ``chroot``, ``update-initramfs``, ``grub-mkconfig``/``update-grub``,
``grub-set-default``, ``dracut``, ``grubby``) and the script's own control (``set -e``, ``exit``,
``[ … ]``, ``VAR=$(…)``, ``for … ; do … ; done`` on one line with ``break``/``continue``, ``>&2``)
are handled here; a RHEL disk (``layout="rhel"``: EFI, ``/boot`` and ``/`` apart, XFS, unlabelled,
mountable by the ``UUID=`` its own fstab gives) is partitioned as RHEL 9 is on Azure; every other
command goes to the scripted interpreter
(:func:`~._commands.run_line`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from kit.lab.guest._commands import run_line, split_ops, split_unquoted, test_expression
from kit.lab.guest._linux import LinuxGuest

__all__ = ["RescueDisk", "RescueShell"]

_RC = "__kit_rescue_rc="
_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_ASSIGN = re.compile(r"^(\w+)=(.*)$", re.S)
_FOR = re.compile(r"^for (\w+) in (.+?); do (.+?);? done$", re.S)
_BIND_SOURCES = ("/dev", "/dev/pts", "/proc", "/sys", "/run", "proc", "sysfs", "devpts", "tmpfs")


@dataclass
class RescueDisk:
    """A data disk of the repair VM.

    Parameters
    ----------
    lun
        Its LUN (``/dev/sdc`` is LUN 0).
    files
        Its filesystem, path → text; ``umount`` writes edits back into this very dict.
    separate_boot
        Whether ``/boot`` is a partition of its own (``16``).
    size_gb
        Its size.
    """

    lun: int
    files: dict[str, str]
    separate_boot: bool = False
    size_gb: int = 30
    layout: str = "ubuntu"

    @property
    def device(self) -> str:
        """``/dev/sdc`` for LUN 0."""
        return "/dev/sd" + chr(ord("c") + self.lun)

    def partitions(self) -> list[tuple[str, str, str, str]]:
        """``(device, role, fstype, label)`` of its partitions."""
        if self.layout == "rhel":  # RHEL 8/9 on Azure: EFI, /boot and / apart, XFS, no labels
            return [(f"{self.device}1", "efi", "vfat", ""), (f"{self.device}2", "boot", "xfs", ""),
                    (f"{self.device}3", "bios", "", ""), (f"{self.device}4", "root", "xfs", "")]
        parts = [(f"{self.device}1", "root", "ext4", "cloudimg-rootfs"), (f"{self.device}14", "bios", "", ""),
                 (f"{self.device}15", "efi", "vfat", "UEFI")]
        if self.separate_boot:
            parts.append((f"{self.device}16", "boot", "ext4", "BOOT"))
        return parts

    def role_of_uuid(self, uuid: str) -> str | None:
        """The partition ``UUID=uuid`` names: the one the disk's own ``/etc/fstab`` mounts under that UUID."""
        roles = {"/": "root", "/boot": "boot", "/boot/efi": "efi"}
        for line in self.files.get("/etc/fstab", "").splitlines():
            fields = line.split()
            if len(fields) >= 2 and fields[0] == f"UUID={uuid}" and fields[1] in roles:
                return roles[fields[1]]
        return None

    def owns(self, role: str, path: str) -> bool:
        """Whether ``path`` (on the disk) lives on partition ``role``."""
        in_boot = path.startswith("/boot/") and not path.startswith("/boot/efi/")
        separate = self.separate_boot or self.layout == "rhel"
        if role == "efi":
            return path.startswith("/boot/efi/")
        if role == "boot":
            return in_boot
        return not path.startswith("/boot/efi/") and not (separate and in_boot)


@dataclass
class _Mount:
    point: str
    disk: RescueDisk | None
    role: str
    source: str


@dataclass
class _Run:
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    status: int = 0
    errexit: bool = False
    exited: bool = False
    loop: str = ""  # "break" or "continue" seen in a for loop's body


class RescueShell:
    """The repair VM's shell; its mounts last from one script to the next, as on a real VM.

    Parameters
    ----------
    hostname
        The repair VM's name.
    """

    def __init__(self, hostname: str) -> None:
        self.guest = LinuxGuest.create({"files": {"/etc/fstab": "LABEL=cloudimg-rootfs\t/\text4\tdefaults\t0 1\n"}},
                                       hostname, "azureuser", "")
        self.guest.mode, self.guest.user, self.guest.cwd = "shell", "root", "/"
        self.mounts: list[_Mount] = []
        self.disks: list[RescueDisk] = []

    def run(self, script: str, disks: list[RescueDisk]) -> tuple[str, str, int]:
        """Run ``script`` with ``disks`` attached; ``(stdout, stderr, exit code)``."""
        self.disks = disks
        run = _Run()
        variables: dict[str, str] = {}
        for raw in script.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            self._line(line, variables, run)
            if run.exited or (run.errexit and run.status != 0):
                break
        return "".join(run.out), "".join(run.err), run.status

    # ------------------------------------------------------------------ control
    def _line(self, line: str, variables: dict[str, str], run: _Run) -> None:
        loop = _FOR.match(line)
        if loop:
            self._loop(loop.group(1), loop.group(2), loop.group(3), variables, run)
            return
        assign = _ASSIGN.match(line)
        if assign and not line.startswith(("[", "test ")):
            value = assign.group(2).strip()
            if value.startswith("$(") and value.endswith(")"):
                inner = _Run()
                self._chain(_expand(value[2:-1], variables), inner)
                run.err.extend(inner.err)
                run.status = inner.status
                value = "".join(inner.out).rstrip("\n")
            else:
                value = _unquote(_expand(value, variables))
            variables[assign.group(1)] = value
            return
        self._chain(_expand(line, variables), run)

    def _loop(self, name: str, items: str, body: str, variables: dict[str, str], run: _Run) -> None:
        """``for NAME in ITEMS; do BODY; done`` on one line; ``continue`` and ``break`` in ``BODY``."""
        listed = _Run()
        if items.startswith("$(") and items.endswith(")"):
            self._chain(_expand(items[2:-1], variables), listed)
            words = "".join(listed.out).split()
        else:
            words = shlex.split(_expand(items, variables))
        run.status = 0
        for word in words:
            variables[name] = word
            run.loop = ""
            self._chain(_expand(body, variables), run)
            if run.exited or run.loop == "break":
                break
        if run.loop:
            run.status = 0
        run.loop = ""

    def _chain(self, line: str, run: _Run) -> None:
        """``a && b || c ; d``, left to right, as bash does."""
        for separator, part in split_ops(line):
            if (separator == "&&" and run.status != 0) or (separator == "||" and run.status == 0):
                continue
            part = part.strip()
            if part.startswith("{") and part.endswith("}"):
                part = part[1:-1].strip().rstrip(";")
                self._chain(part, run)
            elif part in ("break", "continue"):
                run.loop, run.status = part, 0
            else:
                self._simple(part, run)
            if run.exited or run.loop:
                return

    def _simple(self, text: str, run: _Run) -> None:
        to_stderr = text.endswith(">&2")
        if to_stderr:
            text = text[:-3].rstrip()
        try:
            words = shlex.split(text)
        except ValueError:
            words = []
        out, status = self._command(words, text) if words else ("", 0)
        if words[:1] == ["exit"]:
            run.exited = True
        if words[:1] == ["set"] and any(a.startswith("-") and "e" in a for a in words[1:]):
            run.errexit = True
        run.status = status
        (run.err if to_stderr or (status != 0 and words[:1] != ["echo"]) else run.out).append(out)

    def _command(self, words: list[str], text: str) -> tuple[str, int]:
        name, args = words[0], words[1:]
        if name == "set":
            return "", 0
        if name == "exit":
            return "", int(args[0]) if args and args[0].isdigit() else 0
        if name in ("[", "test"):
            return "", test_expression([a for a in args if a != "]"], self.guest.files)
        if name == "mkdir" or words[:2] == ["udevadm", "settle"]:  # the lab's disks are there at once
            return "", 0
        if name == "touch":
            for path in (a for a in args if not a.startswith("-")):
                self.guest.files.setdefault(path, "")
            return "", 0
        if name == "lsblk":
            stages = split_unquoted(text, "|")
            output = self._lsblk(shlex.split(stages[0])[1:])
            return _filters(output, stages[1:]), 0
        if name == "mount" and args and args[0] != "-a":
            return self._mount(args)
        if name == "umount":
            return self._umount(args)
        if name == "chroot":
            return self._chroot(args)
        if name in _OFFLINE:
            return _OFFLINE[name](self.guest.files, args)
        stages = split_unquoted(text, "|")
        answer = run_line(self.guest, f"{stages[0]}; echo {_RC}$?")
        body, _, code = answer.rpartition(_RC)
        if len(stages) > 1:  # a pipeline's status is its last command's: the filters', which do not fail
            return _filters(body, stages[1:]), 0
        return body, int(code.strip() or 0)

    # ------------------------------------------------------------------ disks
    def _partition(self, device: str) -> tuple[RescueDisk, str] | None:
        for disk in self.disks:
            role = disk.role_of_uuid(device[5:]) if device.startswith("UUID=") else None
            if role is not None:
                return disk, role
            for name, role, _, label in disk.partitions():
                if device in (name, f"LABEL={label}") and role != "bios":
                    return disk, role
        return None

    def _mounted_at(self, device: str) -> str:
        return next((m.point for m in self.mounts if m.source == device), "")

    def _lsblk(self, args: list[str]) -> str:
        flags = "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
        columns = ["NAME", "SIZE", "TYPE", "MOUNTPOINTS"]
        for i, arg in enumerate(args):
            if arg in ("-o", "--output") or (arg.startswith("-") and not arg.startswith("--") and arg.endswith("o")):
                columns = args[i + 1].upper().split(",") if i + 1 < len(args) else columns
        raw, noheading, full, flat = "r" in flags, "n" in flags, "p" in flags, "l" in flags or "r" in flags
        rows: list[tuple[int, dict[str, str]]] = [
            (0, {"NAME": "/dev/sda", "SIZE": "30G", "TYPE": "disk"}),
            (1, {"NAME": "/dev/sda1", "SIZE": "29.9G", "TYPE": "part", "FSTYPE": "ext4", "LABEL": "cloudimg-rootfs",
                 "MOUNTPOINT": "/"}),
            (1, {"NAME": "/dev/sda15", "SIZE": "106M", "TYPE": "part", "FSTYPE": "vfat", "LABEL": "UEFI",
                 "MOUNTPOINT": "/boot/efi"}),
            (0, {"NAME": "/dev/sdb", "SIZE": "16G", "TYPE": "disk"}),
            (1, {"NAME": "/dev/sdb1", "SIZE": "16G", "TYPE": "part", "FSTYPE": "ext4", "MOUNTPOINT": "/mnt"}),
        ]
        for disk in self.disks:
            rows.append((0, {"NAME": disk.device, "SIZE": f"{disk.size_gb}G", "TYPE": "disk"}))
            sizes = {"root": f"{disk.size_gb - 1}G", "bios": "4M", "efi": "106M", "boot": "913M"}
            for name, role, fstype, label in disk.partitions():
                rows.append((1, {"NAME": name, "SIZE": sizes[role], "TYPE": "part", "FSTYPE": fstype, "LABEL": label,
                                 "MOUNTPOINT": self._mounted_at(name)}))
        if "d" in flags:
            rows = [row for row in rows if row[0] == 0]
        table = []
        for depth, row in rows:
            row["MOUNTPOINTS"] = row.get("MOUNTPOINT", "")
            name = row["NAME"] if full else row["NAME"].removeprefix("/dev/")
            if depth and not flat:
                name = "└─" + name
            table.append([name if c == "NAME" else row.get(c, "") for c in columns])
        if not noheading:
            table.insert(0, columns)
        if raw:
            return "".join(" ".join(cells) + "\n" for cells in table)
        widths = [max(len(cells[i]) for cells in table) for i in range(len(columns))]
        return "".join(" ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() + "\n"
                       for cells in table)

    def _mount(self, args: list[str]) -> tuple[str, int]:
        bind = any(a in ("--bind", "-B", "--rbind") for a in args)
        paths = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] not in ("-t", "-o"))]
        if len(paths) != 2:
            return "mount: bad usage\nTry 'mount --help' for more information.\n", 1
        source, point = paths[0], paths[1].rstrip("/") or "/"
        if bind or source in _BIND_SOURCES:
            self.mounts.append(_Mount(point, None, "bind", source))
            return "", 0
        found = self._partition(source)
        if found is None:
            return f"mount: {point}: special device {source} does not exist.\n", 32
        disk, role = found
        source = next(name for name, part_role, _, _ in disk.partitions() if part_role == role)  # UUID= → device
        if any(m.point == point for m in self.mounts) or self._mounted_at(source):
            return f"mount: {point}: {source} already mounted or mount point busy.\n", 32
        for path, text in disk.files.items():
            if disk.owns(role, path):
                self.guest.files[point + _inside(role, path)] = text
        self.mounts.append(_Mount(point, disk, role, source))
        return "", 0

    def _umount(self, args: list[str]) -> tuple[str, int]:
        recursive = any(a in ("-R", "--recursive") for a in args)
        targets = [a.rstrip("/") for a in args if not a.startswith("-")]
        if not targets:
            return "Usage:\n umount [-hV]\n umount -a [options]\n", 1
        for target in targets:
            mount = next((m for m in reversed(self.mounts) if target in (m.point, m.source)), None)
            if mount is None:
                return f"umount: {target}: not mounted.\n", 32
            nested = [m for m in self.mounts if m.point.startswith(mount.point + "/")]
            if nested and not recursive:
                return f"umount: {mount.point}: target is busy.\n", 32
            for inner in sorted(nested, key=lambda m: -len(m.point)) + [mount]:
                self._detach(inner)
        return "", 0

    def _detach(self, mount: _Mount) -> None:
        """Write the mount's files back to its disk and hide them."""
        self.mounts.remove(mount)
        if mount.disk is None:
            return
        prefix = mount.point + "/"
        inner = [m.point + "/" for m in self.mounts if m.point.startswith(prefix)]
        mine = {path: text for path, text in self.guest.files.items()
                if path.startswith(prefix) and not any(path.startswith(p) for p in inner)}
        disk, role = mount.disk, mount.role
        for path in [p for p in disk.files if disk.owns(role, p)]:
            del disk.files[path]
        for path, text in mine.items():
            disk.files[_outside(role, "/" + path[len(prefix):])] = text
            del self.guest.files[path]

    def _chroot(self, args: list[str]) -> tuple[str, int]:
        if len(args) < 2:
            return "chroot: missing operand\n", 125
        root = args[0].rstrip("/")
        if not any(m.point == root and m.disk is not None for m in self.mounts):
            return f"chroot: failed to run command '{args[1]}': No such file or directory\n", 127
        prefix = root + "/"
        view = {"/" + path[len(prefix):]: text for path, text in self.guest.files.items() if path.startswith(prefix)}
        before = dict(view)
        if args[1] in _OFFLINE:
            out, status = _OFFLINE[args[1]](view, args[2:])
        else:
            inner = LinuxGuest.create({"files": {}}, self.guest.hostname, "root", "")
            inner.files, inner.mode, inner.user, inner.cwd = view, "shell", "root", "/"
            answer = run_line(inner, f"{shlex.join(args[1:])}; echo {_RC}$?")
            out, _, code = answer.rpartition(_RC)
            status = int(code.strip() or 0)
        for path in set(before) - set(view):
            del self.guest.files[root + path]
        for path, text in view.items():
            if before.get(path) != text:
                self.guest.files[root + path] = text
        return out, status


# ---------------------------------------------------------------------- offline boot tools (run on disk files)
def _kernels(files: dict[str, str]) -> list[str]:
    found = [p.removeprefix("/boot/vmlinuz-") for p in files if p.startswith("/boot/vmlinuz-")]
    return sorted(found, key=lambda v: [int(n) for n in re.findall(r"\d+", v)], reverse=True)


def _update_initramfs(files: dict[str, str], args: list[str]) -> tuple[str, int]:
    version = args[args.index("-k") + 1] if "-k" in args and args.index("-k") + 1 < len(args) else ""
    if not ({"-c", "-u"} & set(args)) or not version:
        return "Usage: update-initramfs {-c|-d|-u} [-k version] [-v] [-b directory]\n", 2
    versions = _kernels(files) if version == "all" else [version]
    if not versions or any(f"/boot/vmlinuz-{v}" not in files for v in versions):
        missing = next((v for v in versions if f"/boot/vmlinuz-{v}" not in files), version)
        return (f"update-initramfs: Generating /boot/initrd.img-{missing}\n"
                f"E: /boot/vmlinuz-{missing} does not exist: is /boot mounted?\n"), 1
    out = []
    for v in versions:
        files[f"/boot/initrd.img-{v}"] = f"(initramfs for {v}, regenerated offline)\n"
        out.append(f"update-initramfs: Generating /boot/initrd.img-{v}\n")
    return "".join(out), 0


def _grub_mkconfig(files: dict[str, str], args: list[str]) -> tuple[str, int]:
    target = args[args.index("-o") + 1] if "-o" in args and args.index("-o") + 1 < len(args) else ""
    defaults = files.get("/etc/default/grub", "")
    cmdline = re.search(r'^GRUB_CMDLINE_LINUX="([^"]*)"', defaults, re.M)
    options = cmdline.group(1) if cmdline else ""
    entries, out = [], ["Sourcing file `/etc/default/grub'\n", "Generating grub configuration file ...\n"]
    for version in _kernels(files):
        out.append(f"Found linux image: /boot/vmlinuz-{version}\n")
        lines = [f"\tmenuentry 'Ubuntu, with Linux {version}' --class ubuntu "
                 f"$menuentry_id_option 'gnulinux-{version}-advanced' {{",
                 f"\t\tlinux\t/vmlinuz-{version} root=LABEL=cloudimg-rootfs ro {options}".rstrip()]
        if f"/boot/initrd.img-{version}" in files:
            out.append(f"Found initrd image: /boot/initrd.img-{version}\n")
            lines.append(f"\t\tinitrd\t/initrd.img-{version}")
        entries.append("\n".join([*lines, "\t}"]))
    config = ("### BEGIN /etc/grub.d/10_linux ###\nsubmenu 'Advanced options for Ubuntu' {\n"
              + "\n".join(entries) + "\n}\n### END /etc/grub.d/10_linux ###\n")
    if target:
        files[target] = config
    else:
        out.insert(0, config)
    return "".join([*out, "done\n"]), 0


def _grub_set_default(files: dict[str, str], args: list[str]) -> tuple[str, int]:
    entry = next((a for a in args if not a.startswith("-")), "")
    if not entry:
        return "Usage: grub-set-default [OPTION] MENU_ENTRY\n", 1
    files["/boot/grub/grubenv"] = f"# GRUB Environment Block\nsaved_entry={entry}\n"
    return "", 0


def _dracut(files: dict[str, str], args: list[str]) -> tuple[str, int]:
    """``dracut -f IMAGE KVER`` or ``dracut -f --regenerate-all``, as RHEL and SUSE run it."""
    positional = [a for a in args if not a.startswith("-")]
    if "-f" not in args and "--force" not in args:
        return "dracut: Will not override existing initramfs without --force\n", 1
    if "--regenerate-all" in args:
        versions = _kernels(files)
        images = [f"/boot/initramfs-{v}.img" for v in versions]
    elif len(positional) == 2:
        images, versions = [positional[0]], [positional[1]]
    else:
        return "Usage: dracut [OPTION]... [<initramfs> [<kernel-version>]]\n", 1
    for image, version in zip(images, versions, strict=True):
        if f"/boot/vmlinuz-{version}" not in files:  # /boot not mounted, or no such kernel
            return f"dracut: Cannot find module directory /lib/modules/{version}/\n", 1
        files[image] = f"(dracut initramfs for {version}, regenerated offline)\n"
    return "", 0


def _grubby(files: dict[str, str], args: list[str]) -> tuple[str, int]:
    """``grubby --update-kernel=ALL --args=…`` on the BLS entries, ``grubby --set-default KERNEL``."""
    entries = sorted(p for p in files if p.startswith("/boot/loader/entries/") and p.endswith(".conf"))
    if "--set-default" in args or any(a.startswith("--set-default=") for a in args):
        kernel = next((a.split("=", 1)[1] for a in args if a.startswith("--set-default=")), None) or \
            args[args.index("--set-default") + 1]
        entry = next((e for e in entries if re.search(rf"^linux\s+{re.escape(kernel.removeprefix('/boot'))}\s*$",
                                                      files[e], re.M)), None)
        if entry is None:
            return f"The param {kernel} is incorrect\n", 1
        files["/boot/grub2/grubenv"] = f"# GRUB Environment Block\nsaved_entry={entry.rsplit('/', 1)[1][:-5]}\n"
        return f"The default is /boot/loader/entries/{entry.rsplit('/', 1)[1]} with index 0 and kernel {kernel}\n", 0
    added = next((a.split("=", 1)[1] for a in args if a.startswith("--args=")), "")
    if not added or "--update-kernel=ALL" not in args:
        return "grubby: no action specified\n", 1
    for entry in entries:
        def extend(match: re.Match[str]) -> str:
            present = match.group(1).split()
            return "options " + " ".join([*present, *(a for a in added.split() if a not in present)])
        files[entry] = re.sub(r"^options\s*(.*)$", extend, files[entry], flags=re.M)
    return "", 0


_OFFLINE = {
    "dracut": _dracut,
    "grubby": _grubby,
    "update-initramfs": _update_initramfs,
    "grub-mkconfig": _grub_mkconfig,
    "grub2-mkconfig": _grub_mkconfig,
    "update-grub": lambda files, args: _grub_mkconfig(files, ["-o", "/boot/grub/grub.cfg"]),
    "grub-set-default": _grub_set_default,
}


# ---------------------------------------------------------------------- words and lines
def _inside(role: str, path: str) -> str:
    """Where a disk path shows under the partition's mount point."""
    if role == "boot":
        return path.removeprefix("/boot")
    if role == "efi":
        return path.removeprefix("/boot/efi")
    return path


def _outside(role: str, path: str) -> str:
    return {"boot": "/boot", "efi": "/boot/efi"}.get(role, "") + path


def _expand(text: str, variables: dict[str, str]) -> str:
    """``$NAME`` / ``${NAME}`` outside single quotes replaced by the variable's value."""
    parts = re.split(r"('[^']*')", text)
    return "".join(part if part.startswith("'") else
                   _VAR.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), part)
                   for part in parts)


def _unquote(value: str) -> str:
    try:
        words = shlex.split(value)
    except ValueError:
        return value
    return " ".join(words)


def _filters(text: str, stages: list[str]) -> str:
    """``grep [-v] [-E] P``, ``head -n N``, ``cut -d C -f N``, ``awk '{print $N}'`` applied to ``text``."""
    for stage in stages:
        words = shlex.split(stage)
        name, args = words[0], words[1:]
        lines = text.splitlines(keepends=True)
        if name == "grep":
            pattern = next(a for a in args if not a.startswith("-"))
            regex = re.compile(pattern.replace(r"\|", "|"))
            lines = [line for line in lines if bool(regex.search(line.rstrip("\n"))) != ("-v" in args)]
        elif name in ("head", "tail"):
            count = int(args[args.index("-n") + 1]) if "-n" in args else int(args[0][1:]) if args else 10
            lines = lines[:count] if name == "head" else lines[-count:]
        elif name == "cut":
            delimiter = args[args.index("-d") + 1] if "-d" in args else "\t"
            index = int(args[args.index("-f") + 1]) - 1
            lines = [(line.rstrip("\n").split(delimiter) + [""] * (index + 1))[index] + "\n" for line in lines]
        elif name == "awk":
            field_match = re.search(r"print \$(\d+)", args[-1] if args else "")
            index = int(field_match.group(1)) - 1 if field_match else 0
            lines = [(line.split() + [""] * (index + 1))[index] + "\n" for line in lines]
        text = "".join(lines)
    return text
