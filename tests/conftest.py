"""Shared fixtures: one lab per test session (per xdist worker), reached over real HTTPS."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def lab() -> Iterator[object]:
    """A running lab serving every scenario, with no faults injected."""
    from kit.lab import running_lab

    with running_lab() as running:
        yield running


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip browser and QEMU tests, with a reason, where their programs are missing."""
    chromium = shutil.which("chromium") or shutil.which("/usr/bin/chromium")
    qemu = shutil.which("qemu-system-x86_64")
    for item in items:
        if "browser" in item.keywords and not chromium:
            item.add_marker(pytest.mark.skip(reason="Debian chromium is not installed (apt-get install chromium)"))
        if "qemu" in item.keywords and not qemu:
            item.add_marker(pytest.mark.skip(
                reason="qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"))
