"""Fleet data for ``kit fleet readiness``: Azure Resource Graph, one VM list and one console status per subscription.

Never a call per VM. What is read, for subscriptions or a management group:

- the queries of :mod:`kit.azure.fleet_queries`: the SDK's ``QueryRequest`` through the official
  ``ResourceGraphClient`` (``azure-mgmt-resourcegraph``) pipeline, the pages read as JSON,
  subscriptions in batches of at most 1000 per request as the service requires, 1000 rows a page,
  following ``$skipToken``;
- per subscription that holds VMs, one paged statusOnly VM list (the REST call of
  ``virtual_machines.list_all(status_only="true")``: the VM agent's state and version, which Resource
  Graph does not hold), and per subscription with machines one ``consoleServices/default`` GET (the
  serial console status).

Resource Graph's quota is honoured: every answer's ``x-ms-user-quota-remaining`` and
``x-ms-user-quota-resets-after`` (``hh:mm:ss``) are read, and no request is sent once the quota
is spent until the window resets; a 429 waits as long as it says, then tries again. Every ARM
request (each try) is counted per operation (:class:`CallLog`), for the benchmark and the report.

>>> collection = collect_fleet(AzureTarget(credential="cli"), FleetScope(subscriptions=("…",)))
>>> collection.vms[0]["powerState"], collection.calls.total
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from azure.core import AsyncPipelineClient
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import (
    AsyncBearerTokenCredentialPolicy,
    AsyncHTTPPolicy,
    AsyncRetryPolicy,
    HeadersPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import AioHttpTransport
from azure.core.rest import HttpRequest
from azure.mgmt.resourcegraph.aio import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from kit import __version__
from kit.azure._calls import RETRY_METHODS, body_of
from kit.azure.errors import failure_record, map_azure_errors, translate
from kit.azure.fleet_queries import QUERIES, FleetQuery
from kit.azure.target import AzureTarget
from kit.errors import AzureError, KitError, UsageError

__all__ = ["MAX_SUBSCRIPTIONS_PER_REQUEST", "PAGE_SIZE", "CallLog", "FleetCollection", "FleetScope", "QuotaGate",
           "collect_fleet", "collect_fleet_async", "parse_resets_after", "run_query", "run_query_async"]

#: Resource Graph takes at most this many subscriptions in one request.
MAX_SUBSCRIPTIONS_PER_REQUEST = 1000
#: Rows per Resource Graph page (``$top``; the service's maximum).
PAGE_SIZE = 1000
SERIAL_API_VERSION = "2024-07-01"
COMPUTE_API_VERSION = "2024-07-01"
RESOURCE_GRAPH_API_VERSION = "2024-04-01"
_USER_AGENT = f"kit/{__version__}"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MG = re.compile(r"^[A-Za-z0-9_().-]{1,90}$")
_MAX_429 = 6
_MAX_PAGES = 100_000


@dataclass(frozen=True)
class FleetScope:
    """What the queries cover: subscriptions, or one management group (and everything under it).

    Raises
    ------
    UsageError
        Neither or both given, a subscription that is not a GUID, a malformed group name.
    """

    subscriptions: tuple[str, ...] = ()
    management_group: str | None = None

    def __post_init__(self) -> None:
        if bool(self.subscriptions) == bool(self.management_group):
            raise UsageError("give subscriptions or a management group (one of the two)")
        bad = [s for s in self.subscriptions if not _GUID.fullmatch(str(s))]
        if bad:
            raise UsageError(f"subscription {bad[0]!r} is not a subscription id (a GUID)")
        if self.management_group is not None and not _MG.fullmatch(self.management_group):
            raise UsageError(f"management group {self.management_group!r} is not a management group id "
                             "(letters, digits, '-', '_', '.', '(', ')', at most 90)")
        unique = tuple(dict.fromkeys(s.lower() for s in self.subscriptions))
        object.__setattr__(self, "subscriptions", unique)

    def requests(self) -> list[dict[str, list[str]]]:
        """The scope of each request: subscriptions in batches of at most 1000, or the group."""
        if self.management_group:
            return [{"management_groups": [self.management_group]}]
        subs = list(self.subscriptions)
        return [{"subscriptions": subs[i:i + MAX_SUBSCRIPTIONS_PER_REQUEST]}
                for i in range(0, len(subs), MAX_SUBSCRIPTIONS_PER_REQUEST)]

    def __str__(self) -> str:
        if self.management_group:
            return f"management group {self.management_group}"
        return f"{len(self.subscriptions)} subscription(s)"


@dataclass
class CallLog:
    """Every ARM request sent (each try counts), per operation, and the quota waits.

    Attributes
    ----------
    by_operation
        ``resource_graph.resources``, ``virtual_machines.list_all``, ``serial_console.get_console_status`` → count.
    throttled
        How many answers were 429.
    waits
        Seconds waited for Resource Graph's quota, one entry per wait (before it was spent or after a 429).
    """

    by_operation: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    waits: list[float] = field(default_factory=list)

    @property
    def total(self) -> int:
        """All ARM requests."""
        return sum(self.by_operation.values())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {"total": self.total, "by_operation": dict(sorted(self.by_operation.items())),
                "throttled": self.throttled, "quota_waits": len(self.waits),
                "seconds_waited": round(sum(self.waits), 3)}


def parse_resets_after(text: str | None) -> float | None:
    """``x-ms-user-quota-resets-after`` (``hh:mm:ss``, fractions allowed) in seconds; ``None`` if unreadable."""
    if not text:
        return None
    parts = text.strip().split(":")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    if len(numbers) != 3 or any(n < 0 or n != n for n in numbers):
        return None
    hours, minutes, seconds = numbers
    return hours * 3600 + minutes * 60 + seconds


class QuotaGate:
    """Resource Graph's per-user quota as the answers report it: :meth:`turn` waits before it is spent.

    Requests in flight count against the last reported remainder; while the remainder is unknown (the
    first request, a new window) one request goes alone and its answer tells the rest.

    Parameters
    ----------
    log
        Where the waits are recorded.
    sleep, clock
        ``asyncio.sleep`` and ``time.monotonic`` (replaceable).
    """

    def __init__(self, log: CallLog, *, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.log = log
        self._sleep = sleep
        self._clock = clock
        self._remaining: int | None = None
        self._resets_at = 0.0
        self._in_flight = 0
        self._changed = asyncio.Condition()

    async def turn(self) -> None:
        """Wait until a request may go without spending more than the quota; then count it as in flight."""
        async with self._changed:
            while True:
                now = self._clock()
                if self._remaining is not None and now >= self._resets_at:
                    self._remaining = None  # a new window: its size is learnt from the next answer
                if self._remaining is None:
                    if self._in_flight == 0:
                        break
                elif self._remaining - self._in_flight > 0:
                    break
                elif self._in_flight == 0:
                    wait = self._resets_at - now
                    self.log.waits.append(wait)
                    await self._sleep(wait)
                    self._remaining = None
                    continue
                await self._changed.wait()
            self._in_flight += 1

    async def done(self, headers: Any) -> float | None:
        """One request answered (``headers``; ``None`` when it failed): read the quota; seconds until it resets."""
        async with self._changed:
            self._in_flight -= 1
            resets = self._read(headers) if headers is not None else None
            self._changed.notify_all()
            return resets

    def _read(self, headers: Any) -> float | None:
        remaining = headers.get("x-ms-user-quota-remaining")
        resets = parse_resets_after(headers.get("x-ms-user-quota-resets-after"))
        if remaining is None or resets is None:
            return resets
        try:
            reported = int(remaining)
        except ValueError:
            return resets
        resets_at = self._clock() + resets
        if self._remaining is None:  # the first answer of a window says how much it holds
            self._remaining, self._resets_at = reported, resets_at
        else:  # answers of one window arrive in any order: the remainder only goes down, the reset only later
            self._remaining, self._resets_at = min(self._remaining, reported), max(self._resets_at, resets_at)
        return resets


class _Counting(AsyncHTTPPolicy):
    """Per try: count the request, take a quota turn, read the quota headers, wait out a 429 and try again."""

    def __init__(self, operation: str, log: CallLog, gate: QuotaGate | None) -> None:
        super().__init__()
        self._operation = operation
        self._log = log
        self._gate = gate

    async def send(self, request: Any) -> Any:
        for attempt in range(_MAX_429 + 1):
            headers: Any = None
            if self._gate is not None:
                await self._gate.turn()
            try:
                self._log.by_operation[self._operation] += 1
                response = await self.next.send(request)
                headers = response.http_response.headers
            finally:
                resets = await self._gate.done(headers) if self._gate is not None else None
            if response.http_response.status_code != 429 or attempt == _MAX_429:
                return response
            self._log.throttled += 1
            wait = resets if resets is not None else _retry_after(headers)
            self._log.waits.append(wait)
            await asyncio.sleep(wait)
        return response  # pragma: no cover - the loop returns


def _retry_after(headers: Any) -> float:
    try:
        return max(0.0, min(float(headers.get("retry-after") or 1.0), 300.0))
    except ValueError:
        return 1.0


@dataclass
class FleetCollection:
    """What one collection read (the rows :func:`kit.analyze.readiness.assess` judges).

    Attributes
    ----------
    scope
        What was asked for.
    vms, instances, scale_sets, ade_extensions, storage_accounts
        The rows of each query of :data:`~kit.azure.fleet_queries.QUERIES`.
    agents
        Lower-cased VM id → ``properties.instanceView`` from the statusOnly VM lists.
    agent_subscriptions
        Lower-cased subscriptions whose VM list was read whole.
    consoles
        Lower-cased subscription → serial console enabled (``None``: could not be read).
    subscriptions
        The subscriptions that hold machines (those the per-subscription calls went to).
    pages
        Query name → pages read.
    calls
        Every ARM request, per operation, and the quota waits.
    failures
        Per-subscription calls that failed (manifest ``failures`` shape).
    seconds
        Wall time of the collection.
    timings
        Seconds per phase: ``resource_graph`` (every query), ``per_subscription`` (VM lists and consoles).
    """

    scope: FleetScope
    vms: list[dict[str, Any]] = field(default_factory=list)
    instances: list[dict[str, Any]] = field(default_factory=list)
    scale_sets: list[dict[str, Any]] = field(default_factory=list)
    ade_extensions: list[dict[str, Any]] = field(default_factory=list)
    storage_accounts: list[dict[str, Any]] = field(default_factory=list)
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    agent_subscriptions: set[str] = field(default_factory=set)
    consoles: dict[str, bool | None] = field(default_factory=dict)
    subscriptions: list[str] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)
    calls: CallLog = field(default_factory=CallLog)
    failures: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready account of the collection (counts, calls, pages, failures; no rows)."""
        return {"scope": str(self.scope), "machines": len(self.vms) + len(self.instances), "vms": len(self.vms),
                "scale_set_instances": len(self.instances), "subscriptions": len(self.subscriptions),
                "pages": dict(self.pages), "calls": self.calls.as_dict(), "failures": list(self.failures),
                "seconds": round(self.seconds, 3), "timings": {k: round(v, 3) for k, v in self.timings.items()}}


