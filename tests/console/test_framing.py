"""``Session.run``/``execute`` read a command's output exactly: against a real bash on a pty.

A unix socket relays a pseudo-terminal running ``bash`` (echo on, ONLCR, a root prompt), like a
serial port QEMU exposes; the relay can print kernel messages into the output at any byte, as a
guest's console does. Whatever the output holds — ``#``/``$``/``> `` line ends, pauses, no final
newline, interleaved kernel lines — ``run`` returns it exactly, with ``$?``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import termios
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit.console import MockTransport, Session, SocketTransport
from kit.errors import ConsoleError

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

PROMPT = "root@vm:~# "
KERNEL = "[ 4242.123456] DROP-SSH: IN=eth0 OUT= SRC=203.0.113.7 DST=10.0.0.4 PROTO=TCP SPT=51514 DPT=22\r\n"
SUDO = ('sudo() { local pw try; for try in 1 2 3; do read -r -s -p "[sudo] password for azureuser: " pw; echo; '
        'if [ "$pw" = "$(cat ~/.pw)" ]; then "$@"; return; fi; echo "Sorry, try again."; done; return 1; }')


class PtyGuest:
    """bash on a pty behind a unix socket; ``inject`` prints text into its output after N bytes."""

    def __init__(self, folder: Path) -> None:
        self.socket = folder / "ttyS0.sock"
        self.injections: list[tuple[int, str]] = []
        self._sent = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._server: asyncio.AbstractServer | None = None

    def inject(self, after: int, text: str) -> None:
        """Print ``text`` (a kernel message) once ``after`` more output bytes have gone out."""
        self.injections.append((self._sent + after, text))

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.socket))

    async def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=5)
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        master, slave = os.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[3] |= termios.ECHO  # echo typed keys, as a serial getty's shell does
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self._process = subprocess.Popen(
            ["bash", "--norc", "--noprofile", "-i"], stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
            env={"PS1": PROMPT, "PATH": os.environ["PATH"], "TERM": "dumb", "HOME": str(self.socket.parent)},
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        loop = asyncio.get_running_loop()
        fcntl.fcntl(master, fcntl.F_SETFL, os.O_NONBLOCK)
        output: asyncio.Queue[bytes] = asyncio.Queue()
        loop.add_reader(master, lambda: output.put_nowait(_read(master)))

        async def to_socket() -> None:
            while data := await output.get():
                for at, text in sorted(self.injections):
                    if self._sent <= at < self._sent + len(data):
                        cut = at - self._sent
                        data = data[:cut] + text.encode() + data[cut:]
                        self.injections.remove((at, text))
                self._sent += len(data)
                writer.write(data)
                await writer.drain()

        pump = asyncio.ensure_future(to_socket())
        try:
            while data := await reader.read(4096):
                os.write(master, data)
        finally:
            loop.remove_reader(master)
            pump.cancel()
            os.close(master)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


@contextlib.asynccontextmanager
async def bash_session(folder: Path, *, record: bool = True) -> AsyncIterator[tuple[Session, PtyGuest]]:
    guest = PtyGuest(folder)
    await guest.start()
    try:
        async with Session(SocketTransport(guest.socket), approval="TEST-FRAME",
                           transcript=folder / "t.cast" if record else None, timeout=15) as session:
            await session.async_sendline("")
            await session.async_expect_prompt(10)
            yield session, guest
    finally:
        await guest.stop()


@pytest.fixture
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("frame")


async def test_output_without_a_final_newline_and_the_exit_status(folder: Path) -> None:
    async with bash_session(folder) as (session, _):
        assert await session.async_run("printf abc") == "abc"
        result = await session.async_execute("ls /nonexistent-kit-path")
        assert result.exit_status == 2 and "No such file or directory" in result.output and not result.ok
        assert (await session.async_execute("true")).exit_status == 0
        assert await session.async_run("printf ''") == ""


async def test_lines_that_look_like_prompts_and_pauses_do_not_end_the_output(folder: Path) -> None:
    async with bash_session(folder) as (session, _):
        text = await session.async_run("printf '#\\n'; sleep 0.6; printf 'root@vm:~# \\n'; sleep 0.6; printf 'a $'")
        assert text == "#\nroot@vm:~# \na $"


async def test_a_kernel_message_printed_into_the_output_is_taken_out_but_kept_in_the_transcript(folder: Path) -> None:
    (folder / "rules").write_text("-P INPUT DROP\n-A INPUT -p tcp -m tcp --dport 22 -j DROP\n" * 3)
    async with bash_session(folder) as (session, guest):
        for at in (5, 60, 120, 131, 150):  # inside the echo, the begin marker, a rule, the end marker
            guest.inject(at, KERNEL)
            assert await session.async_run(f"cat {folder / 'rules'}") == (folder / "rules").read_text()
    assert "DROP-SSH" in (folder / "t.txt").read_text()


async def test_commands_that_read_logs_keep_their_log_lines(folder: Path) -> None:
    log = folder / "var" / "log" / "kern.log"
    log.parent.mkdir(parents=True)
    log.write_text("[    0.000000] Linux version 6.1.0-50-amd64\n[  OK  ] Started ssh.service.\n")
    async with bash_session(folder) as (session, _):
        assert await session.async_run(f"cat {log}") == log.read_text()
        assert await session.async_run(f"grep -c Linux {log}") == "1\n"


async def test_a_sudo_password_prompt_is_answered_from_the_secret_and_never_recorded(folder: Path) -> None:
    (folder / ".pw").write_text("lab-secret")
    async with bash_session(folder) as (session, _):
        await session.async_run(SUDO)
        result = await session.async_execute("sudo echo granted", password="lab-secret")
        assert (result.output, result.exit_status) == ("granted\n", 0)
        with pytest.raises(ConsoleError, match=r"asks for a password .*\[sudo\] password for azureuser.*password="):
            await session.async_run("sudo id", timeout=10)
        with pytest.raises(ConsoleError, match="refused the password"):
            await session.async_run("sudo id", password="not-the-pw-42")
        assert await session.async_run("echo still-usable") == "still-usable\n"
    recorded = (folder / "t.cast").read_text() + (folder / "t.txt").read_text()
    assert "lab-secret" not in recorded and "not-the-pw-42" not in recorded


async def test_the_transcript_records_the_command_as_typed(folder: Path) -> None:
    async with bash_session(folder) as (session, _):
        await session.async_run("uname -s")
    cast = (folder / "t.cast").read_text()
    assert '"i", "uname -s\\r"' in cast and "commands are framed by printf markers" in cast


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(st.sampled_from("ab #$>:~/\t-=\"'\\%\n"), max_size=300), kernel_at=st.none() | st.integers(0, 400))
def test_any_output_comes_back_exactly(folder: Path, text: str, kernel_at: int | None) -> None:
    path = folder / "out"
    path.write_text(text)

    async def check() -> None:
        async with bash_session(folder, record=False) as (session, guest):
            if kernel_at is not None:
                guest.inject(kernel_at, KERNEL)
            result = await session.async_execute(f"cat {path}")
            assert (result.output, result.exit_status) == (text, 0)

    (folder / "ttyS0.sock").unlink(missing_ok=True)
    asyncio.run(check())


async def test_a_shell_without_printf_is_read_up_to_the_prompt_with_no_status(tmp_path: Path) -> None:
    def no_printf(data: bytes) -> str:
        line = data.decode().rstrip("\r")
        reply = "hello\r\n" if line == "hello" else f"{line.split()[0]}: not recognized\r\n"
        return f"{line}\r\n{reply}C:\\> "

    async with Session(MockTransport(no_printf, banner="C:\\> "), approval="T-1",
                       transcript=tmp_path / "w.cast") as session:
        result = await session.async_execute("hello")
        assert (result.output, result.exit_status) == ("hello\n", None)
    assert "the shell does not run printf" in (tmp_path / "w.cast").read_text()


LOCKED = ("You are in emergency mode. After logging in, type \"journalctl -xb\" to view\r\n"
          "system logs, \"systemctl reboot\" to reboot, \"systemctl default\" or \"exit\"\r\n"
          "to boot into default mode.\r\n\r\n"
          "Cannot open access to console, the root account is locked.\r\n"
          "See sulogin(8) man page for more details.\r\n\r\nPress Enter to continue.\r\n")


async def test_login_at_the_locked_root_screen_never_presses_enter_and_says_what_to_do() -> None:
    transport = MockTransport(lambda data: "", banner=LOCKED)
    async with Session(transport, approval="T-1") as session:
        with pytest.raises(ConsoleError, match=r"root account is locked.*repair VM.*linux-alar2 --parameters fstab"):
            await session.async_login("root", "pw", timeout=5)
    assert transport.sent == []


async def test_a_silent_console_whose_boot_log_ends_at_the_locked_root_screen_is_not_woken_with_enter() -> None:
    transport = MockTransport(lambda data: "", banner="")  # a real serial line shows nothing until a key
    boot_log = "[  OK  ] Reached target sysinit.target\r\n" + LOCKED
    async with Session(transport, approval="T-1", boot_log_tail=boot_log) as session:
        with pytest.raises(ConsoleError, match=r"root account is locked.*boot log ends on that screen"):
            await session.async_login("root", "pw", timeout=5)
    assert transport.sent == []


async def test_kernel_messages_after_the_locked_root_screen_do_not_hide_it() -> None:
    transport = MockTransport(lambda data: "", banner="")
    late = "".join(f"[   {80 + n}.120431] random: crng init done\r\n" for n in range(8))  # a slow boot's late lines
    async with Session(transport, approval="T-1", boot_log_tail="[  OK  ] Reached target sysinit.target\r\n" + LOCKED
                       + late) as session:
        with pytest.raises(ConsoleError, match=r"boot log ends on that screen"):
            await session.async_login("root", "pw", timeout=5)
    assert transport.sent == []


async def test_an_old_locked_root_boot_followed_by_a_good_one_does_not_stop_the_login() -> None:
    def getty(data: bytes) -> str:
        return {b"\r": "\r\nvm login: ", b"root\r": "root\r\nPassword: ", b"pw\r": "\r\nroot@vm:~# "}.get(data, "")

    boot_log = LOCKED + "".join(f"[  OK  ] Started unit {n}.\r\n" for n in range(10)) + "\r\nvm login: "
    async with Session(MockTransport(getty, banner=""), approval="T-1", boot_log_tail=boot_log) as session:
        assert (await session.async_login("root", "pw", timeout=5)).endswith("#")


async def test_login_at_an_emergency_prompt_shown_earlier_answers_it_instead_of_pressing_enter() -> None:
    prompt = "Give root password for maintenance\r\n(or press Control-D to continue): "

    def sulogin(data: bytes) -> str:
        return "\r\nroot@vm:~# " if data == b"root-pw\r" else "\r\nLogin incorrect\r\n\r\n" + prompt

    async with Session(MockTransport(sulogin, banner=prompt), approval="T-1") as session:
        await session.async_expect("continue\\): $", timeout=5)  # consumed: only the screen still shows it
        assert (await session.async_login("root", "root-pw", timeout=5)).endswith("#")
        assert session.transport.sent[0] == b"root-pw\r"  # type: ignore[attr-defined]


async def test_login_at_an_open_shell_records_whose_shell_it_is(folder: Path) -> None:
    async with bash_session(folder) as (session, _):
        assert (await session.async_login("x", "pw", timeout=10)).endswith("#")
        me = await session.async_run("id -un")
    markers = [json.loads(line)[2] for line in (folder / "t.cast").read_text().splitlines()[1:] if '"m"' in line]
    opened = [m for m in markers if m.startswith("already logged in ")]
    assert len(opened) == 1 and json.loads(opened[0].removeprefix("already logged in ")) == {
        "asked_for": "x", "user": me.strip()}
    assert not any(m.startswith("logged in") for m in markers)
