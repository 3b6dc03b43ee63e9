"""Fixtures for the lab's tests: a lab serving the tiny test scenario, and real SDK clients for it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo

from kit.lab import RunningLab, running_lab

DATA = Path(__file__).parent / "data"
SUB = "11111111-2222-4333-8444-555555555555"
RG = "rg-tiny"


class Token:
    """A sync credential handing out a fixed bearer token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo(self.token, int(time.time()) + 3600)


class AsyncToken(Token):
    """The async twin of :class:`Token`."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:  # type: ignore[override]
        return AccessToken(self.token, int(time.time()) + 3600)

    async def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:  # type: ignore[override]
        return AccessTokenInfo(self.token, int(time.time()) + 3600)

    async def close(self) -> None:
        pass


def client_kwargs(lab: RunningLab, **extra: Any) -> dict[str, Any]:
    """What every azure-mgmt client needs to reach the lab with TLS verified."""
    return {"base_url": lab.endpoint, "credential_scopes": [f"{lab.endpoint}/.default"],
            "connection_verify": str(lab.ca_path), "retry_total": 0, **extra}


@pytest.fixture(scope="session")
def tiny_lab() -> Iterator[RunningLab]:
    """A lab serving only ``tests/lab/data/tiny`` (shared: tests must not change it)."""
    with running_lab(scenario_dirs=[DATA]) as lab:
        yield lab


@pytest.fixture
def fresh_lab() -> Iterator[RunningLab]:
    """A lab of its own, for tests that write through the ARM API."""
    with running_lab(scenario_dirs=[DATA]) as lab:
        yield lab


@pytest.fixture(scope="session")
def compute(tiny_lab: RunningLab) -> Any:
    from azure.mgmt.compute import ComputeManagementClient

    return ComputeManagementClient(Token(tiny_lab.token), SUB, **client_kwargs(tiny_lab))


@pytest.fixture(scope="session")
def network(tiny_lab: RunningLab) -> Any:
    from azure.mgmt.network import NetworkManagementClient

    return NetworkManagementClient(Token(tiny_lab.token), SUB, **client_kwargs(tiny_lab, polling_interval=0.01))