class _Session:
    """The clients of one collection (one credential, one call log, one quota gate)."""

    def __init__(self, target: AzureTarget, credential: Any, log: CallLog) -> None:
        self.target = target
        self.credential = credential
        self.log = log
        self.gate = QuotaGate(log)
        self._graph: ResourceGraphClient | None = None
        self._pipelines: dict[str, AsyncPipelineClient[Any, Any]] = {}

    @property
    def graph(self) -> ResourceGraphClient:
        """The Resource Graph client (its requests counted and kept under the quota)."""
        if self._graph is None:
            self._graph = ResourceGraphClient(
                self.credential, **self.target.client_kwargs(), user_agent=_USER_AGENT,
                per_retry_policies=[_Counting("resource_graph.resources", self.log, self.gate)])
        return self._graph

    def pipeline(self, operation: str) -> AsyncPipelineClient[Any, Any]:
        """A plain ARM pipeline (bearer token, the target's retry, CA and timeouts) counting ``operation``."""
        if operation not in self._pipelines:
            retry = self.target.retry
            self._pipelines[operation] = AsyncPipelineClient(
                base_url=self.target.arm_endpoint,
                policies=[HeadersPolicy({"Accept": "application/json"}), UserAgentPolicy(_USER_AGENT),
                          AsyncRetryPolicy(retry_total=retry.total, retry_backoff_factor=retry.backoff_factor,
                                           retry_backoff_max=retry.backoff_max),
                          AsyncBearerTokenCredentialPolicy(self.credential, self.target.scope),
                          _Counting(operation, self.log, None)],
                transport=AioHttpTransport(connection_verify=self.target.connection_verify,
                                           connection_timeout=retry.connection_timeout,
                                           read_timeout=retry.read_timeout))
        return self._pipelines[operation]

    async def close(self) -> None:
        for client in [self._graph, *self._pipelines.values()]:
            if client is not None:
                await client.close()


