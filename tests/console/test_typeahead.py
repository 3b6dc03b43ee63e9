"""The typed-line rule on its own: what is recorded, held, hidden, and what a prompt decides."""

from __future__ import annotations

from kit.console._typeahead import InputLine, TypeAhead


def _typed(typeahead: TypeAhead, keys: str) -> InputLine:
    return typeahead.keys(keys, 0.0)[-1].line


def test_a_line_at_a_prompt_the_guest_showed_is_recorded_and_one_typed_ahead_is_held() -> None:
    t = TypeAhead()
    t.output("\r\nsched-01 login: ")
    user = _typed(t, "azureuser\r")
    assert user.mode == "record"
    password = _typed(t, "hunter2-canary\r")
    assert password.mode == "hold" and t.holding
    decided = t.output("azureuser\r\nPassword: ")
    assert decided == [password] and password.mode == "hide" and password.secret
    assert not t.holding


def test_at_a_password_prompt_the_line_is_hidden_and_kernel_lines_change_nothing() -> None:
    t = TypeAhead()
    t.output("Password: ")
    t.output("\r\n[   12.345678] \x1b[0;31mrandom: crng init done\x1b[0m\r\n[  OK  ] Started x.\r\n")
    t.output("Mar  3 10:00:01 sched-01 systemd[1]: Starting y...\r\n")
    pieces = t.keys("hun", 0.0) + t.keys("ter2\r", 0.0)
    assert {p.line.mode for p in pieces} == {"hide"} and pieces[-1].ended


def test_a_command_typed_ahead_is_recorded_once_the_guest_echoes_it() -> None:
    t = TypeAhead()
    t.output("azureuser@sched-01:~$ ")
    _typed(t, "sleep 5\r")
    ahead = _typed(t, "hostname\r")
    assert ahead.mode == "hold"
    assert t.output("\r\nazureuser@sched-01:~$ ") == []        # the prompt that reads it; no echo yet
    assert t.output("hostname") == [ahead] and ahead.mode == "record"


def test_a_line_the_guest_never_echoed_is_hidden_when_the_next_prompt_comes() -> None:
    t = TypeAhead()
    t.output("azureuser@sched-01:~$ ")
    _typed(t, "read -s x\r")
    ahead = _typed(t, "typed-into-read-s\r")
    t.output("\r\nazureuser@sched-01:~$ ")
    assert t.output("\r\nazureuser@sched-01:~$ ") == [ahead]
    assert ahead.mode == "hide" and not ahead.secret


def test_the_first_line_answers_a_prompt_nobody_saw_and_its_echo_decides() -> None:
    t = TypeAhead()
    wake = _typed(t, "\r")
    assert wake.mode == "hold" and wake.first
    assert t.output("\r\nsched-01 login: ") == [wake] and wake.mode == "record"
    assert _typed(t, "azureuser\r").mode == "record"            # the login prompt was for the next line


def test_a_password_typed_first_at_an_unseen_password_prompt_is_hidden_and_masked() -> None:
    t = TypeAhead()
    line = _typed(t, "hunter2-canary\r")
    t.output("\r\nLast login: Mon Mar  3 09:12:44 2025\r\nazureuser@sched-01:~$ ")
    decided = t.output("\r\nazureuser@sched-01:~$ ")
    assert decided == [line] and line.mode == "hide" and line.secret


def test_user_and_password_typed_before_any_prompt() -> None:
    t = TypeAhead()
    pieces = t.keys("azureuser\rhunter2-canary\r", 0.0)
    user, password = pieces[0].line, pieces[1].line
    decided = t.output("azureuser\r\nPassword: ")
    assert decided == [user, password]
    assert user.mode == "record"                                 # echoed: the user name
    assert password.mode == "hide" and password.secret


def test_when_a_password_prompt_decides_several_lines_the_user_name_before_it_is_not_masked() -> None:
    t = TypeAhead()
    t.output("azureuser@sched-01:~$ ")
    _typed(t, "su - ops\r")
    t.output("su - ops\r\n")
    _typed(t, "\r")                                              # typed ahead, then the user name and password
    name = _typed(t, "ops\r")
    password = _typed(t, "hunter2-canary\r")
    t.output("ops\r\nPassword: ")
    assert name.mode == password.mode == "hide"
    assert not name.secret and password.secret


def test_a_line_echoed_only_before_the_prompt_answered_an_earlier_one() -> None:
    t = TypeAhead()
    t.output("azureuser@sched-01:~$ ")
    _typed(t, "./install.sh\r")
    answer = _typed(t, "yes\r")                                  # at a question the table does not know
    t.output("Continue? yes\r\n")
    assert t.output("done\r\nazureuser@sched-01:~$ ") == [answer] and answer.mode == "record"
    assert _typed(t, "ls\r").mode == "record"                    # the prompt is free for the next line


def test_what_the_guest_reads_applies_erase_keys_and_drops_control_keys() -> None:
    line = InputLine("hold", 0.0, keys="hunx\x7fter\x1b[D\x1b[C2\x15hunter2\x17hunter2-canary\r")
    assert line.text == "hunter2-canary"


def test_expire_and_finish_settle_what_no_prompt_decided() -> None:
    t = TypeAhead()
    t.output("azureuser@sched-01:~$ ")
    _typed(t, "vi notes\r")
    echoed = _typed(t, "some text\r")
    silent = _typed(t, ":wq\r")
    t.output("some text\r\n")
    assert t.expire() == [echoed, silent]
    assert echoed.mode == "record" and silent.mode == "hide" and not silent.secret
    late = _typed(t, "exit\r")
    assert t.finish() == [late] and late.mode == "hide" and late.secret


def test_lost_output_makes_the_next_line_a_first_line_again() -> None:
    t = TypeAhead()
    t.output("azureuser@sched-01:~$ ")
    t.output_lost()
    line = _typed(t, "hostname\r")
    assert line.mode == "hold" and line.first
