"""Transports on their own: TCP sockets, error mapping, the exported names."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed

from kit.console import Session, SocketTransport
from kit.errors import ConsoleClosedError, ConsoleTimeoutError


async def test_tcp_socket_transport_runs_a_command_and_decodes_split_utf8() -> None:
    async def guest(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"/ # ")
        while data := await reader.read(100):
            if data.endswith(b"\r"):
                writer.write(b"\r\n\xc3")          # the first byte of "é" ...
                await writer.drain()
                await asyncio.sleep(0.05)
                writer.write(b"\xa9t\xc3\xa9\r\n/ # ")  # ... and the rest in the next read
            else:
                writer.write(data)
            await writer.drain()

    server = await asyncio.start_server(guest, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, Session(SocketTransport(f"127.0.0.1:{port}"), approval="T-TCP") as session:
        assert await session.async_run("summer") == "été\n"
    server.close()


async def test_nothing_listening_is_a_timeout_with_a_hint() -> None:
    transport = SocketTransport("127.0.0.1:9", connect_timeout=0.3)
    with pytest.raises(ConsoleTimeoutError, match="nothing accepted a connection"):
        await transport.connect()


async def test_the_other_end_closing_is_console_closed(tmp_path) -> None:
    path = tmp_path / "s.sock"

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_unix_server(hang_up, str(path))
    async with server:
        transport = SocketTransport(path)
        await transport.connect()
        with pytest.raises(ConsoleClosedError, match="closed by the other end"):
            await transport.receive()
        await transport.close()


# ---------------------------------------------------------------------- the Azure websocket, reconnecting
class _Gateway:
    """A local gateway: the token first, then an echoing guest; ``drop()`` closes every socket (1011)."""

    token = "eyJhbGciOi.local.token"

    def __init__(self) -> None:
        self.sockets: set[object] = set()
        self.opened = 0

    async def handler(self, ws) -> None:  # type: ignore[no-untyped-def]
        if await ws.recv() != self.token:
            await ws.close(4401, "Unauthorized")
            return
        self.opened += 1
        self.sockets.add(ws)
        try:
            await ws.send(f"login {self.opened}: ")
            async for message in ws:
                await ws.send(message)
        except ConnectionClosed:
            pass  # dropped on purpose
        finally:
            self.sockets.discard(ws)

    async def drop(self) -> None:
        for ws in list(self.sockets):
            await ws.close(1011, "dropped")  # type: ignore[attr-defined]


async def _azure(gateway: _Gateway, fail: int = 0, token: str | None = None, **options):  # type: ignore[no-untyped-def]
    from websockets.asyncio.server import serve

    from kit.console import AzureSerialTransport, SerialConnection

    server = await serve(gateway.handler, "127.0.0.1", 0).__aenter__()
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/client"
    calls = {"n": 0}

    async def connector() -> SerialConnection:
        calls["n"] += 1
        if 1 < calls["n"] <= 1 + fail:
            from kit.errors import AzureError

            raise AzureError("serial_ports.connect: HTTP 503 ServiceUnavailable", status=503)
        return SerialConnection(url, token if (token and calls["n"] > 1) else gateway.token)

    return server, AzureSerialTransport(connector, ping_interval=None, backoff=0.02, **options), calls


async def test_a_drop_is_reconnected_once_for_the_reader_and_a_sender_together() -> None:
    gateway = _Gateway()
    server, transport, calls = await _azure(gateway, fail=2)
    notices = []
    transport.on_notice = notices.append
    await transport.connect()
    assert "login 1" in await transport.receive()
    await gateway.drop()
    receiving = asyncio.ensure_future(transport.receive())
    await asyncio.sleep(0.01)
    await transport.send(b"after the drop")                   # waits for the same reconnect
    got = await asyncio.wait_for(receiving, 5)
    while "after the drop" not in got:
        got += await asyncio.wait_for(transport.receive(), 5)
    assert calls["n"] == 4 and transport.reconnects == 1 and gateway.opened == 2
    assert [n.kind for n in notices] == ["reconnecting", "gap"]
    await transport.close()
    server.close()


async def test_when_every_reconnect_fails_the_loss_is_final_for_every_caller() -> None:
    from kit.errors import ConsoleLostError

    gateway = _Gateway()
    server, transport, calls = await _azure(gateway, fail=99, max_reconnects=3)
    await transport.connect()
    await transport.receive()
    await gateway.drop()
    with pytest.raises(ConsoleLostError, match=r"reconnect failed 3 times in [\d.]+ s \(serial_ports.connect: HTTP"):
        await transport.receive()
    with pytest.raises(ConsoleLostError):
        await transport.send(b"x")
    assert calls["n"] == 4                                     # nothing retried after the loss
    await transport.close()
    server.close()


async def test_a_token_refused_while_reconnecting_is_an_auth_error_not_a_loss() -> None:
    from kit.errors import ConsoleAuthError

    gateway = _Gateway()
    server, transport, _ = await _azure(gateway, token="not-the-token")
    await transport.connect()
    await transport.receive()
    await gateway.drop()
    with pytest.raises(ConsoleAuthError):
        while True:
            await asyncio.wait_for(transport.receive(), 5)
    await transport.close()
    server.close()
