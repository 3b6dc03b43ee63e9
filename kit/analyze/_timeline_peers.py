"""Which timeline rows are the known-good peers' own (their patching, boots, extensions)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["causal_kind", "peer_rows", "routine_peer_rows"]

#: A peer row still matters at these severities (its failure may be the same failure).
_MATTERS = ("error", "critical")


def peer_rows(df: pd.DataFrame) -> np.ndarray:
    """True for rows about a known-good peer VM (``df.attrs["peers"]``) or anything under it."""
    peers = [str(p) for p in (df.attrs.get("peers") or []) if str(p)]
    if not peers or df.empty:
        return np.zeros(len(df), dtype=bool)
    names = "|".join(re.escape(p) for p in peers)
    pattern = rf"(?i)/virtualmachines/(?:{names})(?:/|$)"
    return df["resource_id"].str.contains(pattern, regex=True, na=False).to_numpy(dtype=bool)


def causal_kind(df: pd.DataFrame, causal: tuple[Any, str] | None) -> str | None:
    """The operation kind of the Activity Log row at the causal change's time (within a second)."""
    if causal is None or df.empty:
        return None
    when = pd.Timestamp(causal[0])
    when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
    activity = df[(df["source"] == "activity_log") & df["time"].notna()]
    near = activity[(activity["time"] - when).abs() <= pd.Timedelta(seconds=1)]
    return str(near["kind"].iloc[0]) if not near.empty else None


def _failed(details: Any) -> bool:
    return isinstance(details, dict) and str(details.get("status", "")).lower() == "failed"


def routine_peer_rows(df: pd.DataFrame, causal: tuple[Any, str] | None = None) -> np.ndarray:
    """Peer rows that are routine: neither an error/failure nor the causal change's operation."""
    peer = peer_rows(df)
    if not peer.any():
        return peer
    failed = df["severity"].isin(_MATTERS).to_numpy(dtype=bool) | df["details"].map(_failed).to_numpy(dtype=bool)
    kind = causal_kind(df, causal)
    same = (df["kind"] == kind).to_numpy(dtype=bool) if kind else np.zeros(len(df), dtype=bool)
    return peer & ~failed & ~same
