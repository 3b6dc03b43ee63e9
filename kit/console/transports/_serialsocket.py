"""``SocketTransport``: a raw serial line over TCP or a unix socket (QEMU, libvirt, socat)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from kit.console.transports._base import Transport
from kit.errors import ConsoleClosedError, ConsoleError, ConsoleTimeoutError

__all__ = ["SocketTransport"]


class SocketTransport(Transport):
    """A serial port exposed as a stream socket.

    Parameters
    ----------
    address
        ``"host:port"`` for TCP, or a filesystem path (``str`` or ``Path``) for a unix socket;
        ``"unix:/path"`` is accepted too.
    connect_timeout
        Seconds to keep retrying while the socket is not there yet (QEMU creating it).
    os_type
        ``"linux"`` or ``"windows"`` when known, for prompt detection.
    """

    def __init__(self, address: str | Path, *, connect_timeout: float = 10.0, os_type: str | None = "linux") -> None:
        super().__init__()
        self.address = str(address)
        self.connect_timeout = connect_timeout
        self.os_type = os_type
        self.description = f"socket {self.address}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    def _is_unix(self) -> bool:
        return self.address.startswith("unix:") or "/" in self.address or ":" not in self.address

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._is_unix():
            return await asyncio.open_unix_connection(self.address.removeprefix("unix:"))
        host, _, port = self.address.rpartition(":")
        return await asyncio.open_connection(host.strip("[]"), int(port))

    async def connect(self) -> None:
        """Connect, retrying until ``connect_timeout`` while the other end is starting."""
        deadline = time.monotonic() + self.connect_timeout
        while True:
            try:
                self._reader, self._writer = await self._open()
                return
            except (ConnectionRefusedError, FileNotFoundError) as error:
                if time.monotonic() >= deadline:
                    raise ConsoleTimeoutError(
                        f"nothing accepted a connection on {self.address} within {self.connect_timeout:g} s "
                        "(is the VM/QEMU running with its serial port on that socket?)"
                    ) from error
                await asyncio.sleep(0.05)
            except (OSError, ValueError) as error:
                raise ConsoleError(f"cannot connect to serial socket {self.address}: {error}") from error

    async def send(self, data: bytes) -> None:
        """Write bytes to the serial line."""
        if self._writer is None or self._writer.is_closing():
            raise ConsoleClosedError(f"the serial socket {self.address} is not connected")
        try:
            self._writer.write(bytes(data))
            await self._writer.drain()
        except (ConnectionError, OSError) as error:
            raise ConsoleClosedError(f"the serial socket {self.address} closed: {error}") from error

    async def receive(self) -> str:
        """Read what the guest printed."""
        if self._reader is None:
            raise ConsoleClosedError(f"the serial socket {self.address} is not connected")
        while True:
            try:
                data = await self._reader.read(65536)
            except (ConnectionError, OSError) as error:
                raise ConsoleClosedError(f"the serial socket {self.address} closed: {error}") from error
            if not data:
                raise ConsoleClosedError(f"the serial socket {self.address} was closed by the other end")
            text = self._decode(data)
            if text:
                return text

    async def close(self) -> None:
        """Close the socket."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
