"""Private: the call graph of one collection (which call follows which) and per-VM recording.

:class:`Run` makes every call through the SDK clients, each wrapped so that a failure
becomes a manifest entry instead of an exception; resources several VMs share are fetched
once. :class:`Job` is one VM's bundle in the making.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from azure.core.rest import HttpRequest

from kit import ids
from kit.azure import directory, metrics, workspace
from kit.azure._calls import Capture, Clients
from kit.azure.errors import failure_record, map_azure_errors
from kit.azure.request import CollectionRequest, ProgressCallback
from kit.errors import AzureError
from kit.evidence.manifest import DIRECTORY_CALL
from kit.evidence.writer import BundleWriter
from kit.times import utc_text

__all__ = ["CONSOLE_API_VERSION", "SCALE_SET_FILE", "SCALE_SET_NIC", "Job", "Outcome", "Run"]

CONSOLE_API_VERSION = "2024-07-01"

#: the bundle file holding the scale set's model (an instance bundle only)
SCALE_SET_FILE = "vmss.json"
#: the type of a uniform scale-set instance's NIC (served by the network API under the scale set)
SCALE_SET_NIC = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/networkInterfaces"


@dataclass
class Outcome:
    call: str
    resource_id: str | None
    value: Any = None
    api_version: str | None = None
    failure: dict[str, Any] | None = None
    at: str = field(default_factory=utc_text)


class Job:
    """One VM's bundle in the making: its writer, counters and file names."""

    def __init__(self, name: str, writer: BundleWriter, progress: ProgressCallback | None,
                 target: str | None = None) -> None:
        self.name = name
        self.target = target or name  # the VM's name, or the scale-set instance's id
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

    def record(self, outcome: Outcome, path: str) -> Any:
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


