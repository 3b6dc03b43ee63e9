"""Transports on their own: TCP sockets, error mapping, the exported names."""

from __future__ import annotations

import asyncio

import pytest

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
