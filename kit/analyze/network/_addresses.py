"""Addresses, ports and protocols as NSG rules and routes spell them.

Everything here is pure: parsing of the strings ARM stores (``"10.0.0.0/24"``, ``"80"``,
``"10000-10005"``, ``"*"``, ``"VirtualNetwork"``) into values the evaluator can compare, with
:class:`~kit.errors.AnalysisError` naming the file and field when a value is malformed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from kit.errors import AnalysisError, UsageError

__all__ = [
    "contains",
    "is_public",
    "normalize_protocol",
    "parse_address_entry",
    "parse_endpoint",
    "parse_ip",
    "parse_ports",
    "parse_prefix",
    "port_in",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Words that mean "any address" in a rule's prefix field.
ANY_ADDRESS = frozenset({"*", "any", "0.0.0.0/0", "::/0"})

#: Service tags the kit gives a meaning to when nothing was captured, by lower-case name
#: (the legacy upper-case spellings included).
BUILTIN_TAGS = {
    "virtualnetwork": "VirtualNetwork",
    "virtual_network": "VirtualNetwork",
    "azureloadbalancer": "AzureLoadBalancer",
    "azure_loadbalancer": "AzureLoadBalancer",
    "internet": "Internet",
}

#: The Azure host address behind the AzureLoadBalancer tag (health probes, DHCP, DNS).
AZURE_HOST = ipaddress.ip_network("168.63.129.16/32")

#: Address space that is never "Internet": RFC 1918, RFC 6598 shared space, loopback,
#: link-local, "this network", multicast and reserved.
NON_PUBLIC = tuple(
    ipaddress.ip_network(text)
    for text in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)

#: System routes whose next hop is None (dropped) unless a VNet's address space covers them.
RESERVED_DROP = tuple(
    ipaddress.ip_network(text) for text in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)

#: Protocols as NSG rules spell them, by lower-case name; ``*`` means any.
PROTOCOLS = {"tcp": "Tcp", "udp": "Udp", "icmp": "Icmp", "esp": "Esp", "ah": "Ah", "*": "*", "all": "*", "any": "*"}

#: Protocols whose rules compare ports.
PORTED = frozenset({"Tcp", "Udp"})

ALL_PORTS = ((0, 65535),)


def parse_ip(text: object, what: str) -> IPAddress:
    """An IP address, or :class:`UsageError` naming ``what``."""
    try:
        return ipaddress.ip_address(str(text).strip())
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not an IP address") from None


def parse_endpoint(text: object, what: str) -> tuple[IPAddress, int | None]:
    """``"10.0.0.4:22"`` → (address, 22); ``"10.0.0.4"`` or ``"10.0.0.4:*"`` → (address, None)."""
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"{what} must be 'ip:port' (e.g. 10.0.0.4:22), got {text!r}")
    value = text.strip()
    host, port_text = value, None
    if value.startswith("["):  # [v6]:port
        host, _, rest = value[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else None
    elif value.count(":") == 1:
        host, port_text = value.split(":")
    address = parse_ip(host, what)
    if port_text in (None, "", "*"):
        return address, None
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UsageError(f"{what}: port {port_text!r} is not a number from 0 to 65535 (in {text!r})")
    return address, int(port_text)


def parse_ports(values: Iterable[object], where: str) -> tuple[tuple[int, int], ...]:
    """Port ranges as a rule spells them (``*``, ``80``, ``10000-10005``) → inclusive ranges."""
    ranges: list[tuple[int, int]] = []
    for value in values:
        text = str(value).strip()
        if text.lower() in ("*", "any"):
            return ALL_PORTS
        low_text, dash, high_text = text.partition("-")
        if not low_text.strip().isdigit() or (dash and not high_text.strip().isdigit()):
            raise AnalysisError(f"{where}: {text!r} is not a port, port range ('10000-10005') or '*'")
        low = int(low_text)
        high = int(high_text) if dash else low
        if not 0 <= low <= high <= 65535:
            raise AnalysisError(f"{where}: port range {text!r} is outside 0-65535 or reversed")
        ranges.append((low, high))
    if not ranges:
        raise AnalysisError(f"{where}: no port or port range given")
    return tuple(ranges)


def port_in(port: int | None, ranges: tuple[tuple[int, int], ...]) -> bool:
    """Whether ``port`` falls in ``ranges``; ``None`` (any port) matches only a full range."""
    if port is None:
        return any(low == 0 and high == 65535 for low, high in ranges)
    return any(low <= port <= high for low, high in ranges)


def parse_address_entry(value: object, where: str) -> IPNetwork | str | None:
    """One prefix entry: ``None`` for "any", a network for a CIDR or address, else a tag name."""
    if not isinstance(value, str) or not value.strip():
        raise AnalysisError(f"{where}: {value!r} is not an address prefix, address or service tag")
    text = value.strip()
    if text.lower() in ANY_ADDRESS:
        return None
    if text[0].isdigit() or ":" in text:
        try:
            return ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise AnalysisError(f"{where}: {text!r} is not a valid IP address or CIDR prefix") from None
    if not all(ch.isalnum() or ch in "._-" for ch in text):
        raise AnalysisError(f"{where}: {text!r} is neither a prefix nor a service tag name")
    return text


def parse_prefix(value: object, where: str) -> IPNetwork:
    """A route's or VNet's CIDR prefix."""
    if not isinstance(value, str):
        raise AnalysisError(f"{where}: {value!r} is not a CIDR prefix")
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise AnalysisError(f"{where}: {value!r} is not a valid CIDR prefix (like 10.0.0.0/16)") from None


def normalize_protocol(value: object, where: str, *, usage: bool = False) -> str:
    """``TCP``/``tcp``/``Tcp`` → ``Tcp``; ``*``/``All``/``Any`` → ``*``."""
    name = PROTOCOLS.get(str(value).strip().lower()) if value is not None else None
    if name is None:
        error = UsageError if usage else AnalysisError
        raise error(f"{where}: unknown protocol {value!r} (expected TCP, UDP, ICMP, ESP, AH or *)")
    return name


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is outside private, shared, loopback, link-local and reserved space."""
    return not any(address in network for network in NON_PUBLIC if network.version == address.version)


def contains(networks: Iterable[IPNetwork], address: IPAddress) -> bool:
    """Whether any of ``networks`` holds ``address`` (networks of the other IP version never do)."""
    return any(network.version == address.version and address in network for network in networks)
