"""The options that say which VM and how to reach ARM, shared by ``kit collect`` and ``kit console``.

Not a command module (the dispatcher skips ``_`` names); imports no SDK.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.azure.choices import CLOUD_NAMES, CREDENTIAL_KINDS
from kit.errors import InvalidResourceId, UsageError
from kit.ids import VM, VMSS_VM, parse_resource_id, vm_id, vmss_vm_id

if TYPE_CHECKING:
    from kit.azure.target import AzureTarget

__all__ = ["action_incident", "action_target", "add_connection_options", "add_scale_set_options", "parse_probe",
           "scale_set_instance", "vm_resource_id"]


def add_connection_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, *,
                           credential_default: str | None = "default", credential_help: str | None = None) -> None:
    """``--cloud``, ``--arm-endpoint``, ``--ca-bundle`` and ``--credential``: the same on every command."""
    parser.add_argument("--cloud", choices=CLOUD_NAMES, default="AzureCloud", help="public cloud (default AzureCloud)")
    parser.add_argument("--arm-endpoint", metavar="URL", help="ARM endpoint (Azure Stack Hub, a TLS-inspecting proxy)")
    parser.add_argument("--ca-bundle", metavar="PEM",
                        help="CA bundle to verify TLS against (replaces the system store)")
    parser.add_argument("--credential", choices=CREDENTIAL_KINDS, default=credential_default, help=credential_help or (
        "default (DefaultAzureCredential), cli (az login), managed-identity, or env-token (a pre-issued ARM token "
        "in KIT_ARM_TOKEN); default: default"))


def add_scale_set_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--vmss NAME`` and ``--instance ID``: a uniform scale-set instance instead of ``--vm``."""
    parser.add_argument("--vmss", metavar="NAME", help="the scale set of the broken instance (with --instance, "
                        "--subscription and --resource-group), instead of --vm")
    parser.add_argument("--instance", metavar="ID", help="the instance id in --vmss (az vmss list-instances "
                        "--query [].instanceId)")


def scale_set_instance(args: argparse.Namespace, *, command: str) -> tuple[str, str] | None:
    """``(scale set, instance id)`` from ``--vmss``/``--instance``, or ``None`` when neither is given.

    Raises
    ------
    UsageError
        Only one of the two, either one empty, or given together with ``--vm``.
    """
    vmss, instance = getattr(args, "vmss", None), getattr(args, "instance", None)
    if vmss is None and instance is None:
        return None
    for option, value in (("--vmss", vmss), ("--instance", instance)):
        if value is None:
            raise UsageError(f"{command}: --vmss and --instance go together (the scale set and its instance id)")
        if not value.strip():
            raise UsageError(f"{option} is empty; give a value or leave the option out")
    if getattr(args, "vm", None):
        raise UsageError(f"{command}: give either --vm or --vmss/--instance, not both")
    return str(vmss), str(instance)


def vm_resource_id(args: argparse.Namespace, *, command: str) -> str:
    """The VM's ARM id from ``--vm ID`` or ``--subscription``/``--resource-group``/``--vm NAME``.

    Names are checked as ARM checks them (:func:`kit.ids.check_name`), whichever form is given.

    Raises
    ------
    UsageError
        Neither form is complete (the message says what to add), a name ARM would refuse, or an
        id of something other than a VM or scale set instance.
    """
    pair = scale_set_instance(args, command=command)
    if pair is not None:
        if not (args.subscription and args.resource_group):
            raise UsageError(f"--vmss {pair[0]} --instance {pair[1]}: also give --subscription and --resource-group "
                             "(or pass the instance's full ARM resource id as --vm)")
        return str(vmss_vm_id(args.subscription, args.resource_group, *pair))
    if not args.vm:
        raise UsageError(f"{command} needs --vm with the VM's ARM resource id (or --subscription, --resource-group "
                         "and --vm NAME), or --lab SCENARIO")
    if args.vm.startswith("/"):
        parsed = parse_resource_id(args.vm)
        if parsed.is_kind(VM):
            return str(vm_id(parsed.subscription_id, str(parsed.resource_group), parsed.name))
        if parsed.is_kind(VMSS_VM):
            return str(vmss_vm_id(parsed.subscription_id, str(parsed.resource_group), *parsed.names))
        raise InvalidResourceId(f"--vm {args.vm!r} is a {parsed.kind}, not a virtual machine or scale set instance")
    if not (args.subscription and args.resource_group):
        raise UsageError(f"--vm {args.vm} is a name: also give --subscription and --resource-group "
                         "(or pass the VM's full ARM resource id)")
    return str(vm_id(args.subscription, args.resource_group, args.vm))


_PROBE = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]+))(?::(?P<port>\d{1,5}))?$")


def parse_probe(text: str) -> tuple[str, int]:
    """``HOST[:PORT]`` (``[v6]:PORT`` too) → ``(host, port)``; port 0 means the VM's OS's (22 or 3389).

    Raises
    ------
    argparse.ArgumentTypeError
        Not HOST[:PORT] (argparse makes it a usage error, exit 2).
    """
    match = _PROBE.match(text.strip())
    port = int(match.group("port") or 0) if match else -1
    if match is None or not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST[:PORT] (e.g. 10.0.0.4:22, bastion.example.org, "
                                         "[::1]:22)")
    return match.group("v6") or match.group("host"), port


def action_incident(args: argparse.Namespace) -> Path:
    """The incident folder a responder's action is recorded in (``--incident``, ``--archive``).

    Raises
    ------
    UsageError
        An empty ``--approval``, an ``--archive`` that is a file, a malformed incident id, or
        ``--lab`` given with ``--arm-endpoint``/``--ca-bundle``.
    """
    from kit.archive import incident_dir

    if not args.approval.strip():
        raise UsageError("--approval is empty: give the approval / ticket reference")
    archive = Path(args.archive)
    if archive.exists() and not archive.is_dir():
        raise UsageError(f"--archive {archive} is a file; give the folder that holds incident archives")
    if args.lab and (args.arm_endpoint or args.ca_bundle):
        raise UsageError("--lab fills in the endpoint, CA and credential itself; drop --arm-endpoint/--ca-bundle")
    return incident_dir(archive, args.incident)


def action_target(args: argparse.Namespace, lab: Any) -> AzureTarget:
    """Where an action command connects: the in-process lab, or the endpoint, cloud, credential and CA given."""
    from kit.azure.target import AzureTarget

    if lab is not None:
        return AzureTarget.for_lab(lab)
    return AzureTarget(arm_endpoint=args.arm_endpoint or "", cloud=args.cloud, credential=args.credential,
                       ca_bundle=args.ca_bundle)