def _query_error(error: HttpResponseError, query: FleetQuery) -> KitError:
    """Resource Graph's refusal of a query, with the parser's line and column when it gives them."""
    body: Any = None
    try:
        body = body_of(error.response) if error.response is not None else None
    except Exception:  # not JSON: the SDK's message is all there is
        body = None
    detail = body.get("error") if isinstance(body, dict) else None
    if error.status_code != 400 or not isinstance(detail, dict):
        return translate(error, operation=f"resource_graph.resources ({query.name})")
    parts = []
    for item in detail.get("details") or []:
        if not isinstance(item, dict):
            continue
        where = ""
        if item.get("line") is not None:
            position = item.get("characterPositionInLine")  # 0-based, as Resource Graph counts
            column = position + 1 if isinstance(position, int) else "?"
            where = f" at line {item.get('line')}, column {column}"
        token = f" near {item['token']!r}" if item.get("token") else ""
        parts.append(f"{item.get('code', '?')}{where}{token}: {item.get('message', '')}".rstrip(": "))
    said = "; ".join(parts) or str(detail.get("message") or "")
    return AzureError(f"Resource Graph refused the {query.name} query ({detail.get('code', 'BadRequest')}): "
                      f"{said[:600]}. Paste it into Resource Graph Explorer to see the error in place:\n{query.text}",
                      status=400, code=str(detail.get("code") or "BadRequest"),
                      operation=f"resource_graph.resources ({query.name})")


