"""The concurrent evidence collector: one bundle per VM, every independent call in parallel.

For the broken VM and each known-good VM at once, with the official async SDK clients::

    VM model ─┬─ instance view
              ├─ retrieveBootDiagnosticsData ─┬─ serial log blob
              │                               └─ screenshot blob
              ├─ role assignments (atScope(), inherited included) ── role definition names
              ├─ NICs ─┬─ effective NSGs (LRO) / effective routes (LRO)
              │        ├─ NIC's NSG, public IPs
              │        └─ subnets ─┬─ subnet's NSG / route table
              │                    └─ VNet
              ├─ Activity Log of the resource group in the window (all pages; shared)
              └─ Serial Console status of the subscription (shared)

A resource several VMs share (subnet, VNet, NSG) is fetched once and stored in each bundle
that needs it. Retries, backoff, ``Retry-After`` and timeouts are azure-core's retry policy
and transport settings (see :class:`~kit.azure.target.RetrySettings`). A call that still
fails is recorded in the manifest's ``failures`` and the collection goes on; only a refused
credential (401/403) or an unknown VM (404) on the VM's own GET stops it, before anything is
written. Bundles are published with :class:`~kit.evidence.writer.BundleWriter` (temporary
folder + rename), so an error leaves nothing half-written.

The Activity Log kept in every bundle is the whole resource group's for the window (the
``$filter`` is ``eventTimestamp`` + ``resourceGroupName``): changes to shared network
resources matter as much as those to the VM itself.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azure.core.rest import HttpRequest

from kit.azure import ids
from kit.azure._calls import Capture, Clients
from kit.azure.errors import failure_record, map_azure_errors
from kit.azure.target import AzureTarget
from kit.errors import AuthenticationError, AzureError, ResourceNotFoundError, UsageError
from kit.evidence.manifest import new_manifest, utc_now
from kit.evidence.writer import BundleWriter

__all__ = ["CollectionRequest", "CollectionResult", "ProgressCallback", "collect", "collect_async"]

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(vm_name, calls_done, calls_failed)`` after every call."""

CONSOLE_API_VERSION = "2024-07-01"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CollectionRequest:
    """What to collect.

    Parameters
    ----------
    subscription_id
        The subscription GUID.
    resource_group
        The VMs' resource group.
    vm
        The broken VM's name.
    known_good
        Names of healthy VMs to compare against (same resource group).
    start, end
        The Activity Log window (timezone-aware); ``end`` defaults to now, ``start`` to 24 h before.
    source
        ``azure`` or ``lab:<scenario>``, recorded in the manifest.
    """

    subscription_id: str
    resource_group: str
    vm: str
    known_good: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    source: str = "azure"

    def __post_init__(self) -> None:
        object.__setattr__(self, "known_good", tuple(self.known_good))
        for name in self.names:  # validates subscription GUID, group and names (InvalidResourceId)
            ids.vm_id(self.subscription_id, self.resource_group, name)
        if len({name.lower() for name in self.names}) != len(self.names):
            raise UsageError(f"a VM is named twice in {', '.join(self.names)} (the broken VM and known-good VMs differ)")
        end = self.end or datetime.now(UTC)
        start = self.start or end - timedelta(hours=24)
        if start.tzinfo is None or end.tzinfo is None:
            raise UsageError("the window's start and end must carry a time zone (use …Z for UTC)")
        if start >= end:
            raise UsageError(f"the window starts ({_iso(start)}) after it ends ({_iso(end)})")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @classmethod
    def for_vm_id(cls, vm_id: str, **kwargs: Any) -> CollectionRequest:
        """A request for the VM with this ARM id (known-good names are in the same group)."""
        parsed = ids.parse_resource_id(vm_id, expect=ids.VM)
        assert parsed.resource_group is not None
        return cls(parsed.subscription_id, parsed.resource_group, parsed.name, **kwargs)

    @property
    def names(self) -> tuple[str, ...]:
        """The broken VM followed by the known-good VMs."""
        return (self.vm, *self.known_good)

    @property
    def window(self) -> dict[str, str]:
        """The window as the manifest stores it."""
        assert self.start is not None and self.end is not None
        return {"start": _iso(self.start), "end": _iso(self.end)}


@dataclass
class CollectionResult:
    """What a collection produced.

    Attributes
    ----------
    bundles
        Bundle folders, the broken VM's first.
    failures
        Failed calls per VM name.
    calls
        Calls made per VM name (done + failed).
    seconds
        Wall time.
    """

    bundles: list[Path] = field(default_factory=list)
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def subject(self) -> Path:
        """The broken VM's bundle."""
        return self.bundles[0]


