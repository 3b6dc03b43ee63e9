"""Compare the offline verdicts with Network Watcher's own answers (IP flow verify, next hop bodies).

Network Watcher words a few things differently from the effective routes: the next hop of a
VNet-local destination comes back as ``VirtualNetwork`` (the REST spec says ``VnetLocal``), and
a system route's table as ``System Route``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kit.analyze.network._flow import FlowVerdict
from kit.analyze.network._routes import NextHop

__all__ = ["flow_matches", "hop_matches", "watcher_hop_type"]

_HOP_ALIASES = {"virtualnetwork": "vnetlocal"}


def watcher_hop_type(text: str) -> str:
    """A next hop type in the effective routes' spelling, lower case (``VirtualNetwork`` → ``vnetlocal``)."""
    key = str(text or "").lower()
    return _HOP_ALIASES.get(key, key)


def flow_matches(verdict: FlowVerdict, answer: Mapping[str, Any]) -> bool:
    """Whether ``verdict`` agrees with an ``ipFlowVerify`` body (``access`` and ``ruleName``)."""
    wanted = str(answer.get("ruleName") or "")
    return (verdict.access.lower() == str(answer.get("access", "")).lower()
            and (verdict.rule_name or "").lower() == wanted.lower())


def hop_matches(hop: NextHop, answer: Mapping[str, Any]) -> bool:
    """Whether ``hop`` agrees with a ``nextHop`` body (type, and the next hop address when one is given)."""
    if watcher_hop_type(hop.next_hop_type) != watcher_hop_type(str(answer.get("nextHopType", ""))):
        return False
    address = answer.get("nextHopIpAddress")
    return not address or address == hop.next_hop_ip