async def _page(session: _Session, request: QueryRequest) -> dict[str, Any]:
    """One Resource Graph page as the service sent it.

    The request is the SDK's ``QueryRequest`` sent through ``ResourceGraphClient``'s own pipeline
    (``_send_request``: its credential, retry, the quota gate), the answer read as JSON: what
    ``resources()`` returns is the same answer walked value by value into ``QueryResponse`` (about
    2 s for 9,000 VM rows), and the kit wants the rows as JSON anyway.
    """
    http = HttpRequest("POST", f"{session.target.arm_endpoint}/providers/Microsoft.ResourceGraph/resources",
                       params={"api-version": RESOURCE_GRAPH_API_VERSION}, json=request.serialize())
    response = await session.graph._send_request(http, retry_on_methods=RETRY_METHODS)
    if response.status_code != 200:
        raise HttpResponseError(response=response)
    answer = response.json()
    if not isinstance(answer, dict):
        raise ValueError("the answer is not a JSON object")
    return answer


async def _query(session: _Session, query: FleetQuery, scope: FleetScope, *,
                 page_size: int = PAGE_SIZE) -> tuple[list[dict[str, Any]], int]:
    """Every row of ``query`` over ``scope`` (all batches, all pages) and the pages read."""
    rows: list[dict[str, Any]] = []
    pages = 0
    for request_scope in scope.requests():
        token: str | None = None
        while True:
            options = QueryRequestOptions(top=page_size, skip_token=token, result_format="objectArray")
            request = QueryRequest(query=query.text, options=options, subscriptions=request_scope.get("subscriptions"),
                                   management_groups=request_scope.get("management_groups"))
            try:
                answer = await _page(session, request)
            except HttpResponseError as error:
                raise _query_error(error, query) from error
            except Exception as error:  # transport, credential, not JSON: the kit's error for it
                raise translate(error, operation=f"resource_graph.resources ({query.name})") from error
            pages += 1
            data = answer.get("data")
            if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
                raise AzureError(f"Resource Graph answered the {query.name} query without a list of rows "
                                 "(resultFormat objectArray)", operation="resource_graph.resources")
            rows.extend(data)
            token = answer.get("$skipToken") or None
            if not token:
                if str(answer.get("resultTruncated")).lower() == "true":
                    raise AzureError(f"Resource Graph truncated the {query.name} query's result without a "
                                     "$skipToken (the query must keep the id column)",
                                     operation="resource_graph.resources")
                break
            if pages > _MAX_PAGES:
                raise AzureError(f"the {query.name} query did not end after {_MAX_PAGES} pages",
                                 operation="resource_graph.resources")
    return rows, pages