class Run:
    """One collection: shared calls are made once, per-VM calls for each VM, all concurrent."""

    def __init__(self, clients: Clients, request: CollectionRequest, polling_interval: float,
                 concurrent: bool = True) -> None:
        self.clients = clients
        self.request = request
        self.polling_interval = polling_interval
        self.concurrent = concurrent
        self._shared: dict[str, asyncio.Future[Outcome]] = {}

    async def gather(self, *work: Awaitable[Any]) -> list[Any]:
        """All of ``work`` at once, or one after another when the run is not concurrent."""
        if self.concurrent:
            return list(await asyncio.gather(*work))
        return [await item for item in work]

    async def arm(self, call: str, resource_id: str | None,
                  invoke: Callable[[Capture], Awaitable[Any]], *, paging: bool = False) -> Outcome:
        """Make one SDK call; a failure becomes a recorded outcome, never an exception."""
        capture = Capture()
        try:
            with map_azure_errors(call, resource_id):
                await asyncio.wait_for(invoke(capture), self.clients.target.retry.deadline)
        except AzureError as error:
            return Outcome(call, resource_id, failure=failure_record(error, call=call, resource_id=resource_id))
        if paging:
            value: Any = {"value": [item for page in capture.pages for item in (page.get("value") or [])]}
        else:
            value = capture.body
        return Outcome(call, resource_id, value=value, api_version=capture.api_version)

    def shared(self, key: str, make: Callable[[], Awaitable[Outcome]]) -> asyncio.Future[Outcome]:
        """The one task for ``key`` (resource id or call), started on first use."""
        key = key.lower()
        if key not in self._shared:
            self._shared[key] = asyncio.ensure_future(make())
        return self._shared[key]

    # -- single resources ------------------------------------------------------------------
    def get_vm(self, name: str) -> asyncio.Future[Outcome]:
        rid = self.request.resource_id(name)
        compute = self.clients.get("compute", rid.subscription_id)
        if self.request.scale_set:
            scale_set = self.request.scale_set
            return self.shared(f"vm:{rid}", lambda: self.arm(
                "virtual_machine_scale_set_vms.get", str(rid),
                lambda c: compute.virtual_machine_scale_set_vms.get(rid.resource_group, scale_set, rid.name,
                                                                    **c.kwargs())))
        return self.shared(f"vm:{rid}", lambda: self.arm(
            "virtual_machines.get", str(rid),
            lambda c: compute.virtual_machines.get(rid.resource_group, rid.name, **c.kwargs())))

    def _network_get(self, call: str, rid: ids.ResourceId) -> asyncio.Future[Outcome]:
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
    async def vm(self, job: Job, name: str) -> None:
        if self.request.scale_set:
            await self.instance(job, name)
            return
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
            self.resource_health(job, rid),
            workspace.collect_workspace(self, job, rid, model),
            metrics.collect_metrics(self, job, rid),
            *(self.nic(job, nic) for nic in nic_ids if nic),
        )

    async def instance_view(self, job: Job, rid: ids.ResourceId) -> None:
        compute = self.clients.get("compute", rid.subscription_id)
        if rid.is_kind(ids.VMSS_VM) and rid.parent is not None:
            scale_set = rid.parent.name
            job.record(await self.arm("virtual_machine_scale_set_vms.get_instance_view", str(rid),
                                      lambda c: compute.virtual_machine_scale_set_vms.get_instance_view(
                                          rid.resource_group, scale_set, rid.name, **c.kwargs())),
                       "instance_view.json")
            return
        job.record(await self.arm("virtual_machines.instance_view", str(rid),
                                  lambda c: compute.virtual_machines.instance_view(rid.resource_group, rid.name,
                                                                                   **c.kwargs())),
                   "instance_view.json")

    async def boot_diagnostics(self, job: Job, rid: ids.ResourceId) -> None:
        compute = self.clients.get("compute", rid.subscription_id)
        if rid.is_kind(ids.VMSS_VM) and rid.parent is not None:
            scale_set = rid.parent.name
            outcome = await self.arm(
                "virtual_machine_scale_set_vms.retrieve_boot_diagnostics_data", str(rid),
                lambda c: compute.virtual_machine_scale_set_vms.retrieve_boot_diagnostics_data(
                    rid.resource_group, scale_set, rid.name, **c.kwargs()))
        else:
            outcome = await self.arm(
                "virtual_machines.retrieve_boot_diagnostics_data", str(rid),
                lambda c: compute.virtual_machines.retrieve_boot_diagnostics_data(rid.resource_group, rid.name,
                                                                                  **c.kwargs()))
        result = job.record(outcome, "boot_diagnostics.json")
        if not isinstance(result, dict):
            return
        blobs = [("serialConsoleLogBlobUri", "serial.log", "boot_diagnostics.serial_log"),
                 ("consoleScreenshotBlobUri", "screenshot.bmp", "boot_diagnostics.screenshot")]
        outcomes = await self.gather(*(self.blob(call, result.get(key), str(rid)) for key, _, call in blobs))
        for (_, path, _), outcome in zip(blobs, outcomes, strict=True):
            job.record(outcome, path)

    async def blob(self, call: str, url: str | None, vm_id: str) -> Outcome:
        """Download a boot-diagnostics blob by its SAS URL (recorded under the VM's id)."""
        if not url:
            return Outcome(call, vm_id, failure={"call": call, "resource_id": vm_id, "status": None,
                                                  "code": "NoBlobUri", "message": "boot diagnostics returned no URL"})
        try:
            with map_azure_errors(call, vm_id):
                status, data, response = await asyncio.wait_for(self.clients.download(url),
                                                                self.clients.target.retry.deadline)
                if status != 200:
                    response.raise_for_status()
        except AzureError as error:
            return Outcome(call, vm_id, failure=failure_record(error, call=call, resource_id=vm_id))
        return Outcome(call, vm_id, value=data, api_version=None)

    async def role_assignments(self, job: Job, rid: ids.ResourceId) -> None:
        authorization = self.clients.get("authorization", rid.subscription_id)

        async def listing(capture: Capture) -> None:
            pager = authorization.role_assignments.list_for_scope(str(rid), filter="atScope()",
                                                                  **capture.kwargs(paging=True))
            async for _ in pager:
                pass

        outcome = await self.arm("role_assignments.list_for_scope", str(rid), listing, paging=True)
        if outcome.failure is None:
            assignments = outcome.value["value"]
            wanted = sorted({str(role) for item in assignments if (role := _props(item).get("roleDefinitionId"))})
            names = await self.gather(*(self.role_name(job, role, rid.subscription_id) for role in wanted))
            by_id = {role.lower(): name for role, name in zip(wanted, names, strict=True)}
            for item in assignments:
                name = by_id.get(str(_props(item).get("roleDefinitionId")).lower())
                if name and isinstance(item.get("properties"), dict):
                    item["properties"]["roleDefinitionName"] = name
        job.record(outcome, "role_assignments.json")

    async def role_name(self, job: Job, role_id: str, subscription_id: str) -> str | None:
        authorization = self.clients.get("authorization", subscription_id)
        outcome = await self.shared(f"roledef:{role_id}", lambda: self.arm(
            "role_definitions.get_by_id", role_id,
            lambda c: authorization.role_definitions.get_by_id(role_id, **c.kwargs())))
        if outcome.failure is not None:
            job.record(outcome, "")
            return None
        return _props(outcome.value).get("roleName")

    async def activity_log(self, job: Job) -> None:
        request = self.request
        monitor = self.clients.get("monitor", request.subscription_id)
        window = request.window
        query = (f"eventTimestamp ge '{window['start']}' and eventTimestamp le '{window['end']}' "
                 f"and resourceGroupName eq '{request.resource_group}'")

        async def listing(capture: Capture) -> None:
            async for _ in monitor.activity_logs.list(filter=query, **capture.kwargs(paging=True)):
                pass

        group = f"/subscriptions/{request.subscription_id}/resourceGroups/{request.resource_group}"
        log = job.record(await self.shared("activity_log", lambda: self.arm("activity_logs.list", group, listing,
                                                                            paging=True)), "activity_log.json")
        if log is not None:
            await self.directory_names(job, directory.principal_ids(log["value"]))

    async def directory_names(self, job: Job, principals: list[str]) -> None:
        """Microsoft Graph ``getByIds`` for the Activity Log's principal GUIDs (none: nothing to look up)."""
        if not principals or not self.clients.target.asks_graph:
            return

        async def lookup(capture: Capture) -> None:
            body: dict[str, Any] = {"value": []}
            for batch in directory.batches(principals):
                answer = await self.clients.graph_post(directory.PATH, {"ids": batch, "types": list(directory.TYPES)})
                answer = answer if isinstance(answer, dict) else {}
                body = {**answer, "value": body["value"] + list(answer.get("value") or [])}
            capture.body = body
            capture.api_version = "v1.0"

        job.record(await self.shared("directory", lambda: self.arm(DIRECTORY_CALL, None, lookup)),
                   BundleWriter.path_for("directory_objects"))

    async def resource_health(self, job: Job, rid: ids.ResourceId) -> None:
        """The VM's current Resource Health availability status and its history (newest first)."""
        health = self.clients.get("resourcehealth", rid.subscription_id).availability_statuses
        uri = str(rid).lstrip("/")  # the SDK's path is "/{resourceUri}/providers/…"

        async def history(capture: Capture) -> None:
            async for _ in health.list(uri, expand="recommendedactions", **capture.kwargs(paging=True)):
                pass

        current, listed = await self.gather(
            self.arm("availability_statuses.get_by_resource", str(rid),
                     lambda c: health.get_by_resource(uri, expand="recommendedactions", **c.kwargs())),
            self.arm("availability_statuses.list", str(rid), history, paging=True))
        job.record(current, "resource_health.json")
        job.record(listed, "resource_health_history.json")

    async def console_status(self, job: Job) -> None:
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

    async def nic(self, job: Job, nic_id: str) -> None:
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
                if subnet_ref := _ref(inner.get("subnet")):
                    work.append(self.subnet(job, subnet_ref))
                if _ref(inner.get("publicIPAddress")):
                    work.append(self.resource(job, "public_ips", "public_ip_addresses.get",
                                              _ref(inner["publicIPAddress"])))
        await self.gather(*work)

    async def effective(self, job: Job, call: str, rid: ids.ResourceId, begin: Callable[..., Any], path: str) -> None:
        async def run(capture: Capture) -> None:
            poller = await begin(rid.resource_group, rid.name, polling_interval=self.polling_interval,
                                 **capture.kwargs())
            await poller.result()

        job.record(await self.arm(call, str(rid), run), path)

    async def resource(self, job: Job, attribute: str, call: str, resource_id: str | None) -> Any:
        if not resource_id:
            return None
        rid = ids.parse_resource_id(resource_id)
        return job.record(await self._network_get(call, rid),
                          BundleWriter.path_for(attribute, job.file_name(attribute, rid)))

    async def subnet(self, job: Job, subnet_id: str) -> None:
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

    # -- per scale-set instance ------------------------------------------------------------
    async def instance(self, job: Job, instance_id: str) -> None:
        """One uniform scale-set instance: its model and view, boot diagnostics, NICs, the scale set's model."""
        rid = self.request.resource_id(instance_id)
        model = job.record(await self.get_vm(instance_id), "vm.json")
        network_profile = _props(model).get("networkProfile") or {}
        nic_ids = [_ref(nic) for nic in network_profile.get("networkInterfaces") or []]
        await self.gather(
            self.instance_view(job, rid),
            self.boot_diagnostics(job, rid),
            self.scale_set_model(job),
            self.role_assignments(job, rid),
            self.activity_log(job),
            self.console_status(job),
            self.resource_health(job, rid),
            workspace.collect_workspace(self, job, rid, model),  # by the instance's computer name
            *(self.instance_nic(job, nic) for nic in nic_ids if nic),
        )

    async def scale_set_model(self, job: Job) -> None:
        """The scale set's own model (``vmss.json``): what a model update changed, the upgrade policy."""
        request = self.request
        assert request.scale_set is not None
        compute = self.clients.get("compute", request.subscription_id)
        rid = ids.parse_resource_id(str(request.resource_id(request.vm))).parent
        assert rid is not None
        job.record(await self.shared(f"vmss:{rid}", lambda: self.arm(
            "virtual_machine_scale_sets.get", str(rid),
            lambda c: compute.virtual_machine_scale_sets.get(rid.resource_group, rid.name, **c.kwargs()))),
            SCALE_SET_FILE)

    async def list_instances(self) -> Outcome:
        """The scale set's instances (``virtual_machine_scale_set_vms.list``, all pages)."""
        request = self.request
        assert request.scale_set is not None
        compute = self.clients.get("compute", request.subscription_id)
        scale_set = str(request.resource_id(request.vm).parent)

        async def listing(capture: Capture) -> None:
            pager = compute.virtual_machine_scale_set_vms.list(request.resource_group, request.scale_set,
                                                               **capture.kwargs(paging=True))
            async for _ in pager:
                pass

        return await self.arm("virtual_machine_scale_set_vms.list", scale_set, listing, paging=True)

    async def instance_nic(self, job: Job, nic_id: str) -> None:
        """A NIC of a scale-set instance (the network API serves it under the scale set); its NSG, subnet, public IP.

        ARM has no effective-NSG or effective-route operation for these NICs (only for top-level
        ``Microsoft.Network/networkInterfaces``): each is recorded as a failure saying so, and the
        analysis reads the configured NSGs and route tables instead.
        """
        rid = ids.parse_resource_id(nic_id)
        instance = rid.parent
        scale_set = instance.parent if instance is not None else None
        if not rid.is_kind(SCALE_SET_NIC) or instance is None or scale_set is None:
            job.record(Outcome("network_interfaces.get_virtual_machine_scale_set_network_interface", nic_id,
                               failure={"call": "network_interfaces.get_virtual_machine_scale_set_network_interface",
                                        "resource_id": nic_id, "status": None, "code": "UnexpectedNicId",
                                        "message": f"the instance names a NIC that is not under its scale set: "
                                                   f"{rid.kind}"}), "")
            return
        network = self.clients.get("network", rid.subscription_id)
        call = "network_interfaces.get_virtual_machine_scale_set_network_interface"
        nic_name = job.file_name("nics", rid)
        body = job.record(await self.shared(f"{call}:{rid}", lambda: self.arm(
            call, str(rid), lambda c: network.network_interfaces.get_virtual_machine_scale_set_network_interface(
                rid.resource_group, scale_set.name, instance.name, rid.name, **c.kwargs()))),
            BundleWriter.path_for("nics", nic_name))
        for effective in ("network_interfaces.begin_list_effective_network_security_groups",
                          "network_interfaces.begin_get_effective_route_table"):
            job.record(Outcome(effective, str(rid), failure={
                "call": effective, "resource_id": str(rid), "status": None, "code": "NotOfferedForScaleSetNic",
                "message": "ARM computes effective security rules and routes only for standalone NICs "
                           "(Microsoft.Network/networkInterfaces), not for a scale-set instance's NIC; the analysis "
                           "uses the configured NSGs and route tables (the portal's instance blade is the live view)"}),
                "")
        if body is None:
            return
        properties = _props(body)
        work: list[Awaitable[Any]] = []
        if _ref(properties.get("networkSecurityGroup")):
            work.append(self.resource(job, "nsgs", "network_security_groups.get",
                                      _ref(properties["networkSecurityGroup"])))
        for configuration in properties.get("ipConfigurations") or []:
            inner = _props(configuration)
            if subnet_ref := _ref(inner.get("subnet")):
                work.append(self.subnet(job, subnet_ref))
            if public_ip := _ref(inner.get("publicIPAddress")):
                work.append(self.instance_public_ip(job, public_ip))
        await self.gather(*work)

    async def instance_public_ip(self, job: Job, public_ip_id: str) -> None:
        """An instance's public IP (``…/ipConfigurations/<ip>/publicIPAddresses/<name>`` under the scale set)."""
        rid = ids.parse_resource_id(public_ip_id)
        configuration = rid.parent
        nic = configuration.parent if configuration is not None else None
        instance = nic.parent if nic is not None else None
        scale_set = instance.parent if instance is not None else None
        call = "public_ip_addresses.get_virtual_machine_scale_set_public_ip_address"
        if configuration is None or nic is None or instance is None or scale_set is None:
            job.record(await self._network_get("public_ip_addresses.get", rid),
                       BundleWriter.path_for("public_ips", job.file_name("public_ips", rid)))
            return
        network = self.clients.get("network", rid.subscription_id)
        job.record(await self.shared(f"{call}:{rid}", lambda: self.arm(
            call, str(rid), lambda c: network.public_ip_addresses.get_virtual_machine_scale_set_public_ip_address(
                rid.resource_group, scale_set.name, instance.name, nic.name, configuration.name, rid.name,
                **c.kwargs()))),
            BundleWriter.path_for("public_ips", job.file_name("public_ips", rid)))
