"""Restart a VM (or a scale-set instance) and read its serial log again: what the recovery check needs to see a
fix survive a reboot.

Both go through the official SDK (``virtual_machines.begin_restart``, a long-running POST, and
``retrieveBootDiagnosticsData`` + a GET of the serial log's SAS blob URL)::

    log = WriteLog()
    restart_vm(target, vm_id, hook=log.hook)      # returns when ARM says the restart succeeded
    serial_log(target, vm_id)                     # the serial log's bytes now (None: boot diagnostics off)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from azure.core import PipelineClient
from azure.core.pipeline.policies import HeadersPolicy, RetryPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest
from azure.mgmt.compute import ComputeManagementClient

from kit.azure._machines import compute_operations, machine_args, parse_machine
from kit.azure.errors import map_azure_errors
from kit.azure.target import AzureTarget

__all__ = ["restart_vm", "serial_log"]


def _compute(target: AzureTarget, subscription_id: str, hook: Callable[[Any], None] | None) -> ComputeManagementClient:
    kwargs = target.client_kwargs()
    if hook is not None:
        kwargs["raw_response_hook"] = hook
    return ComputeManagementClient(target.sync_credential(), subscription_id, **kwargs)


def restart_vm(target: AzureTarget, vm_id: str, *, hook: Callable[[Any], None] | None = None,
               polling_interval: float = 1.0) -> None:
    """Restart the VM (``POST …/restart``) and wait until ARM reports the operation done.

    Raises
    ------
    KitError
        ARM refused or failed the restart (the mapped SDK error: 404, 409 not running …).
    """
    rid = parse_machine(vm_id)
    operations = compute_operations(rid)
    with _compute(target, rid.subscription_id, hook) as client, \
            map_azure_errors(f"{operations}.begin_restart", str(rid)):
        getattr(client, operations).begin_restart(*machine_args(rid), polling_interval=polling_interval).result()


def serial_log(target: AzureTarget, vm_id: str) -> bytes | None:
    """The VM's serial log as boot diagnostics serves it now; ``None`` when it has none.

    Raises
    ------
    KitError
        ARM or the blob refused the read (the mapped SDK error).
    """
    rid = parse_machine(vm_id)
    operations = compute_operations(rid)
    with _compute(target, rid.subscription_id, None) as client, \
            map_azure_errors(f"{operations}.retrieve_boot_diagnostics_data", str(rid)):
        uris = getattr(client, operations).retrieve_boot_diagnostics_data(*machine_args(rid))
    url = uris.serial_console_log_blob_uri
    if not url:
        return None
    retry = target.retry
    transport = RequestsTransport(connection_verify=target.connection_verify,
                                  connection_timeout=retry.connection_timeout, read_timeout=retry.read_timeout)
    blobs: PipelineClient[HttpRequest, Any] = PipelineClient(
        base_url="", policies=[HeadersPolicy(), RetryPolicy(retry_total=retry.total)], transport=transport)
    with blobs, \
            map_azure_errors("boot_diagnostics.serial_log", str(rid)):
        response = blobs.send_request(HttpRequest("GET", url, headers={"x-ms-version": "2021-08-06"}))
        response.raise_for_status()
        return bytes(response.content)
