"""Sessions wired up: to a VM through Azure, or to a scenario VM in the lab.

:func:`azure_transport` is where the console meets the SDK layer: the
:class:`~kit.azure.serialconsole.SerialConsoleClient` returns connection facts (prechecks, the
``/connect`` URL, a token, TLS settings) and this module builds the websocket transport from them,
as an httpx client never builds its own transports.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kit.azure.serialconsole import ConsolePrecheck, SerialConsoleClient
from kit.azure.target import AzureTarget, LabAddress
from kit.console.session import Session
from kit.console.transports import AzureSerialTransport, SerialConnection
from kit.ids import ResourceId

if TYPE_CHECKING:
    from kit.lab import ScenarioInfo

__all__ = [
    "ConsoleLab",
    "azure_connection",
    "azure_transport",
    "lab_console_client",
    "open_azure_session",
    "open_lab_session",
]


class ConsoleLab(LabAddress, Protocol):
    """What a console needs of a running lab (``kit.lab.RunningLab`` has it): its address and scenarios."""

    def scenario(self, name: str) -> ScenarioInfo:
        """The served scenario ``name``."""
        ...


def lab_console_client(lab: ConsoleLab, scenario: str, vm: str | None = None) -> tuple[SerialConsoleClient, str]:
    """The serial console client for ``lab`` and the ARM id of ``vm`` in ``scenario`` (default: its broken VM)."""
    info = lab.scenario(scenario)
    return SerialConsoleClient.for_lab(lab), info.vm_id(vm or info.broken_vm)


def azure_connection(client: SerialConsoleClient, vm_id: str | ResourceId) -> SerialConnection:
    """A fresh ``/connect`` URL and token for ``vm_id``, with the client's TLS settings and admin commands."""
    url = client.connection_string(vm_id)
    return SerialConnection(url=url, token=client.token(), ssl_context=client.ssl_context(),
                            admin=client.admin_command)


def azure_transport(client: SerialConsoleClient, vm_id: str | ResourceId, *, check: bool = True,
                    **options: Any) -> tuple[AzureSerialTransport, ConsolePrecheck | None]:
    """An (unconnected) transport whose every (re)connect POSTs ``/connect`` with a fresh token.

    Parameters
    ----------
    client
        The serial console REST client for the target (Azure or the lab).
    vm_id
        The VM or scale-set instance.
    check
        Run the prechecks first; :class:`~kit.errors.ConsolePrecheckError` lists every reason.
    options
        Passed to :class:`~kit.console.transports.AzureSerialTransport`.
    """
    pre = client.require(vm_id) if check else None

    async def connector() -> SerialConnection:
        return await asyncio.to_thread(azure_connection, client, vm_id)

    transport = AzureSerialTransport(connector, os_type=pre.os_type if pre else None, **options)
    transport.description = f"azure serial console ({client.target.arm_endpoint})"
    return transport, pre


def open_azure_session(target: AzureTarget | SerialConsoleClient, vm_id: str, *, approval: str,
                       transcript: str | Path | None = None, check: bool = True, **options: Any) -> Session:
    """A session (not yet opened) to an Azure VM or scale-set instance.

    Parameters
    ----------
    target
        An :class:`~kit.azure.target.AzureTarget` (endpoint, cloud, CA bundle, credential), or a
        :class:`~kit.azure.serialconsole.SerialConsoleClient`.
    vm_id
        The ARM id of the VM or VMSS instance.
    approval
        The approval / ticket reference (required; recorded).
    transcript
        Where to record the ``.cast`` (and ``.txt``).
    check
        Run the prechecks first (console enabled, boot diagnostics, not deallocated).
    options
        :class:`~kit.console.SessionOptions` fields.
    """
    client = target if isinstance(target, SerialConsoleClient) else SerialConsoleClient.from_target(target)
    transport, info = azure_transport(client, vm_id, check=check)
    options.setdefault("boot_log_tail", client.serial_log_tail(vm_id))
    return Session(transport, approval=approval, transcript=transcript, vm_id=vm_id,
                   responder=client.responder(), os_type=info.os_type if info else None, **options)


def open_lab_session(lab: ConsoleLab, scenario: str, *, approval: str, vm: str | None = None,
                     transcript: str | Path | None = None, **options: Any) -> Session:
    """A session (not yet opened) to a scenario VM of a running lab, through its ARM + gateway.

    The lab is reached exactly like Azure: a ``/connect`` POST over HTTPS (TLS verified against
    the lab's CA), then the websocket with the token as the first frame. ``vm`` defaults to the
    scenario's broken VM; ``options`` are :class:`~kit.console.SessionOptions` fields.
    """
    client, vm_id = lab_console_client(lab, scenario, vm)
    transport, pre = azure_transport(client, vm_id, check=True)
    options.setdefault("boot_log_tail", client.serial_log_tail(vm_id))
    return Session(transport, approval=approval, transcript=transcript, vm_id=vm_id,
                   responder="lab", os_type=pre.os_type if pre else None, **options)
