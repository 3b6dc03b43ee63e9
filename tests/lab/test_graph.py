"""The lab's Microsoft Graph ``directoryObjects/getByIds``: the shape Graph answers, behind the lab's token."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any

import pytest

RAFAEL = "8a1c06d9-1173-5902-a29b-7f15fb1a21a1"
PATCHING_OBJECT = "f5f8fdc8-db9d-5ec5-b3e8-d25abca62fd5"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _post(lab: Any, body: Any, token: str | None = "lab") -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {lab.token if token == 'lab' else token}"
    request = urllib.request.Request(f"{lab.endpoint}/v1.0/directoryObjects/getByIds", json.dumps(body).encode(),
                                     headers, method="POST")
    context = ssl.create_default_context(cafile=str(lab.ca_path))
    try:
        with urllib.request.urlopen(request, context=context) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_known_ids_come_back_with_names_unknown_ones_are_left_out(lab: Any) -> None:
    status, body = _post(lab, {"ids": [RAFAEL, UNKNOWN, PATCHING_OBJECT], "types": ["user", "servicePrincipal"]})
    assert status == 200 and body["@odata.context"].endswith("$metadata#directoryObjects")
    assert [(item["@odata.type"], item["displayName"]) for item in body["value"]] == [
        ("#microsoft.graph.user", "Rafael Ferreira"), ("#microsoft.graph.servicePrincipal", "sp-lumen-patching")]
    assert body["value"][1]["appId"] == "3f9b0a27-c1d4-4e68-95a2-b7e0d3c6f184"


def test_types_filter_the_answer(lab: Any) -> None:
    status, body = _post(lab, {"ids": [RAFAEL, PATCHING_OBJECT], "types": ["servicePrincipal"]})
    assert status == 200 and [item["id"] for item in body["value"]] == [PATCHING_OBJECT]


@pytest.mark.parametrize("body", [{"ids": []}, {"ids": [UNKNOWN] * 1001}, {"ids": [RAFAEL], "types": ["planet"]}, []])
def test_bad_requests_are_400(lab: Any, body: Any) -> None:
    status, answer = _post(lab, body)
    assert status == 400 and answer["error"]["code"] in ("Request_BadRequest", "BadRequest")


def test_the_lab_token_is_required(lab: Any) -> None:
    assert _post(lab, {"ids": [RAFAEL]}, token=None)[0] == 401
    assert _post(lab, {"ids": [RAFAEL]}, token="not-the-token")[0] == 401


def test_refused_graph_answers_403_authorization_request_denied(lab: Any) -> None:
    lab.refuse_graph()
    try:
        status, body = _post(lab, {"ids": [RAFAEL]})
    finally:
        lab.refuse_graph(False)
    assert status == 403 and body["error"]["code"] == "Authorization_RequestDenied"
    assert _post(lab, {"ids": [RAFAEL]})[0] == 200
