"""Pure analysis over evidence: no Azure calls, deterministic, fast.

Each submodule takes parsed JSON and bytes (or a loaded bundle through its ``…_from_bundle``
helper) and returns typed results with warnings as data.
"""

__all__ = ["activity", "bootlog", "network", "timeline", "verdict"]
