"""The representative sources a network verdict is judged from when no responder address is given."""

from __future__ import annotations

import ipaddress
import itertools

from kit.analyze.network._model import VmNetwork
from kit.errors import AnalysisError

__all__ = ["DEFAULT_RESPONDER", "LOAD_BALANCER", "representative_sources"]

#: The Internet stand-in (RFC 5737 TEST-NET-3): where SSH/RDP verdicts come from when no responder is given.
DEFAULT_RESPONDER = "203.0.113.10"
#: The address Azure's load balancer probes and the platform come from (the ``AzureLoadBalancer`` tag).
LOAD_BALANCER = "168.63.129.16"


def _host_in(prefix: str, avoid: str | None) -> str | None:
    try:
        network = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return None
    hosts = (str(h) for h in itertools.islice(network.hosts(), 3, 8))  # never list a /8's 16 M hosts
    return next((h for h in hosts if h != avoid), None)


def representative_sources(network: VmNetwork, responder_ip: str | None = None) -> dict[str, str]:
    """Label → address: the responder (when given), the Internet, the VNet, a peered VNet, AzureLoadBalancer.

    The VNet address is a neighbour in the VM's subnet; the peered one is in the first peered
    prefix. Sources the capture cannot place (no subnet, no peering) are left out.
    """
    sources: dict[str, str] = {}
    if responder_ip:
        sources["the responder"] = responder_ip
    sources["the Internet"] = DEFAULT_RESPONDER
    try:
        own = network.primary_ip
        config = network.primary_nic.primary_ip_configuration
    except AnalysisError:  # no NIC or address: the verdicts say why
        own, config = None, None
    subnet = network.subnet(config.subnet_id if config else None)
    neighbour = _host_in(subnet.address_prefixes[0], own) if subnet and subnet.address_prefixes else None
    if neighbour:
        sources["the VNet"] = neighbour
    vnet = network.vnet_of(config.subnet_id if config else None)
    peered = _host_in(vnet.peered_prefixes[0], own) if vnet and vnet.peered_prefixes else None
    if peered:
        sources["a peered VNet"] = peered
    sources["AzureLoadBalancer"] = LOAD_BALANCER
    return {label: address for label, address in sources.items()
            if label == "the responder" or address != responder_ip}
