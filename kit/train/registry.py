"""The walkthroughs: one notebook per lab scenario a drill can rehearse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kit.errors import UsageError

__all__ = ["NOTEBOOKS", "WALKTHROUGHS", "Walkthrough", "get_walkthrough", "list_walkthroughs"]

#: Where the walkthrough notebooks live.
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks" / "training"


@dataclass(frozen=True)
class Walkthrough:
    """One walkthrough.

    Attributes
    ----------
    scenario
        The lab scenario (and the notebook's name).
    fix
        How the VM is recovered: ``console`` (serial console), ``nsg`` (an ARM change) or
        ``decision`` (the right call is a repair VM; the check is the decision).
    teaches
        One line for ``kit train list``.
    """

    scenario: str
    fix: str
    teaches: str

    @property
    def notebook(self) -> Path:
        """The walkthrough notebook."""
        return NOTEBOOKS / f"{self.scenario}.ipynb"


WALKTHROUGHS: dict[str, Walkthrough] = {w.scenario: w for w in (
    Walkthrough("firewall-lockout", "console",
                "a guest firewall template locks SSH out; fix iptables from the console"),
    Walkthrough("fstab-emergency", "console", "a retired disk in /etc/fstab stops boot in emergency mode"),
    Walkthrough("sshd-broken", "console", "an agent update breaks sshd's configuration; find and fix the line"),
    Walkthrough("windows-rdp", "console", "a GPO disables Remote Desktop Services; fix it from SAC/cmd"),
    Walkthrough("nsg-deny", "nsg",
                "a containment rule on the wrong NSG blocks SSH; fix it through ARM, not the console"),
    Walkthrough("kernel-panic", "decision", "a kernel without initrd panics; the right call is a repair VM"),
)}


def list_walkthroughs() -> list[Walkthrough]:
    """Every walkthrough, in teaching order."""
    return list(WALKTHROUGHS.values())


def get_walkthrough(scenario: str) -> Walkthrough:
    """The walkthrough of ``scenario``.

    Raises
    ------
    UsageError
        No walkthrough for it (the message lists those that exist).
    """
    try:
        return WALKTHROUGHS[scenario]
    except KeyError:
        raise UsageError(f"no walkthrough for {scenario!r}; walkthroughs: {', '.join(WALKTHROUGHS)}") from None
