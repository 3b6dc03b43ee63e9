"""The triage pipeline: read a bundle's evidence once and hand it to every analysis that needs it.

The triage report and the training drills both call :func:`triage`::

    result = triage(bundle, bundle.peers(), responder_ip="203.0.113.7")
    result.boot            # BootReport of serial.log (parsed once)
    result.timeline        # the DataFrame of kit.analyze.timeline
    result.verdicts        # SSH/RDP verdicts from the responder (network loaded once)
    result.diff            # against the known-good VMs, linked to the Activity Log
    result.classification  # ranked hypotheses and the next step

Steps: Activity Log → boot log → network (model, verdicts, diff) → timeline → classification.
Each source is read once; only a serial log with no dated line of its own is read a second time,
by the timeline, with the VM's start (Activity Log or instance view) as uptime 0. Nothing here
raises for missing evidence: what could not be read is in ``warnings`` and in the
classification's ``missing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from kit.analyze.activity import ActivityLog, activity_from_bundle
from kit.analyze.bootlog import BootReport, boot_report_from_bundle
from kit.analyze.metrics import metrics_from_bundle
from kit.analyze.network import NetworkDiff, NetworkReading, ResponderVerdict, VmNetwork, read_network
from kit.analyze.timeline import build_timeline
from kit.analyze.verdict import Classification, check_responder, classify
from kit.errors import AnalysisError

if TYPE_CHECKING:
    from kit.evidence import Bundle

__all__ = ["TriageResult", "triage"]


@dataclass(frozen=True)
class TriageResult:
    """Everything one triage found, each piece computed once.

    Parameters
    ----------
    bundle, peers
        The broken VM's bundle and the known-good VMs' bundles.
    activity
        The bundle's Activity Log, grouped into operations.
    boot
        The boot report of ``serial.log`` (an empty report saying so when there is none).
    network
        How the network was read: model, verdicts, diff, and what was missing.
    timeline
        Activity Log, instance view, boot log, console and kit rows on one UTC axis.
    classification
        The ranked hypotheses and the next step.
    """

    bundle: Bundle
    peers: tuple[Bundle, ...]
    activity: ActivityLog
    boot: BootReport
    network: NetworkReading
    timeline: pd.DataFrame
    classification: Classification

    @property
    def responder_ip(self) -> str:
        """The address the verdicts are from (the responder's, or the documentation address)."""
        return self.network.responder_ip

    @property
    def responder_given(self) -> bool:
        """Whether the responder's address was given (else the verdicts are from a documentation address)."""
        return self.network.responder_given

    @property
    def assumed_responder(self) -> str | None:
        """The documentation address the verdicts are from when no responder address was given."""
        return None if self.network.responder_given else self.network.responder_ip

    @property
    def vm_network(self) -> VmNetwork | None:
        """The VM's network model, or ``None`` when its NICs or NSGs were not collected."""
        return self.network.network

    @property
    def verdicts(self) -> dict[int, ResponderVerdict]:
        """SSH (22) and RDP (3389) verdicts from :attr:`responder_ip`."""
        return self.network.verdicts

    @property
    def diff(self) -> NetworkDiff | None:
        """The comparison with the known-good VMs (``None`` without peers)."""
        return self.network.diff

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every gap met, from the timeline and the classification, each once."""
        return tuple(dict.fromkeys([*self.timeline.attrs.get("warnings", ()), *self.classification.warnings]))


def triage(bundle: Bundle, peers: Sequence[Bundle] = (), *, responder_ip: str | None = None,
           console_events: Any = None) -> TriageResult:
    """Run every analysis of an unreachable VM over its evidence, reading each source once.

    Parameters
    ----------
    bundle
        The broken VM's loaded bundle (:func:`kit.evidence.load_bundle`).
    peers
        Known-good VMs' bundles (``bundle.peers()`` gives the ones its manifest names).
    responder_ip
        The address the responder connects from, as the VM sees it; without it the SSH/RDP
        verdicts are from a documentation Internet address and say so.
    console_events
        Serial-console events to add to the timeline (see ``kit.analyze.timeline.console_rows``).

    Raises
    ------
    AnalysisError
        ``bundle`` is not a loaded bundle.
    UsageError
        ``responder_ip`` is not an IPv4 address.
    """
    if not hasattr(bundle, "manifest"):
        raise AnalysisError("triage needs a loaded evidence bundle (kit.evidence.load_bundle), "
                            f"got {type(bundle).__name__}")
    check_responder(responder_ip)
    peers = tuple(peers)
    activity = activity_from_bundle(bundle)
    boot = boot_report_from_bundle(bundle)
    network = read_network(bundle, peers, responder_ip=responder_ip, operations=activity.operations)
    metrics = metrics_from_bundle(bundle)
    timeline = build_timeline(bundle, console_events=console_events, boot_report=boot, activity=activity,
                              metrics=metrics)
    classification = classify(bundle, peers, responder_ip=responder_ip, boot_report=boot, network=network,
                              activity=activity, metrics=metrics)
    return TriageResult(bundle=bundle, peers=peers, activity=activity, boot=boot, network=network,
                        timeline=timeline, classification=classification)