async def _agents(session: _Session, subscription: str, collection: FleetCollection) -> None:
    """The subscription's statusOnly VM list, every page: each VM's instance view (agent state and version, power).

    The REST call behind ``virtual_machines.list_all(status_only="true")``, read as JSON: the SDK's models
    cost about 5 ms per VM to build (some 20 s for 9,000 VMs), the page itself a fraction of that.
    """
    found: dict[str, dict[str, Any]] = {}
    where = f"/subscriptions/{subscription}"
    url: str | None = f"{session.target.arm_endpoint}{where}/providers/Microsoft.Compute/virtualMachines"
    params: dict[str, str] | None = {"api-version": COMPUTE_API_VERSION, "statusOnly": "true"}
    try:
        with map_azure_errors("virtual_machines.list_all", where):
            for _ in range(_MAX_PAGES):
                if url is None:
                    break
                response = await session.pipeline("virtual_machines.list_all").send_request(
                    HttpRequest("GET", url, params=params), retry_on_methods=RETRY_METHODS)
                response.raise_for_status()
                body = response.json()
                items = body.get("value") if isinstance(body, dict) else None
                if not isinstance(items, list):
                    raise AzureError(f"the VM list of {where} has no \"value\" list",
                                     operation="virtual_machines.list_all")
                for item in items:
                    view = (item.get("properties") or {}).get("instanceView") if isinstance(item, dict) else None
                    if isinstance(view, dict) and isinstance(item.get("id"), str):
                        found[item["id"].lower()] = view
                url, params = _next_link(session.target, body.get("nextLink")), None
    except KitError as error:
        collection.failures.append(failure_record(error, call="virtual_machines.list_all", resource_id=where))
        return
    collection.agents.update(found)
    collection.agent_subscriptions.add(subscription)


def _next_link(target: AzureTarget, link: Any) -> str | None:
    """The next page's URL; only one on the ARM endpoint itself gets the bearer token."""
    if not link:
        return None
    if not isinstance(link, str) or not link.startswith(target.arm_endpoint + "/"):
        raise AzureError(f"a nextLink off the ARM endpoint ({str(link)[:80]!r}) is not followed",
                         operation="virtual_machines.list_all")
    return link


async def _console(session: _Session, subscription: str, collection: FleetCollection) -> None:
    """``GET consoleServices/default``: enabled only when ``properties.disabled`` is false."""
    path = f"/subscriptions/{subscription}/providers/Microsoft.SerialConsole/consoleServices/default"
    request = HttpRequest("GET", session.target.arm_endpoint + path, params={"api-version": SERIAL_API_VERSION})
    try:
        with map_azure_errors("serial_console.get_console_status", f"/subscriptions/{subscription}"):
            response = await session.pipeline("serial_console.get_console_status").send_request(request)
            if response.status_code == 404:
                collection.consoles[subscription] = False
                return
            response.raise_for_status()
            body = response.json()
    except KitError as error:
        collection.consoles[subscription] = None
        collection.failures.append(failure_record(error, call="serial_console.get_console_status",
                                                  resource_id=f"/subscriptions/{subscription}"))
        return
    disabled = body.get("properties", {}).get("disabled") if isinstance(body, dict) else None
    collection.consoles[subscription] = disabled is False