@dataclass
class _Outcome:
    call: str
    resource_id: str | None
    value: Any = None
    api_version: str | None = None
    failure: dict[str, Any] | None = None
    at: str = field(default_factory=utc_now)


class _Job:
    """One VM's bundle in the making: its writer, counters and file names."""

    def __init__(self, name: str, writer: BundleWriter, progress: ProgressCallback | None) -> None:
        self.name = name
        self.writer = writer
        self.done = 0
        self.failed = 0
        self._progress = progress
        self._seen: set[tuple[str, str | None]] = set()
        self._names: dict[tuple[str, str], str] = {}

    def _tick(self) -> None:
        if self._progress is not None:
            self._progress(self.name, self.done, self.failed)

    def file_name(self, attribute: str, resource: ids.ResourceId) -> str:
        """``resource.name``, or ``<parent>.<name>`` if another resource already took that name."""
        key = (attribute, resource.name.lower())
        owner = self._names.setdefault(key, str(resource).lower())
        if owner == str(resource).lower() or resource.parent is None:
            return resource.name
        return f"{resource.parent.name}.{resource.name}"

    def record(self, outcome: _Outcome, path: str) -> Any:
        """Store a successful outcome at ``path`` or its failure; returns the value or ``None``."""
        key = (outcome.call, outcome.resource_id)
        if key in self._seen:
            return outcome.value if outcome.failure is None else None
        self._seen.add(key)
        if outcome.failure is not None:
            self.writer.add_failure(outcome.failure)
            self.failed += 1
            self._tick()
            return None
        if isinstance(outcome.value, bytes):
            self.writer.add_bytes(path, outcome.value, call=outcome.call, api_version=outcome.api_version,
                                  resource_id=outcome.resource_id)
        else:
            self.writer.add_json(path, outcome.value, call=outcome.call, api_version=outcome.api_version,
                                 resource_id=outcome.resource_id)
        self.done += 1
        self._tick()
        return outcome.value


def _props(body: Any) -> dict[str, Any]:
    return body.get("properties") or {} if isinstance(body, dict) else {}


def _ref(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), str) else None


