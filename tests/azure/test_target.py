"""AzureTarget, the credentials and the SDK error translation (no network needed)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceResponseError

from kit.azure.choices import CLOUD_NAMES, CREDENTIAL_KINDS
from kit.azure.credentials import AsyncStaticTokenCredential, StaticTokenCredential
from kit.azure.errors import failure_record, map_azure_errors
from kit.azure.target import CLOUDS, AzureTarget
from kit.errors import AuthenticationError, AzureError, UsageError


@pytest.mark.parametrize(("cloud", "endpoint", "scope"), [
    ("AzureCloud", "https://management.azure.com", "https://management.azure.com/.default"),
    ("AzureUSGovernment", "https://management.usgovcloudapi.net", "https://management.core.usgovcloudapi.net/.default"),
    ("AzureChinaCloud", "https://management.chinacloudapi.cn", "https://management.chinacloudapi.cn/.default"),
])
def test_clouds_map_to_their_endpoint_and_scope(cloud: str, endpoint: str, scope: str) -> None:
    kwargs = AzureTarget(cloud=cloud).client_kwargs()
    assert kwargs["base_url"] == endpoint
    assert kwargs["credential_scopes"] == [scope]
    assert kwargs["connection_verify"] is True
    assert kwargs["retry_total"] >= 1 and kwargs["read_timeout"] > 0


def test_custom_endpoint_with_ca_bundle(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    target = AzureTarget(arm_endpoint="https://management.local.azurestack.external/", ca_bundle=ca)
    kwargs = target.client_kwargs()
    assert kwargs["base_url"] == "https://management.local.azurestack.external"
    assert kwargs["connection_verify"] == str(ca)
    assert kwargs["credential_scopes"] == ["https://management.local.azurestack.external/.default"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"cloud": "AzureMoon"}, "unknown cloud 'AzureMoon'"),
    ({"credential": "password"}, "unknown credential 'password'"),
    ({"arm_endpoint": "http://insecure.example"}, "must be an https:// URL"),
    ({"ca_bundle": Path("/nonexistent/ca.pem")}, "does not exist"),
])
def test_bad_target_is_a_usage_error(kwargs: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        AzureTarget(**kwargs)


def test_env_token_is_read_at_use_and_never_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", "first")
    sync, aio = StaticTokenCredential(), AsyncStaticTokenCredential()
    assert sync.get_token("scope").token == "first"
    monkeypatch.setenv("KIT_ARM_TOKEN", "second")
    assert asyncio.run(aio.get_token("scope")).token == "second"
    assert "second" not in repr(aio) and "second" not in repr(vars(sync))


def test_a_lab_target_holds_its_token_and_leaves_the_environment_alone(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    monkeypatch.delenv("KIT_ARM_TOKEN", raising=False)
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    lab = SimpleNamespace(endpoint="https://127.0.0.1:8443", ca_path=ca, token="lab-token-7f3e")
    target = AzureTarget.for_lab(lab)
    assert "KIT_ARM_TOKEN" not in os.environ
    assert target.sync_credential().get_token("scope").token == "lab-token-7f3e"
    assert asyncio.run(target.async_credential().get_token("scope")).token == "lab-token-7f3e"
    monkeypatch.setenv("KIT_ARM_TOKEN", "someone-elses")  # the environment does not override a held token
    assert target.sync_credential().get_token("scope").token == "lab-token-7f3e"
    for shown in (repr(target), repr(target.sync_credential()), repr(vars(target.sync_credential()))):
        assert "lab-token-7f3e" not in shown
    with pytest.raises(UsageError, match="only used by the 'env-token' credential"):
        AzureTarget(credential="cli", token="x")


def test_clouds_and_credential_kinds_are_one_list() -> None:
    assert tuple(CLOUDS) == CLOUD_NAMES
    assert set(CREDENTIAL_KINDS) == {"default", "cli", "managed-identity", "env-token"}


def test_missing_env_token_is_a_clear_authentication_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIT_ARM_TOKEN", raising=False)
    with pytest.raises(AuthenticationError, match="KIT_ARM_TOKEN is empty or not set"):
        AzureTarget(credential="env-token").async_credential()
    with pytest.raises(AuthenticationError, match="KIT_ARM_TOKEN"):
        StaticTokenCredential().get_token("scope")


def test_sdk_errors_become_kit_errors_at_one_boundary() -> None:
    with pytest.raises(AuthenticationError) as caught, map_azure_errors("virtual_machines.get", "/subscriptions/x"):
        raise ClientAuthenticationError("no token")
    assert caught.value.operation == "virtual_machines.get"
    assert isinstance(caught.value.__cause__, ClientAuthenticationError)
    with pytest.raises(AzureError, match="timeout or connection reset") as timeout, map_azure_errors("x.get"):
        raise ServiceResponseError("read timed out")
    assert failure_record(timeout.value, call="x.get", resource_id=None)["code"] == "ResponseError"
    with pytest.raises(AzureError, match="boom") as generic, map_azure_errors("x.get"):
        raise HttpResponseError("boom")
    assert type(generic.value) is AzureError
