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
              ├─ Resource Health: current availability status + its history
              ├─ platform metrics (metrics.list per batch of names; kit.azure.metrics)
              ├─ with a workspace: Heartbeat, Syslog / Event (kit.azure.workspace)
              ├─ Activity Log of the resource group in the window (all pages; shared)
              │    └─ Microsoft Graph display names of its callers (getByIds; shared)
              ├─ with a workspace: AzureActivity of the window (shared)
              └─ Serial Console status of the subscription (shared)

A uniform scale-set instance (``CollectionRequest.scale_set``) is collected the same way through the
scale-set APIs: ``virtual_machine_scale_set_vms.get`` / ``get_instance_view`` /
``retrieve_boot_diagnostics_data``, the scale set's own model (``vmss.json``), and the instance's NICs
under the scale set (``get_virtual_machine_scale_set_network_interface``); ARM computes no effective
NSGs or routes for those NICs, so each bundle records that as a failure and the analysis reads the
configured NSGs and route tables. Without named peers, up to three other instances of the scale set
(lowest instance ids) are the known-good peers; bundles are named ``<scale set>_<instance id>``.

A resource several VMs share (subnet, VNet, NSG) is fetched once and stored in each bundle
that needs it. Retries, backoff, ``Retry-After`` and timeouts are azure-core's retry policy
and transport settings (see :class:`~kit.azure.target.RetrySettings`). A call that still
fails is recorded in the manifest's ``failures`` and the collection goes on; only a refused
credential (401/403) or an unknown VM (404) on the VM's own GET stops it, before anything is
written. The Graph lookup asks the same credential for a Graph token; without directory
permission it is one recorded failure and the bundle keeps the bare GUIDs. Bundles are
published with :class:`~kit.evidence.writer.BundleWriter` (temporary folder + rename), so an
error leaves nothing half-written.

The Activity Log kept in every bundle is the whole resource group's for the window (the
``$filter`` is ``eventTimestamp`` + ``resourceGroupName``): changes to shared network
resources matter as much as those to the VM itself.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from kit import ids
from kit.azure._calls import Clients
from kit.azure._graph import Job, Run
from kit.azure.errors import map_azure_errors
from kit.azure.request import MAX_SCALE_SET_PEERS, CollectionRequest, CollectionResult, ProgressCallback
from kit.azure.target import AzureTarget
from kit.azure.tokens import read_claims
from kit.errors import AuthenticationError, ResourceNotFoundError
from kit.evidence.manifest import new_manifest
from kit.evidence.writer import BundleWriter

__all__ = ["CollectionRequest", "CollectionResult", "ProgressCallback", "collect", "collect_async"]

