"""The literal text a regular expression cannot match without: the parser's pre-filter.

``required_literals(r"Failed to start (?:ssh|sshd)\\.service")`` is ``("Failed to start ",)``:
every match contains that string, so a line without it need not be searched. For a pattern
whose top level is an alternation the answer is one literal per branch. Deriving the
pre-filter from the pattern is what keeps the two from drifting apart: a hand-kept trigger
list could omit a word the pattern needs (the line would never reach the rule).
"""

from __future__ import annotations

import re
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the parser ``re`` itself uses (3.11+)
from typing import Any

__all__ = ["MIN_LITERAL", "required_literals"]

#: Shortest literal accepted as a pre-filter: shorter ones would hand most lines to the rule.
MIN_LITERAL = 3
#: systemd colours the unit name after these words (``Failed to start \x1b[0;1;39mssh.service``):
#: the raw log does not hold a literal running across that point, so one is cut there.
_COLOUR_AFTER = ("Failed to start ", "Started ", "Starting ", "Reached target ", "Dependency failed for ",
                 "Timed out waiting for device ", "Failed to mount ", "Mounted ", "Mounting ", "Finished ",
                 "Stopped ", "Stopping ", "Listening on ", "Failed to listen on ", "Job ")

_LITERAL = sre_parse.LITERAL
_SUBPATTERN = sre_parse.SUBPATTERN
_BRANCH = sre_parse.BRANCH
_REPEATS = (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", None))
_ATOMIC = getattr(sre_parse, "ATOMIC_GROUP", None)
_ZERO_WIDTH = (sre_parse.AT, sre_parse.ASSERT, sre_parse.ASSERT_NOT)


def required_literals(pattern: str) -> tuple[str, ...]:
    """Strings of which every match of ``pattern`` contains at least one, longest first.

    Raises ``ValueError`` when no literal of at least :data:`MIN_LITERAL` characters is
    required (``\\d+ errors?`` has ``" error"``; ``\\w+`` has none), or when the pattern is
    case-insensitive (the pre-filter is an exact byte search).
    """
    compiled = re.compile(pattern)
    if compiled.flags & re.IGNORECASE:
        raise ValueError(f"boot-log patterns are case-sensitive; spell the cases out: {pattern!r}")
    found = _need(sre_parse.parse(pattern))
    if not found or min(len(word) for word in found) < MIN_LITERAL:
        raise ValueError(f"no literal of {MIN_LITERAL}+ characters is required by {pattern!r}; the pre-filter "
                         "could not find its lines")
    return tuple(sorted(found, key=lambda word: (-len(word), word)))


def _need(items: Any) -> set[str] | None:
    """A set of strings one of which any match of the sequence ``items`` contains, or None."""
    candidates: list[set[str]] = []
    run: list[str] = []

    def close() -> None:
        if run:
            candidates.extend({piece} for piece in _colour_safe("".join(run)))
            run.clear()

    def add(found: set[str] | None) -> None:
        close()
        if found:
            candidates.append(found)

    for op, arg in _inline(items):
        if op is _LITERAL:
            run.append(chr(arg))
        elif op in _ZERO_WIDTH:
            continue  # an anchor or look-around takes no text: the literal run goes on across it
        elif op is _BRANCH:
            options = [_need(branch) for branch in arg[1]]
            add(set().union(*options) if all(options) else None)  # type: ignore[arg-type]
        elif op is _SUBPATTERN:
            add(_need(arg[3]))
        elif op in _REPEATS:
            add(_need(arg[2]) if arg[0] >= 1 else None)
        else:
            close()
    close()
    if not candidates:
        return None
    return max(candidates, key=lambda words: (min(len(word) for word in words), -len(words)))


def _inline(items: Any) -> list[tuple[Any, Any]]:
    """The sequence with groups that hold no alternation opened up, so literals around them join."""
    flat: list[tuple[Any, Any]] = []
    for op, arg in items:
        body = arg[3] if op is _SUBPATTERN else arg if (_ATOMIC is not None and op is _ATOMIC) else None
        if body is not None and not any(inner is _BRANCH for inner, _ in body):
            flat.extend(_inline(body))
        elif body is not None and op is not _SUBPATTERN:
            flat.append((_SUBPATTERN, (None, 0, 0, body)))
        else:
            flat.append((op, arg))
    return flat


def _colour_safe(literal: str) -> list[str]:
    """``literal`` cut after each word systemd may follow with a colour code."""
    pieces = [literal]
    for word in _COLOUR_AFTER:
        cut: list[str] = []
        for piece in pieces:
            at = piece.find(word)
            if at >= 0 and at + len(word) < len(piece):
                cut.extend([piece[: at + len(word)], piece[at + len(word):]])
            else:
                cut.append(piece)
        pieces = cut
    return pieces
