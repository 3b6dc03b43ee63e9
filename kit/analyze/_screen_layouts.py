r"""Screenshot text made readable for the boot-log rules: OCR slips corrected, split screens joined.

The rules read one line at a time, but some screens print their facts on separate lines. Three
layouts are joined into one line, which takes the place of the lines it was made from:

- the Windows Boot Manager screen → ``Windows Boot Manager: Status: 0xc000000e File:
  \Windows\system32\winload.exe Info: The selected entry could not be loaded…``
- the stop-code screen → ``Your PC ran into a problem and needs to restart. Stop code:
  CRITICAL_PROCESS_DIED What failed: ntfs.sys``
- the Recovery screen → ``Recovery: Your PC/Device needs to be repaired. File: \Boot\BCD
  Error code: 0xc0000034 Info: The Boot Configuration Data file doesn't contain…``

Any other screen (a Linux console, "Preparing Automatic Repair") goes to the rules as read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["fix_line", "join_layouts"]

_HEX = re.compile(r"(?<![0-9A-Za-z])[0@Oo]x([0-9A-Fa-fOo]{8})(?![0-9A-Za-z])")
# "sched-@2", "ttyS@": a zero read as "@" inside a name (an address such as getty@tty1 keeps its "@")
_AT_ZERO = re.compile(r"(?<=[A-Za-z0-9-])@(?=[0-9]|[-.:\s]|$)")
_STOP_WORDS = re.compile(r"(Stop [Cc]ode:\s*)([A-Z0-9]+(?:[ _][A-Z0-9]+)*)")
_FILE = re.compile(r"(File:\s*)(\S.*)")
_KEY = re.compile(r"^(File|Status|Info|Error code):\s*(.*)$")
_HEADLINE = re.compile(r"Your (?:PC|device) ran into a problem and needs to restart\.?")
_FOOTER = ("ENTER=", "ESC=", "Press Enter", "Press F8", "Press Esc", "You'll need to use recovery tools")


def fix_line(line: str) -> str:
    """One OCR line with the slips that break rules corrected; whitespace at its ends dropped.

    ``@xc000000e``/``Oxc00O000e`` → ``0xc000000e``; a zero read as ``@`` inside a name
    (``sched-@2``); ``Stop code: CRITICAL PROCESS_DIED`` → ``CRITICAL_PROCESS_DIED`` (stop codes
    have no spaces); spaces inside a ``File:`` path (``winload. exe`` → ``winload.exe``).
    """
    line = line.strip()
    line = _HEX.sub(lambda m: "0x" + m.group(1).replace("O", "0").replace("o", "0"), line)
    line = _AT_ZERO.sub("0", line)
    line = _STOP_WORDS.sub(lambda m: m.group(1) + m.group(2).replace(" ", "_"), line)
    return _FILE.sub(lambda m: m.group(1) + re.sub(r"\s*([.\\/])\s*", r"\1", m.group(2)), line)


def join_layouts(lines: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The layout recognised (``boot_manager``, ``stop_code``, ``recovery`` or ``text``) and the lines for the rules."""
    keys = _keys(lines)
    if any(_HEADLINE.search(line) for line in lines) or any("Stop code:" in line or "Stop Code:" in line
                                                            for line in lines):
        return "stop_code", _stop_code(lines)
    if "Error code" in keys and any("needs to be repaired" in line for line in lines):
        return "recovery", _recovery(lines, keys)
    if "Status" in keys and ("File" in keys or any("Boot Manager" in line or "failed to start" in line
                                                   for line in lines)):
        return "boot_manager", _boot_manager(lines, keys)
    return "text", tuple(lines)


def _keys(lines: Sequence[str]) -> dict[str, tuple[int, int, str]]:
    """``File:``/``Status:``/``Info:``/``Error code:`` lines: key → (first line, past its last line, value).

    A value runs on over the following lines until it ends with a full stop, another key or a
    footer ("ENTER=Continue") comes, or three lines were taken.
    """
    found: dict[str, tuple[int, int, str]] = {}
    for index, line in enumerate(lines):
        match = _KEY.match(line)
        if not match or match.group(1) in found:
            continue
        value, end = match.group(2).strip(), index + 1
        while (match.group(1) == "Info" and not value.endswith(".") and end < len(lines) and end < index + 4
               and not _KEY.match(lines[end]) and not lines[end].startswith(_FOOTER)):
            value, end = f"{value} {lines[end]}".strip(), end + 1
        found[match.group(1)] = (index, end, value)
    return found


def _replace(lines: Sequence[str], at: int, drop: set[int], joined: str) -> tuple[str, ...]:
    return tuple(joined if index == at else line for index, line in enumerate(lines)
                 if index == at or index not in drop)


def _spans(keys: dict[str, tuple[int, int, str]], names: Sequence[str]) -> set[int]:
    return {index for name in names if name in keys for index in range(keys[name][0], keys[name][1])}


def _facts(keys: dict[str, tuple[int, int, str]], names: Sequence[str]) -> str:
    return " ".join(f"{name}: {keys[name][2]}" for name in names if name in keys)


def _boot_manager(lines: Sequence[str], keys: dict[str, tuple[int, int, str]]) -> tuple[str, ...]:
    drop = _spans(keys, ("File", "Status", "Info"))
    title = next((index for index, line in enumerate(lines) if "Boot Manager" in line), None)
    at = title if title is not None else min(drop)
    return _replace(lines, at, drop, "Windows Boot Manager: " + _facts(keys, ("Status", "File", "Info")))


def _recovery(lines: Sequence[str], keys: dict[str, tuple[int, int, str]]) -> tuple[str, ...]:
    headline = next(index for index, line in enumerate(lines) if "needs to be repaired" in line)
    facts = _spans(keys, ("File", "Error code"))
    first_fact = min(facts)
    sentence = " ".join(lines[headline + 1:first_fact]).strip()
    drop = facts | set(range(headline + 1, first_fact))
    drop |= {index for index in range(headline) if lines[index].strip() == "Recovery"}
    joined = f"Recovery: {lines[headline].rstrip('.')}. {_facts(keys, ('File', 'Error code'))}"
    return _replace(lines, headline, drop, joined + (f" Info: {sentence}" if sentence else ""))


def _stop_code(lines: Sequence[str]) -> tuple[str, ...]:
    code = next((index for index, line in enumerate(lines) if "Stop code:" in line or "Stop Code:" in line), None)
    failed = next((index for index, line in enumerate(lines) if line.startswith("What failed:")), None)
    headline = next((index for index, line in enumerate(lines) if _HEADLINE.search(line)), None)
    if code is None:
        return tuple(lines)  # the screen is still being drawn: the rules read the headline as it is
    head = _HEADLINE.search(lines[headline]) if headline is not None else None
    parts = [head.group(0).rstrip(".") + "." if head else "", lines[code][lines[code].index("Stop "):]]
    if failed is not None:
        parts.append(lines[failed])
    at = headline if headline is not None else code
    return _replace(lines, at, {code, *({failed} if failed is not None else set())}, " ".join(p for p in parts if p))
