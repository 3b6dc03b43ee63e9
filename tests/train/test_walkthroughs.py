"""Every walkthrough is solvable for three seeds; without the fix its check fails and says why."""

from __future__ import annotations

import json

import pytest

SCENARIOS = ("firewall-lockout", "fstab-emergency", "sshd-broken", "windows-rdp", "nsg-deny", "kernel-panic")
SEEDS = (0, 4, 11)  # as in conftest.py


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_solution_mode_recovers_the_vm(matrix, scenario: str, seed: int) -> None:
    row = matrix.rows[matrix.drills[(scenario, seed, True)]]
    assert row.passed, row.message
    assert row.seed == seed and row.mode == "solution"
    assert row.time_to_repair_s is not None and 0 < row.time_to_repair_s < 120


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_without_the_fix_the_check_fails_with_a_reason(matrix, scenario: str) -> None:
    seed = SEEDS[SCENARIOS.index(scenario) % len(SEEDS)]
    row = matrix.rows[matrix.drills[(scenario, seed, False)]]
    assert not row.passed and row.time_to_repair_s is None and row.attempts == 1
    expected_words = {
        "firewall-lockout": ("firewall", "iptables"),
        "fstab-emergency": ("fstab", "emergency mode"),
        "sshd-broken": ("sshd -t", "Bad configuration option"),
        "windows-rdp": ("TermService", "disabled"),
        "nsg-deny": ("still drops", "NSG"),
        "kernel-panic": ("decision", "serial console"),
    }[scenario]
    for words in expected_words:
        assert words in row.message, row.message


@pytest.mark.slow
def test_drill_records_name_the_variant_and_answers(matrix) -> None:
    drill = matrix.drills[("nsg-deny", SEEDS[2], True)]
    check = json.loads((matrix.archive / drill / "drill" / "check-1.json").read_text())
    assert check["passed"] and check["answers"]["rule"]["correct"]
    assert any("deleted NSG rule" in a["action"] for a in check["actions"])
    start = json.loads((matrix.archive / drill / "drill" / "start.json").read_text())
    assert start["seed"] == SEEDS[2] and start["vm"] != "pos-api-01"      # a variant, not the committed VM


@pytest.mark.slow
def test_console_transcripts_are_archived_without_the_typed_password(matrix) -> None:
    from kit.lab.variants import variant_story

    password = variant_story("firewall-lockout", 0)[0]["guest"]["password"]
    drill = matrix.drills[("firewall-lockout", SEEDS[0], True)]
    texts = list((matrix.archive / drill / "transcripts").glob("*.txt"))
    assert texts, "the passing check archives the console transcript"
    text = texts[0].read_text()
    assert "iptables" in text and "CHG-TRAIN-0001" in (matrix.archive / drill / "transcripts" /
                                                       texts[0].with_suffix(".cast").name).read_text()
    assert password not in text


@pytest.mark.slow
def test_archives_verify_after_the_drills(matrix) -> None:
    from kit.archive import verify_archive

    for drill in list(matrix.drills.values())[:4]:
        assert verify_archive(matrix.archive / drill).ok


@pytest.mark.slow
def test_the_matrix_stays_within_budget(matrix) -> None:
    assert matrix.seconds < 150, f"the walkthrough matrix took {matrix.seconds:.0f} s"
