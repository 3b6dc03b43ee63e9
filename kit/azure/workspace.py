"""Log Analytics: a workspace's AzureActivity, Heartbeat, Syslog and Event rows for the collection window.

With ``kit collect --workspace ID`` (:attr:`~kit.azure.request.CollectionRequest.workspace`) every
bundle gets ``workspace/<table>.json``, one per query of :data:`QUERIES`, run with azure-monitor-query's
async ``LogsQueryClient`` over the request's window:

- ``AzureActivity`` of the resource group (once, shared by every bundle): the control-plane
  events again, so a window older than the 90 days the Activity Log API keeps still has them;
- ``Heartbeat`` of the VM (the agent's minute-by-minute sign of life: its last row is the last
  known good), and ``Syslog`` (Linux) or ``Event`` (Windows) of the VM; both when the VM model
  does not say which OS it runs.

Each file holds the KQL, the timespan, the primary table's ``columns`` and ``rows`` exactly as the
service answered them, and a ``status``: ``complete``; ``partial`` (some rows, and the service's
``PartialError`` under ``error``); or ``failed`` (no rows; the HTTP status, code and message under
``error``). A partial or failed query, throttling (429) included, is also a manifest failure: the
collection never stops for the workspace.

The endpoint follows the cloud (:data:`ENDPOINTS`, ``https://api.loganalytics.io`` for AzureCloud;
the API path ``/v1`` is the SDK's); a custom ARM endpoint (the lab, which serves
``{endpoint}/v1/workspaces/{id}/query``) is used for Log Analytics too. The token is asked for the
endpoint's audience (``<endpoint>/.default``) from the collection's credential.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from kit import ids
from kit.azure._calls import Capture, body_of
from kit.azure.target import AzureTarget
from kit.times import iso_z

if TYPE_CHECKING:
    from kit.azure._graph import Job, Outcome, Run

__all__ = ["API_VERSION", "ENDPOINTS", "QUERIES", "TABLES", "collect_workspace", "logs_endpoint", "query_text",
           "tables_for"]

#: The Log Analytics query API's version (the SDK's default path segment).
API_VERSION = "v1"

#: Log Analytics query endpoint of each public cloud (the SDK adds ``/v1``).
ENDPOINTS = {
    "AzureCloud": "https://api.loganalytics.io",
    "AzureUSGovernment": "https://api.loganalytics.us",
    "AzureChinaCloud": "https://api.loganalytics.azure.cn",
}

#: The most rows kept per table: the newest (each query orders newest first before ``take``).
ROW_LIMIT = 20000

#: The queries, one per table, with ``{subscription}``, ``{group}`` and ``{vm_id}`` to fill in
#: (quoted and escaped by :func:`query_text`). The window is the request's ``timespan``, not KQL.
QUERIES: dict[str, str] = {
    "AzureActivity": (
        "AzureActivity\n"
        "| where SubscriptionId =~ {subscription} and ResourceGroup =~ {group}\n"
        "| project TimeGenerated, OperationNameValue, OperationName, ActivityStatusValue, ActivitySubstatusValue,"
        " Caller, CallerIpAddress, CorrelationId, EventDataId, EventSubmissionTimestamp, Level, CategoryValue,"
        " ResourceProviderValue, ResourceGroup, SubscriptionId, _ResourceId, HTTPRequest, Properties_d\n"
        f"| order by TimeGenerated desc\n| take {ROW_LIMIT}"),
    "Heartbeat": (
        "Heartbeat\n"
        "| where _ResourceId =~ {vm_id}\n"
        "| project TimeGenerated, Computer, Category, OSType, OSName, Version, ComputerIP, _ResourceId\n"
        f"| order by TimeGenerated desc\n| take {ROW_LIMIT}"),
    "Syslog": (
        "Syslog\n"
        "| where _ResourceId =~ {vm_id}\n"
        "| project TimeGenerated, Computer, HostName, Facility, SeverityLevel, ProcessName, ProcessID,"
        " SyslogMessage, _ResourceId\n"
        f"| order by TimeGenerated desc\n| take {ROW_LIMIT}"),
    "Event": (
        "Event\n"
        "| where _ResourceId =~ {vm_id}\n"
        "| project TimeGenerated, Computer, EventLog, Source, EventID, EventLevelName, RenderedDescription,"
        " UserName, _ResourceId\n"
        f"| order by TimeGenerated desc\n| take {ROW_LIMIT}"),
}

#: Every table queried, in file order.
TABLES = tuple(QUERIES)


def _kql_string(value: str) -> str:
    """A KQL string literal: single quotes, backslashes and quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def query_text(table: str, *, subscription_id: str, resource_group: str, vm_id: str = "") -> str:
    """The KQL of ``table`` (:data:`QUERIES`) for this subscription, resource group and VM."""
    return QUERIES[table].format(subscription=_kql_string(subscription_id), group=_kql_string(resource_group),
                                 vm_id=_kql_string(vm_id.lower()))


