"""Private: the SDK clients of one collection and the raw-body capture used for every call.

Every ARM call goes through an ``azure.mgmt.*.aio`` client built from one
:class:`~kit.azure.target.AzureTarget`; responses are kept as the JSON the service sent
(the REST shape the bundle stores), captured with the SDK's own ``cls`` and hook keywords.
Blob downloads (boot diagnostics SAS URLs) use a separate azure-core pipeline with the same
retry policy and CA, and no ARM token (a storage URL must never see the ARM bearer token).
Microsoft Graph calls use a third pipeline whose bearer token is asked for the Graph scope.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from azure.core import AsyncPipelineClient
from azure.core.pipeline.policies import (
    AsyncBearerTokenCredentialPolicy,
    AsyncRetryPolicy,
    HeadersPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import AioHttpTransport
from azure.core.rest import HttpRequest

from kit import __version__
from kit.azure.target import AzureTarget

__all__ = ["RETRY_METHODS", "Capture", "Clients", "api_version_of", "body_of"]

#: every call the collector makes is a read; its POSTs (retrieveBootDiagnosticsData, effective
#: NSGs/routes) change nothing, so they are retried on timeouts and resets like GETs.
RETRY_METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS"})
_USER_AGENT = f"kit/{__version__}"


def body_of(response: Any) -> Any:
    """The JSON body of an azure-core response (new ``rest`` or legacy transport response)."""
    reader = getattr(response, "json", None)
    if callable(reader):
        return reader()
    return json.loads(response.text())


def api_version_of(url: str) -> str | None:
    """The ``api-version`` query parameter of ``url``."""
    values = parse_qs(urlsplit(url).query).get("api-version")
    return values[0] if values else None


class Capture:
    """Per-call keyword arguments that keep the raw JSON and the api-version of a call.

    ``kwargs()`` goes into the SDK call; afterwards ``body`` (single responses, final LRO
    result) or ``pages`` (pagers: every 200 page body in order) hold what the service sent.
    """

    def __init__(self) -> None:
        self.api_version: str | None = None
        self.pages: list[Any] = []
        self.body: Any = None

    def _on_request(self, request: Any) -> None:
        if self.api_version is None:
            self.api_version = api_version_of(request.http_request.url)

    def _on_response(self, response: Any) -> None:
        if response.http_response.status_code == 200 and self._paging:
            self.pages.append(body_of(response.http_response))

    def _cls(self, pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
        self.body = body_of(pipeline_response.http_response)
        return self.body

    def kwargs(self, *, paging: bool = False, **extra: Any) -> dict[str, Any]:
        """Keyword arguments for one SDK call."""
        self._paging = paging
        options: dict[str, Any] = {
            "raw_request_hook": self._on_request,
            "retry_on_methods": RETRY_METHODS,
            **extra,
        }
        if paging:
            options["raw_response_hook"] = self._on_response
        else:
            options["cls"] = self._cls
        return options


class Clients:
    """The async SDK clients (per subscription) and the blob pipeline of one collection.

    Parameters
    ----------
    target
        Endpoint, CA, credential kind and retry settings.
    credential
        An async credential (the caller owns and closes it).
    """

    def __init__(self, target: AzureTarget, credential: Any) -> None:
        self.target = target
        self.credential = credential
        self._clients: dict[tuple[str, str], Any] = {}
        self._blob: AsyncPipelineClient | None = None
        self._graph: AsyncPipelineClient | None = None

    def _make(self, kind: str, subscription_id: str) -> Any:
        kwargs = dict(self.target.client_kwargs(), user_agent=_USER_AGENT)
        if kind == "compute":
            from azure.mgmt.compute.aio import ComputeManagementClient
            return ComputeManagementClient(self.credential, subscription_id, **kwargs)
        if kind == "network":
            from azure.mgmt.network.aio import NetworkManagementClient
            return NetworkManagementClient(self.credential, subscription_id, **kwargs)
        if kind == "monitor":
            from azure.mgmt.monitor.aio import MonitorManagementClient
            return MonitorManagementClient(self.credential, subscription_id, **kwargs)
        if kind == "resourcehealth":
            from azure.mgmt.resourcehealth.aio import ResourceHealthMgmtClient
            return ResourceHealthMgmtClient(self.credential, subscription_id, **kwargs)
        from azure.mgmt.authorization.aio import AuthorizationManagementClient
        return AuthorizationManagementClient(self.credential, subscription_id, **kwargs)

    def get(self, kind: str, subscription_id: str) -> Any:
        """The ``compute``/``network``/``monitor``/``resourcehealth``/``authorization`` client for a subscription."""
        key = (kind, subscription_id.lower())
        if key not in self._clients:
            self._clients[key] = self._make(kind, subscription_id)
        return self._clients[key]

    def _pipeline(self, *extra: Any) -> AsyncPipelineClient:
        """A plain azure-core pipeline with the target's retry settings and CA, then ``extra`` policies."""
        retry = self.target.retry
        transport = AioHttpTransport(connection_verify=self.target.connection_verify,
                                     connection_timeout=retry.connection_timeout, read_timeout=retry.read_timeout)
        return AsyncPipelineClient(
            base_url="",
            policies=[HeadersPolicy(), UserAgentPolicy(_USER_AGENT),
                      AsyncRetryPolicy(retry_total=retry.total, retry_backoff_factor=retry.backoff_factor,
                                       retry_backoff_max=retry.backoff_max), *extra],
            transport=transport,
        )

    async def download(self, url: str) -> tuple[int, bytes, Any]:
        """GET a (SAS) blob URL without ARM credentials; returns status, body and the response."""
        if self._blob is None:
            self._blob = self._pipeline()
        response = await self._blob.send_request(HttpRequest("GET", url, headers={"x-ms-version": "2021-08-06"}))
        return response.status_code, response.content, response

    async def graph_post(self, path: str, body: Any) -> Any:
        """POST ``body`` to Microsoft Graph ``path`` (``/v1.0/…``) with a Graph-scoped token; the JSON answer.

        A non-2xx answer raises azure-core's ``HttpResponseError``, like an SDK call.
        """
        if self._graph is None:
            self._graph = self._pipeline(AsyncBearerTokenCredentialPolicy(self.credential, self.target.graph_scope))
        request = HttpRequest("POST", self.target.graph_endpoint + path, json=body,
                              headers={"Accept": "application/json"})
        response = await self._graph.send_request(request, retry_on_methods=RETRY_METHODS)
        response.raise_for_status()
        return response.json()

    async def close(self) -> None:
        """Close every client opened."""
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
        for pipeline in (self._blob, self._graph):
            if pipeline is not None:
                await pipeline.close()
        self._blob = self._graph = None
