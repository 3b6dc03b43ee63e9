"""Adversarial: a console connection lost for good ends the session plainly, on time, and with exit 7.

The Azure transport talks to a local websocket gateway that is dropped on purpose, and its
connector (the ``/connect`` POST) fails every reconnect, or hangs. Then: the transcript has a
"reconnect failed" marker, ``state`` is no longer ``OPEN``, ``closed_error`` is a
``ConsoleLostError``, a ``run(timeout=10)`` waiting on the console raises within a second of the
loss, a deadline is honoured while a reconnect hangs, ``kit console open`` exits 7 with a one-line
message, and the terminal offers Enter to reconnect — or says plainly that it cannot.
"""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import sys
import termios
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from ptys import read_until
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from kit.console import AzureSerialTransport, MockTransport, SerialConnection, Session, SessionState
from kit.console.terminal import ESCAPE, run_terminal
from kit.errors import ConsoleError, ConsoleLostError, ConsoleTimeoutError

PY = sys.executable
TOKEN = "eyJ0eXAiOiJKV1QifQ.eyJsb3NzIjoidGVzdCJ9.c2ln"


class Gateway:
    """A serial console gateway on 127.0.0.1: the token first, then a guest that echoes; ``drop()`` cuts it."""

    def __init__(self) -> None:
        self.sockets: set[ServerConnection] = set()
        self.url = ""

    async def handler(self, ws: ServerConnection) -> None:
        if await ws.recv() != TOKEN:
            await ws.close(4401, "Unauthorized")
            return
        self.sockets.add(ws)
        try:
            await ws.send("\r\nsched-01 login: ")
            async for message in ws:
                await ws.send(message if isinstance(message, str) else message.decode())
        except ConnectionClosed:
            pass  # dropped on purpose
        finally:
            self.sockets.discard(ws)

    async def drop(self) -> None:
        for ws in list(self.sockets):
            await ws.close(1011, "gateway dropped the connection")


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    gw = Gateway()
    async with serve(gw.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        gw.url = f"ws://127.0.0.1:{port}/n/connector/c/sessions/s/client"
        yield gw


def _connector(gateway: Gateway, *, then: str = "fail"):
    """The first /connect works; every reconnect fails at once (``"fail"``) or hangs (``"hang"``)."""
    calls = {"n": 0}

    async def connect() -> SerialConnection:
        calls["n"] += 1
        if calls["n"] > 1:
            if then == "hang":
                await asyncio.sleep(3600)
            raise ConsoleError("could not reach the serial console gateway: Connection refused")
        return SerialConnection(gateway.url, TOKEN)

    return connect, calls


def _markers(cast: Path) -> str:
    return cast.read_text()


async def test_a_lost_connection_ends_the_session_and_run_raises_within_a_second(
        gateway: Gateway, tmp_path: Path) -> None:
    connect, calls = _connector(gateway)
    transport = AzureSerialTransport(connect, max_reconnects=3, backoff=0.05, ping_interval=None)
    session = Session(transport, approval="LOSS-1", transcript=tmp_path / "l.cast")
    ended: list[float] = []
    async with session:
        await session.async_expect("login: $", timeout=5)
        session.call_when_ended(lambda: ended.append(time.monotonic()))
        waiting = asyncio.ensure_future(session.async_run("journalctl -f", timeout=10))  # the guest never answers
        await asyncio.sleep(0.3)
        dropped = time.monotonic()
        await gateway.drop()
        with pytest.raises(ConsoleLostError, match="reconnect failed 3 times"):
            await waiting
        raised = time.monotonic()
        assert ended, "the session noticed the loss"
        assert raised - ended[0] < 1.0, f"run() raised {raised - ended[0]:.2f} s after the loss"
        assert raised - dropped < 2.0, f"run() raised {raised - dropped:.2f} s after the drop"
        assert session.state is SessionState.ENDED and session.state is not SessionState.OPEN
        assert isinstance(session.closed_error, ConsoleLostError)
        assert session.ended
        with pytest.raises(ConsoleLostError):
            await session.async_send("are you there?\r")
        with pytest.raises(ConsoleLostError):
            session.discard_pending()
            await session.async_expect("never", timeout=5)
    assert calls["n"] == 4                                    # the first connect and 3 reconnects
    assert session.state is SessionState.CLOSED
    cast, text = _markers(tmp_path / "l.cast"), (tmp_path / "l.txt").read_text()
    for recording in (cast, text):
        assert "connection dropped; reconnecting" in recording
        assert "reconnect failed; the console connection is lost" in recording
        assert "reconnect failed 3 times" in recording
    assert TOKEN not in cast and TOKEN not in text


async def test_with_the_default_retries_run_10_raises_when_reconnecting_gives_up(gateway: Gateway) -> None:
    connect, _ = _connector(gateway)
    transport = AzureSerialTransport(connect, ping_interval=None)        # 5 attempts, 0.4 s doubling
    session = Session(transport, approval="LOSS-2")
    ended: list[float] = []
    async with session:
        await session.async_expect("login: $", timeout=5)
        session.call_when_ended(lambda: ended.append(time.monotonic()))
        await gateway.drop()
        await asyncio.sleep(0.1)
        started = time.monotonic()
        with pytest.raises(ConsoleLostError, match="reconnect failed 5 times"):
            await session.async_run("hostname", timeout=10)     # typed while reconnecting
        raised = time.monotonic()
    assert ended and raised - ended[0] < 1.0, "raised within a second of the loss"
    assert raised - started < 10.0, f"run(timeout=10) took {raised - started:.1f} s"


async def test_a_deadline_is_honoured_while_a_reconnect_hangs(gateway: Gateway) -> None:
    connect, _ = _connector(gateway, then="hang")                # the /connect POST never answers
    transport = AzureSerialTransport(connect, ping_interval=None)
    session = Session(transport, approval="LOSS-3")
    async with session:
        await session.async_expect("login: $", timeout=5)
        await gateway.drop()
        await asyncio.sleep(0.1)
        assert transport.reconnecting
        started = time.monotonic()
        with pytest.raises(ConsoleTimeoutError, match="reconnecting"):
            await session.async_run("hostname", timeout=2)
        took = time.monotonic() - started
        assert took < 3.0, f"run(timeout=2) took {took:.1f} s"
        assert session.state is SessionState.OPEN             # not lost (yet): still reconnecting
        closing = time.monotonic()
    assert time.monotonic() - closing < 1.0, "closing stops the hung reconnect"
    assert not transport.reconnecting


async def test_a_mock_transport_that_loses_the_connection(tmp_path: Path) -> None:
    transport = MockTransport(lambda data: None, banner="sched-01 login: ")
    session = Session(transport, approval="LOSS-4", transcript=tmp_path / "m.cast")
    async with session:
        await session.async_expect("login: $", timeout=5)
        waiting = asyncio.ensure_future(session.async_run("hostname", timeout=10))
        await asyncio.sleep(0.2)
        lost = time.monotonic()
        transport.lose()
        with pytest.raises(ConsoleLostError):
            await waiting
        assert time.monotonic() - lost < 1.0
        assert session.state is SessionState.ENDED and isinstance(session.closed_error, ConsoleLostError)
    assert "reconnect failed; the console connection is lost" in (tmp_path / "m.cast").read_text()


# ---------------------------------------------------------------------- the terminal
def _terminal(first: Session, make: object = None) -> tuple[threading.Thread, int, int, list[object]]:
    master, slave = os.openpty()
    result: list[object] = []

    def run() -> None:
        try:
            result.append(run_terminal(first, new_session=make, stdin=slave, stdout=slave, stderr=slave))  # type: ignore[arg-type]
        except BaseException as error:  # noqa: BLE001 - the test looks at it
            result.append(error)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    deadline = time.monotonic() + 5
    while termios.tcgetattr(slave)[3] & termios.ICANON and time.monotonic() < deadline:
        time.sleep(0.01)
    return runner, master, slave, result


def test_the_terminal_offers_enter_to_reconnect_and_quitting_a_lost_console_is_exit_7() -> None:
    transports: list[MockTransport] = []

    def make() -> Session:
        transport = MockTransport(lambda data: data, banner=f"console {len(transports) + 1}\r\n")
        transports.append(transport)
        return Session(transport, approval="CHG-1")

    first = make()
    runner, master, slave, result = _terminal(first, make)
    seen = bytearray()
    try:
        read_until(master, b"console 1", seen)
        first.loop.call_soon_threadsafe(transports[0].lose, "reconnect failed 5 times in 6.2 s (HTTP 503)")
        said = read_until(master, b'press "Enter" to reconnect', seen)
        assert b"reconnect failed 5 times" in said
        os.write(master, b"\r")
        read_until(master, b"console 2", seen)               # a new session: the loss was not final
        first.loop.call_soon_threadsafe(transports[1].lose)
        read_until(master, b'press "Enter" to reconnect', seen)
        os.write(master, ESCAPE + b"q")                      # quit instead: the console is left lost
        runner.join(10)
    finally:
        os.close(master)
        os.close(slave)
    assert len(result) == 1 and isinstance(result[0], ConsoleLostError)


def test_without_a_way_to_reconnect_the_terminal_says_the_loss_is_final() -> None:
    transport = MockTransport(lambda data: data, banner="console 1\r\n")
    session = Session(transport, approval="CHG-1")
    runner, master, slave, result = _terminal(session)
    seen = bytearray()
    try:
        read_until(master, b"console 1", seen)
        session.loop.call_soon_threadsafe(transport.lose)
        said = read_until(master, b"session closed", seen)
        runner.join(10)
    finally:
        os.close(master)
        os.close(slave)
    assert b"lost for good" in said and b'press "Enter"' not in said
    assert len(result) == 1 and isinstance(result[0], ConsoleLostError)


def test_a_guest_hanging_up_is_not_a_loss() -> None:
    transport = MockTransport(lambda data: data, banner="console 1\r\n")
    session = Session(transport, approval="CHG-1")
    runner, master, slave, result = _terminal(session)
    try:
        read_until(master, b"console 1", bytearray())
        session.loop.call_soon_threadsafe(transport.hangup)
        runner.join(10)
    finally:
        os.close(master)
        os.close(slave)
    assert result == [0]


# ---------------------------------------------------------------------- kit console, as a user runs it
CHILD = """
import contextlib, signal, sys
import kit.lab
from kit.cli import main

real = kit.lab.running_lab


@contextlib.contextmanager
def lab_that_loses_its_console(*args, **kwargs):
    with real(*args, **kwargs) as lab:
        def lose(*_):  # the VM is deallocated under the session: every /connect is refused from now on
            from kit.lab.gateway import hub_of
            info = lab.scenario("firewall-lockout")
            vm = info.vm_id(info.broken_vm).lower()
            view = lab.state.instance_views[vm]
            view["statuses"] = [s for s in view["statuses"] if not s["code"].startswith("PowerState/")] + [
                {"code": "PowerState/deallocated", "level": "Info", "displayStatus": "VM deallocated"}]
            hub_of(lab.state).drop(vm)
        signal.signal(signal.SIGUSR1, lose)
        yield lab


kit.lab.running_lab = lab_that_loses_its_console
sys.exit(main(sys.argv[1:]))
"""


def test_kit_console_exits_7_with_one_line_when_the_console_is_lost(tmp_path: Path) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: `kit console open --lab …` in a real terminal
        os.execv(PY, [PY, "-c", CHILD, "console", "open", "--lab", "firewall-lockout", "--approval", "CHG-LOST",
                      "--transcript", str(tmp_path / "t.cast")])
    seen = bytearray()
    try:
        read_until(fd, b"Ctrl+] for the menu", seen)
        time.sleep(0.2)
        os.write(fd, b"\r")
        read_until(fd, b"login: ", seen)
        os.kill(pid, signal.SIGUSR1)
        read_until(fd, b"reconnecting", seen)
        said = read_until(fd, b'press "Enter" to reconnect', seen)
        assert b"reconnect failed 5 times" in said
        os.write(fd, b"\r")                                   # a new session: refused (the VM is deallocated)
        said = read_until(fd, b'press "Enter" to reconnect', seen)
        assert b"could not open a new session" in said and b"deallocated" in said
        os.write(fd, ESCAPE + b"q")
        read_until(fd, b"session closed", seen)
        read_until(fd, b"error: ", seen)
        read_until(fd, b"\n", seen)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 7
    tail = bytes(seen).decode(errors="replace")
    error = tail[tail.index("error: "):].splitlines()[0]
    assert "lost" in error and "deallocated" in error
    assert tail[tail.index("error: "):].strip() == error.strip(), "one line"
    cast = (tmp_path / "t.cast").read_text()
    assert "reconnect failed; the console connection is lost" in cast
    assert "reconnect failed" in (tmp_path / "t.txt").read_text()