def tables_for(model: Any) -> tuple[str, ...]:
    """The per-VM tables for a VM model: Heartbeat, then Syslog (Linux), Event (Windows) or both (unknown)."""
    properties = model.get("properties") if isinstance(model, dict) else None
    storage = properties.get("storageProfile") if isinstance(properties, dict) else None
    disk = storage.get("osDisk") if isinstance(storage, dict) else None
    os_type = str(disk.get("osType") or "").lower() if isinstance(disk, dict) else ""
    if os_type == "linux":
        return ("Heartbeat", "Syslog")
    if os_type == "windows":
        return ("Heartbeat", "Event")
    return ("Heartbeat", "Syslog", "Event")


def logs_endpoint(target: AzureTarget) -> str:
    """Where Log Analytics is queried: the cloud's endpoint, or the custom ARM endpoint (lab, Stack Hub)."""
    return ENDPOINTS[target.cloud] if target.is_public_cloud else target.arm_endpoint


def _client(run: Run) -> Any:
    from azure.monitor.query.aio import LogsQueryClient

    target = run.clients.target
    endpoint = logs_endpoint(target)
    return LogsQueryClient(run.clients.credential, endpoint=endpoint, audience=endpoint,
                           connection_verify=target.connection_verify, **target.retry.as_kwargs())


def _document(table: str, workspace_id: str, query: str, timespan: str) -> dict[str, Any]:
    return {"table": table, "workspace_id": workspace_id, "query": query, "timespan": timespan,
            "status": "complete", "columns": [], "rows": []}


async def _query(run: Run, table: str, resource_id: str, query: str) -> Outcome:
    """One query; the outcome's value is the table's document, whatever the service answered."""
    request = run.request
    assert request.workspace is not None and request.start is not None and request.end is not None
    timespan = f"{iso_z(request.start)}/{iso_z(request.end)}"
    document = _document(table, request.workspace, query, timespan)
    refused: dict[str, Any] = {}

    def keep_refusal(response: Any) -> None:
        http = response.http_response
        if http.status_code >= 400:
            try:
                refused["body"] = body_of(http)
            except ValueError:
                refused["body"] = None

    async def invoke(capture: Capture) -> None:
        async with _client(run) as client:
            await client.query_workspace(request.workspace, query, timespan=(request.start, request.end),
                                         **capture.kwargs(raw_response_hook=keep_refusal))

    outcome = await run.arm(f"workspace.{table}", resource_id, invoke)
    outcome.api_version = API_VERSION
    if outcome.failure is not None:
        document["status"] = "failed"
        document["error"] = {key: outcome.failure.get(key) for key in ("status", "code", "message")}
        if isinstance(refused.get("body"), dict):
            document["error"]["body"] = refused["body"]
        outcome.value = document
        return outcome
    body = outcome.value if isinstance(outcome.value, dict) else {}
    tables = body.get("tables") if isinstance(body.get("tables"), list) else []
    primary = tables[0] if tables and isinstance(tables[0], dict) else {}
    document["columns"] = primary.get("columns") if isinstance(primary.get("columns"), list) else []
    document["rows"] = primary.get("rows") if isinstance(primary.get("rows"), list) else []
    if body.get("error"):
        document["status"] = "partial"
        document["error"] = body["error"]
    outcome.value = document
    return outcome


def _record(job: Job, outcome: Outcome) -> None:
    """The document in ``workspace/<table>.json`` and, unless complete, a manifest failure."""
    document = outcome.value
    path = f"workspace/{document['table']}.json"
    if outcome.failure is not None:
        job.record(outcome, path)  # the failure (counted once per bundle)
        if not job.writer.has(path):
            job.writer.add_json(path, document, call=outcome.call, api_version=outcome.api_version,
                                resource_id=outcome.resource_id)
        return
    job.record(outcome, path)
    if document["status"] == "partial":
        error = document.get("error") or {}
        details = error.get("details") if isinstance(error, dict) else None
        inner = "; ".join(str(item.get("innererror", {}).get("message") or item.get("message"))
                          for item in details or [] if isinstance(item, dict))
        message = f"{outcome.call}: partial result ({error.get('message') or 'PartialError'})"
        job.writer.add_failure({"call": outcome.call, "resource_id": outcome.resource_id, "status": 200,
                                "code": error.get("code") or "PartialError",
                                "message": message + (f": {inner}" if inner else "")})


async def collect_workspace(run: Run, job: Job, rid: ids.ResourceId, model: Any) -> None:
    """Query the request's workspace (if any) for this VM's bundle: AzureActivity (shared), Heartbeat, Syslog/Event.

    Every answer, failures included, ends up in ``job``'s bundle; nothing is raised.
    """
    request = run.request
    if not request.workspace:
        return
    group = f"/subscriptions/{request.subscription_id}/resourceGroups/{request.resource_group}"
    activity = query_text("AzureActivity", subscription_id=request.subscription_id,
                          resource_group=request.resource_group)
    work: list[Awaitable[Outcome]] = [
        run.shared("workspace:AzureActivity", lambda: _query(run, "AzureActivity", group, activity))]
    for table in tables_for(model):
        query = query_text(table, subscription_id=request.subscription_id, resource_group=request.resource_group,
                           vm_id=str(rid))
        work.append(_query(run, table, str(rid), query))
    for outcome in await run.gather(*work):
        _record(job, outcome)
