"""kit.analyze never reaches for Azure: importing and running the boot-log parser loads no azure module."""

from __future__ import annotations

import subprocess
import sys


def test_bootlog_imports_nothing_from_azure() -> None:
    code = ("import sys, kit.analyze.bootlog as b, kit.cli.analyze_boot; b.parse_boot_log(b'Linux version 6'); "
            "bad = sorted(m for m in sys.modules if m == 'azure' or m.startswith(('azure.', 'kit.azure'))); "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
