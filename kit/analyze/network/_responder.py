"""Can the responder reach SSH (22) and RDP (3389)? The NSG verdict plus the reply's route."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kit.analyze.network._addresses import is_public, parse_ip
from kit.analyze.network._flow import FlowVerdict, flow_verdict
from kit.analyze.network._model import VmNetwork
from kit.analyze.network._routes import NextHop, next_hop

__all__ = ["ACCESS_PORTS", "ResponderVerdict", "access_ports", "ports_for_os", "responder_verdict", "ssh_rdp_verdicts"]

#: The ports the kit cares about, and what listens there.
ACCESS_PORTS = {22: "SSH", 3389: "RDP"}
_OS_PORTS = {"Linux": (22,), "Windows": (3389,)}


def ports_for_os(os_type: str | None, asked: Sequence[int] | None = None) -> tuple[int, ...]:
    """The ports to show: ``asked`` when given, else SSH for Linux, RDP for Windows, both when the OS is unknown."""
    if asked:
        return tuple(dict.fromkeys(int(port) for port in asked))
    return _OS_PORTS.get(os_type or "", tuple(ACCESS_PORTS))


def access_ports(network: VmNetwork, asked: Sequence[int] | None = None) -> tuple[int, ...]:
    """:func:`ports_for_os` for this VM's OS."""
    return ports_for_os(network.os_type, asked)


@dataclass(frozen=True)
class ResponderVerdict:
    """Whether a connection from the responder to one port can work, as far as Azure's network goes.

    Parameters
    ----------
    port
        22 or 3389 (or any port asked).
    flow
        The inbound :class:`FlowVerdict` from the responder to the VM's primary private address.
    route
        The :class:`NextHop` the VM's replies to the responder take (NSGs are stateful, but
        replies still follow the VM's routes: a UDR to a dead appliance breaks the session).
    reachable
        ``True`` when the VM runs, the NSGs allow and the reply route delivers; ``False`` when the
        VM is not running, an NSG denies or the reply is dropped; ``None`` when allowed but the
        reply goes to an appliance that may not exist or forward (possible blackhole).
    notes
        Hints outside the verdict (the VM has no public IP for a responder on the Internet …).
    power_state
        The instance view's power state when it is not ``running`` (the VM cannot answer), else ``None``.
    network_reachable
        The network-only verdict (``reachable`` before the power state), which the diff compares.
    """

    port: int
    flow: FlowVerdict
    route: NextHop
    reachable: bool | None
    notes: tuple[str, ...] = ()
    power_state: str | None = None
    network_reachable: bool | None = None

    def __post_init__(self) -> None:
        if self.power_state is None:  # nothing overrode the network: both say the same
            object.__setattr__(self, "network_reachable", self.reachable)

    @property
    def reachability(self) -> str:
        """``yes``, ``no``, ``uncertain`` or ``not running`` (the power state overrides the network)."""
        if self.power_state:
            return "not running"
        return {True: "yes", False: "no", None: "uncertain"}[self.reachable]

    @property
    def access(self) -> str:
        """The NSG answer (``Allow``/``Deny``)."""
        return self.flow.access

    @property
    def key(self) -> tuple[str, bool | None]:
        """What the diff compares: (NSG access, reachable as far as the network goes)."""
        return self.flow.access, self.network_reachable

    def explain(self) -> str:
        """One sentence for people (a VM that is not running says so first)."""
        if self.power_state:
            service = ACCESS_PORTS.get(self.port, f"port {self.port}")
            return (f"{service}: not running (the VM is {self.power_state}); the network would "
                    f"{'allow' if self.flow.allowed else 'block'} it ({self.flow.rule_name or 'no NSG'})")
        return self.network_explain()

    def network_explain(self) -> str:
        """The network's verdict as a sentence, whatever the power state (what the diff compares)."""
        service = ACCESS_PORTS.get(self.port, f"port {self.port}")
        if not self.flow.allowed:
            return f"{service}: blocked, {self.flow.explain()}"
        if self.network_reachable is False:
            return (f"{service}: NSGs allow ({self.flow.rule_name or 'no NSG'}) but replies are dropped: "
                    f"{self.route.explain()}")
        if self.network_reachable is None:
            return f"{service}: NSGs allow ({self.flow.rule_name or 'no NSG'}) but replies go to {self.route.explain()}"
        return f"{service}: reachable ({self.flow.explain()}; replies {self.route.next_hop_type})"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"port": self.port, "access": self.access, "reachable": self.reachable,
                "reachability": self.reachability, "power_state": self.power_state, "explanation": self.explain(),
                "notes": list(self.notes), "flow": self.flow.to_json(), "route": self.route.to_json()}


def responder_verdict(
    network: VmNetwork,
    responder_ip: str,
    port: int,
    *,
    remote_port: int = 50000,
    use_effective: bool = True,
) -> ResponderVerdict:
    """The verdict for TCP from ``responder_ip`` to ``port`` on the primary NIC's private address."""
    responder = parse_ip(responder_ip, "responder address")
    local = network.primary_ip
    flow = flow_verdict(network, "Inbound", "TCP", f"{local}:{port}", f"{responder_ip}:{remote_port}",
                        use_effective=use_effective)
    route = next_hop(network, responder_ip, source_ip=local, use_effective=use_effective)
    network_reachable = False if not flow.allowed else route.delivers
    stopped = None if network.running else network.power_state
    reachable = False if stopped else network_reachable
    notes = []
    config = network.primary_nic.primary_ip_configuration
    if is_public(responder) and config is not None and not config.public_ip_id:
        notes.append(f"{network.vm_name} has no public IP: from {responder_ip} it is reachable only through a VPN, "
                     "Bastion, a load balancer or a NAT in front of it (not modelled here)")
    return ResponderVerdict(port, flow, route, reachable, tuple(notes), stopped, network_reachable)


def ssh_rdp_verdicts(
    network: VmNetwork,
    responder_ip: str,
    *,
    remote_port: int = 50000,
    use_effective: bool = True,
    ports: Sequence[int] = tuple(ACCESS_PORTS),
) -> dict[int, ResponderVerdict]:
    """The SSH (22) and RDP (3389) verdicts (or ``ports``') from ``responder_ip`` to the VM's primary private address.

    Parameters
    ----------
    network
        The VM's network.
    responder_ip
        The address the responder connects from (as the VM sees it, after any NAT on the way).
    remote_port
        The responder's source port (rules rarely restrict it).
    use_effective
        Use captured effective rules and routes where present.
    ports
        The ports to judge (default both; :func:`access_ports` picks the VM's OS's).

    Returns
    -------
    dict[int, ResponderVerdict]
        ``{22: ..., 3389: ...}``.
    """
    return {
        port: responder_verdict(network, responder_ip, port, remote_port=remote_port, use_effective=use_effective)
        for port in ports
    }
