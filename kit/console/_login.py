"""Logging in over a serial console, from whatever state it is in.

Linux: ``login:`` → user, ``Password:`` → password; systemd emergency mode: "Give root password
for maintenance" → password. Windows: ``SAC>`` → ``cmd`` → ``ch -sn CmdNNNN`` → a key →
``Username:`` / ``Domain:`` / ``Password:``. Every account-password prompt of the table
(:data:`kit.console._prompts.PASSWORD_PROMPTS` of kind ``"password"``: other languages, ``sudo``,
``passwd``) gets the password; a passphrase or one-time-code prompt does not. The password is
registered with the transcript as a secret first, so it is never written even if a guest echoes it.

The state machine drives anything shaped like a session (:class:`LoginConsole`), so this module
needs nothing of :mod:`kit.console.session`, which calls it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Protocol

from kit.console._prompts import PASSWORD_PROMPT
from kit.console.transcript import Transcript
from kit.errors import ConsoleError, ConsoleTimeoutError

__all__ = ["LoginConsole", "login"]

_LOGIN = re.compile(r"(?i)(?:^|\n)[^\n]*login:\s*$")
_PASSWORD = PASSWORD_PROMPT
_USERNAME = re.compile(r"(?i)username\s*:\s*$")
_DOMAIN = re.compile(r"(?i)domain\s*:\s*$")
_LOGIN_FAILED = re.compile(r"(?i)login incorrect|authentication failure|logon failure|unable to authenticate")
#: sulogin's screen in emergency mode when root has no password (Azure's marketplace images): Enter resumes the boot
_ROOT_LOCKED = re.compile(r"(?i)cannot open access to console, the root account is locked")
_LOCKED_ROOT_HELP = (
    "emergency mode, and the root account is locked (as on Azure's marketplace images): the console offers no shell "
    "here, and pressing Enter would only resume the boot. Fix the disk on a repair VM (az vm repair create, then "
    "run-id linux-alar2 --parameters fstab), or reboot and at the GRUB menu add rd.break or init=/bin/bash to the "
    "linux line")


class _Settle(Protocol):
    @property
    def settle(self) -> float: ...

    @property
    def boot_log_tail(self) -> str: ...


class LoginConsole(Protocol):
    """What :func:`login` needs of a session (:class:`~kit.console.Session` has all of it)."""

    @property
    def options(self) -> _Settle: ...

    @property
    def transcript(self) -> Transcript | None: ...

    @property
    def prompt_pattern(self) -> re.Pattern[str]: ...

    @property
    def pending(self) -> str: ...

    def discard_pending(self) -> None: ...

    def timeout_error(self, what: str, timeout: float) -> ConsoleTimeoutError: ...

    def screen_text(self) -> str: ...

    async def async_run(self, command: str, timeout: float | None = None, *, password: str | None = None) -> str: ...

    async def async_wait_quiet(self, limit: float) -> None: ...

    async def async_send(self, data: str | bytes, timeout: float | None = None) -> None: ...

    async def async_sendline(self, line: str = "", timeout: float | None = None) -> None: ...

    async def async_expect(self, pattern: str | re.Pattern[str] | Sequence[str | re.Pattern[str]],
                           timeout: float | None = None, *, settle: float = 0.0) -> re.Match[str]: ...

    async def async_expect_prompt(self, timeout: float | None = None) -> str: ...


_FROM_BOOT_LOG = (" (The console showed nothing yet; the boot log ends on that screen, so Enter was not pressed."
                  " If the VM has moved on since, press Enter yourself with session.sendline() and log in.)")


#: what the guest prints once the boot has moved on from a screen: systemd units, a getty, a new boot
_BOOT_MOVED_ON = re.compile(r"(?i)\[\s*OK\s*\]|\bStarting |Reloading system manager|login:\s*$|Linux version |"
                            r"Give root password", re.MULTILINE)


def _boot_log_ends_locked(text: str) -> bool:
    """Whether the boot log's last screen is the locked-root one.

    Kernel messages that a slow boot prints after it (``random: crng init done``, a disk's
    late probe) do not count as leaving it; a unit starting, a getty or a new boot does.
    """
    ends = [match.end() for match in _ROOT_LOCKED.finditer(text)]
    return bool(ends) and not _BOOT_MOVED_ON.search(text, ends[-1])


async def login(session: LoginConsole, username: str, password: str, timeout: float) -> str:
    """Drive the console to a shell prompt; return the prompt reached.

    The console is woken with Enter only when neither the output nor the screen shows where it
    is: Enter at emergency mode's password prompt would be an empty password, and at the
    locked-root screen it resumes the boot. An already open shell is not logged in again: the
    transcript records the user it belongs to (``id -un``).

    Raises
    ------
    ConsoleError
        The guest refused the credentials twice, or emergency mode has no shell to give (root locked).
    ConsoleTimeoutError
        No shell prompt within ``timeout`` seconds.
    """
    if session.transcript is not None:
        session.transcript.add_secret(password)
    deadline = time.monotonic() + timeout
    sac_cmd_started = False
    typed_user = False
    states = [_ROOT_LOCKED, _LOGIN_FAILED, _PASSWORD, _LOGIN, _USERNAME, _DOMAIN, session.prompt_pattern]
    await session.async_wait_quiet(min(1.0, timeout))
    if _ROOT_LOCKED.search(session.pending) or _ROOT_LOCKED.search(session.screen_text()):
        raise ConsoleError(_LOCKED_ROOT_HELP)
    if not session.screen_text().strip() and _boot_log_ends_locked(session.options.boot_log_tail):
        raise ConsoleError(_LOCKED_ROOT_HELP + _FROM_BOOT_LOG)
    if not any(regex.search(session.pending) for regex in states[2:]):
        shown = session.screen_text().rstrip()
        session.discard_pending()
        # a password prompt printed before: answer it; else wake the console, it shows nothing until a key
        await session.async_sendline(password if _PASSWORD.search(shown) else "", timeout)
    attempts = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise session.timeout_error("login", timeout)
        match = await session.async_expect(states, remaining, settle=session.options.settle)
        regex = match.re
        if regex is _ROOT_LOCKED:
            raise ConsoleError(_LOCKED_ROOT_HELP)
        if regex is _LOGIN_FAILED:
            attempts += 1
            if attempts > 1:
                raise ConsoleError(f"the guest refused the credentials for {username!r} (Login incorrect)")
            continue
        left = max(deadline - time.monotonic(), 0.001)
        if regex is _PASSWORD:
            await session.async_sendline(password, left)
        elif regex is _LOGIN or regex is _USERNAME:
            typed_user = True
            await session.async_sendline(username, left)
        elif regex is _DOMAIN:
            await session.async_sendline("", left)
        else:
            reached = match.group(0).strip()
            if reached.endswith("SAC>") and not sac_cmd_started:
                sac_cmd_started = True
                await _sac_open_cmd(session)
                continue
            if typed_user or reached.endswith(("SAC>", ">")):
                if session.transcript is not None:
                    session.transcript.marker("logged in", user=username)
                return reached
            await _record_open_shell(session, username, left)
            return reached


async def _record_open_shell(session: LoginConsole, username: str, timeout: float) -> None:
    """A shell was already open: record whose it is, not the user asked for."""
    try:
        who = (await session.async_run("id -un", min(timeout, 10.0))).strip() or "unknown"
    except ConsoleError:
        who = "unknown"
    if session.transcript is not None:
        session.transcript.marker("already logged in", user=who, asked_for=username)


async def _sac_open_cmd(session: LoginConsole) -> None:
    """SAC: create a cmd channel, switch to it, and get to its login."""
    await session.async_sendline("cmd")
    match = await session.async_expect(r"Channel:\s+(Cmd\d+)", 10)
    await session.async_expect_prompt(10)
    await session.async_sendline(f"ch -sn {match.group(1)}")
    await session.async_expect(r"(?i)use any other key to view this channel", 10)
    await session.async_sendline()
