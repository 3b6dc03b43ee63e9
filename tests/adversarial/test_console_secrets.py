"""Adversarial: a typed password never lands in a transcript, however and whenever it is typed.

A scripted guest (getty → login → shell, ``sudo``, ``passwd``) runs behind a ``MockTransport`` and
answers like a slow VM: each prompt comes a little after the Enter before it, so keys typed
quickly arrive *before* the prompt they answer. The canary password is typed

- with the user name in one send, before any prompt was shown;
- right after the user name, before ``Password:`` arrives;
- after the prompt, with kernel and systemd lines (in ANSI colour) printed between the prompt
  and the first key;
- one or two keys per send;
- at every secret prompt form of the table (:data:`kit.console._prompts.PASSWORD_PROMPTS`),
  typed after the prompt, typed ahead of it, and after interleaved kernel lines;
- to a guest that echoes keys typed ahead (a tty echoes what arrives while nothing reads);
- through the lab over real wss, in one send before the first prompt.

Every case then looks at every file under the transcript folder: the canary, and every 6-character
piece of it, must appear 0 times. SAS signatures, typed or printed by the guest, are removed too.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kit.console import MockTransport, Session
from kit.console._prompts import PASSWORD_PROMPTS

CANARY = "Zq7-Canary-Pw!x94"
USER = "azureuser"
SHELL = f"{USER}@sched-01:~$ "
NOISE = ("\r\n[   12.345678] \x1b[0;1;31mrandom: crng init done\x1b[0m\r\n"
         "[\x1b[0;32m  OK  \x1b[0m] Started \x1b[0;1;39mDaily apt upgrade and clean activities\x1b[0m.\r\n"
         "Mar  3 10:00:01 sched-01 systemd[1]: Starting Cleanup of Temporary Directories...\r\n")
SAS = "sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=Xy9SASsecretSig%2Bvalue%3D"


def pieces(secret: str, size: int = 6) -> list[str]:
    return [secret[i:i + size] for i in range(len(secret) - size + 1)]


def leaks(folder: Path, secret: str) -> list[str]:
    """Every place under ``folder`` where ``secret`` or a 6-character piece of it appears."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.name}: {piece!r}" for piece in [secret, *pieces(secret)] if piece in text]
    return found


@dataclass
class Guest:
    """A Linux console that reads keys only when it is at a prompt, like a real one.

    Parameters
    ----------
    prompt
        The password prompt login prints, and the line printed before it (``""`` for none).
    delay
        Seconds between an Enter and the next prompt (the VM thinking).
    noise
        Print kernel/systemd lines right after every secret prompt.
    echo_ahead
        Echo keys that arrive while the guest is busy (a tty in canonical mode does).
    banner
        What the console shows before the first key (Azure shows nothing).
    """

    prompt: tuple[str, str] = ("Password: ", "")
    delay: float = 0.02
    noise: bool = False
    echo_ahead: bool = False
    banner: str = ""
    transport: MockTransport = field(init=False)
    mode: str = "login"  # login | password | shell | sudo | busy
    line: str = ""
    queue: str = ""
    logged_in: bool = False

    def __post_init__(self) -> None:
        self.transport = MockTransport(self.keys, banner=self.banner, os_type="linux")

    def keys(self, data: bytes) -> str:
        text = data.decode()
        busy = self.mode == "busy"
        self.queue += text
        ahead = text.replace("\r", "\r\n") if busy and self.echo_ahead else ""  # echoed as it arrives
        return ahead + self.pump()

    def pump(self) -> str:
        out = []
        while self.queue:
            if self.mode == "busy":
                break
            ch, self.queue = self.queue[0], self.queue[1:]
            if ch == "\r":
                out.append("\r\n")
                self.enter(self.line)
                self.line = ""
            elif ch == "\x7f":
                self.line = self.line[:-1]
                if self.mode != "password":
                    out.append("\b \b")
            else:
                self.line += ch
                if self.mode not in ("password", "sudo"):
                    out.append(ch)
        return "".join(out)

    def later(self, text: str, mode: str) -> None:
        self.mode = "busy"
        loop = asyncio.get_running_loop()

        def show() -> None:
            self.mode = mode
            self.transport.feed(text + (NOISE if self.noise and mode in ("password", "sudo") else ""))
            more = self.pump()
            if more:
                self.transport.feed(more)

        loop.call_later(self.delay, show)

    def enter(self, line: str) -> None:
        previous, prompt = self.prompt[1], self.prompt[0]
        if self.mode == "login":
            if not line:
                self.later("sched-01 login: ", "login")
            else:
                self.later((previous + "\r\n" if previous else "") + prompt, "password")
        elif self.mode == "password":
            if line == CANARY:
                self.logged_in = True
                self.later(f"Welcome to Ubuntu 22.04.4 LTS\r\n\r\n{SHELL}", "shell")
            else:
                self.later("\r\nLogin incorrect\r\nsched-01 login: ", "login")
        elif self.mode == "sudo":
            retry = "Sorry, try again.\r\n[sudo] password for azureuser: "
            self.later("root@sched-01:~# " if line == CANARY else retry, "shell" if line == CANARY else "sudo")
        elif line.startswith("sudo"):
            self.later("[sudo] password for azureuser: ", "sudo")
        elif line.startswith("echo "):
            self.later(line[5:] + "\r\n" + SHELL, "shell")
        else:
            self.later(SHELL, "shell")


