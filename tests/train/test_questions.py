"""Checked questions: answers follow the scenario (and its variant), hints stay folded."""

from __future__ import annotations

import pytest

from kit.errors import UsageError
from kit.lab import load_scenario
from kit.train.questions import answer_html, check_answer, hints_html, question_form, questions_for


def test_answers_come_from_the_scenario() -> None:
    qs = questions_for(load_scenario("nsg-deny"))
    assert (qs["level"].answer, qs["next_step"].answer, qs["rule"].answer) == ("platform", "change_nsg",
                                                                               "Deny-SSH-Inbound")
    assert "rule" not in questions_for(load_scenario("firewall-lockout"))


def test_answers_are_forgiving_about_case_and_dashes_and_strict_about_choices() -> None:
    q = questions_for(load_scenario("kernel-panic"))["next_step"]
    assert check_answer(q, "Repair-VM").correct
    wrong = check_answer(q, "serial console")
    assert not wrong.correct and "hint" in wrong.message
    assert not check_answer(q, "").given and "Not answered yet" in check_answer(q, "").message
    with pytest.raises(UsageError, match="choose one of: serial_console"):
        check_answer(q, "reboot it")


def test_hints_are_folded_until_opened() -> None:
    q = questions_for(load_scenario("sshd-broken"))["level"]
    text = hints_html(q)
    assert text.count("<details") == len(q.hints) == 2 and " open" not in text


def test_verdict_box_says_right_or_wrong() -> None:
    q = questions_for(load_scenario("sshd-broken"))["level"]
    assert 'data-correct="true"' in answer_html(check_answer(q, "guest"))
    assert 'data-correct="false"' in answer_html(check_answer(q, "platform"))


def test_form_checks_a_prefilled_answer() -> None:
    q = questions_for(load_scenario("windows-rdp"))["level"]
    seen = []
    form = question_form(q, lambda given: seen.append(given) or check_answer(q, given), "GUEST")
    assert seen == ["guest"] and 'data-correct="true"' in form.children[2].value


def test_a_notebook_asking_another_seed_than_the_lab_serves_is_told_how_to_fix_it(monkeypatch, tmp_path) -> None:
    from kit.train import open_drill, training_lab

    with training_lab({"nsg-deny": 4}) as lab:
        for key, value in lab.env().items():
            monkeypatch.setenv(key, value)
        with pytest.raises(UsageError, match="serves seed 4 of nsg-deny, not 7"):
            open_drill("nsg-deny", seed=7, archive_root=tmp_path)
        with open_drill("nsg-deny", archive_root=tmp_path) as drill:
            assert drill.seed == 4 and drill.kind == "network" and drill.info.broken_vm != "pos-api-01"
