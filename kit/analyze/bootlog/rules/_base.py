"""What a rule is, what it returns, and the registry rules add themselves to.

A rule covers one family of messages (kernel, systemd, sshd …) as a list of
:class:`Signature` objects: one message form each, declared once — its pattern, what it means,
and sample lines. The parser's pre-filter is derived from the patterns
(:func:`~kit.analyze.bootlog.rules._literals.required_literals`): the whole log is scanned once
for every signature's literals and a line is only searched by the signatures whose literal it
holds, so a pattern can never be unreachable. Within a rule the first signature that matches a
line (in declaration order) says what the line is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kit.analyze.bootlog.rules._literals import required_literals

__all__ = ["Context", "Hit", "Rule", "RuleRegistry", "REGISTRY", "Signature", "register"]


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
    detect_only
        Context, not an explanation (a soft lockup that passed): never drives the verdict.
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
    detect_only: bool = False


@dataclass(slots=True)
class Context:
    """What the parser knows at the current line; rules read it, only the parser changes it.

    ``notes`` is the one exception: a rule's scratch space for one parse (a screen that prints
    its facts over several lines), keyed by the rule's name.
    """

    line: int = 0
    boot: int = 0
    in_initrd: bool = False
    stage: str = "none"
    notes: dict[str, Any] = field(default_factory=dict)


class _Groups(dict[str, str]):
    """A match's named groups for ``str.format_map``: a group that did not take part reads "?"."""

    def __missing__(self, key: str) -> str:
        return "?"


#: Builds the hit for a match when a summary template is not enough (None: this is not the form).
Builder = Callable[["Signature", "re.Match[str]", Context], Hit | None]


@dataclass(frozen=True)
class Signature:
    """One message form: the pattern that recognises it and what a line of that form means.

    Parameters
    ----------
    kind
        ``boot:<family>:<what>``.
    pattern
        A case-sensitive regular expression searched in the cleaned line (ANSI colours removed);
        it must require a literal of 3+ characters, which becomes the pre-filter.
    summary
        One sentence; ``{name}`` placeholders take the match's named groups, ``{line}`` the line.
    severity
        "critical", "error", "warning", "info" (a finding) or None (an event only).
    stage, os, boot_start, marker
        As in :class:`Hit`.
    explains
        False for context findings that never explain an outage on their own (detect-only).
    build
        Makes the hit from the match when the template is not enough; returning None lets the
        next signature of the rule try the line.
    samples
        Real-looking lines of this form (a test feeds each through the parser).
    source
        Where the message is documented (a URL or the tool's rule name).
    """

    kind: str
    pattern: str
    summary: str = ""
    severity: str | None = None
    stage: str | None = None
    os: str | None = None
    boot_start: bool = False
    marker: str | None = None
    explains: bool = True
    build: Builder | None = None
    samples: tuple[str, ...] = ()
    source: str = ""
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    triggers: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "triggers", required_literals(self.pattern))
        object.__setattr__(self, "regex", re.compile(self.pattern))

    def hit(self, match: re.Match[str], **changes: Any) -> Hit:
        """The hit this signature makes of ``match``, with ``changes`` to any :class:`Hit` field."""
        values: dict[str, Any] = {
            "kind": self.kind, "severity": self.severity, "stage": self.stage, "os": self.os,
            "boot_start": self.boot_start, "marker": self.marker, "detect_only": not self.explains,
        }
        if "summary" not in changes:
            groups = _Groups({k: v for k, v in match.groupdict().items() if v is not None})
            groups["line"] = match.string.strip()[-160:]
            values["summary"] = self.summary.format_map(groups)
        values.update(changes)
        return Hit(**values)

    def read(self, line: str, context: Context) -> Hit | None:
        """The hit for ``line``, or None when it is not of this form."""
        match = self.regex.search(line)
        if match is None:
            return None
        return self.build(self, match, context) if self.build else self.hit(match)


class Rule:
    """One family of boot-log messages: its name and signatures, in the order they are tried."""

    def __init__(self, name: str, signatures: Sequence[Signature]) -> None:
        self.NAME = name
        self.signatures = tuple(signatures)
        for signature in self.signatures:
            if signature.kind.split(":")[1:2] != [name]:
                raise ValueError(f"signature {signature.kind!r} does not belong to the {name!r} family")

    def parse_line(self, line: str, context: Context, signatures: Sequence[Signature] | None = None) -> Sequence[Hit]:
        """What ``line`` shows: the first of ``signatures`` (default: all) that reads it."""
        for signature in self.signatures if signatures is None else signatures:
            hit = signature.read(line, context)
            if hit is not None:
                return [hit]
        return []

    def __repr__(self) -> str:
        return f"Rule({self.NAME!r}, {len(self.signatures)} signatures)"


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
