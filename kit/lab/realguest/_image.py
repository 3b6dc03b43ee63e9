"""Building the real guest's disk once, and making the incident variants from it in seconds.

The base image is built with ``mmdebstrap`` (Debian's packages only) and ``mkfs.ext4 -d`` (no
loop mounts) into ``<cache>/kit/realguest/debian12-<recipe hash>/``, beside the SSH key pair
whose public half it trusts. A variant is a sparse copy of the base edited with ``debugfs``: a
file written, a line changed, a symlink made — never a rebuild.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kit.errors import LabError
from kit.lab.realguest._recipe import MIRROR, PACKAGES, ROOT_UUID, SETUP, SIZE, SUITE, recipe_hash

__all__ = ["BaseImage", "build_base", "cache_root", "debugfs_read", "debugfs_write", "missing_tools"]

_BUILD_TOOLS = {"mmdebstrap": "mmdebstrap", "mkfs.ext4": "e2fsprogs", "debugfs": "e2fsprogs",
                "ssh-keygen": "openssh-client"}


@dataclass(frozen=True)
class BaseImage:
    """The cached base disk and the key that logs in to it.

    Parameters
    ----------
    folder
        ``<cache>/kit/realguest/debian12-<hash>``.
    """

    folder: Path

    @property
    def disk(self) -> Path:
        """The raw ext4 disk image (sparse)."""
        return self.folder / "disk.img"

    @property
    def key(self) -> Path:
        """The private SSH key ``azureuser`` accepts (never leaves the cache folder)."""
        return self.folder / "id_ed25519"

    @property
    def build_seconds(self) -> float:
        """How long the cold build took."""
        return float(json.loads((self.folder / "recipe.json").read_text())["build_seconds"])


def cache_root() -> Path:
    """Where built images live: ``$KIT_GUEST_CACHE``, else ``$XDG_CACHE_HOME/kit/realguest`` (``~/.cache``)."""
    if os.environ.get("KIT_GUEST_CACHE"):
        return Path(os.environ["KIT_GUEST_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "kit" / "realguest"


def missing_tools(tools: dict[str, str] | None = None) -> list[str]:
    """The Debian packages to install before a build (empty when all tools are there)."""
    wanted = tools or _BUILD_TOOLS
    return sorted({package for tool, package in wanted.items()
                   if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists()})


def build_base(cache: Path | None = None, *, progress: Callable[[str], None] = lambda _line: None) -> BaseImage:
    """The base image for the current recipe: the cached one, or built now (a few minutes, once).

    Raises
    ------
    LabError
        A tool is missing (the message names the package), or mmdebstrap/mkfs failed (its last
        lines of output are in the message).
    """
    root = cache or cache_root()
    image = BaseImage(root / f"debian12-{recipe_hash()}")
    if (image.folder / "recipe.json").is_file():
        return image
    missing = missing_tools()
    if missing:
        raise LabError(f"building the real guest needs {', '.join(missing)}: apt-get install {' '.join(missing)}")
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / f".{image.folder.name}.lock"):
        if (image.folder / "recipe.json").is_file():  # another process built it meanwhile
            return image
        started = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix=f"{image.folder.name}.", dir=root))
        try:
            _build_into(work, progress)
            seconds = round(time.monotonic() - started, 1)
            (work / "recipe.json").write_text(json.dumps(
                {"hash": recipe_hash(), "suite": SUITE, "packages": list(PACKAGES),
                 "build_seconds": seconds, "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=1))
            os.replace(work, image.folder)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        progress(f"real guest image built in {seconds:.0f} s: {image.disk}")
        for stale in root.glob("debian12-*"):  # images of older recipes: 780 MB each, never used again
            if stale.is_dir() and stale != image.folder and (stale / "recipe.json").is_file():
                shutil.rmtree(stale, ignore_errors=True)
                progress(f"removed the image of an older recipe: {stale}")
    return image


def _build_into(work: Path, progress: Callable[[str], None]) -> None:
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kit-lab-realguest", "-f", str(work / "id_ed25519")])
    public = (work / "id_ed25519.pub").read_text().strip()
    rootfs = work / "root"
    progress(f"building the real guest: mmdebstrap {SUITE} ({len(PACKAGES)} packages) — "
             "a few minutes, once per recipe")
    _run(["mmdebstrap", "--mode=auto", "--variant=important", "--quiet",
          "--aptopt=Acquire::Check-Valid-Until \"false\"", "--include=" + ",".join(PACKAGES),
          "--customize-hook=" + f"KIT_PUBKEY='{public}'\n" + SETUP,
          SUITE, str(rootfs), MIRROR], timeout=1800)
    progress("building the real guest: mkfs.ext4 -d (no loop mount)")
    disk = work / "disk.img"
    _run(["truncate", "-s", SIZE, str(disk)])
    _run(["mkfs.ext4", "-q", "-F", "-L", "root", "-U", ROOT_UUID, "-d", str(rootfs), str(disk)], timeout=600)
    shutil.rmtree(rootfs)


def debugfs_read(disk: Path, path: str) -> bytes | None:
    """A file's bytes from an ext4 image (``None`` when it does not exist)."""
    done = subprocess.run(["debugfs", "-R", f"cat {path}", str(disk)], capture_output=True, timeout=60)
    if done.returncode != 0 or b"File not found" in done.stderr:
        return None
    return done.stdout


def debugfs_write(disk: Path, files: dict[str, bytes | None], links: dict[str, str] | None = None) -> None:
    """Write (or with ``None`` delete) files and make symlinks in an ext4 image, in one debugfs run."""
    with tempfile.TemporaryDirectory(prefix="kit-debugfs-") as scratch:
        commands = []
        for number, (path, data) in enumerate(files.items()):
            commands.append(f'rm "{path}"')
            if data is not None:
                source = Path(scratch, str(number))
                source.write_bytes(data)
                commands += [f'write "{source}" "{path}"', f'sif "{path}" uid 0', f'sif "{path}" gid 0']
        for link, target in (links or {}).items():
            commands += [f'rm "{link}"', f'symlink "{link}" "{target}"']
        script = Path(scratch, "commands")
        script.write_text("\n".join(commands) + "\n")
        done = subprocess.run(["debugfs", "-w", "-f", str(script), str(disk)], capture_output=True, text=True,
                              timeout=120)
    errors = [line for line in done.stderr.splitlines()
              if line.strip() and "File not found by ext2_lookup" not in line and not line.startswith("debugfs ")]
    if done.returncode != 0 or errors:
        raise LabError(f"debugfs could not edit {disk}: {'; '.join(errors[-3:]) or done.returncode}")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(argv: list[str], timeout: float = 120) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise LabError(f"{argv[0]} did not finish in {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-4:])
        raise LabError(f"{argv[0]} failed (exit {done.returncode}): {tail}")
