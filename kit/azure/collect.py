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
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kit import ids
from kit.azure._calls import Clients
from kit.azure._graph import ProgressCallback, _Job, _Run
from kit.azure.errors import map_azure_errors
from kit.azure.target import AzureTarget
from kit.errors import AuthenticationError, ResourceNotFoundError, UsageError
from kit.evidence.manifest import new_manifest
from kit.evidence.writer import BundleWriter

__all__ = ["CollectionRequest", "CollectionResult", "ProgressCallback", "collect", "collect_async"]

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