async def _session(guest: Guest, folder: Path, drive: Callable[[Session], object]) -> Session:
    session = Session(guest.transport, approval="CANARY", transcript=folder / "t.cast", settle=0.02)
    async with session:
        result = drive(session)
        if asyncio.iscoroutine(result):
            await result
    return session


async def _login_typed(session: Session, *, ahead: str, split: int = 0, prompt: str = "Password:") -> None:
    """Type user name and password as a person does; ``ahead`` says how far ahead of the guest."""
    async def send(text: str) -> None:
        if not split:
            await session.async_send(text)
            return
        for start in range(0, len(text), split):
            await session.async_send(text[start:start + split])
            await asyncio.sleep(0.003)

    if ahead == "everything":            # nothing shown yet: user and password in one go
        await send(f"{USER}\r{CANARY}\r")
    else:
        await session.async_sendline("")
        await session.async_expect("login: $", timeout=5)
        if ahead == "password":              # the password right after the user name, before Password:
            await send(f"{USER}\r{CANARY}\r")
        else:                                # after the prompt was shown
            await send(f"{USER}\r")
            await session.async_expect(re.escape(prompt.strip()), timeout=5)
            await asyncio.sleep(0.03)        # any noise arrives first
            await send(f"{CANARY}\r")
    await session.async_expect(r"\$ $", timeout=5)
    assert (await session.async_run("echo still-here")) == "still-here\n"


CASES = [
    pytest.param({}, "everything", 0, id="user+password-in-one-send-before-any-prompt"),
    pytest.param({}, "password", 0, id="password-typed-before-Password-arrives"),
    pytest.param({}, "after", 0, id="after-the-prompt"),
    pytest.param({"noise": True}, "after", 0, id="kernel-systemd-ansi-between-prompt-and-keys"),
    pytest.param({"noise": True}, "password", 0, id="kernel-lines-and-typed-ahead"),
    pytest.param({}, "after", 1, id="one-key-per-send"),
    pytest.param({}, "password", 2, id="typed-ahead-two-keys-per-send"),
    pytest.param({"noise": True}, "everything", 1, id="everything-one-key-per-send-with-noise"),
    pytest.param({"echo_ahead": True}, "password", 0, id="guest-echoes-keys-typed-ahead"),
    pytest.param({"echo_ahead": True}, "everything", 0, id="guest-echoes-everything-typed-before-any-prompt"),
    pytest.param({"banner": "\r\nUbuntu 22.04.4 LTS sched-01 ttyS0\r\n\r\nsched-01 login: "}, "password", 0,
                 id="typed-ahead-at-a-login-prompt-shown-on-connect"),
    pytest.param({"delay": 0.3}, "password", 1, id="slow-guest-typed-ahead-key-by-key"),
]


@pytest.mark.parametrize(("guest_options", "ahead", "split"), CASES)
async def test_a_password_typed_ahead_or_late_is_never_recorded(tmp_path: Path, guest_options: dict[str, object],
                                                                ahead: str, split: int) -> None:
    guest = Guest(**guest_options)  # type: ignore[arg-type]
    await _session(guest, tmp_path, lambda s: _login_typed(s, ahead=ahead, split=split))
    assert guest.logged_in, "the guest read the password (the case is real)"
    assert leaks(tmp_path, CANARY) == []
    cast = (tmp_path / "t.cast").read_text()
    assert "input hidden (" in cast and "still-here" in cast


FORMS = [pytest.param(form, line, previous, id=f"{form.name}: {line!r}")
         for form in PASSWORD_PROMPTS for line, previous in form.examples]


@pytest.mark.parametrize(("form", "line", "previous"), FORMS)
@pytest.mark.parametrize("ahead", ["after", "password", "noise"])
async def test_every_prompt_form_hides_the_password(tmp_path: Path, form: object, line: str, previous: str,
                                                    ahead: str) -> None:
    prompt = line if line.endswith(" ") else line + " "
    guest = Guest(prompt=(prompt, previous), noise=ahead == "noise")
    await _session(guest, tmp_path, lambda s: _login_typed(s, ahead="after" if ahead == "noise" else ahead,
                                                           prompt=line))
    assert guest.logged_in
    assert leaks(tmp_path, CANARY) == []


@pytest.mark.parametrize("ahead", [False, True])
async def test_a_sudo_password_typed_ahead_of_its_prompt_is_never_recorded(tmp_path: Path, ahead: bool) -> None:
    guest = Guest(banner=SHELL, delay=0.05)
    guest.mode = "shell"

    async def drive(session: Session) -> None:
        if ahead:
            await session.async_send(f"sudo -i\r{CANARY}\r")
        else:
            await session.async_send("sudo -i\r")
            await session.async_expect("azureuser: $", timeout=5)
            await session.async_send(f"{CANARY}\r")
        await session.async_expect("# $", timeout=5)

    await _session(guest, tmp_path, drive)
    assert leaks(tmp_path, CANARY) == []
    assert '"i", "sudo -i\\r"' in (tmp_path / "t.cast").read_text()  # the command itself is recorded


