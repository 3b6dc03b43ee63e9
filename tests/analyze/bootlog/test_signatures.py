"""Every signature of every family: its samples reach it through the parser and give its kind."""

from __future__ import annotations

import pytest

from kit.analyze.bootlog import parse_boot_log
from kit.analyze.bootlog.rules import FAMILIES, REGISTRY, Rule, Signature
from kit.analyze.bootlog.rules._literals import required_literals

SIGNATURES = [(rule.NAME, signature) for rule in REGISTRY.rules() for signature in rule.signatures]


def test_every_family_module_registers_one_rule() -> None:
    assert len(REGISTRY.rules()) == len(FAMILIES) >= 19
    assert all(isinstance(rule, Rule) and rule.signatures for rule in REGISTRY.rules())


@pytest.mark.parametrize(("family", "signature"), SIGNATURES, ids=[s.kind for _, s in SIGNATURES])
def test_each_sample_reaches_its_signature_and_gives_its_kind(family: str, signature: Signature) -> None:
    assert signature.samples, f"{signature.kind} has no sample line"
    for sample in signature.samples:
        report = parse_boot_log(sample.encode() + b"\r\n")
        last = sample.count("\n") + 1
        kinds = {event.kind for event in report.events if event.line == last}
        assert signature.kind in kinds, f"{sample!r} gave {sorted(kinds) or 'nothing'}, not {signature.kind}"


@pytest.mark.parametrize(("family", "signature"), SIGNATURES, ids=[s.kind for _, s in SIGNATURES])
def test_samples_in_systemd_colour_still_reach_the_signature(family: str, signature: Signature) -> None:
    for sample in signature.samples:
        if "Failed to start " not in sample and "Started " not in sample and "Dependency failed for " not in sample:
            continue
        coloured = sample
        for verb in ("Failed to start ", "Started ", "Dependency failed for "):
            coloured = coloured.replace(verb, f"{verb}\x1b[0;1;39m", 1)
        kinds = {event.kind for event in parse_boot_log(coloured.encode() + b"\x1b[0m\r\n").events}
        assert signature.kind in kinds, f"coloured {coloured!r} gave {sorted(kinds)}"


@pytest.mark.parametrize(("pattern", "literals"), [
    (r"Kernel panic - not syncing:?(.*)", ("Kernel panic - not syncing",)),
    (r"(?:Unable to|Could not) load host key", (" load host key",)),
    (r"\bOops(?::| -) |kernel BUG at ", ("kernel BUG at ", "Oops")),
    (r"Failed to start (?:ssh|sshd)\.service", ("Failed to start ",)),
    (r"^\s*SAC>", ("SAC>",)),
    (r"(?:ab|cd)+xyz", ("xyz",)),
    (r"irq (\d+): nobody cared", (": nobody cared",)),
])
def test_the_prefilter_is_the_literal_every_match_contains(pattern: str, literals: tuple[str, ...]) -> None:
    assert required_literals(pattern) == literals


@pytest.mark.parametrize("pattern", [r"\w+", r"(?i)kernel panic", r"a|bc", r"(?:Kernel)?\d+"])
def test_a_pattern_without_a_usable_literal_is_refused_when_declared(pattern: str) -> None:
    with pytest.raises(ValueError):
        Signature("boot:kernel:x", pattern)


def test_a_signature_of_another_family_is_refused() -> None:
    with pytest.raises(ValueError, match="does not belong"):
        Rule("kernel", [Signature("boot:sshd:x", "sshd")])
