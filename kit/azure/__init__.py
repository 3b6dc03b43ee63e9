"""ARM access with the official SDKs: targets, credentials, the evidence collector.

The only package that imports ``azure.*``. Names are imported on first use: the SDK costs
about half a second to import, and ``kit --help`` or a notebook reading a bundle never needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kit._lazy import lazy_exports

if TYPE_CHECKING:
    from kit.azure.collect import collect, collect_async
    from kit.azure.credentials import AsyncStaticTokenCredential, StaticTokenCredential
    from kit.azure.errors import map_azure_errors
    from kit.azure.request import CollectionRequest, CollectionResult
    from kit.azure.target import AzureTarget, RetrySettings

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

__getattr__, __dir__ = lazy_exports(__name__, {
    "AsyncStaticTokenCredential": "kit.azure.credentials",
    "StaticTokenCredential": "kit.azure.credentials",
    "AzureTarget": "kit.azure.target",
    "RetrySettings": "kit.azure.target",
    "CollectionRequest": "kit.azure.request",
    "CollectionResult": "kit.azure.request",
    "collect": "kit.azure.collect",
    "collect_async": "kit.azure.collect",
    "map_azure_errors": "kit.azure.errors",
})