class _Run:
    """One collection: shared calls are made once, per-VM calls for each VM, all concurrent."""

    def __init__(self, clients: Clients, request: CollectionRequest, polling_interval: float,
                 concurrent: bool = True) -> None:
        self.clients = clients
        self.request = request
        self.polling_interval = polling_interval
        self.concurrent = concurrent
        self._shared: dict[str, asyncio.Future[_Outcome]] = {}

    async def gather(self, *work: Awaitable[Any]) -> list[Any]:
        """All of ``work`` at once, or one after another when the run is not concurrent."""
        if self.concurrent:
            return list(await asyncio.gather(*work))
        return [await item for item in work]

    async def arm(self, call: str, resource_id: str | None,
                  invoke: Callable[[Capture], Awaitable[Any]], *, paging: bool = False) -> _Outcome:
        """Make one SDK call; a failure becomes a recorded outcome, never an exception."""
        capture = Capture()
        try:
            with map_azure_errors(call, resource_id):
                await invoke(capture)
        except AzureError as error:
            return _Outcome(call, resource_id, failure=failure_record(error, call=call, resource_id=resource_id))
        if paging:
            value: Any = {"value": [item for page in capture.pages for item in (page.get("value") or [])]}
        else:
            value = capture.body
        return _Outcome(call, resource_id, value=value, api_version=capture.api_version)

    def shared(self, key: str, make: Callable[[], Awaitable[_Outcome]]) -> asyncio.Future[_Outcome]:
        """The one task for ``key`` (resource id or call), started on first use."""
        key = key.lower()
        if key not in self._shared:
            self._shared[key] = asyncio.ensure_future(make())
        return self._shared[key]

    # -- single resources ------------------------------------------------------------------
    def get_vm(self, name: str) -> asyncio.Future[_Outcome]:
        rid = ids.vm_id(self.request.subscription_id, self.request.resource_group, name)
        compute = self.clients.get("compute", rid.subscription_id)
        return self.shared(f"vm:{rid}", lambda: self.arm(
            "virtual_machines.get", str(rid),
            lambda c: compute.virtual_machines.get(rid.resource_group, rid.name, **c.kwargs())))

    def _network_get(self, call: str, rid: ids.ResourceId) -> asyncio.Future[_Outcome]:
        network = self.clients.get("network", rid.subscription_id)
        group = rid.resource_group
        if call == "subnets.get":
            assert rid.parent is not None
            parent = rid.parent.name
            invoke = lambda c: network.subnets.get(group, parent, rid.name, **c.kwargs())  # noqa: E731
        else:
            operations = getattr(network, call.split(".")[0])
            invoke = lambda c: operations.get(group, rid.name, **c.kwargs())  # noqa: E731
        return self.shared(f"{call}:{rid}", lambda: self.arm(call, str(rid), invoke))

    # -- per VM ----------------------------------------------------------------------------
    async def vm(self, job: _Job, name: str) -> None:
        rid = ids.vm_id(self.request.subscription_id, self.request.resource_group, name)
        model = job.record(await self.get_vm(name), "vm.json")
        network_profile = _props(model).get("networkProfile") or {}
        nic_ids = [_ref(nic) for nic in network_profile.get("networkInterfaces") or []]
        await self.gather(
            self.instance_view(job, rid),
            self.boot_diagnostics(job, rid),
            self.role_assignments(job, rid),
            self.activity_log(job),
            self.console_status(job),
            *(self.nic(job, nic) for nic in nic_ids if nic),
        )

    async def instance_view(self, job: _Job, rid: ids.ResourceId) -> None:
        compute = self.clients.get("compute", rid.subscription_id)
        job.record(await self.arm("virtual_machines.instance_view", str(rid),
                                  lambda c: compute.virtual_machines.instance_view(rid.resource_group, rid.name,
                                                                                   **c.kwargs())),
                   "instance_view.json")

    async def boot_diagnostics(self, job: _Job, rid: ids.ResourceId) -> None:
        compute = self.clients.get("compute", rid.subscription_id)
        result = job.record(await self.arm(
            "virtual_machines.retrieve_boot_diagnostics_data", str(rid),
            lambda c: compute.virtual_machines.retrieve_boot_diagnostics_data(rid.resource_group, rid.name,
                                                                              **c.kwargs())),
            "boot_diagnostics.json")
        if not isinstance(result, dict):
            return
        blobs = [("serialConsoleLogBlobUri", "serial.log", "boot_diagnostics.serial_log"),
                 ("consoleScreenshotBlobUri", "screenshot.bmp", "boot_diagnostics.screenshot")]
        outcomes = await self.gather(*(self.blob(call, result.get(key), str(rid)) for key, _, call in blobs))
        for (_, path, _), outcome in zip(blobs, outcomes, strict=True):
            job.record(outcome, path)

    async def blob(self, call: str, url: str | None, vm_id: str) -> _Outcome:
        """Download a boot-diagnostics blob by its SAS URL (recorded under the VM's id)."""
        if not url:
            return _Outcome(call, vm_id, failure={"call": call, "resource_id": vm_id, "status": None,
                                                  "code": "NoBlobUri", "message": "boot diagnostics returned no URL"})
        try:
            with map_azure_errors(call, vm_id):
                status, data, response = await self.clients.download(url)
                if status != 200:
                    response.raise_for_status()
        except AzureError as error:
            return _Outcome(call, vm_id, failure=failure_record(error, call=call, resource_id=vm_id))
        return _Outcome(call, vm_id, value=data, api_version=None)

    async def role_assignments(self, job: _Job, rid: ids.ResourceId) -> None:
        authorization = self.clients.get("authorization", rid.subscription_id)

        async def listing(capture: Capture) -> None:
            pager = authorization.role_assignments.list_for_scope(str(rid), filter="atScope()",
                                                                  **capture.kwargs(paging=True))
            async for _ in pager:
                pass

        outcome = await self.arm("role_assignments.list_for_scope", str(rid), listing, paging=True)
        if outcome.failure is None:
            assignments = outcome.value["value"]
            wanted = sorted({_props(item).get("roleDefinitionId") for item in assignments} - {None})
            names = await self.gather(*(self.role_name(job, role, rid.subscription_id) for role in wanted))
            by_id = {role.lower(): name for role, name in zip(wanted, names, strict=True)}
            for item in assignments:
                name = by_id.get(str(_props(item).get("roleDefinitionId")).lower())
                if name and isinstance(item.get("properties"), dict):
                    item["properties"]["roleDefinitionName"] = name
        job.record(outcome, "role_assignments.json")

    async def role_name(self, job: _Job, role_id: str, subscription_id: str) -> str | None:
        authorization = self.clients.get("authorization", subscription_id)
        outcome = await self.shared(f"roledef:{role_id}", lambda: self.arm(
            "role_definitions.get_by_id", role_id,
            lambda c: authorization.role_definitions.get_by_id(role_id, **c.kwargs())))
        if outcome.failure is not None:
            job.record(outcome, "")
            return None
        return _props(outcome.value).get("roleName")

    async def activity_log(self, job: _Job) -> None:
        request = self.request
        monitor = self.clients.get("monitor", request.subscription_id)
        window = request.window
        query = (f"eventTimestamp ge '{window['start']}' and eventTimestamp le '{window['end']}' "
                 f"and resourceGroupName eq '{request.resource_group}'")

        async def listing(capture: Capture) -> None:
            async for _ in monitor.activity_logs.list(filter=query, **capture.kwargs(paging=True)):
                pass

        group = f"/subscriptions/{request.subscription_id}/resourceGroups/{request.resource_group}"
        job.record(await self.shared("activity_log", lambda: self.arm("activity_logs.list", group, listing,
                                                                      paging=True)), "activity_log.json")

    async def console_status(self, job: _Job) -> None:
        subscription = self.request.subscription_id
        compute = self.clients.get("compute", subscription)
        path = (f"/subscriptions/{subscription}/providers/Microsoft.SerialConsole/consoleServices/default"
                f"?api-version={CONSOLE_API_VERSION}")

        async def status(capture: Capture) -> None:
            options = capture.kwargs()
            options.pop("cls")
            response = await compute.send_request(HttpRequest("GET", path, headers={"Accept": "application/json"}),
                                                  **options)
            response.raise_for_status()
            capture.body = response.json()

        job.record(await self.shared("console_status", lambda: self.arm(
            "serial_console.get_console_status", f"/subscriptions/{subscription}", status)),
            "serial_console_status.json")

    async def nic(self, job: _Job, nic_id: str) -> None:
        rid = ids.parse_resource_id(nic_id, expect=ids.NIC)
        body = job.record(await self._network_get("network_interfaces.get", rid),
                          BundleWriter.path_for("nics", job.file_name("nics", rid)))
        network = self.clients.get("network", rid.subscription_id)
        nic_name = job.file_name("nics", rid)
        work: list[Awaitable[None]] = [
            self.effective(job, "network_interfaces.begin_list_effective_network_security_groups", rid,
                           network.network_interfaces.begin_list_effective_network_security_groups,
                           BundleWriter.path_for("effective_nsgs", nic_name)),
            self.effective(job, "network_interfaces.begin_get_effective_route_table", rid,
                           network.network_interfaces.begin_get_effective_route_table,
                           BundleWriter.path_for("effective_routes", nic_name)),
        ]
        if body is not None:
            properties = _props(body)
            if _ref(properties.get("networkSecurityGroup")):
                work.append(self.resource(job, "nsgs", "network_security_groups.get",
                                          _ref(properties["networkSecurityGroup"])))
            for configuration in properties.get("ipConfigurations") or []:
                inner = _props(configuration)
                if _ref(inner.get("subnet")):
                    work.append(self.subnet(job, _ref(inner["subnet"])))
                if _ref(inner.get("publicIPAddress")):
                    work.append(self.resource(job, "public_ips", "public_ip_addresses.get",
                                              _ref(inner["publicIPAddress"])))
        await self.gather(*work)

    async def effective(self, job: _Job, call: str, rid: ids.ResourceId, begin: Callable[..., Any], path: str) -> None:
        async def run(capture: Capture) -> None:
            poller = await begin(rid.resource_group, rid.name, polling_interval=self.polling_interval,
                                 **capture.kwargs())
            await poller.result()

        job.record(await self.arm(call, str(rid), run), path)

    async def resource(self, job: _Job, attribute: str, call: str, resource_id: str | None) -> Any:
        if not resource_id:
            return None
        rid = ids.parse_resource_id(resource_id)
        return job.record(await self._network_get(call, rid),
                          BundleWriter.path_for(attribute, job.file_name(attribute, rid)))

    async def subnet(self, job: _Job, subnet_id: str) -> None:
        rid = ids.parse_resource_id(subnet_id, expect=ids.SUBNET)
        body = await self.resource(job, "subnets", "subnets.get", subnet_id)
        assert rid.parent is not None
        work = [self.resource(job, "vnets", "virtual_networks.get", str(rid.parent))]
        if body is not None:
            properties = _props(body)
            work.append(self.resource(job, "nsgs", "network_security_groups.get",
                                      _ref(properties.get("networkSecurityGroup"))))
            work.append(self.resource(job, "route_tables", "route_tables.get", _ref(properties.get("routeTable"))))
        await self.gather(*work)


