"""Session behaviour over MockTransport: run, expect, login, timeouts, hooks, admin, twins."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from kit.console import MockTransport, Session, SessionState
from kit.errors import ConsoleClosedError, ConsoleError, ConsoleTimeoutError, UsageError


def tiny_shell(prompt: str = "root@vm:~# "):
    """A guest that echoes, and answers `echo X` and `whoami`."""
    line = []

    def handler(data: bytes) -> str:
        out = []
        for ch in data.decode():
            if ch == "\r":
                command = "".join(line)
                line.clear()
                out.append("\r\n")
                if command.startswith("echo "):
                    out.append(command[5:] + "\r\n")
                elif command == "whoami":
                    out.append("root\r\n")
                elif command:
                    out.append(f"-bash: {command.split()[0]}: command not found\r\n")
                out.append(prompt)
            else:
                line.append(ch)
                out.append(ch)
        return "".join(out)

    return handler


async def test_run_returns_only_the_command_output() -> None:
    async with Session(MockTransport(tiny_shell(), banner="root@vm:~# ", os_type="linux"), approval="T-1") as session:
        assert await session.async_run("echo hello world") == "hello world\n"
        assert await session.async_run("whoami") == "root\n"
        assert await session.async_run("nosuch") == "-bash: nosuch: command not found\n"


def test_blocking_twins_work_outside_and_report_misuse_inside_a_loop() -> None:
    session = Session(MockTransport(tiny_shell(), banner="root@vm:~# "), approval="T-1")
    with session:
        assert session.run("echo twin") == "twin\n"

        async def inside() -> None:
            with pytest.raises(ConsoleError, match="would block"):
                session.run("whoami")

        # a loop running in this thread (like a notebook cell) is not the session's loop: allowed
        assert asyncio.run(_call_in_loop(session)) == "root\n"
    assert session.state is SessionState.CLOSED


async def _call_in_loop(session: Session) -> str:
    return session.run("whoami")


async def test_timeout_raises_with_the_last_screen_lines() -> None:
    async with Session(MockTransport(lambda d: None, banner="booting...\r\nstill booting\r\n"), approval="T-1") as s:
        with pytest.raises(ConsoleTimeoutError) as caught:
            await s.async_expect("login:", timeout=0.3)
    assert "still booting" in str(caught.value)
    assert isinstance(caught.value, TimeoutError)


async def test_approval_is_required() -> None:
    with pytest.raises(UsageError, match="approval"):
        Session(MockTransport(), approval=" ")


async def test_closed_guest_surfaces_as_console_closed() -> None:
    transport = MockTransport(lambda d: None, banner="bye\r\n")
    async with Session(transport, approval="T-1") as session:
        transport.hangup()
        with pytest.raises(ConsoleClosedError):
            await session.async_expect("never", timeout=5)


async def test_reuse_after_close_says_why() -> None:
    session = Session(MockTransport(), approval="T-1")
    await session.async_open()
    await session.async_close()
    with pytest.raises(ConsoleClosedError, match="closed"):
        await session.async_send("x")
    with pytest.raises(ConsoleError, match="new Session"):
        await session.async_open()


async def test_hooks_prompt_and_history() -> None:
    seen: list[str] = []
    prompts: list[str] = []

    async def on_prompt(prompt: str) -> None:
        prompts.append(prompt)

    async with Session(MockTransport(tiny_shell(), banner="root@vm:~# "), approval="T-1",
                       on_output=seen.append, on_prompt=on_prompt, history_limit=50) as session:
        for _ in range(5):
            await session.async_run("echo 0123456789")
        assert "".join(seen).count("0123456789") == 10
        assert prompts[-1].strip() == "root@vm:~#"
        assert len(session.history_text()) <= 50 + 30
        assert session.screen_text().splitlines()[-1] == "root@vm:~#"


async def test_admin_commands_need_confirmation_and_sysrq_is_linux_only(tmp_path: Path) -> None:
    transport = MockTransport(tiny_shell(), banner="root@vm:~# ", os_type="linux")
    async with Session(transport, approval="T-1", transcript=tmp_path / "t.cast") as session:
        with pytest.raises(UsageError, match="confirm=True"):
            await session.async_reset()
        await session.async_sysrq("h", confirm=True)
        await session.async_nmi(confirm=True)
    assert transport.admin == [("sysrq", {"SysRqCommand": "h"}), ("nmi", {})]
    markers = [json.loads(line)[2] for line in (tmp_path / "t.cast").read_text().splitlines()[1:] if '"m"' in line]
    assert any("admin command sysrq" in m for m in markers)
    windows = MockTransport(lambda d: None, banner="SAC>", os_type="windows")
    async with Session(windows, approval="T-1") as session:
        with pytest.raises(ConsoleError, match="Linux"):
            await session.async_sysrq("b", confirm=True)


async def test_login_from_a_login_prompt_hides_the_password(tmp_path: Path) -> None:
    state = {"stage": "user"}

    def guest(data: bytes) -> str:
        text = data.decode()
        if text == "\r":
            return "\r\nvm login: " if state["stage"] == "user" else ""
        if state["stage"] == "user":
            state["stage"] = "password"
            return text.replace("\r", "\r\n") + "Password: "
        state["stage"] = "shell"
        return "\r\nWelcome\r\nazureuser@vm:~$ "

    async with Session(MockTransport(guest, banner="vm login: "), approval="T-1",
                       transcript=tmp_path / "login.cast") as session:
        assert (await session.async_login("azureuser", "S3cret-Canary!")).endswith("$")
    for path in (tmp_path / "login.cast", tmp_path / "login.txt"):
        assert "S3cret-Canary!" not in path.read_text()


async def test_live_findings_surface_emergency_mode(tmp_path: Path) -> None:
    found = []
    boot = ("[  OK  ] Reached target Basic System.\r\n"
            "You are in emergency mode. After logging in, type \"journalctl -xb\" to view\r\n"
            "Give root password for maintenance\r\n(or press Control-D to continue): ")
    async with Session(MockTransport(lambda d: None, banner=boot), approval="T-1", on_finding=found.append) as session:
        await session.async_expect("continue\\): ", timeout=2)
        await asyncio.sleep(0.3)
        session.findings.analyse()
    assert any("emergency" in f.kind or "emergency" in f.summary.lower() for f in session.findings.findings)


def test_live_findings_analyse_each_line_once_however_long_the_session() -> None:
    from kit.console.findings import LiveFindings

    seen: list[str] = []
    findings = LiveFindings(lambda f: seen.append(f.kind), min_interval=0)
    findings.feed("Give root password for mainte")          # a line still being printed waits for its end
    assert seen == []
    findings.feed("nance\r\n")
    assert seen == ["boot:systemd:emergency_mode"]
    for _ in range(5_000):
        findings.feed("ordinary output\r\n")
    findings.feed("Give root password for maintenance\r\n")   # the same line again is not a new finding
    assert seen == ["boot:systemd:emergency_mode"]
    assert findings._lines == []                             # nothing analysed twice, nothing kept


def test_the_screen_after_a_flood_shows_what_the_guest_last_drew() -> None:
    from kit.console.screen import Screen

    screen = Screen(80, 24)
    screen.feed("\x1b[2J\x1b[Hboot banner\r\n")
    for n in range(20_000):                              # only the backlog's tail is drawn: its lines must land right
        screen.feed(f"line {n:05d} " + "x" * 60 + "\r\n")
    screen.feed("sched-01 login: ")
    rows = screen.lines()
    assert rows[-1] == "sched-01 login:"
    assert rows[-2] == "line 19999 " + "x" * 60 and rows[-3] == "line 19998 " + "x" * 60
    assert screen.cursor == (len("sched-01 login: "), 23)


def test_the_session_says_when_and_why_its_connection_ended() -> None:
    transport = MockTransport(banner="login: ")
    session = Session(transport, approval="T-1")
    ended: list[str] = []
    session.call_when_ended(lambda: ended.append("never opened"))   # nothing to watch yet: ignored
    assert not session.ended and session.closed_error is None and session.loop is None
    with session:
        session.call_when_ended(lambda: ended.append("ended"))
        assert not session.ended
        session.loop.call_soon_threadsafe(transport.hangup)
        deadline = time.monotonic() + 5
        while not ended and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ended == ["ended"] and session.ended
        assert isinstance(session.closed_error, ConsoleClosedError) and "hung up" in str(session.closed_error)
    assert session.ended


async def test_pending_output_can_be_waited_for_read_and_discarded() -> None:
    async with Session(MockTransport(lambda d: None, banner="booting\r\n"), approval="T-1", settle=0.05) as session:
        await session.async_wait_quiet(2)
        assert session.pending == "booting\r\n"
        session.discard_pending()
        assert session.pending == ""
        error = session.timeout_error("the login prompt", 3)
        assert isinstance(error, ConsoleTimeoutError)
        assert "the login prompt did not happen within 3 s" in str(error) and "  | booting" in str(error)


def test_the_prompt_pattern_follows_the_option_and_the_os() -> None:
    assert Session(MockTransport(), approval="T-1", prompt=r"=> $").prompt_pattern.pattern == r"=> $"
    windows = Session(MockTransport(os_type="windows"), approval="T-1").prompt_pattern
    assert windows.search("\r\nSAC>") and not windows.search("\r\nroot@vm:~# ")
    assert Session(MockTransport(), approval="T-1").prompt_pattern.search("\r\nSAC>")   # unknown OS: any prompt


def test_history_keeps_the_newest_output_within_its_limit() -> None:
    from kit.console._history import History

    history = History(10)
    for piece in ("0123", "4567", "89ab"):
        history.append(piece)
    assert history.text() == "456789ab"                   # whole pieces dropped from the front
    history.append("a piece longer than the limit")
    assert history.text() == "a piece longer than the limit"
    history.clear()
    assert history.text() == ""


async def test_a_guest_hanging_up_ends_the_session_output_stays_readable_and_sends_refuse(tmp_path: Path) -> None:
    from kit.console import SessionState

    transport = MockTransport(lambda d: None, banner="logout\r\n")
    async with Session(transport, approval="T-1", transcript=tmp_path / "h.cast") as session:
        transport.hangup()
        await asyncio.sleep(0.1)
        assert session.state is SessionState.ENDED and session.ended
        assert (await session.async_expect("logout", timeout=1)).group(0) == "logout"   # already received
        assert await session.async_read(timeout=5) == "\r\n"
        started = time.monotonic()
        assert await session.async_read(timeout=5) == "" and time.monotonic() - started < 1   # nothing comes
        with pytest.raises(ConsoleClosedError, match="hung up"):
            await session.async_send("ls\r")
        with pytest.raises(ConsoleClosedError):
            await session.async_run("ls")
    assert session.state is SessionState.CLOSED
    assert "the console connection ended" in (tmp_path / "h.cast").read_text()


async def test_run_honours_its_deadline_when_sending_blocks() -> None:
    async def stuck(data: bytes) -> None:
        await asyncio.sleep(3600)                     # like keys waiting for a reconnect that hangs

    async with Session(MockTransport(stuck, banner="root@vm:~# "), approval="T-1") as session:
        started = time.monotonic()
        with pytest.raises(ConsoleTimeoutError, match="reconnecting"):
            await session.async_run("whoami", timeout=0.5)
        assert time.monotonic() - started < 1.5
        with pytest.raises(ConsoleTimeoutError):
            await session.async_send("x", timeout=0.2)


async def test_a_lost_connection_is_a_console_lost_error_everywhere(tmp_path: Path) -> None:
    from kit.console import SessionState
    from kit.errors import ConsoleLostError

    transport = MockTransport(lambda d: None, banner="root@vm:~# ")
    async with Session(transport, approval="T-1", transcript=tmp_path / "l.cast") as session:
        transport.lose("reconnect failed 5 times in 6.2 s (HTTP 503)")
        await asyncio.sleep(0.1)
        assert session.state is SessionState.ENDED
        assert isinstance(session.closed_error, ConsoleLostError)
        for attempt in (session.async_send("x"), session.async_run("ls"), session.async_expect("never", 5)):
            with pytest.raises(ConsoleLostError, match="reconnect failed 5 times"):
                await attempt
    cast = (tmp_path / "l.cast").read_text()
    assert "reconnect failed; the console connection is lost" in cast and "6.2 s" in cast
