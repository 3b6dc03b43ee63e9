"""The prompt table, one form and one example at a time, and what is not a prompt."""

from __future__ import annotations

import pytest

from kit.console._prompts import PASSWORD_PROMPT, PASSWORD_PROMPTS, PromptForm, classify, is_log_line

EXAMPLES = [pytest.param(form, line, previous, id=f"{form.name}: {line!r}")
            for form in PASSWORD_PROMPTS for line, previous in form.examples]


@pytest.mark.parametrize(("form", "line", "previous"), EXAMPLES)
def test_each_example_is_its_form_and_a_secret_prompt(form: PromptForm, line: str, previous: str) -> None:
    assert form.matches(line, previous)
    assert classify(line, previous) == "secret"
    assert classify(line.upper(), previous.upper()) == "secret"  # whatever the case


@pytest.mark.parametrize(("form", "line", "previous"), EXAMPLES)
def test_the_login_helper_answers_account_passwords_not_passphrases_or_codes(form: PromptForm, line: str,
                                                                            previous: str) -> None:
    raw = (previous + "\r\n" if previous else "boot\r\n") + "\x1b[1m" + line + "\x1b[0m"
    if form.kind == "password":
        assert PASSWORD_PROMPT.search(raw), raw
    elif "password" not in line.lower():          # "Enter Export Password:" is a password prompt all the same
        assert not PASSWORD_PROMPT.search(raw), raw


def test_every_form_the_issue_names_is_in_the_table() -> None:
    names = " | ".join(f"{line} <{previous}>" for form in PASSWORD_PROMPTS for line, previous in form.examples)
    for needed in ("Enter PEM pass phrase:", "Verifying - Enter PEM pass phrase:", "[sudo] password for",
                   "Enter passphrase for key '/root/.ssh/id_rsa':", "Enter passphrase for /dev/sda2:",
                   "Please enter passphrase for disk", "(current) UNIX password:", "New password:",
                   "Retype new password:", "BAD PASSWORD", "passwd:", "Passwort:", "Mot de passe :",
                   "Contraseña:", "Senha:", "Пароль:", "密码：", "パスワード:", "Password for azureuser@",
                   "Enter the password for", "Password:"):
        assert needed in names, needed


@pytest.mark.parametrize(("line", "kind"), [
    ("sched-01 login: ", "user"),
    ("sched-01 login: azureuser", "user"),
    ("Username: ", "user"),
    ("Domain  : ", "other"),
    ("Are you sure you want to continue connecting (yes/no/[fingerprint])? ", "other"),
    ("azureuser@sched-01:~$ ", "shell"),
    ("azureuser@sched-01:~$ sudo -i", "shell"),
    ("[root@sched-01 ~]# ls", "shell"),
    ("root@sched-01:~# ", "shell"),
    ("sh-5.1# ", "shell"),
    ("SAC>", "shell"),
    ("C:\\Windows\\system32>", "shell"),
])
def test_other_prompts(line: str, kind: str) -> None:
    assert classify(line) == kind


@pytest.mark.parametrize("line", [
    "[   12.345678] random: crng init done",
    "[   12.345678] usb 1-1: new high-speed USB device number 2 using xhci_hcd:",
    "[  OK  ] Started Daily apt upgrade and clean activities.",
    "[FAILED] Failed to start Password Agent:",
    "Mar  3 10:00:01 sched-01 sshd[812]: Failed password for root from 203.0.113.7:",
    "sched-01 systemd[1]: Started Dispatch Password Requests to Console:",
    "BAD PASSWORD: The password is shorter than 8 characters",
    "passwd: Changing password for root",
    "Changing password for azureuser.",
    "passwd: password updated successfully",
    "Last login: Mon Mar  3 09:12:44 2025 from 203.0.113.7",
    "Last login:",
    "Login incorrect",
    "Give root password for maintenance",
    "Welcome to Ubuntu 22.04.4 LTS (GNU/Linux 6.5.0-1017-azure x86_64)",
    "",
])
def test_what_is_no_prompt(line: str) -> None:
    assert classify(line) is None


def test_emergency_mode_asks_for_a_password_only_when_the_line_before_says_so() -> None:
    assert classify("(or press Control-D to continue): ", "Give root password for maintenance") == "secret"
    assert classify("(or press Control-D to continue): ", "Press Enter for maintenance") == "other"


def test_log_lines_are_recognised() -> None:
    assert is_log_line("[    0.000000] Linux version 6.5.0-1017-azure")
    assert not is_log_line("[sudo] password for azureuser:")
