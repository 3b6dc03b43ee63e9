"""ARM access with the official SDKs: targets, credentials, the evidence collector.

The only package that imports ``azure.*``. Names are loaded lazily so that importing
:mod:`kit.azure.ids` (pure, used everywhere) never pulls in the SDK.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "AsyncStaticTokenCredential",
    "AzureTarget",
    "CollectionRequest",
    "CollectionResult",
    "RetrySettings",
    "StaticTokenCredential",
    "collect",
    "collect_async",
    "map_azure_errors",
]

_WHERE = {
    "AsyncStaticTokenCredential": "kit.azure.credentials",
    "StaticTokenCredential": "kit.azure.credentials",
    "AzureTarget": "kit.azure.target",
    "RetrySettings": "kit.azure.target",
    "CollectionRequest": "kit.azure.collect",
    "CollectionResult": "kit.azure.collect",
    "collect": "kit.azure.collect",
    "collect_async": "kit.azure.collect",
    "map_azure_errors": "kit.azure.errors",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'kit.azure' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
