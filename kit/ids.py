"""ARM resource ids: the one place that takes them apart and puts them together.

ARM matches provider namespaces, resource types and the fixed segments
(``subscriptions``, ``resourceGroups``, ``providers``) case-insensitively, and so does
this module. Names keep their case. Anything malformed raises
:class:`~kit.errors.InvalidResourceId` with a message that names the bad part.

Names are checked as ARM checks them. Every id: no name is empty, ``.`` or ``..``, or holds a
control character. The ids the kit builds (:func:`vm_id`, :func:`nic_id` …, and
:meth:`ResourceId.child`) also follow the naming rules of their type: virtual machines and
scale sets 1–64 characters, network resources 1–80, made of letters, digits, ``_``, ``.`` and
``-``, starting with a letter or digit and ending with a letter, digit or ``_``
(:func:`check_name`).

No other module splits an id on ``/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kit.errors import InvalidResourceId

__all__ = [
    "ASG",
    "NIC",
    "NIC_IP_CONFIGURATION",
    "NSG",
    "PUBLIC_IP",
    "ROUTE_TABLE",
    "SUBNET",
    "VM",
    "VMSS",
    "VMSS_VM",
    "VNET",
    "ResourceId",
    "canonical_id",
    "check_name",
    "name_of",
    "nic_id",
    "nsg_id",
    "parse_resource_id",
    "public_ip_id",
    "resource_group_of",
    "route_table_id",
    "subnet_id",
    "try_parse",
    "vm_id",
    "vmss_vm_id",
    "vnet_id",
]

VM = "Microsoft.Compute/virtualMachines"
VMSS = "Microsoft.Compute/virtualMachineScaleSets"
VMSS_VM = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
NIC = "Microsoft.Network/networkInterfaces"
NIC_IP_CONFIGURATION = "Microsoft.Network/networkInterfaces/ipConfigurations"
NSG = "Microsoft.Network/networkSecurityGroups"
VNET = "Microsoft.Network/virtualNetworks"
SUBNET = "Microsoft.Network/virtualNetworks/subnets"
ROUTE_TABLE = "Microsoft.Network/routeTables"
PUBLIC_IP = "Microsoft.Network/publicIPAddresses"
ASG = "Microsoft.Network/applicationSecurityGroups"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RESOURCE_GROUP = re.compile(r"^[-\w.()]{1,90}$")
_NAMESPACE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ARM_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$")
_ARM_NAME_RULE = ("letters, digits, '_', '.' and '-', starting with a letter or digit and ending with a letter, "
                  "digit or '_'")
#: The longest name ARM accepts per resource type (lower-cased); these types also follow ``_ARM_NAME``.
_NAME_LENGTHS = {
    "virtualmachines": 64,
    "virtualmachinescalesets": 64,
    **dict.fromkeys(("networkinterfaces", "networksecuritygroups", "virtualnetworks", "subnets", "routetables",
                     "publicipaddresses", "applicationsecuritygroups", "ipconfigurations", "securityrules",
                     "routes"), 80),
}
_SHOWN = 120


@dataclass(frozen=True)
class ResourceId:
    """A parsed ARM resource id.

    Parameters
    ----------
    subscription_id
        The subscription GUID.
    resource_group
        The resource group, or ``None`` for subscription-level resources.
    namespace
        The provider namespace (``Microsoft.Compute``), or ``None`` for a bare
        subscription or resource group id.
    types
        Resource types from the outermost down (``("virtualMachineScaleSets", "virtualMachines")``).
    names
        Resource names matching ``types``.
    """

    subscription_id: str
    resource_group: str | None = None
    namespace: str | None = None
    types: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """The full resource type, e.g. ``Microsoft.Network/virtualNetworks/subnets``."""
        if self.namespace is None:
            return "Microsoft.Resources/resourceGroups" if self.resource_group else "Microsoft.Resources/subscriptions"
        return "/".join((self.namespace, *self.types))

    @property
    def name(self) -> str:
        """The innermost name (the resource group or subscription for bare ids)."""
        if self.names:
            return self.names[-1]
        return self.resource_group or self.subscription_id

    @property
    def parent(self) -> ResourceId | None:
        """The enclosing resource (a subnet's VNet), or ``None`` for top-level resources."""
        if len(self.types) <= 1:
            return None
        return ResourceId(self.subscription_id, self.resource_group, self.namespace, self.types[:-1], self.names[:-1])

    def is_kind(self, kind: str) -> bool:
        """Whether this id is of ``kind``, compared case-insensitively as ARM does."""
        return self.kind.lower() == kind.lower()

    def child(self, type_: str, name: str) -> ResourceId:
        """The id of a child resource (``vnet.child("subnets", "default")``)."""
        check_name(name, type_)
        return ResourceId(self.subscription_id, self.resource_group, self.namespace, (*self.types, type_),
                          (*self.names, name))

    def __str__(self) -> str:
        parts = ["", "subscriptions", self.subscription_id]
        if self.resource_group is not None:
            parts += ["resourceGroups", self.resource_group]
        if self.namespace is not None:
            parts += ["providers", self.namespace]
            for type_, name in zip(self.types, self.names, strict=True):
                parts += [type_, name]
        return "/".join(parts)

    def same_as(self, other: ResourceId | str) -> bool:
        """Whether two ids name the same resource (ARM compares ids case-insensitively)."""
        return str(self).lower() == str(other).lower()


def parse_resource_id(text: str, *, expect: str | None = None) -> ResourceId:
    """Parse an ARM resource id.

    Parameters
    ----------
    text
        The id, e.g. ``/subscriptions/…/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm``.
    expect
        A full resource type the id must have (``kit.ids.VM``); matched case-insensitively.

    Returns
    -------
    ResourceId
        The parsed id.

    Raises
    ------
    InvalidResourceId
        When the id is malformed or of another type; the message names the bad part.
    """
    if not isinstance(text, str):
        raise InvalidResourceId(f"a resource id must be text, got {type(text).__name__}")
    shown = text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
    stripped = text.strip()
    if not stripped.startswith("/"):
        raise InvalidResourceId(f"malformed resource id {shown!r}: it must start with '/subscriptions/'")
    segments = stripped.rstrip("/").split("/")[1:]
    if any(segment == "" for segment in segments):
        raise InvalidResourceId(f"malformed resource id {shown!r}: it has an empty segment ('//')")

    def bad(position: int, why: str) -> InvalidResourceId:
        return InvalidResourceId(f"malformed resource id {shown!r}: segment {position + 1} {why}")

    if not segments or segments[0].lower() != "subscriptions":
        raise bad(0, f"should be 'subscriptions', found {segments[0] if segments else ''!r}")
    if len(segments) < 2:
        raise bad(1, "(the subscription id) is missing")
    subscription = segments[1]
    if not _GUID.fullmatch(subscription):
        raise bad(1, f"(the subscription id) must be a GUID, found {subscription!r}")
    rest = segments[2:]
    resource_group: str | None = None
    if rest:
        if rest[0].lower() != "resourcegroups":
            if rest[0].lower() == "providers":
                raise bad(2, "is 'providers': subscription-level providers are not resources the kit reads")
            raise bad(2, f"should be 'resourceGroups', found {rest[0]!r}")
        if len(rest) < 2:
            raise bad(3, "(the resource group name) is missing")
        resource_group = rest[1]
        if not _RESOURCE_GROUP.fullmatch(resource_group) or resource_group.endswith("."):
            raise bad(3, f"(the resource group name) is not a valid name: {resource_group!r}")
        rest = rest[2:]
    namespace: str | None = None
    types: list[str] = []
    names: list[str] = []
    if rest:
        offset = 4
        if rest[0].lower() != "providers":
            raise bad(offset, f"should be 'providers', found {rest[0]!r}")
        if len(rest) < 2:
            raise bad(offset + 1, "(the provider namespace) is missing")
        namespace = rest[1]
        if not _NAMESPACE.fullmatch(namespace):
            raise bad(offset + 1, f"(the provider namespace) should look like 'Microsoft.Compute', found {namespace!r}")
        pairs = rest[2:]
        if not pairs:
            raise bad(offset + 2, "(the resource type) is missing")
        if len(pairs) % 2:
            raise bad(offset + 2 + len(pairs), f"(the name of the {pairs[-1]!r} resource) is missing")
        for index in range(0, len(pairs), 2):
            type_, name = pairs[index], pairs[index + 1]
            if type_.lower() == "providers":
                raise bad(offset + 2 + index, "starts an extension resource, which the kit does not parse")
            if name in (".", "..") or _CONTROL.search(name):
                raise bad(offset + 3 + index, f"(the {type_} name) is not a valid name: {name!r}")
            types.append(type_)
            names.append(name)
    parsed = ResourceId(subscription, resource_group, namespace, tuple(types), tuple(names))
    if expect is not None and not parsed.is_kind(expect):
        raise InvalidResourceId(f"resource id {shown!r} is a {parsed.kind}, expected a {expect}")
    return parsed


def try_parse(text: str | None) -> ResourceId | None:
    """:func:`parse_resource_id`, or ``None`` for an empty or malformed id (evidence is not always clean)."""
    if not text:
        return None
    try:
        return parse_resource_id(text)
    except InvalidResourceId:
        return None


def name_of(text: str | None, default: str | None = None) -> str:
    """The innermost name of an id; for a malformed id the text itself (or ``default`` when given).

    An empty or missing id gives ``default`` (``""`` when none is given).
    """
    parsed = try_parse(text)
    if parsed is not None:
        return parsed.name
    if default is not None:
        return default
    return text or ""


def resource_group_of(text: str | None) -> str | None:
    """The resource group an id lives in, or ``None`` (subscription-level or malformed id)."""
    parsed = try_parse(text)
    return parsed.resource_group if parsed is not None else None


def canonical_id(text: str | None) -> str:
    """A comparison key: the parsed id lower-cased, else the trimmed text lower-cased (``""`` for none)."""
    if not text:
        return ""
    parsed = try_parse(text)
    return str(parsed).lower() if parsed is not None else text.strip().rstrip("/").lower()


def check_name(name: str, type_: str) -> str:
    """``name`` if ARM accepts it as the name of a ``type_`` resource (``virtualMachines``); else InvalidResourceId.

    Known types (virtual machines, scale sets, network resources) follow ARM's length and
    character rules; any other type needs a name that is not empty, ``.`` or ``..`` and has
    no ``/`` or control character.
    """
    if not isinstance(name, str):
        raise InvalidResourceId(f"a {type_} name must be text, got {type(name).__name__}")
    shown = name if len(name) <= _SHOWN else name[:_SHOWN] + "…"
    if not name or name in (".", "..") or "/" in name or _CONTROL.search(name):
        raise InvalidResourceId(f"invalid {type_} name {shown!r}: names cannot be empty or contain '/', "
                                "be '.' or '..', or hold control characters")
    longest = _NAME_LENGTHS.get(type_.lower())
    if longest is not None:
        if len(name) > longest:
            raise InvalidResourceId(f"invalid {type_} name {shown!r}: ARM allows at most {longest} characters, "
                                    f"this one has {len(name)}")
        if not _ARM_NAME.fullmatch(name):
            raise InvalidResourceId(f"invalid {type_} name {shown!r}: use {_ARM_NAME_RULE}")
    return name


def _build(subscription_id: str, resource_group: str, namespace: str, *pairs: tuple[str, str]) -> ResourceId:
    if not isinstance(resource_group, str) or not _RESOURCE_GROUP.fullmatch(resource_group) \
            or resource_group.endswith("."):
        raise InvalidResourceId(f"invalid resource group name {resource_group!r}: use 1-90 letters, digits, '_', "
                                "'-', '.' and parentheses, not ending with '.'")
    for type_, name in pairs:
        check_name(name, type_)
    text = f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/{namespace}/" + "/".join(
        f"{type_}/{name}" for type_, name in pairs
    )
    return parse_resource_id(text)


