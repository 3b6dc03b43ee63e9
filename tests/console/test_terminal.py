"""``kit console`` in a terminal: raw mode, the Ctrl+] menu, confirmations, the terminal restored.

Driven through a real pty, as a person at a terminal drives it.
"""

from __future__ import annotations

import os
import pty
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
from ptys import read_until, reap

from kit.console import MockTransport, Session
from kit.console.terminal import ESCAPE, EscapeMenu, MenuAction, run_terminal

PY = sys.executable


# ------------------------------------------------------------------ the menu alone
def test_keys_go_to_the_guest_until_the_escape_key() -> None:
    menu = EscapeMenu()
    assert menu.feed(b"ls -l\r") == [MenuAction(send=b"ls -l\r")]
    actions = menu.feed(b"ab" + ESCAPE + b"q")
    assert actions[0] == MenuAction(send=b"ab")
    assert "q=quit" in actions[1].say
    assert actions[2].quit


def test_escape_twice_sends_a_literal_escape_byte() -> None:
    menu = EscapeMenu()
    actions = menu.feed(ESCAPE + ESCAPE + b"x")
    assert [a.send for a in actions if a.send] == [ESCAPE, b"x"]


def test_nmi_and_reset_need_a_capital_y() -> None:
    menu = EscapeMenu()
    menu.feed(ESCAPE + b"r")
    refused = menu.feed(b"y")
    assert refused[0].admin is None and "not confirmed" in refused[0].say
    menu.feed(ESCAPE + b"r")
    assert menu.feed(b"Y")[0].admin == ("reset", None)
    menu.feed(ESCAPE + b"n")
    assert menu.feed(b"Y")[0].admin == ("nmi", None)
    assert not menu.in_menu


def test_sysrq_asks_for_a_key_and_is_refused_on_windows() -> None:
    menu = EscapeMenu(os_type="linux")
    assert "SysRq key" in menu.feed(ESCAPE + b"s")[-1].say
    assert "'b'" in menu.feed(b"b")[0].say
    assert menu.feed(b"Y")[0].admin == ("sysrq", "b")
    assert "one letter or digit" in EscapeMenu().feed(ESCAPE + b"s;")[-1].say
    windows = EscapeMenu(os_type="windows").feed(ESCAPE + b"s")
    assert "only on Linux" in windows[-1].say and all(a.admin is None for a in windows)


def test_any_other_key_leaves_the_menu_without_sending_it() -> None:
    menu = EscapeMenu()
    actions = menu.feed(ESCAPE + b"z" + b"k")
    assert [a.send for a in actions if a.send] == [b"k"]


# ------------------------------------------------------------------ kit console in a pty
CHILD = """
import sys, termios
from kit.cli import main
code = main(sys.argv[1:])
lflag = termios.tcgetattr(0)[3]
print("TERMINAL", "restored" if lflag & termios.ICANON and lflag & termios.ECHO else "RAW", flush=True)
sys.exit(code)
"""