def _claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        return dict(json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))))
    except (ValueError, TypeError):
        return {}


async def _identity(credential: Any, target: AzureTarget) -> dict[str, Any]:
    """Who collects: principal and tenant from the token's claims (unverified, for the record)."""
    with map_azure_errors("credential.get_token", target.arm_endpoint):
        token = await credential.get_token(target.scope)
    claims = _claims(token.token)
    principal = claims.get("upn") or claims.get("unique_name") or claims.get("appid") or claims.get("oid")
    return {"principal": principal, "tenant": claims.get("tid")}


async def collect_async(
    target: AzureTarget,
    request: CollectionRequest,
    out_dir: str | Path,
    *,
    progress: ProgressCallback | None = None,
    polling_interval: float = 1.0,
    concurrent: bool = True,
) -> CollectionResult:
    """Collect one bundle per VM into ``out_dir/<vm-name>/``.

    Parameters
    ----------
    target
        Where and how to connect (real Azure, Azure Stack Hub, the lab).
    request
        Subscription, resource group, broken VM, known-good VMs and window.
    out_dir
        Parent folder of the bundles; none of ``out_dir/<vm>`` may exist.
    progress
        Called as ``progress(vm, done, failed)`` after each call.
    polling_interval
        Seconds between polls of the effective-NSG/route operations when ARM sends no
        ``Retry-After``.
    concurrent
        ``False`` awaits every call one after another (the benchmark's sequential baseline).

    Returns
    -------
    CollectionResult
        Bundle paths (broken VM first), failures and call counts.

    Raises
    ------
    AuthenticationError
        No credential, or ARM refused it (401/403) on a VM's GET.
    ResourceNotFoundError
        A named VM does not exist.
    BundleExistsError
        A bundle folder already exists; nothing is written.
    """
    loop = asyncio.get_running_loop()
    began = loop.time()
    out = Path(out_dir)
    names = request.names
    with ExitStack() as stack:
        writers = [stack.enter_context(BundleWriter(out / name)) for name in names]
        jobs = [_Job(name, writer, progress) for name, writer in zip(names, writers, strict=True)]
        credential = target.async_credential()
        clients = Clients(target, credential)
        try:
            collector = await _identity(credential, target)
            run = _Run(clients, request, polling_interval, concurrent)
            for outcome in await run.gather(*(run.get_vm(name) for name in names)):
                failure = outcome.failure or {}
                if failure.get("status") in (401, 403):
                    raise AuthenticationError(failure["message"], status=failure["status"], code=failure.get("code"),
                                              operation=outcome.call, resource_id=outcome.resource_id)
                if failure.get("status") == 404:
                    raise ResourceNotFoundError(
                        f"VM {ids.parse_resource_id(str(outcome.resource_id)).name!r} not found in resource group "
                        f"{request.resource_group!r} of subscription {request.subscription_id} "
                        f"({failure.get('code') or 'HTTP 404'}); check --vm/--known-good, --resource-group "
                        f"and --subscription", status=404, code=failure.get("code"),
                        operation=outcome.call, resource_id=outcome.resource_id)
            await run.gather(*(run.vm(job, job.name) for job in jobs))
        finally:
            await clients.close()
            await credential.close()
        result = CollectionResult()
        for index, job in enumerate(jobs):
            peers = list(names[1:]) if index == 0 else []
            manifest = new_manifest(
                source=request.source, subscription_id=request.subscription_id,
                resource_group=request.resource_group, vm_name=job.name,
                vm_id=str(ids.vm_id(request.subscription_id, request.resource_group, job.name)),
                window=request.window, arm_endpoint=target.arm_endpoint,
                role="subject" if index == 0 else "known-good", peers=peers, collector=collector)
            result.bundles.append(job.writer.commit(manifest))
            result.failures[job.name] = list(job.writer.failures)
            result.calls[job.name] = job.done + job.failed
    result.seconds = loop.time() - began
    return result


def collect(target: AzureTarget, request: CollectionRequest, out_dir: str | Path, **kwargs: Any) -> CollectionResult:
    """Blocking twin of :func:`collect_async`; safe inside a running loop (a notebook cell)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(collect_async(target, request, out_dir, **kwargs))
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, collect_async(target, request, out_dir, **kwargs)).result()
