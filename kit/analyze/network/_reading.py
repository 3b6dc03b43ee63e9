"""A VM's network read once: the model, the SSH/RDP verdicts from the responder, the diff against peers.

:func:`read_network` never raises for missing or broken network evidence: what could not be
read becomes a sentence in ``missing`` or ``warnings``, as the classification reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from kit.analyze.activity import Operation, activity_from_bundle
from kit.analyze.network._arm import load_network
from kit.analyze.network._diff import NetworkDiff, diff_network
from kit.analyze.network._model import VmNetwork
from kit.analyze.network._responder import ResponderVerdict, ssh_rdp_verdicts
from kit.analyze.network._sources import DEFAULT_RESPONDER
from kit.errors import KitError
from kit.times import parse_time

if TYPE_CHECKING:
    from kit.evidence import Bundle

__all__ = ["DEFAULT_RESPONDER", "NetworkReading", "bundle_window", "diff_from_bundles", "read_network"]



@dataclass(frozen=True)
class NetworkReading:
    """What the evidence says about the network path to one VM.

    Parameters
    ----------
    network
        The VM's network (``None`` when its NICs or NSGs are missing from the bundle).
    verdicts
        SSH (22) and RDP (3389) verdicts from ``responder_ip`` (empty without ``network``).
    diff
        The comparison with the known-good VMs (``None`` without peers or without ``network``).
    responder_ip
        The address the verdicts are from: the one given, else :data:`DEFAULT_RESPONDER`.
    responder_given
        Whether ``responder_ip`` was given (or is the documentation address).
    checked
        ``network`` and ``peers`` when each could be evaluated.
    missing
        What could not be evaluated, as sentences.
    warnings
        Gaps met on the way (an NSG not captured, a peer that could not be compared …).
    """

    network: VmNetwork | None
    verdicts: dict[int, ResponderVerdict]
    diff: NetworkDiff | None
    responder_ip: str
    responder_given: bool
    checked: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def bundle_window(bundle: Bundle) -> tuple[datetime, datetime] | None:
    """The Activity Log window a bundle was collected for, from its manifest."""
    window = (bundle.manifest or {}).get("window")
    if not isinstance(window, dict):
        return None
    start, end = parse_time(window.get("start")), parse_time(window.get("end"))
    return (start, end) if start is not None and end is not None else None


def read_network(bundle: Bundle, peers: Sequence[Bundle] = (), *, responder_ip: str | None = None,
                 operations: Sequence[Operation] = (), ports: Sequence[int] | None = None) -> NetworkReading:
    """Load the VM's network, judge SSH/RDP from the responder, and diff it against the peers.

    Parameters
    ----------
    bundle
        The VM's evidence bundle.
    peers
        Known-good VMs' bundles.
    responder_ip
        The responder's address as the VM sees it; :data:`DEFAULT_RESPONDER` when ``None``.
    operations
        The subject's Activity Log operations, to link each difference to the change that made it
        (within the bundle's collection window).
    ports
        The ports the diff judges (default: the VM's OS's, see :func:`~kit.analyze.network.access_ports`).
    """
    address = responder_ip or DEFAULT_RESPONDER
    given = responder_ip is not None
    try:
        network = load_network(bundle)
        verdicts = ssh_rdp_verdicts(network, address)
    except KitError as error:
        return NetworkReading(None, {}, None, address, given, missing=(
            "no network verdict (NICs or NSGs missing from the bundle)",), warnings=(f"network: {error}",))
    if not peers:
        return NetworkReading(network, verdicts, None, address, given, checked=("network",))
    try:
        diff = diff_network(network, [load_network(peer) for peer in peers], responder_ip=responder_ip,
                            ports=ports, operations=operations, window=bundle_window(bundle))
    except KitError as error:
        return NetworkReading(network, verdicts, None, address, given, checked=("network",),
                              warnings=(f"peers: {error}",))
    return NetworkReading(network, verdicts, diff, address, given, checked=("network", "peers"),
                          warnings=tuple(diff.warnings))


def diff_from_bundles(subject: Bundle, peers: Sequence[Bundle] | None = None, *, responder_ip: str | None = None,
                      ports: Sequence[int] | None = None) -> NetworkDiff:
    """:func:`~kit.analyze.network.diff_network` over evidence bundles, with the subject's Activity Log and window.

    Unlike :func:`read_network`, errors are raised (``kit analyze network --against`` reports them).

    Parameters
    ----------
    subject
        The subject's bundle.
    peers
        Known-good bundles (default: ``subject.peers()``).
    responder_ip
        The responder's address (``None``: judge every representative source).
    ports
        The ports to judge (default: the VM's OS's).
    """
    peer_bundles = list(peers) if peers is not None else list(subject.peers())
    return diff_network(load_network(subject), [load_network(b) for b in peer_bundles], responder_ip=responder_ip,
                        ports=ports, operations=activity_from_bundle(subject).operations, window=bundle_window(subject))
