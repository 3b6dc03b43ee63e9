"""One pass over the whole text for every rule's triggers.

This is the only whole-text work besides decoding, so it decides throughput: a regex whose
alternatives all start with a literal gets a first-character prefilter in ``re``, and grouping
the triggers by first character (a trie) keeps each candidate position cheap.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from kit.analyze.bootlog.rules import REGISTRY, Rule

__all__ = ["Scanner", "scanner_for"]


class Scanner:
    """Finds every trigger in the text in one pass and says which rules each one concerns.

    Triggers starting with an uncommon character (capitals, ``[``, ``|``, ``#``) go into one
    trie-shaped regex; the few that start with a lower-case letter
    or digit are found with ``str.find``, which is faster than letting them make nearly every
    position of the text a regex candidate.
    """

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        owners: dict[str, list[Rule]] = defaultdict(list)
        for rule in rules:
            for word in rule.TRIGGERS:
                if word and rule not in owners[word]:
                    owners[word].append(rule)
        # A match is reported once, as the longest trigger at that spot: it also concerns the
        # owners of every trigger inside it ("Azure Linux Agent" holds the platform rule's "Azure").
        order = {rule.NAME: i for i, rule in enumerate(rules)}
        self.owners: dict[str, tuple[Rule, ...]] = {}
        for word in owners:
            concerned = {rule for other, found in owners.items() if other in word for rule in found}
            self.owners[word] = tuple(sorted(concerned, key=lambda rule: order[rule.NAME]))
        self.owners[""] = rules
        self.everyone = rules
        plain: list[str] = []
        groups: dict[str, list[str]] = defaultdict(list)
        for word in sorted(owners):
            first = word[0]
            if first.islower() or first.isdigit() or first in " .\t":
                plain.append(word)
            else:
                groups[first].append(word[1:])
        self.plain = tuple(plain)
        parts = []
        for first, rests in sorted(groups.items()):
            alternatives = "|".join(re.escape(rest) for rest in sorted(set(rests), key=lambda r: (-len(r), r)))
            parts.append(f"{re.escape(first)}(?:{alternatives})")
        self.regex = re.compile("|".join(parts)) if parts else None

    def hits(self, text: str) -> list[tuple[int, str]]:
        """``(position, trigger)`` for every trigger occurrence, in text order."""
        found: list[tuple[int, str]] = []
        if self.regex is not None:
            found = [(m.start(), m.group()) for m in self.regex.finditer(text)]
        if text:  # every rule reads the first line: it has no "\n" before it and often starts with escapes
            found.append((0, ""))
        find = text.find
        for word in self.plain:
            at = find(word)
            while at >= 0:
                found.append((at, word))
                at = find(word, at + 1)
        found.sort()
        return found


@lru_cache(maxsize=4)
def scanner_for(names: tuple[str, ...]) -> Scanner:
    """The scanner for the registered rules (cached; ``names`` is the cache key)."""
    return Scanner(REGISTRY.rules())
