"""Every lab scenario's bundles, collected once per session over HTTPS with the real collector."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def scenario_bundles(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every scenario the lab serves, collected once: name → (info, subject bundle, peer bundles)."""
    from kit.azure.collect import CollectionRequest, collect
    from kit.azure.target import AzureTarget
    from kit.evidence import load_bundle
    from kit.lab import list_scenarios

    out: dict[str, Any] = {}
    target = AzureTarget.for_lab(lab)
    for info in list_scenarios():
        start, end = info.window
        if info.scale_set:  # a scale set's instances, by instance id (their bundles are named <scale set>_<id>)
            request = CollectionRequest(info.subscription_id, info.resource_group, info.instance_id(info.broken_vm),
                                        tuple(info.instance_id(vm) for vm in info.known_good), start=start, end=end,
                                        source=f"lab:{info.name}", scale_set=info.scale_set)
        else:
            request = CollectionRequest(info.subscription_id, info.resource_group, info.broken_vm, info.known_good,
                                        start=start, end=end, source=f"lab:{info.name}")
        result = collect(target, request, tmp_path_factory.mktemp(info.name))
        subject = load_bundle(result.subject)
        out[info.name] = (info, subject, subject.peers())
    return out
