"""What a rule is, what it returns, and the registry rules add themselves to.

A rule covers one family of messages (kernel, systemd, sshd …). The parser scans the whole
log once for every rule's ``TRIGGERS`` (literal substrings) and hands only the lines that
contain one to the rules: ``matches(line)`` is a cheap yes/no, ``parse_line(line, context)``
returns what the line shows as :class:`Hit` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

__all__ = ["Context", "Hit", "Rule", "RuleRegistry", "REGISTRY", "register"]


@dataclass(frozen=True, slots=True)
class Hit:
    """What one line shows.

    Parameters
    ----------
    kind
        ``boot:<family>:<what>``.
    summary
        A sentence for people (used when the hit is a finding).
    severity
        "critical", "error", "warning", "info" → also a finding; None → an event only.
    stage
        The boot stage this line proves was reached.
    boot_start
        The line starts a boot (kernel banner, GRUB banner, boot manager, SAC start): a new
        boot begins here if the current one already got this far.
    os
        "linux" or "windows" when the line tells.
    marker
        A platform marker (``hv_vmbus``, ``168.63.129.16`` …).
    anchor
        ``(uptime, wall time)`` when the line ties the two together (cloud-init "Up N seconds").
    warning
        Something about the line the rule could not read (becomes a :class:`ParseWarning`).
    """

    kind: str
    summary: str = ""
    severity: str | None = None
    stage: str | None = None
    boot_start: bool = False
    os: str | None = None
    marker: str | None = None
    anchor: tuple[float, datetime] | None = None
    warning: str | None = None


@dataclass(slots=True)
class Context:
    """What the parser knows at the current line; rules read it, only the parser changes it."""

    line: int = 0
    boot: int = 0
    in_initrd: bool = False
    stage: str = "none"


@runtime_checkable
class Rule(Protocol):
    """One family of boot-log messages."""

    @property
    def NAME(self) -> str:
        """The family (``kernel``, ``systemd`` …): the middle of every kind it emits."""
        ...

    @property
    def TRIGGERS(self) -> tuple[str, ...]:
        """Literal substrings the parser scans for before asking the rule."""
        ...

    def matches(self, line: str) -> bool:
        """Cheap check whether ``parse_line`` could find anything in ``line``."""

    def parse_line(self, line: str, context: Context) -> Sequence[Hit]:
        """What ``line`` shows (empty when nothing)."""


class RuleRegistry:
    """Rules by name, in registration order."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def register(self, rule: Rule) -> Rule:
        """Add ``rule``; a second rule with the same ``NAME`` raises ``KeyError``."""
        if rule.NAME in self._rules:
            raise KeyError(f"a boot-log rule named {rule.NAME!r} is already registered")
        self._rules[rule.NAME] = rule
        return rule

    def get(self, name: str) -> Rule:
        """The rule called ``name``; ``KeyError`` naming the known rules if there is none."""
        try:
            return self._rules[name]
        except KeyError:
            raise KeyError(f"no boot-log rule named {name!r} (known: {', '.join(self._rules)})") from None

    def rules(self) -> tuple[Rule, ...]:
        """Every registered rule, in registration order."""
        return tuple(self._rules.values())

    def names(self) -> tuple[str, ...]:
        """Names of the registered rules."""
        return tuple(self._rules)


REGISTRY = RuleRegistry()
register = REGISTRY.register