async def collect_fleet_async(target: AzureTarget, scope: FleetScope, *, credential: Any = None,
                              concurrency: int = 16, page_size: int = PAGE_SIZE,
                              queries: Sequence[FleetQuery] = QUERIES) -> FleetCollection:
    """Read the fleet of ``scope``: the Resource Graph queries, then per subscription its VM list and console status.

    Parameters
    ----------
    target
        Endpoint, CA, credential kind and retry settings.
    scope
        Subscriptions or a management group.
    credential
        An async credential (the caller closes it); built from ``target`` (and closed) when ``None``.
    concurrency
        Per-subscription calls in flight at once.
    page_size
        Rows per Resource Graph page (at most 1000).
    queries
        The queries to run (default: all of :data:`~kit.azure.fleet_queries.QUERIES`).

    Raises
    ------
    AzureError
        A query was refused (the message says where) or Resource Graph could not be read; the
        per-subscription calls are recorded in ``failures`` instead.
    """
    if not 1 <= page_size <= PAGE_SIZE:
        raise UsageError(f"page size must be from 1 to {PAGE_SIZE}, got {page_size}")
    began = time.monotonic()
    own = credential is None
    credential = target.async_credential() if own else credential
    collection = FleetCollection(scope=scope)
    session = _Session(target, credential, collection.calls)
    try:
        answers = await asyncio.gather(*(_query(session, q, scope, page_size=page_size) for q in queries))
        for query, (rows, pages) in zip(queries, answers, strict=True):
            setattr(collection, query.name, rows)
            collection.pages[query.name] = pages
        collection.timings["resource_graph"] = time.monotonic() - began
        subscriptions = sorted({str(r.get("subscriptionId", "")).lower()
                                for r in [*collection.vms, *collection.instances] if r.get("subscriptionId")})
        collection.subscriptions = subscriptions
        limit = asyncio.Semaphore(max(1, concurrency))

        async def bounded(call: Awaitable[None]) -> None:
            async with limit:
                await call

        with_vms = {str(r.get("subscriptionId", "")).lower() for r in collection.vms}
        calls = [bounded(_agents(session, s, collection)) for s in subscriptions if s in with_vms]
        calls += [bounded(_console(session, s, collection)) for s in subscriptions]
        phase = time.monotonic()
        await asyncio.gather(*calls)
        collection.timings["per_subscription"] = time.monotonic() - phase
    finally:
        await session.close()
        if own:
            await credential.close()
    collection.seconds = time.monotonic() - began
    return collection


def collect_fleet(target: AzureTarget, scope: FleetScope, **options: Any) -> FleetCollection:
    """:func:`collect_fleet_async` for blocking callers (the CLI, a notebook cell)."""
    return _run(collect_fleet_async(target, scope, **options))


async def run_query_async(target: AzureTarget, text: str, scope: FleetScope, *, name: str = "custom",
                          page_size: int = PAGE_SIZE, log: CallLog | None = None) -> list[dict[str, Any]]:
    """Every row of one Resource Graph query over ``scope`` (all pages); a refused query is an AzureError."""
    credential = target.async_credential()
    session = _Session(target, credential, log if log is not None else CallLog())
    try:
        rows, _ = await _query(session, FleetQuery(name, "", text), scope, page_size=page_size)
        return rows
    finally:
        await session.close()
        await credential.close()


def run_query(target: AzureTarget, text: str, scope: FleetScope, **options: Any) -> list[dict[str, Any]]:
    """:func:`run_query_async` for blocking callers."""
    return _run(run_query_async(target, text, scope, **options))


def _run(call: Awaitable[Any]) -> Any:
    """Run a coroutine to its end, also from inside a running loop (a notebook kernel): on a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(call)  # type: ignore[arg-type]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, call).result()  # type: ignore[arg-type]