def test_kit_console_logs_in_sends_a_confirmed_sysrq_and_restores_the_terminal(tmp_path: Path) -> None:
    from kit.lab import load_scenario

    guest = load_scenario("firewall-lockout").guest
    user, password = guest["username"], guest["password"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: `kit console --lab … --approval …` in a real terminal
        os.execv(PY, [PY, "-c", CHILD, "console", "--lab", "firewall-lockout", "--approval", "CHG-8",
                      "--transcript", str(tmp_path / "t.cast")])
    seen = bytearray()
    try:
        read_until(fd, b"Ctrl+] for the menu", seen)
        time.sleep(0.2)
        assert not termios.tcgetattr(fd)[3] & termios.ICANON, "the terminal is in raw mode during the session"
        os.write(fd, b"\r")
        read_until(fd, b"login: ", seen)
        os.write(fd, user.encode() + b"\r")
        read_until(fd, b"Password: ", seen)
        os.write(fd, password.encode() + b"\r")
        read_until(fd, b"$ ", seen)
        os.write(fd, b"sudo iptables -S | head -3\x03")         # Ctrl+C reaches the guest, not the kit
        read_until(fd, b"^C", seen)
        os.write(fd, ESCAPE + b"r")
        read_until(fd, b"capital Y", seen)
        os.write(fd, b"y")
        read_until(fd, b"not confirmed; nothing sent", seen)
        os.write(fd, ESCAPE + b"s")
        read_until(fd, b"SysRq key", seen)
        os.write(fd, b"h")
        read_until(fd, b"capital Y", seen)
        os.write(fd, b"Y")
        read_until(fd, b"sysrq: HELP", seen)
        os.write(fd, ESCAPE + b"q")
        read_until(fd, b"session closed", seen)
        read_until(fd, b"TERMINAL", seen)
        read_until(fd, b"\n", seen)
    finally:
        status = reap(pid)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"TERMINAL restored" in seen
    text = (tmp_path / "t.txt").read_text()
    assert "approval: CHG-8" in text and "admin command sysrq" in text
    assert "admin command reset" not in text, "an unconfirmed reset is never sent"
    assert password not in text and password not in (tmp_path / "t.cast").read_text()


def test_enter_after_the_guest_hung_up_opens_a_new_session() -> None:
    master, slave = os.openpty()
    transports: list[MockTransport] = []

    def make() -> Session:
        transport = MockTransport(lambda data: data, banner=f"console {len(transports) + 1}\r\n")
        transports.append(transport)
        return Session(transport, approval="CHG-1")

    first = make()
    result: list[int] = []
    runner = threading.Thread(target=lambda: result.append(
        run_terminal(first, new_session=make, stdin=slave, stdout=slave, stderr=slave)), daemon=True)
    runner.start()
    seen = bytearray()
    try:
        read_until(master, b"console 1", seen)
        deadline = time.monotonic() + 5
        while termios.tcgetattr(slave)[3] & termios.ICANON and time.monotonic() < deadline:
            time.sleep(0.01)  # keys typed before raw mode are the terminal's, not the guest's
        os.write(master, b"hi")
        read_until(master, b"hi", seen)
        first.loop.call_soon_threadsafe(transports[0].hangup)
        read_until(master, b'press "Enter" to reconnect', seen)
        os.write(master, b"lost")                                # not sent anywhere: nothing is connected
        os.write(master, b"\r")
        read_until(master, b"console 2", seen)
        os.write(master, b"again")
        read_until(master, b"again", seen)
        os.write(master, ESCAPE + b"q")
        runner.join(10)
    finally:
        os.close(master)
        os.close(slave)
    assert result == [0]
    assert transports[0].sent == [b"hi"] and transports[1].sent == [b"again"]
    assert all(not t.connected or t._closed for t in transports)


@pytest.mark.parametrize("argv", [["console", "--vm", "sched-01", "--approval", "X"]])
def test_a_vm_name_needs_its_subscription_and_resource_group(argv: list[str],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from kit.cli import main

    assert main(argv) == 2
    assert "--subscription and --resource-group" in capsys.readouterr().err


def _run_in_pty(first: Session, make=None):  # type: ignore[no-untyped-def]
    master, slave = os.openpty()
    result: list[object] = []

    def run() -> None:
        try:
            result.append(run_terminal(first, new_session=make, stdin=slave, stdout=slave, stderr=slave))
        except BaseException as error:  # noqa: BLE001 - the test looks at it
            result.append(error)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    deadline = time.monotonic() + 5
    while termios.tcgetattr(slave)[3] & termios.ICANON and time.monotonic() < deadline:
        time.sleep(0.01)
    return runner, master, slave, result


def test_a_new_session_that_cannot_open_is_said_and_quitting_then_is_a_loss() -> None:
    from kit.errors import ConsoleLostError, ConsolePrecheckError

    transport = MockTransport(lambda data: data, banner="console 1\r\n")
    first = Session(transport, approval="CHG-1")
    attempts: list[int] = []

    def make() -> Session:
        attempts.append(1)
        raise ConsolePrecheckError("the serial console cannot be used: power state: deallocated")

    runner, master, slave, result = _run_in_pty(first, make)
    seen = bytearray()
    try:
        read_until(master, b"console 1", seen)
        first.loop.call_soon_threadsafe(transport.hangup)         # not a loss: Enter is offered
        said = read_until(master, b'press "Enter" to reconnect', seen)
        assert b"Connection closed" in said
        os.write(master, b"\r")
        said = read_until(master, b'press "Enter" to reconnect', seen)
        assert b"could not open a new session: the serial console cannot be used" in said
        os.write(master, b"\r")
        read_until(master, b"could not open a new session", seen)
        os.write(master, ESCAPE + b"q")
        runner.join(10)
    finally:
        os.close(master)
        os.close(slave)
    assert len(attempts) == 2
    assert len(result) == 1 and isinstance(result[0], ConsoleLostError)
    assert "deallocated" in str(result[0]) and "\n" not in str(result[0])


class _Reconnecting(MockTransport):
    reconnecting = True  # type: ignore[assignment]


def test_keys_typed_while_the_transport_reconnects_are_not_sent_and_that_is_said() -> None:
    transport = _Reconnecting(lambda data: data, banner="console 1\r\n")
    session = Session(transport, approval="CHG-1")
    runner, master, slave, result = _run_in_pty(session)
    seen = bytearray()
    try:
        read_until(master, b"console 1", seen)
        os.write(master, b"secret-ish\r")
        read_until(master, b"reconnecting: keys typed now are not sent", seen)
        os.write(master, ESCAPE + b"q")
        runner.join(10)
    finally:
        os.close(master)
        os.close(slave)
    assert transport.sent == [] and result == [0]
