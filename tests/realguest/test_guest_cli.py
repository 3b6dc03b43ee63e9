"""``kit lab guest`` and ``kit lab serve --real-guest(s)``, as a user runs them."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kit.cli import main

pytestmark = [pytest.mark.realguest, pytest.mark.xdist_group("realguest"), pytest.mark.timeout(900)]


def test_build_says_where_the_cached_image_is(base_image: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "guest", "build"]) == 0
    out = capsys.readouterr().out
    assert f"cached (recipe {base_image.folder.name.split('-')[-1]}" in out and str(base_image.disk) in out
    assert str(base_image.key) in out


def test_a_broken_initramfs_on_the_disk_really_panics_the_kernel(base_image: Any, tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-m", "kit", "lab", "guest", "boot", "kernel-panic"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 600
        while not any("Kernel panic" in line for line in lines):
            assert time.monotonic() < deadline and child.poll() is None, "".join(lines)
            if select.select([child.stdout], [], [], 1)[0]:
                lines.append(child.stdout.readline())  # type: ignore[union-attr]
        log = Path(next(line.split("log:", 1)[1].strip() for line in lines if line.strip().startswith("log:")))
        time.sleep(2)  # the rest of the panic report
        (tmp_path / "serial.log").write_bytes(log.read_bytes())
    finally:
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=30) == 0
    assert any("kit console open --socket" in line for line in lines)
    assert not log.parent.exists(), "Ctrl-C deletes the disk copy"
    out = subprocess.run([sys.executable, "-m", "kit", "analyze", "boot", str(tmp_path / "serial.log"), "--json"],
                         capture_output=True, text=True, env=os.environ).stdout
    kinds = {finding["kind"] for finding in json.loads(out)["findings"]}
    assert "boot:kernel:panic" in kinds, kinds
    assert "error: file '/boot/initrd.img-" in (tmp_path / "serial.log").read_text(), "GRUB's word on the missing file"


def test_serve_refuses_a_real_guest_for_a_scenario_without_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "serve", "--scenario", "nsg-deny", "--real-guest", "nsg-deny"]) == 2
    assert "no real guest for 'nsg-deny'" in capsys.readouterr().err


def test_demo_on_a_real_guest_says_it_is_booting_and_finds_the_real_failure(
        base_image: Any, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "kit", "demo", "--scenario", "sshd-broken", "--real-guest",
                           "--archive", str(tmp_path)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "booting a real Debian 12 under QEMU" in done.stderr
    assert "top hypothesis: service_failure:sshd" in done.stdout
    logs = list(tmp_path.rglob("build-coord-01/serial.log"))
    assert logs and b"Debian GNU/Linux 12" in logs[0].read_bytes()