async def _identity(credential: Any, target: AzureTarget) -> dict[str, Any]:
    """Who collects: principal and tenant from the token's claims (unverified, for the record)."""
    with map_azure_errors("credential.get_token", target.arm_endpoint):
        token = await credential.get_token(target.scope)
    claims = read_claims(token.token)
    return {"principal": claims.principal, "tenant": claims.tenant}


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
    listing_failure = None
    if request.wants_scale_set_peers:
        request, listing_failure = await _scale_set_peers(target, request, polling_interval)
    names = request.names
    with ExitStack() as stack:
        writers = [stack.enter_context(BundleWriter(out / request.bundle_name(name))) for name in names]
        jobs = [Job(request.bundle_name(name), writer, progress, target=name)
                for name, writer in zip(names, writers, strict=True)]
        if listing_failure is not None:
            writers[0].add_failure(listing_failure)
        credential = target.async_credential()
        clients = Clients(target, credential)
        try:
            collector = await _identity(credential, target)
            run = Run(clients, request, polling_interval, concurrent)
            for outcome in await run.gather(*(run.get_vm(name) for name in names)):
                failure = outcome.failure or {}
                if failure.get("status") in (401, 403):
                    raise AuthenticationError(failure["message"], status=failure["status"], code=failure.get("code"),
                                              operation=outcome.call, resource_id=outcome.resource_id)
                if failure.get("status") == 404 and request.scale_set:
                    raise ResourceNotFoundError(
                        f"instance {ids.parse_resource_id(str(outcome.resource_id)).name!r} of scale set "
                        f"{request.scale_set!r} not found in resource group {request.resource_group!r} of "
                        f"subscription {request.subscription_id} ({failure.get('code') or 'HTTP 404'}); check "
                        f"--vmss/--instance/--known-good (instance ids: az vmss list-instances -n "
                        f"{request.scale_set} -g {request.resource_group} --query [].instanceId)",
                        status=404, code=failure.get("code"), operation=outcome.call, resource_id=outcome.resource_id)
                if failure.get("status") == 404:
                    raise ResourceNotFoundError(
                        f"VM {ids.parse_resource_id(str(outcome.resource_id)).name!r} not found in resource group "
                        f"{request.resource_group!r} of subscription {request.subscription_id} "
                        f"({failure.get('code') or 'HTTP 404'}); check --vm/--known-good, --resource-group "
                        f"and --subscription", status=404, code=failure.get("code"),
                        operation=outcome.call, resource_id=outcome.resource_id)
            await run.gather(*(run.vm(job, job.target) for job in jobs))
        finally:
            await clients.close()
            await credential.close()
        result = CollectionResult()
        for index, job in enumerate(jobs):
            peers = [other.name for other in jobs[1:]] if index == 0 else []
            manifest = new_manifest(
                source=request.source, subscription_id=request.subscription_id,
                resource_group=request.resource_group, vm_name=job.name,
                vm_id=str(request.resource_id(job.target)),
                window=request.window, arm_endpoint=target.arm_endpoint,
                role="subject" if index == 0 else "known-good", peers=peers, collector=collector)
            if request.scale_set:
                manifest.update({"scale_set": request.scale_set, "instance_id": job.target})
            result.bundles.append(job.writer.commit(manifest))
            result.failures[job.name] = list(job.writer.failures)
            result.calls[job.name] = job.done + job.failed
    result.seconds = loop.time() - began
    return result


async def _scale_set_peers(target: AzureTarget, request: CollectionRequest,
                           polling_interval: float) -> tuple[CollectionRequest, dict[str, Any] | None]:
    """``request`` with up to :data:`MAX_SCALE_SET_PEERS` other instances of its scale set as peers (lowest ids
    first), and the listing's failure record when the scale set's instances could not be listed."""
    credential = target.async_credential()
    clients = Clients(target, credential)
    try:
        outcome = await Run(clients, request, polling_interval).list_instances()
    finally:
        await clients.close()
        await credential.close()
    failure = outcome.failure
    if failure is not None:
        if failure.get("status") in (401, 403):
            raise AuthenticationError(failure["message"], status=failure["status"], code=failure.get("code"),
                                      operation=outcome.call, resource_id=outcome.resource_id)
        if failure.get("status") == 404:
            raise ResourceNotFoundError(
                f"scale set {request.scale_set!r} not found in resource group {request.resource_group!r} of "
                f"subscription {request.subscription_id} ({failure.get('code') or 'HTTP 404'}); check --vmss, "
                f"--resource-group and --subscription", status=404, code=failure.get("code"),
                operation=outcome.call, resource_id=outcome.resource_id)
        return request, failure
    found = [str(item.get("instanceId")) for item in outcome.value["value"]
             if isinstance(item, dict) and item.get("instanceId") is not None]
    others = sorted((number for number in found if number.lower() != request.vm.lower()),
                    key=lambda number: (not number.isdigit(), int(number) if number.isdigit() else 0, number))
    return dataclasses.replace(request, known_good=tuple(others[:MAX_SCALE_SET_PEERS])), None


def collect(target: AzureTarget, request: CollectionRequest, out_dir: str | Path, **kwargs: Any) -> CollectionResult:
    """Blocking twin of :func:`collect_async`; safe inside a running loop (a notebook cell)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(collect_async(target, request, out_dir, **kwargs))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, collect_async(target, request, out_dir, **kwargs)).result()
