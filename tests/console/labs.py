"""A lab serving the console scenarios, for the console and gateway tests (real HTTPS + wss)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CONSOLE_SCENARIOS = ("firewall-lockout", "fstab-emergency", "sshd-broken", "windows-rdp")


@contextmanager
def console_lab(tmp: Path) -> Iterator[object]:
    """The built-in scenarios; any console scenario not committed yet is rendered by its builder into ``tmp``."""
    from kit.lab import running_lab
    from kit.lab.scenario import list_scenarios

    built_in = {info.name for info in list_scenarios()}
    dirs = None
    if not set(CONSOLE_SCENARIOS) <= built_in:
        subprocess.run([sys.executable, "-m", "kit.lab.scenarios.build", "--out", str(tmp)], check=True,
                       capture_output=True)
        rendered = {p.name for p in tmp.iterdir() if (p / "scenario.yaml").is_file()}
        if len(rendered) >= len(set(CONSOLE_SCENARIOS) & built_in):
            dirs = [tmp]
    with running_lab(scenario_dirs=dirs) as lab:
        yield lab


def served(lab: object, name: str) -> bool:
    """Whether the lab serves ``name``."""
    return name in lab.scenario_names  # type: ignore[attr-defined]
