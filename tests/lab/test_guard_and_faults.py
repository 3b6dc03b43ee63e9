"""Bearer token and api-version checks, and reproducible fault injection."""

from __future__ import annotations

import time

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError, ServiceResponseError

from kit.errors import UsageError
from kit.lab import Faults
from lab.conftest import RG, SUB, Token, client_kwargs

VMS = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines"


def _get(lab, path, token=None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(lab.endpoint + path, params=params, headers=headers, verify=str(lab.ca_path), timeout=5)


def test_wrong_token_raises_client_authentication_error(tiny_lab):
    from azure.mgmt.compute import ComputeManagementClient

    client = ComputeManagementClient(Token("not-the-lab-token"), SUB, **client_kwargs(tiny_lab))
    with pytest.raises(ClientAuthenticationError) as caught:
        client.virtual_machines.get(RG, "web-01")
    assert caught.value.error.code == "InvalidAuthenticationToken"


def test_missing_token_is_a_401_with_an_arm_body(tiny_lab):
    answer = _get(tiny_lab, f"{VMS}/web-01", **{"api-version": "2024-07-01"})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "AuthenticationFailed"
    assert "WWW-Authenticate" in answer.headers


def test_missing_api_version_is_a_400(tiny_lab):
    answer = _get(tiny_lab, f"{VMS}/web-01", token=tiny_lab.token)
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "MissingApiVersionParameter")


def test_token_is_random_per_start(tiny_lab, fresh_lab):
    assert tiny_lab.token != fresh_lab.token and tiny_lab.token.count(".") == 2


def _statuses(lab, count=30):
    paths = [f"{VMS}/web-0{index % 2 + 1}" for index in range(count)]
    return [_get(lab, path, token=lab.token, **{"api-version": "1"}).status_code for path in paths]


def test_same_seed_gives_the_same_failures(fresh_lab):
    fresh_lab.set_faults(Faults(error_rate=0.5, kinds=("429", "500", "503"), seed=7))
    first = _statuses(fresh_lab)
    fresh_lab.set_faults(Faults(error_rate=0.5, kinds=("429", "500", "503"), seed=7))
    assert _statuses(fresh_lab) == first
    assert {429, 500, 503} & set(first) and 200 in first
    fresh_lab.set_faults(Faults(error_rate=0.5, kinds=("429", "500", "503"), seed=8))
    assert _statuses(fresh_lab) != first


def test_throttling_carries_retry_after_and_the_sdk_rides_through(fresh_lab):
    from azure.mgmt.compute import ComputeManagementClient

    fresh_lab.set_faults(Faults(error_rate=1.0, kinds=("429",), retry_after=3))
    answer = _get(fresh_lab, f"{VMS}/web-01", token=fresh_lab.token, **{"api-version": "1"})
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "3")
    fresh_lab.set_faults(Faults(error_rate=0.4, kinds=("429", "500", "503"), retry_after=0, seed=3))
    client = ComputeManagementClient(Token(fresh_lab.token), SUB,
                                     **client_kwargs(fresh_lab, retry_total=8, retry_backoff_factor=0.01))
    assert [client.virtual_machines.get(RG, "web-01").name for _ in range(8)] == ["web-01"] * 8


def test_reset_and_timeout_fail_fast_on_the_client(fresh_lab):
    from azure.mgmt.compute import ComputeManagementClient

    client = ComputeManagementClient(Token(fresh_lab.token), SUB, **client_kwargs(fresh_lab, read_timeout=0.5))
    fresh_lab.set_faults(Faults(error_rate=1.0, kinds=("reset",)))
    with pytest.raises((ServiceRequestError, ServiceResponseError)):
        client.virtual_machines.get(RG, "web-01")
    fresh_lab.set_faults(Faults(error_rate=1.0, kinds=("timeout",), timeout_seconds=3))
    started = time.monotonic()
    with pytest.raises(ServiceResponseError):
        client.virtual_machines.get(RG, "web-01")
    assert time.monotonic() - started < 2


def test_latency_delays_answers(fresh_lab):
    fresh_lab.set_faults(Faults(latency=0.3))
    started = time.monotonic()
    assert _get(fresh_lab, f"{VMS}/web-01", token=fresh_lab.token, **{"api-version": "1"}).status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("bad", [{"error_rate": 1.5}, {"latency": -1}, {"kinds": ("boom",)}, {"retry_after": -2}])
def test_bad_fault_settings_are_usage_errors(bad):
    with pytest.raises(UsageError):
        Faults(**bad)


def test_faults_reach_the_boot_diagnostics_blobs_too(fresh_lab):
    from azure.mgmt.compute import ComputeManagementClient

    client = ComputeManagementClient(Token(fresh_lab.token), SUB, **client_kwargs(fresh_lab))
    url = client.virtual_machines.retrieve_boot_diagnostics_data(RG, "web-01").serial_console_log_blob_uri
    fresh_lab.set_faults(Faults(error_rate=1.0, kinds=("503",)))
    assert requests.get(url, verify=str(fresh_lab.ca_path), timeout=5).status_code == 503


async def test_async_context_manager_serves_without_blocking_the_loop():
    from azure.mgmt.compute.aio import ComputeManagementClient

    from kit.lab import arunning_lab
    from lab.conftest import DATA, AsyncToken

    async with (arunning_lab(scenario_dirs=[DATA], scenarios=["tiny"]) as lab,
                ComputeManagementClient(AsyncToken(lab.token), SUB, **client_kwargs(lab)) as client):
        names = sorted([vm.name async for vm in client.virtual_machines.list(RG)])
    assert names == ["db-01", "old-01", "web-01", "web-02"]
    assert not lab.ca_path.exists()


def test_a_faulty_run_reproduces_including_operation_polls():
    from azure.mgmt.network import NetworkManagementClient

    from kit.lab import running_lab
    from lab.conftest import DATA

    def run() -> list[tuple[str, str, int]]:
        with running_lab(scenario_dirs=[DATA], faults=Faults(error_rate=0.3, kinds=("500", "503"), seed=11)) as lab:
            seen: list[tuple[str, str, int]] = []
            network = NetworkManagementClient(
                Token(lab.token), SUB, raw_response_hook=lambda response: seen.append((
                    response.http_request.method, response.http_request.url.split("/providers/", 1)[-1],
                    response.http_response.status_code)),
                **client_kwargs(lab, polling_interval=0.01, retry_total=10, retry_backoff_factor=0.01))
            for nic in ("web-01-nic", "web-02-nic"):
                network.network_interfaces.begin_get_effective_route_table(RG, nic).result()
            return seen

    first = run()
    assert first == run()
    assert any(status >= 500 for _, _, status in first)