def vm_id(subscription_id: str, resource_group: str, name: str) -> ResourceId:
    """The id of a virtual machine."""
    return _build(subscription_id, resource_group, "Microsoft.Compute", ("virtualMachines", name))


def vmss_vm_id(subscription_id: str, resource_group: str, scale_set: str, instance_id: str) -> ResourceId:
    """The id of one scale set instance."""
    return _build(subscription_id, resource_group, "Microsoft.Compute",
                  ("virtualMachineScaleSets", scale_set), ("virtualMachines", instance_id))


def nic_id(subscription_id: str, resource_group: str, name: str) -> ResourceId:
    """The id of a network interface."""
    return _build(subscription_id, resource_group, "Microsoft.Network", ("networkInterfaces", name))


def nsg_id(subscription_id: str, resource_group: str, name: str) -> ResourceId:
    """The id of a network security group."""
    return _build(subscription_id, resource_group, "Microsoft.Network", ("networkSecurityGroups", name))


def vnet_id(subscription_id: str, resource_group: str, name: str) -> ResourceId:
    """The id of a virtual network."""
    return _build(subscription_id, resource_group, "Microsoft.Network", ("virtualNetworks", name))


def subnet_id(subscription_id: str, resource_group: str, vnet: str, name: str) -> ResourceId:
    """The id of a subnet."""
    return _build(subscription_id, resource_group, "Microsoft.Network", ("virtualNetworks", vnet), ("subnets", name))


def route_table_id(subscription_id: str, resource_group: str, name: str) -> ResourceId:
    """The id of a route table."""
    return _build(subscription_id, resource_group, "Microsoft.Network", ("routeTables", name))


def public_ip_id(subscription_id: str, resource_group: str, name: str) -> ResourceId:
    """The id of a public IP address."""
    return _build(subscription_id, resource_group, "Microsoft.Network", ("publicIPAddresses", name))
