"""Pure analysis over evidence: no Azure calls, deterministic, fast.

- :mod:`kit.analyze.triage`: ``triage(bundle, peers, responder_ip=…)``, the one pipeline the
  triage report and the drills run; it reads each source once and hands it to the analyses below.
- :mod:`kit.analyze.bootlog`: how far the boot got and what stopped it.
- :mod:`kit.analyze.activity`: Activity Log records grouped into operations.
- :mod:`kit.analyze.timeline`: every source on one UTC axis (pandas), its figure (plotly).
- :mod:`kit.analyze.network`: offline IP flow verify, next hop, the diff against peers.
- :mod:`kit.analyze.metrics`: platform metrics as series, their change points, the recovery comparison.
- :mod:`kit.analyze.verdict`: guest or platform, ranked hypotheses, the next step.

Each takes a loaded :class:`kit.evidence.Bundle` (or parsed JSON and bytes) and returns typed
results with warnings as data. Names are imported on first use: the timeline's pandas and
plotly cost about 0.8 s, which ``kit analyze boot`` never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kit._lazy import lazy_exports

if TYPE_CHECKING:
    from kit.analyze.bootlog import BootReport, parse_boot_log
    from kit.analyze.metrics import MetricChange, MetricsReading, metrics_from_bundle, read_metrics
    from kit.analyze.network import NetworkReading, read_network
    from kit.analyze.timeline import build_timeline
    from kit.analyze.triage import TriageResult
    from kit.analyze.verdict import Classification, classify

__all__ = [
    "BootReport",
    "Classification",
    "MetricChange",
    "MetricsReading",
    "NetworkReading",
    "TriageResult",
    "build_timeline",
    "classify",
    "metrics_from_bundle",
    "parse_boot_log",
    "read_metrics",
    "read_network",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    "BootReport": "kit.analyze.bootlog",
    "parse_boot_log": "kit.analyze.bootlog",
    "MetricChange": "kit.analyze.metrics",
    "MetricsReading": "kit.analyze.metrics",
    "metrics_from_bundle": "kit.analyze.metrics",
    "read_metrics": "kit.analyze.metrics",
    "NetworkReading": "kit.analyze.network",
    "read_network": "kit.analyze.network",
    "build_timeline": "kit.analyze.timeline",
    "TriageResult": "kit.analyze.triage",
    "Classification": "kit.analyze.verdict",
    "classify": "kit.analyze.verdict",
})
