"""Sessions wired up: to a VM through Azure, or to a scenario VM in the lab."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kit.console.session import Session

__all__ = ["open_azure_session", "open_lab_session"]


def open_azure_session(target: Any, vm_id: str, *, approval: str, transcript: str | Path | None = None,
                       check: bool = True, **options: Any) -> Session:
    """A session (not yet opened) to an Azure VM or scale-set instance.

    Parameters
    ----------
    target
        A ``kit.azure.target.AzureTarget`` (endpoint, cloud, CA bundle, credential), or a
        ``kit.azure.serialconsole.SerialConsoleClient``.
    vm_id
        The ARM id of the VM or VMSS instance.
    approval
        The approval / ticket reference (required; recorded).
    transcript
        Where to record the ``.cast`` (and ``.txt``).
    check
        Run the prechecks first (console enabled, boot diagnostics, not deallocated).
    """
    from kit.azure.serialconsole import SerialConsoleClient

    client = target if isinstance(target, SerialConsoleClient) else SerialConsoleClient.from_target(target)
    transport, info = client.transport(vm_id, check=check)
    return Session(transport, approval=approval, transcript=transcript, vm_id=vm_id,
                   responder=client.responder(), os_type=info.os_type if info else None, **options)


def open_lab_session(lab: Any, scenario: str, *, approval: str, vm: str | None = None,
                     transcript: str | Path | None = None, **options: Any) -> Session:
    """A session (not yet opened) to a scenario VM of a running lab, through its ARM + gateway.

    The lab is reached exactly like Azure: a ``/connect`` POST over HTTPS (TLS verified against
    the lab's CA), then the websocket with the token as the first frame.
    """
    from kit.azure.serialconsole import SerialConsoleClient

    client = SerialConsoleClient.for_lab(lab)
    info = lab.scenario(scenario)
    vm_name = vm or info.broken_vm
    vm_id = str(info.vm_id(vm_name))
    transport, pre = client.transport(vm_id, check=True)
    return Session(transport, approval=approval, transcript=transcript, vm_id=vm_id,
                   responder="lab", os_type=pre.os_type if pre else None, **options)
