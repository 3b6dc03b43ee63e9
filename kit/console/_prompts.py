"""What a line of guest output asks for: a secret, a user name, a shell command, or nothing.

:data:`PASSWORD_PROMPTS` is the table of secret prompts, one :class:`PromptForm` per form with
the examples it is tested on: login and ``su``, ``sudo`` in several languages, OpenSSL's PEM pass
phrase, SSH and LUKS passphrases, ``passwd``, emergency mode, Windows, one-time codes, and
password prompts in sixteen languages. :func:`classify` reads one rendered line (escape
sequences removed) with the line before it; kernel and systemd log lines are never prompts, so a
boot message arriving between ``Password:`` and the first key changes nothing.

:data:`PROMPTS` are the shell prompts per OS the session waits for (at the end of the output).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "PASSWORD_PROMPT",
    "PASSWORD_PROMPTS",
    "PROMPTS",
    "USER_PROMPTS",
    "PromptForm",
    "PromptKind",
    "classify",
    "is_log_line",
]

#: ``secret`` (the answer is a password), ``user`` (a user name: a password prompt may follow),
#: ``shell`` (a command line), ``other`` (a prompt whose answer is no secret: SAC's ``Domain``, y/n)
PromptKind = Literal["secret", "user", "shell", "other"]

_TRAILING_ESCAPES = r"(?:\x1b\[[0-9;?]*[A-Za-z])*"
#: shell prompts per OS, matched against the end of the output once the guest is quiet
PROMPTS: dict[str, str] = {
    "linux": r"(?:^|\n)[^\n]{0,120}?(?:[\w.-]+@[\w.-]+[^\n]*[$#]|[~/][^\n\s]*\s?[$#]|(?:sh|bash)-[\d.]+[$#]|[$#])\s?"
             + _TRAILING_ESCAPES + "$",
    "windows": r"(?:^|\n)(?:SAC>|[A-Za-z]:\\[^\n>]*>)\s?" + _TRAILING_ESCAPES + "$",
}

# after the prompt's colon: spaces, the stars some prompts echo per key, systemd's TAB hint
_AFTER = r"[ \t]*(?:\(press tab for no echo\))?[ \t*•●]*$"
_COLON = r"[ \t]*[:：]"


@dataclass(frozen=True)
class PromptForm:
    """One form of secret prompt.

    Parameters
    ----------
    name
        What it is (``"sudo"``, ``"OpenSSL PEM pass phrase"``).
    body
        A case-insensitive regex for the prompt's text up to (not including) its colon.
    examples
        Real prompts of this form, each as ``(line, line before it)``; the tests read them.
    ends
        Regex for the prompt's terminator (a colon; LUKS' older prompt ends with ``!``).
    previous
        A regex the line *before* must match (a prompt printed on two lines), or ``""``.
    kind
        ``"password"`` (an account's password: the login helper answers it), ``"passphrase"``
        (a key's or a disk's) or ``"code"`` (a one-time code, a PIN, a secret).
    """

    name: str
    body: str
    examples: tuple[tuple[str, str], ...]
    ends: str = _COLON
    previous: str = ""
    kind: Literal["password", "passphrase", "code"] = "password"

    @property
    def pattern(self) -> re.Pattern[str]:
        """The compiled regex for one rendered line ending in this prompt."""
        return _compiled(self.body, self.ends)

    def matches(self, line: str, previous: str = "") -> bool:
        """Whether ``line`` (rendered, after ``previous``) ends in this prompt."""
        if self.previous and not re.search(self.previous, previous, re.IGNORECASE):
            return False
        return bool(self.pattern.search(line))


_CACHE: dict[tuple[str, str], re.Pattern[str]] = {}


def _compiled(body: str, ends: str) -> re.Pattern[str]:
    key = (body, ends)
    if key not in _CACHE:
        _CACHE[key] = re.compile(f"(?i)(?:{body}){ends}{_AFTER}")
    return _CACHE[key]


def _one(name: str, body: str, *examples: str | tuple[str, str], ends: str = _COLON, previous: str = "",
         kind: Literal["password", "passphrase", "code"] = "password") -> PromptForm:
    pairs = tuple((e, "") if isinstance(e, str) else e for e in examples)
    return PromptForm(name, body, pairs, ends, previous, kind)


#: every secret prompt the transcript recognises (tested one by one, with each example)
PASSWORD_PROMPTS: tuple[PromptForm, ...] = (
    _one("password (login, su, ssh, mysql, psql, kinit, GRUB, Windows SAC)", r"pass(?:word|wd)[^\n]*?",
         "Password:", "password: ", "Password for azureuser@sched-01:", "azureuser@10.0.0.4's password:",
         "Enter password:", "Password (again):", "Enter host password for user 'ops':", "Vault password:",
         "BECOME password:", "Password for user postgres:", "Password for ops@CONTOSO.COM:",
         "Enter current password for root (enter for none):", "Password for 'https://ops@dev.azure.com':"),
    _one("sudo (any language)", r"\[sudo[^\]\n]*\][^\n]*?",
         "[sudo] password for azureuser:", "[sudo: authenticate] Password:", "[sudo] Passwort für azureuser:",
         "[sudo] Mot de passe de azureuser : ", "[sudo] contraseña para azureuser:", "[sudo] senha para azureuser:",
         "[sudo] пароль для azureuser:", "[sudo] azureuser 的密码：", "[sudo] azureuser のパスワード:",
         ("[sudo] password for azureuser:", "Sorry, try again.")),
    _one("OpenSSL PEM pass phrase", r"enter pem pass ?phrase",
         "Enter PEM pass phrase:", "Enter PEM pass phrase: ****", kind="passphrase"),
    _one("OpenSSL PEM pass phrase, verifying", r"verifying - enter pem pass ?phrase",
         "Verifying - Enter PEM pass phrase:", kind="passphrase"),
    _one("OpenSSL key pass phrase", r"enter pass ?phrase for [^\n]+",
         "Enter pass phrase for /etc/ssl/private/server.key:", "Enter pass phrase for server.key:", kind="passphrase"),
    _one("OpenSSL import/export password", r"(?:verifying - )?enter (?:import|export) password",
         "Enter Import Password:", "Enter Export Password:", "Verifying - Enter Export Password:",
         kind="passphrase"),
    _one("SSH key passphrase", r"(?:enter passphrase for key|bad passphrase, try again for) [^\n]+",
         "Enter passphrase for key '/root/.ssh/id_rsa':", "Bad passphrase, try again for /root/.ssh/id_ed25519:",
         kind="passphrase"),
    _one("ssh-keygen / gpg passphrase", r"(?:enter (?:new |same |old )?)?passphrase[^\n]*?",
         "Enter passphrase (empty for no passphrase):", "Enter same passphrase again:",
         "Enter new passphrase (empty for no passphrase):", "Passphrase:", "Enter passphrase:", kind="passphrase"),
    _one("cryptsetup passphrase", r"enter (?:any existing |new )?passphrase for [^\n]+",
         "Enter passphrase for /dev/sda2:", "Enter passphrase for sda2_crypt:",
         "Enter any existing passphrase for /dev/sdc:", "Enter new passphrase for key slot:", kind="passphrase"),
    _one("LUKS disk at boot (systemd, plymouth)", r"(?:🔐\s*)?please enter passphrase for disk [^\n]+",
         "Please enter passphrase for disk root (luks-2c4f0e1a):",
         "🔐 Please enter passphrase for disk data (luks-2c4f0e1a): (press TAB for no echo) ",
         "Please enter passphrase for disk sda3_crypt on /data!",
         "Please enter passphrase for disk root (luks-2c4f0e1a): ********", ends=r"[ \t]*[:：!]",
         kind="passphrase"),
    _one("passwd: current password", r"(?:\(current\) (?:unix |ldap )?|current (?:kerberos |unix )?|old )password",
         "(current) UNIX password:", "Current password:", "Current Kerberos password:", "Old Password:",
         ("(current) UNIX password:", "Changing password for azureuser.")),
    _one("passwd: new password", r"(?:new|retype new|re-enter new|repeat new|retype)(?: unix| ldap)? password",
         "New password:", "Retype new password:", "New UNIX password:", "Retype new UNIX password:",
         "Re-enter new password:", ("Retype new password:", "BAD PASSWORD: The password is shorter than 8 characters"),
         ("New password:", "BAD PASSWORD: it is based on a dictionary word"),
         ("New Password:", "passwd: Changing password for root")),
    _one("emergency mode (sulogin)", r"\(or (?:press|type) control-d to continue\)",
         ("(or press Control-D to continue):", "Give root password for maintenance"),
         ("(or type Control-D to continue):", "Give root password for system maintenance"),
         previous=r"(?:give|enter) root password for (?:system )?maintenance"),
    _one("sulogin (older)", r"\(or give root password for system maintenance\)",
         "(or give root password for system maintenance):"),
    _one("Windows runas / net use", r"(?:enter|type) (?:a |the )?password for [^\n]+",
         "Enter the password for CONTOSO\\admin:", "Type the password for \\\\fs01\\share:"),
    _one("Windows net user", r"(?:type a password for the user|retype the password to confirm)",
         "Type a password for the user:", "Retype the password to confirm:"),
    _one("one-time code, PIN", r"(?:verification|security|authentication|token|one-time|otp|sms) code[^\n]*?"
                               r"|one-time password[^\n]*?|passcode[^\n]*?|(?<![\w-])pin(?![\w-])[^\n]*?",
         "Verification code:", "One-time password (OATH) for 'azureuser':", "Enter PIN for 'PIV Card Holder pin':",
         "PIN:", "Passcode or option (1-3):", "Enter passcode:", kind="code"),
    _one("secret", r"(?<![\w-])(?:client )?secret(?![\w-])[^\n]*?", "Enter secret:", "Client secret:", kind="code"),
    _one("German", r"(?:passwort|kennwort)[^\n]*?", "Passwort:", "Kennwort:", "Neues Passwort:",
         "Geben Sie das neue Passwort erneut ein:"),
    _one("French", r"(?:mot de passe|phrase secrète|phrase de passe)[^\n]*?", "Mot de passe :", "Mot de passe:",
         "Nouveau mot de passe : ", "Entrez la phrase secrète pour la clé '/root/.ssh/id_rsa' :"),
    _one("Spanish", r"(?:contraseña|frase de contraseña|clave(?![\w-]))[^\n]*?", "Contraseña:",
         "Nueva contraseña:", "Introduzca la frase de contraseña para /dev/sda2:", "Clave:"),
    _one("Portuguese", r"(?:senha|palavra-passe)[^\n]*?", "Senha:", "Nova senha:", "Palavra-passe:"),
    _one("Russian, Ukrainian, Bulgarian, Serbian", r"(?:пароль|парола|лозинка)[^\n]*?", "Пароль:",
         "Новый пароль:", "Введите пароль:", "Парола:", "Лозинка:"),
    _one("Chinese", r"(?:密码|密碼|口令)[^\n]*?", "密码：", "密码:", "新的 密码：", "密碼：", "口令："),
    _one("Japanese", r"(?:パスワード|暗証番号)[^\n]*?", "パスワード:", "パスワード：", "新しいパスワード:"),
    _one("Korean", r"(?:암호|비밀번호)[^\n]*?", "암호:", "비밀번호:"),
    _one("Dutch", r"wachtwoord[^\n]*?", "Wachtwoord:", "Nieuw wachtwoord:"),
    _one("Polish", r"hasło[^\n]*?", "Hasło:", "Nowe hasło:"),
    _one("Swedish", r"lösenord[^\n]*?", "Lösenord:"),
    _one("Czech, Slovak", r"heslo[^\n]*?", "Heslo:", "Nové heslo:"),
    _one("Turkish, Italian, Romanian", r"(?:parola|parolă|şifre)[^\n]*?", "Parola:", "Şifre:",
         "Parolă:"),
    _one("Danish, Norwegian", r"(?:adgangskode|passord)[^\n]*?", "Adgangskode:", "Passord:"),
    _one("Finnish", r"salasana[^\n]*?", "Salasana:", "Uusi salasana:"),
    _one("Hungarian", r"jelszó[^\n]*?", "Jelszó:"),
    _one("Greek", r"κωδικός[^\n]*?", "Κωδικός πρόσβασης:"),
    _one("Vietnamese", r"mật khẩu[^\n]*?", "Mật khẩu:"),
)

#: prompts for a user name (a password prompt usually follows), with the echoed answer allowed
USER_PROMPTS = re.compile(
    r"(?i)(?:^|[\s>])(?<!last )(?:login|username|user name|user|login as|enter username|benutzername|anmeldename"
    r"|nom d'utilisateur|utilisateur|identifiant|usuario|nombre de usuario|utente|nome utente|gebruikersnaam"
    r"|имя пользователя|логин|用户名|用戶名|ユーザー名|사용자 이름)[ \t]*[:：][ \t]*\S{0,64}[ \t]*$"
)
_NOT_USER = re.compile(r"(?i)last login:|login incorrect")
_OTHER = re.compile(
    r"(?i)(?:^domain\s*:[ \t]*\S{0,64}|\[y/n\]|\(y/n\)|\(yes/no(?:/\[fingerprint\])?\)\??|press enter to continue\.?"
    r"|\(or press control-d to continue\):)[ \t]*$"
)
#: a shell prompt followed by the command typed at it (a complete line of output)
_SHELL_LINE = re.compile(r"^(?:[\w.-]+@[\w.-]+:[^\n]*?[$#]|\[[\w.-]+@[\w.-]+ [^\]\n]*\][$#]|SAC>"
                         r"|[A-Za-z]:\\[^\n>]*>)[ \t]\S")
_SHELL_TAIL = re.compile("|".join(f"(?:{p})" for p in PROMPTS.values()))
_LOG_LINE = re.compile(
    r"^\s*(?:\[\s*\d+\.\d+\]|\[\s*(?:OK|FAILED|DEPEND|TIME|WARN|INFO|\*[ *]*)\s*\]|<\d+>"
    r"|\w{3} [ \d]\d \d\d:\d\d:\d\d\b|\d{4}-\d\d-\d\d[T ]\d\d:\d\d)"
    r"|\bsystemd\[\d+\]:|\bkernel:|\baudit\(\d"
)
_PASSWORD_LINE = re.compile("|".join(f"(?:{form.pattern.pattern.removeprefix('(?i)')})"
                                     for form in PASSWORD_PROMPTS if not form.previous), re.IGNORECASE)
_TWO_LINE = tuple(form for form in PASSWORD_PROMPTS if form.previous)
_HINT = re.compile(r"(?i)\(press tab for no echo\)")

#: an account's password prompt at the end of raw output (escape sequences allowed), for the login helper
PASSWORD_PROMPT = re.compile(
    "(?i)(?:" + "|".join(f"(?:{form.body}){form.ends}" for form in PASSWORD_PROMPTS
                         if not form.previous and form.kind == "password") + ")"
    + r"(?:\x1b\[[0-9;?]*[A-Za-z]|[ \t*])*(?:\(press tab for no echo\)[ \t]*)?$"
    + r"|give root password for (?:system )?maintenance[\s\S]*:(?:\x1b\[[0-9;?]*[A-Za-z]|\s)*$"
)


def is_log_line(line: str) -> bool:
    """Whether ``line`` is a kernel, systemd or syslog message (never a prompt)."""
    return bool(_LOG_LINE.search(line))


def classify(line: str, previous: str = "") -> PromptKind | None:
    """What the rendered ``line`` asks for, if it is a prompt (possibly with its echoed answer).

    Parameters
    ----------
    line
        One line of output, escape sequences removed (the line being printed, or a complete one).
    previous
        The line before it (emergency mode's prompt takes two lines).
    """
    line = line[-300:]
    if not line.strip() or is_log_line(line):
        return None
    end = _HINT.sub("", line).rstrip(" \t*•●")
    if end.endswith((":", "：", "!")) and (
            _PASSWORD_LINE.search(line) or any(form.matches(line, previous) for form in _TWO_LINE)):
        return "secret"
    if _OTHER.search(line.strip()):
        return "other"
    if (":" in line or "：" in line) and USER_PROMPTS.search(line) and not _NOT_USER.search(line):
        return "user"
    if any(mark in line for mark in "$#>") and (_SHELL_TAIL.search(line) or _SHELL_LINE.search(line)):
        return "shell"
    return None
