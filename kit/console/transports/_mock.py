"""``MockTransport``: a scripted guest in a function, the test seam for sessions."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from kit.console.transports._base import Transport
from kit.errors import ConsoleClosedError, ConsoleError, ConsoleLostError

__all__ = ["MockTransport"]

Handler = Callable[[bytes], "str | bytes | None | Awaitable[str | bytes | None]"]


class MockTransport(Transport):
    """A transport whose guest is ``handler``.

    Every :meth:`send` calls ``handler(data)`` (sync or async); what it returns (text, bytes
    or ``None``) is queued as guest output. :meth:`feed` queues output without any input,
    e.g. a banner, :meth:`hangup` ends the stream as a guest hanging up does, and :meth:`lose`
    as a connection whose every reconnect failed does.

    Parameters
    ----------
    handler
        Called with each chunk the session sends.
    banner
        Output available as soon as the transport is connected.
    os_type
        ``"linux"`` or ``"windows"``, for prompt detection.
    """

    description = "mock"

    def __init__(self, handler: Handler | None = None, *, banner: str | bytes = "", os_type: str | None = None) -> None:
        super().__init__()
        self._handler = handler
        self._queue: asyncio.Queue[bytes | str | ConsoleError | None] = asyncio.Queue()
        self._failure: ConsoleError | None = None
        self._banner = banner
        self._closed = False
        self.connected = False
        self.sent: list[bytes] = []
        self.admin: list[tuple[str, dict[str, Any]]] = []
        self.os_type = os_type

    async def connect(self) -> None:
        """Mark the transport open and queue the banner."""
        self.connected = True
        if self._banner:
            self.feed(self._banner)

    def feed(self, data: str | bytes) -> None:
        """Queue guest output."""
        self._queue.put_nowait(data)

    def hangup(self) -> None:
        """End the stream: the next :meth:`receive` after queued output raises ``ConsoleClosedError``."""
        self._queue.put_nowait(None)

    def lose(self, reason: str = "reconnect failed 5 times in 6.2 s (the gateway did not answer)") -> None:
        """Lose the connection for good: after queued output, receive and send raise ``ConsoleLostError``."""
        self._queue.put_nowait(ConsoleLostError(f"the serial console connection was lost: {reason}"))

    async def send(self, data: bytes) -> None:
        """Record ``data`` and queue the handler's answer."""
        if self._closed:
            raise ConsoleClosedError("the mock transport is closed")
        if self._failure is not None:
            raise self._failure
        self.sent.append(bytes(data))
        if self._handler is None:
            return
        answer = self._handler(bytes(data))
        if inspect.isawaitable(answer):
            answer = await answer
        if answer:
            self.feed(answer)

    async def receive(self) -> str:
        """Return the next queued output."""
        if self._closed:
            raise ConsoleClosedError("the mock transport is closed")
        if self._failure is not None:
            raise self._failure
        item = await self._queue.get()
        if item is None:
            self._closed = True
            raise ConsoleClosedError("the mock guest hung up")
        if isinstance(item, ConsoleError):
            self._failure = item
            raise item
        return self._decode(item)

    async def admin_command(self, command: str, parameters: dict[str, Any] | None = None) -> None:
        """Record the admin command."""
        self.admin.append((command, dict(parameters or {})))

    async def close(self) -> None:
        """Close; pending receivers get ``ConsoleClosedError``."""
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(None)
