"""Display names of Activity Log callers from Microsoft Graph, collected from the lab over HTTPS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kit.azure.collect import CollectionRequest, collect
from kit.azure.directory import BATCH, batches, principal_ids
from kit.azure.target import AzureTarget
from kit.evidence import load_bundle

SCENARIO = "nsg-deny"
RAFAEL = "8a1c06d9-1173-5902-a29b-7f15fb1a21a1"  # a user: object id in the claims, UPN as caller
PATCHING_APP = "3f9b0a27-c1d4-4e68-95a2-b7e0d3c6f184"  # a service principal: appId as caller
PATCHING_OBJECT = "f5f8fdc8-db9d-5ec5-b3e8-d25abca62fd5"


def _collect(lab: Any, out: Path) -> Any:
    info = lab.scenario(SCENARIO)
    request = CollectionRequest(info.subscription_id, info.resource_group, info.broken_vm, tuple(info.known_good),
                                start=info.window_start, end=info.window_end, source=f"lab:{SCENARIO}")
    return collect(AzureTarget.for_lab(lab), request, out)


def test_callers_get_their_display_names(lab: Any, tmp_path: Path) -> None:
    result = _collect(lab, tmp_path)
    for path in result.bundles:
        bundle = load_bundle(path)
        names = bundle.directory_names
        assert names[RAFAEL] == "Rafael Ferreira"
        assert names[PATCHING_APP] == names[PATCHING_OBJECT] == "sp-lumen-patching"
        assert bundle.directory_lookup_note is None
        entry = next(file for file in bundle.manifest["files"] if file["path"] == "graph/directory_objects.json")
        assert entry["call"] == "directory_objects.get_by_ids" and entry["api_version"] == "v1.0"
        assert result.failures[path.name] == []


def test_graph_refusal_is_a_note_and_the_collection_still_succeeds(lab: Any, tmp_path: Path) -> None:
    lab.refuse_graph()
    try:
        result = _collect(lab, tmp_path)
    finally:
        lab.refuse_graph(False)
    bundle = load_bundle(result.subject)
    assert bundle.directory_names == {}
    assert bundle.directory_lookup_note == ("display names unavailable: Microsoft Graph refused the lookup "
                                            "(403 Authorization_RequestDenied)")
    assert [failure["call"] for failure in bundle.failures] == ["directory_objects.get_by_ids"]
    assert bundle.vm is not None and bundle.activity_log  # the rest of the evidence is there
    assert PATCHING_APP in {record.get("caller") for record in bundle.activity_log}  # the bare GUID is kept
    assert not (result.subject / "graph").exists()


def test_principal_ids_are_the_distinct_guids_of_callers_and_claims() -> None:
    records = [
        {"caller": "someone@contoso.com", "claims": {
            "http://schemas.microsoft.com/identity/claims/objectidentifier": RAFAEL.upper(), "appid": PATCHING_APP}},
        {"caller": PATCHING_APP, "claims": {"oid": PATCHING_OBJECT}},
        {"caller": None}, "not a record",
    ]
    assert principal_ids(records) == [RAFAEL, PATCHING_APP, PATCHING_OBJECT]
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(BATCH * 2 + 1)]
    assert [len(batch) for batch in batches(ids)] == [BATCH, BATCH, 1]


@pytest.mark.parametrize("cloud, graph", [("AzureCloud", "https://graph.microsoft.com"),
                                          ("AzureUSGovernment", "https://graph.microsoft.us")])
def test_graph_endpoint_and_scope_follow_the_cloud(cloud: str, graph: str) -> None:
    target = AzureTarget(cloud=cloud)
    assert target.graph_endpoint == graph and target.graph_scope == f"{graph}/.default"


def test_a_pre_issued_arm_token_is_never_sent_to_graph(lab: Any) -> None:
    assert AzureTarget.for_lab(lab).asks_graph  # the lab serves Graph at its ARM endpoint
    assert not AzureTarget(arm_endpoint=lab.endpoint, credential="env-token").asks_graph
    assert AzureTarget(credential="cli").asks_graph
