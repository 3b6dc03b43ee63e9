"""Seeded variants of a lab scenario: the same incident, with details that should not be memorised.

A training drill replayed with the same VM names, rule names, mount point and times is a memory
test, not a drill. :func:`variant_story` takes a scenario's story (the generator's input, see
``kit/lab/scenarios/build.py``) and a seed, and changes:

- the VM names (``sched-01`` → ``sched-14``; NICs, disks, NSGs named after a VM follow),
- every NSG rule's name (a naming style per seed) and priority (shifted, order kept),
- the retired disk's mount point and file-system UUID (``fstab-emergency``),
- the misspelt sshd option and its line (``sshd-broken``),
- the firewall template version and the retired management range (``firewall-lockout``),
- the GPO name (``windows-rdp``),
- every timestamp, by whole weeks (weekdays in the briefing stay true).

Everything is changed in the story before rendering, so ``resources.json``, the Activity Log, the
serial logs, ``scenario.yaml`` (briefing, facts, fix) and therefore the scripted guest (which
reads the facts) stay consistent. Seed 0 is the committed scenario, unchanged.

The lab serves a variant like any scenario folder::

    root = render_variants({"firewall-lockout": 7}, out_dir)
    with running_lab(scenario_dirs=[root]) as lab: ...
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

from kit.errors import LabError
from kit.lab.scenarios.build import STORIES, render

__all__ = ["VARIANT_FILE", "render_variant", "render_variants", "variant_story", "variant_summary"]

#: The file in a rendered variant folder recording what was varied (scenario, seed, changes).
VARIANT_FILE = "variant.json"

_RULE_STYLES = ("kebab", "pascal", "lower", "prefixed")
_MOUNTS = ("/srv/customs/archive", "/data/archive", "/mnt/edi-archive", "/srv/customs/history",
           "/var/lib/customs/archive", "/srv/archive-2019", "/export/customs-old", "/data/cusdec-archive")
# (intended option, misspelling) pairs; all take "yes"
_SSHD = (("StreamLocalBindUnlink", "StreamLocalBindUnlnk"), ("PasswordAuthentication", "PasswordAuthentcation"),
         ("PubkeyAuthentication", "PubkeyAuthenticaton"), ("TCPKeepAlive", "TCPKeepAlvie"),
         ("UseDNS", "UseDSN"), ("X11Forwarding", "X11Fowarding"), ("PermitTTY", "PermitTYY"))
_RETIRED = ("10.40.0.0/16", "10.41.0.0/16", "10.38.0.0/16", "10.36.0.0/16", "172.20.0.0/16", "10.90.0.0/16")
_GPOS = ("MI-Server-Hardening-Pilot", "MI-CIS-L2-Servers-Pilot", "MI-Baseline-2026-Q4", "MI-RDS-Lockdown-Test")
_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})([T ])(\d{2}:\d{2}:\d{2})")
_TEXT_DATE = re.compile(r"\b(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4})\b")


def _rng(scenario: str, seed: int) -> random.Random:
    digest = hashlib.sha256(f"kit-variant/{scenario}/{seed}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _story(scenario: str) -> dict[str, Any]:
    for story in STORIES:
        if story["name"] == scenario:
            copied: dict[str, Any] = json.loads(json.dumps(story))
            return copied
    known = ", ".join(sorted(s["name"] for s in STORIES))
    raise LabError(f"no lab scenario named {scenario!r} to vary; known scenarios: {known}")


def _rule_name(name: str, style: str) -> str:
    words = [w for w in re.split(r"[-_]|(?<=[a-z0-9])(?=[A-Z])", name) if w]
    if style == "kebab":
        return "-".join(w.capitalize() if not w.isupper() else w for w in words)
    if style == "pascal":
        return "".join(w if w.isupper() and len(w) <= 4 else w.capitalize() for w in words)
    if style == "lower":
        return "-".join(w.lower() for w in words)
    return "nsgr-" + "-".join(w.lower() for w in words)


def _replace_tokens(text: str, mapping: Mapping[str, str]) -> str:
    """Replace every key of ``mapping`` at once (longest first), not inside a longer name or number."""
    live = {k: v for k, v in mapping.items() if k != v}
    if not live:
        return text
    pattern = re.compile("(?<![A-Za-z0-9])(" + "|".join(re.escape(k) for k in sorted(live, key=len, reverse=True))
                         + ")(?![0-9A-Za-z])")
    return pattern.sub(lambda m: live[m.group(1)], text)


def _shift_text(text: str, days: int) -> str:
    if not days:
        return text
    delta = dt.timedelta(days=days)

    def iso(match: re.Match[str]) -> str:
        moment = dt.datetime.fromisoformat(f"{match.group(1)}T{match.group(3)}") + delta
        return f"{moment:%Y-%m-%d}{match.group(2)}{match.group(3)}"

    def spoken(match: re.Match[str]) -> str:
        moment = dt.datetime.strptime(f"{match.group(1)} {match.group(2)} {match.group(3)}", "%d %b %Y") + delta
        return f"{moment.day} {moment:%b %Y}"

    return _TEXT_DATE.sub(spoken, _ISO.sub(iso, text))


def variant_story(scenario: str, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The story of ``scenario`` varied by ``seed``, and a summary of what changed.

    Parameters
    ----------
    scenario
        A lab scenario name (``firewall-lockout`` …).
    seed
        0 gives the committed scenario; any other integer a reproducible variant.

    Returns
    -------
    tuple
        ``(story, changes)``: the story to render, and ``{"vms": {old: new}, "rules": …,
        "shift_days": …, …}`` (what a facilitator may want to know; the trainee should not).

    Raises
    ------
    LabError
        Unknown scenario or a seed that is not a non-negative integer.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise LabError(f"a variant seed is a non-negative integer, got {seed!r}")
    story = _story(scenario)
    changes: dict[str, Any] = {"scenario": scenario, "seed": seed}
    if seed == 0:
        return story, changes
    rng = _rng(scenario, seed)
    tokens: dict[str, str] = {}

    # VM names: same prefix, a new run of numbers (NICs, disks and NSGs named after them follow).
    groups: dict[tuple[str, int], list[str]] = {}
    for vm in story["vms"]:
        stem = re.match(r"^(.*?)(\d+)$", vm["name"])
        if stem:
            groups.setdefault((stem.group(1), len(stem.group(2))), []).append(vm["name"])
    for index, ((prefix, width), names) in enumerate(groups.items()):
        # distinct seeds (mod 90) give the broken VM distinct numbers; the peers follow it, shuffled
        base = 4 + (seed * 37 + index * 11) % 90
        peers = [base + 1 + i for i in range(len(names) - 1)]
        rng.shuffle(peers)
        tokens.update({name: f"{prefix}{n:0{width}d}" for name, n in zip(names, [base, *peers], strict=True)})
    changes["vms"] = dict(tokens)

    # NSG rules: a naming style and a priority shift that keeps their order.
    style = _RULE_STYLES[seed % len(_RULE_STYLES)]
    offset = (5, 10, 20, 30, 40)[seed % 5]
    rule_names = {}
    for nsg in story["network"]["nsgs"]:
        for rule in nsg["rules"]:
            rule_names[rule["name"]] = _rule_name(rule["name"], style)
            if rule["priority"] < 3900:
                rule["priority"] += offset
    tokens.update(rule_names)
    changes["rules"] = {"style": style, "priority_offset": offset, "names": rule_names}
    facts = story["facts"]
    if isinstance(facts.get("priority"), int):
        old = facts["priority"]
        facts["priority"] = old + offset
        story["fix"] = story["fix"].replace(f"priority {old}", f"priority {old + offset}")

    if scenario == "fstab-emergency":
        mount = rng.choice([m for m in _MOUNTS if m != facts["mount_point"]])
        digest = hashlib.sha256(f"uuid/{scenario}/{seed}".encode()).hexdigest()
        uuid = str(UUID(hex=digest[:32], version=4))
        tokens.update({facts["mount_point"]: mount, facts["uuid"]: uuid})
        changes.update(mount_point=mount, uuid=uuid)
    elif scenario == "sshd-broken":
        intended, bad = rng.choice([pair for pair in _SSHD if pair[1] != facts["bad_option"]])
        line = rng.randrange(2, 6)
        tokens.update({facts["intended_option"]: intended, facts["bad_option"]: bad})
        old_line = facts["bad_line"]
        facts["bad_line"] = line
        for vm in story["vms"]:
            for boot in vm["boots"]:
                if isinstance(boot.get("sshd"), dict):
                    boot["sshd"]["line"] = line
        story["fix"] = story["fix"].replace(f"on line {old_line}", f"on line {line}")
        changes.update(bad_option=bad, intended_option=intended, bad_line=line)
    elif scenario == "firewall-lockout":
        version = rng.randrange(8, 30)
        retired = rng.choice([r for r in _RETIRED if r != facts["retired_range"]])
        tokens.update({facts["template"]: f"fw-baseline-v{version}", "v6": f"v{version - 1}",
                       facts["retired_range"]: retired})
        changes.update(template=f"fw-baseline-v{version}", retired_range=retired)
    elif scenario == "windows-rdp":
        gpo = rng.choice([g for g in _GPOS if g != facts["gpo"]])
        tokens[facts["gpo"]] = gpo
        changes["gpo"] = gpo

    weeks = 1 + (seed * 5) % 12
    changes["shift_days"] = 7 * weeks
    text = _shift_text(_replace_tokens(json.dumps(story, ensure_ascii=False), tokens), 7 * weeks)
    return json.loads(text), changes


def render_variant(scenario: str, seed: int, out_dir: str | Path) -> Path:
    """Render the ``seed`` variant of ``scenario`` into ``out_dir/<scenario>/``; return that folder.

    The folder holds every file the lab serves plus :data:`VARIANT_FILE` (what was varied).
    """
    story, changes = variant_story(scenario, seed)
    folder = Path(out_dir) / scenario
    for rel, data in render(story).items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (folder / VARIANT_FILE).write_text(json.dumps(changes, indent=2) + "\n", encoding="utf-8")
    return folder


def render_variants(seeds: Mapping[str, int], out_dir: str | Path) -> Path:
    """Render several scenarios' variants into one folder the lab can serve (``scenario_dirs=[it]``)."""
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    for scenario, seed in seeds.items():
        render_variant(scenario, seed, root)
    return root


def variant_summary(folder: str | Path) -> dict[str, Any]:
    """What :func:`render_variant` recorded about a rendered variant folder (``{}`` if none)."""
    path = Path(folder) / VARIANT_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))