async def test_what_is_not_secret_is_still_recorded(tmp_path: Path) -> None:
    guest = Guest(banner="sched-01 login: ")
    await _session(guest, tmp_path, lambda s: _login_typed(s, ahead="password"))
    cast = (tmp_path / "t.cast").read_text()
    assert f'"i", "{USER}\\r"' in cast                   # typed at a login prompt the guest showed
    assert '"i", "echo still-here\\r"' in cast          # typed at the shell prompt
    assert f"{USER}@sched-01" in (tmp_path / "t.txt").read_text()   # the user name is not masked


def test_through_the_lab_user_and_password_in_one_send_before_any_prompt(tmp_path: Path) -> None:
    from kit.console import open_lab_session
    from kit.lab import load_scenario, running_lab

    guest = load_scenario("firewall-lockout").guest
    user, password = guest["username"], guest["password"]
    with running_lab(scenarios=["firewall-lockout"]) as lab, \
            open_lab_session(lab, "firewall-lockout", approval="CANARY-LAB", transcript=tmp_path / "lab.cast") as s:
        s.discard_pending()
        s.send(f"{user}\r{password}\r")
        s.expect(r"\$ $", timeout=10)
        s.send(f"sudo -i\r{password}\r")                    # sudo asks (or not) after the command
        s.expect(r"# $", timeout=10)
        assert "root" in s.run("whoami")
    assert leaks(tmp_path, password) == []


@pytest.mark.parametrize("ahead", [False, True])
def test_through_the_lab_windows_sac_cmd_channel_login(tmp_path: Path, ahead: bool) -> None:
    from kit.console import open_lab_session
    from kit.lab import load_scenario, running_lab

    guest = load_scenario("windows-rdp").guest
    user, password = guest["username"], guest["password"]
    with running_lab(scenarios=["windows-rdp"]) as lab, \
            open_lab_session(lab, "windows-rdp", approval="CANARY-WIN", transcript=tmp_path / "w.cast") as s:
        s.sendline("")
        s.expect("SAC>", timeout=10)
        s.sendline("cmd")
        channel = s.expect(r"Channel:\s+(Cmd\d+)", timeout=10).group(1)
        s.expect("SAC>", timeout=10)
        s.sendline(f"ch -sn {channel}")
        s.expect(r"(?i)use any other key to view this channel", timeout=10)
        if ahead:                                         # everything typed before Username: appears
            s.send(f"\r{user}\r\r{password}\r")
        else:
            s.sendline("")
            s.expect("Username: ?$", timeout=10)
            s.sendline(user)
            s.expect(r"Domain\s*: ?$", timeout=10)
            s.sendline("")
            s.expect("Password: ?$", timeout=10)
            s.sendline(password)
        s.expect(r">\s*$", timeout=10)
    assert leaks(tmp_path, password) == []


def test_through_the_lab_emergency_mode_root_password(tmp_path: Path) -> None:
    from kit.console import open_lab_session
    from kit.lab import load_scenario, running_lab

    password = load_scenario("fstab-emergency").guest["password"]
    with running_lab(scenarios=["fstab-emergency"]) as lab, \
            open_lab_session(lab, "fstab-emergency", approval="CANARY-EM", transcript=tmp_path / "e.cast") as s:
        s.sendline("")
        s.expect(r"continue\): ?$", timeout=10)
        for key in password + "\r":
            s.send(key)
        s.expect(r"# $", timeout=10)
    assert leaks(tmp_path, password) == []


# ---------------------------------------------------------------------- SAS
@pytest.mark.parametrize("form", [
    f"https://diag01.blob.core.windows.net/bootdiagnostics/sched-01.serialconsole.log?{SAS}",
    f"'https://diag01.blob.core.windows.net/c/b?{SAS.replace('&', '&amp;')}'",
    f"https://diag01.blob.core.windows.net/c/b%3F{SAS.replace('&', '%26').replace('=', '%3D')}",
    f"BlobEndpoint=https://diag01.blob.core.windows.net/;SharedAccessSignature={SAS}",
    f"export AZCOPY_SAS='?{SAS}'",
])
async def test_sas_typed_or_printed_is_removed_from_transcripts(tmp_path: Path, form: str) -> None:
    guest = Guest(banner=SHELL)
    guest.mode = "shell"

    async def drive(session: Session) -> None:
        await session.async_run(f"echo {form}")                 # typed (and echoed, and printed)
        guest.transport.feed(f"curl: (22) {form} returned 403\r\n{SHELL}")   # printed by the guest alone
        await session.async_expect("403", timeout=5)

    await _session(guest, tmp_path, drive)
    assert leaks(tmp_path, "Xy9SASsecretSig") == []
    text = (tmp_path / "t.txt").read_text()
    assert "diag01.blob.core.windows.net" in text or "diag01" not in form   # the account and path stay readable
