"""Offline network verdicts for one VM: IP flow verify, next hop, and a diff against peers.

Pure functions over the ARM REST bodies an evidence bundle stores (no Azure calls)::

    from kit.analyze.network import load_network, flow_verdict, next_hop, ssh_rdp_verdicts
    net = load_network(bundle)
    flow_verdict(net, "Inbound", "TCP", "10.0.0.4:22", "203.0.113.7:50000")
    # FlowVerdict(access='Deny', rule_name='securityRules/deny-ssh', hop='nic', ...)
    next_hop(net, "203.0.113.7")
    diff_network(net, [load_network(peer) for peer in bundle.peers()], responder_ip="203.0.113.7")
    diff_network(net, peers)   # no responder: each difference judged from the Internet, the VNet, AzureLoadBalancer …
    read_network(bundle, bundle.peers(), responder_ip="203.0.113.7")   # all of it, errors as data

NSG semantics follow Microsoft's "How network security groups filter network traffic": inbound
subnet NSG then NIC NSG, outbound NIC then subnet, both must allow, no NSG allows, first match by
priority. Routes: longest prefix, User over BGP over System.
"""

from kit.analyze.network._arm import default_rules, load_network, network_from_dicts, os_type_of
from kit.analyze.network._diff import Difference, NetworkDiff, VerdictChange, diff_network
from kit.analyze.network._flow import FlowVerdict, HopVerdict, flow_verdict
from kit.analyze.network._model import (
    EffectiveNsg,
    IpConfiguration,
    Nic,
    Nsg,
    Route,
    RouteTable,
    SecurityRule,
    Subnet,
    VmNetwork,
    Vnet,
)
from kit.analyze.network._reading import (
    DEFAULT_RESPONDER,
    NetworkReading,
    bundle_window,
    diff_from_bundles,
    read_network,
)
from kit.analyze.network._responder import (
    ACCESS_PORTS,
    ResponderVerdict,
    access_ports,
    ports_for_os,
    responder_verdict,
    ssh_rdp_verdicts,
)
from kit.analyze.network._routes import NextHop, configured_routes, next_hop, select_route, system_routes
from kit.analyze.network._sources import LOAD_BALANCER, representative_sources
from kit.analyze.network._watcher import flow_matches, hop_matches, watcher_hop_type

#: The name docs/architecture.md gives :func:`diff_network`.
diff = diff_network

__all__ = [
    "ACCESS_PORTS",
    "DEFAULT_RESPONDER",
    "Difference",
    "EffectiveNsg",
    "FlowVerdict",
    "HopVerdict",
    "IpConfiguration",
    "LOAD_BALANCER",
    "NetworkDiff",
    "NetworkReading",
    "NextHop",
    "Nic",
    "Nsg",
    "ResponderVerdict",
    "Route",
    "RouteTable",
    "SecurityRule",
    "Subnet",
    "VmNetwork",
    "VerdictChange",
    "Vnet",
    "access_ports",
    "bundle_window",
    "configured_routes",
    "default_rules",
    "diff",
    "diff_from_bundles",
    "diff_network",
    "flow_matches",
    "flow_verdict",
    "hop_matches",
    "load_network",
    "network_from_dicts",
    "next_hop",
    "os_type_of",
    "ports_for_os",
    "read_network",
    "representative_sources",
    "responder_verdict",
    "select_route",
    "ssh_rdp_verdicts",
    "system_routes",
    "watcher_hop_type",
]
