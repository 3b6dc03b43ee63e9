"""One pass over the whole log for every signature's literals: the parser's pre-filter.

This is the only whole-log work besides NUL stripping, so it decides throughput. The literals
(derived from the patterns, :mod:`kit.analyze.bootlog.rules._literals`) go into one
Aho–Corasick automaton searched over the raw bytes, which costs the same for 20 literals or
2,000; only the lines holding a literal are decoded and read by the signatures that need it.
"""

from __future__ import annotations

from functools import lru_cache

from ahocorasick_rs import BytesAhoCorasick, Implementation

from kit.analyze.bootlog.rules import REGISTRY, Rule, Signature

__all__ = ["Route", "Scanner", "scanner_for"]

#: What to ask about one line: each concerned rule (in registration order) with the signatures
#: whose literal the line holds (in declaration order).
Route = tuple[tuple[Rule, tuple[Signature, ...]], ...]


class Scanner:
    """Finds every literal in the log in one pass and routes each line to its signatures."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        entries: list[tuple[int, int, Signature]] = []  # (rule index, signature index, signature)
        owners: dict[str, list[int]] = {}
        for rule_index, rule in enumerate(rules):
            for signature_index, signature in enumerate(rule.signatures):
                entry = len(entries)
                entries.append((rule_index, signature_index, signature))
                for word in signature.triggers:
                    owners.setdefault(word, []).append(entry)
        self.words = tuple(owners)
        self._owners = tuple(tuple(owners[word]) for word in self.words)
        self._entries = tuple(entries)
        # a DFA: more memory than the default NFA (a few MB for ~500 literals), 30% faster to search
        self._automaton = BytesAhoCorasick([word.encode() for word in self.words], implementation=Implementation.DFA)
        self._routes: dict[frozenset[int], Route] = {}

    def hits(self, data: bytes) -> list[tuple[int, int]]:
        """``(byte position, word index)`` of every literal occurrence, in log order."""
        found = self._automaton.find_matches_as_indexes(data, overlapping=True)
        return sorted((start, word) for word, start, _ in found)

    def route(self, words: frozenset[int]) -> Route:
        """The rules and signatures to ask about a line holding the literals ``words``."""
        route = self._routes.get(words)
        if route is None:
            chosen = sorted({entry for word in words for entry in self._owners[word]})
            grouped: dict[int, list[Signature]] = {}
            for entry in chosen:
                rule_index, _, signature = self._entries[entry]
                grouped.setdefault(rule_index, []).append(signature)
            route = self._routes[words] = tuple(
                (self.rules[rule_index], tuple(signatures)) for rule_index, signatures in sorted(grouped.items())
            )
        return route


@lru_cache(maxsize=4)
def scanner_for(names: tuple[str, ...]) -> Scanner:
    """The scanner for the registered rules (cached; ``names`` is the cache key)."""
    return Scanner(REGISTRY.rules())
