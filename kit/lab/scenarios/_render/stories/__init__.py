"""One module per scenario; each defines ``STORY`` (see kit/lab/scenarios/build.py)."""

from . import firewall_lockout

STORIES = [firewall_lockout.STORY]

__all__ = ["STORIES"]
