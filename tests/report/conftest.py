"""Fixtures for notebook tests: every scenario's bundles, collected once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def collected(lab: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Scenario name → the broken VM's bundle (peers next to it), collected from the lab over HTTPS."""
    from kit.azure.collect import CollectionRequest, collect
    from kit.azure.target import AzureTarget

    root = tmp_path_factory.mktemp("evidence")
    target = AzureTarget.for_lab(lab)
    out: dict[str, Path] = {}
    for name in lab.scenario_names:  # type: ignore[attr-defined]
        info = lab.scenario(name)  # type: ignore[attr-defined]
        start, end = info.window
        if info.scale_set:  # a scale set's instances, by instance id (bundles are named <scale set>_<id>)
            request = CollectionRequest(info.subscription_id, info.resource_group, info.instance_id(info.broken_vm),
                                        tuple(info.instance_id(vm) for vm in info.known_good), start=start, end=end,
                                        source=f"lab:{name}", scale_set=info.scale_set)
        else:
            request = CollectionRequest(info.subscription_id, info.resource_group, info.broken_vm, info.known_good,
                                        start=start, end=end, source=f"lab:{name}")
        out[name] = collect(target, request, root / name).subject
    yield out
