"""Real-guest tests: a real Debian 12 under QEMU plays the scenario's broken VM (README, "Real guests").

They need QEMU, mmdebstrap, debugfs and ssh (``.ci/run`` installs them); the image is built once
per recipe into the cache folder (``KIT_GUEST_CACHE``, else ``~/.cache/kit/realguest``). They run
one after another on one xdist worker: two TCG guests at once would halve each one's speed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

_TOOLS = {"qemu-system-x86_64": "qemu-system-x86", "mmdebstrap": "mmdebstrap", "debugfs": "e2fsprogs",
          "ssh": "openssh-client"}


def _missing() -> list[str]:
    return sorted(package for tool, package in _TOOLS.items()
                  if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    missing = _missing()
    for item in items:
        if Path(str(item.fspath)).parent.name != "realguest":
            continue
        if missing:
            item.add_marker(pytest.mark.skip(reason=f"real guests need {', '.join(missing)} (apt-get install)"))


@pytest.fixture(scope="session")
def base_image():  # type: ignore[no-untyped-def]
    from kit.lab.realguest import build_base

    return build_base(progress=print)
