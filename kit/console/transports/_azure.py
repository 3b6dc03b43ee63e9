"""``AzureSerialTransport``: the Azure serial console websocket (and the lab's copy of it).

Protocol (see the serial-console reference): open the ``connectionString`` websocket, send the
ARM access token as the first text frame, then guest output arrives as text *or* binary frames
and keystrokes go out as text frames. A dropped socket is reopened with a fresh ``/connect``
POST and a fresh token (the URL is per session); the gap is reported as a :class:`Notice`.
One reconnect runs at a time, shared by whoever noticed the drop (the reader, a sender): a
sender that stops waiting does not cancel it. When every attempt fails the connection is lost
for good: :class:`~kit.errors.ConsoleLostError`, from then on, to every caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from kit.console.transports._base import Notice, Transport
from kit.errors import (
    ConsoleAuthError,
    ConsoleClosedError,
    ConsoleError,
    ConsoleLostError,
    ConsoleTimeoutError,
    KitError,
)

__all__ = ["AzureSerialTransport", "SerialConnection"]

#: close codes the lab and gateway use for "bad or missing token"
_AUTH_CLOSE_CODES = {1008, 4001, 4401, 4403}


@dataclass(frozen=True)
class SerialConnection:
    """Everything needed to open one console websocket.

    Parameters
    ----------
    url
        The ``connectionString`` returned by the ``serialPorts/0/connect`` POST.
    token
        The ARM access token to send as the first frame. Never printed (``repr`` hides it).
    ssl_context
        TLS settings (the lab's CA, a corporate proxy CA); ``None`` = system defaults.
    admin
        Async callable ``admin(connection, command, parameters)`` that posts an admin command
        for this connection (:func:`kit.console.azure_connection` gives
        :meth:`~kit.azure.serialconsole.SerialConsoleClient.admin_command`).
    """

    url: str
    token: str = field(repr=False)
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    admin: Callable[[SerialConnection, str, dict[str, Any]], Awaitable[None]] | None = field(default=None, repr=False)


Connector = Callable[[], Awaitable[SerialConnection]]


class AzureSerialTransport(Transport):
    """The serial console websocket.

    Parameters
    ----------
    connector
        Async callable returning a fresh :class:`SerialConnection` (a new ``/connect`` POST and
        a fresh token: :func:`kit.console.azure_transport` passes one calling
        :func:`kit.console.azure_connection`). Called on connect and on every reconnect. A
        plain :class:`SerialConnection` is accepted too (then a reconnect reuses it).
    reconnect
        Reopen the socket when it drops (up to ``max_reconnects`` attempts in a row, waiting
        ``backoff`` seconds, doubling up to 5 s, between them).
    ping_interval
        Seconds between keep-alive pings (the az CLI sends none; idle gateways drop sockets).
    open_timeout
        Seconds allowed for the websocket handshake.
    os_type
        ``"linux"`` / ``"windows"`` when the prechecks found it.
    """

    description = "azure serial console"

    def __init__(
        self,
        connector: Connector | SerialConnection,
        *,
        reconnect: bool = True,
        max_reconnects: int = 5,
        backoff: float = 0.4,
        ping_interval: float | None = 20.0,
        open_timeout: float = 15.0,
        os_type: str | None = None,
    ) -> None:
        super().__init__()
        if isinstance(connector, SerialConnection):
            fixed = connector

            async def _fixed() -> SerialConnection:
                return fixed

            self._connector: Connector = _fixed
        else:
            self._connector = connector
        self.reconnect = reconnect
        self.max_reconnects = max_reconnects
        self.backoff = backoff
        self.ping_interval = ping_interval
        self.open_timeout = open_timeout
        self.os_type = os_type
        self.connection: SerialConnection | None = None
        self.reconnects = 0
        self._ws: ClientConnection | None = None
        self._closed = False
        self._reconnecting: asyncio.Task[None] | None = None
        self._failure: ConsoleError | None = None

    @property
    def token(self) -> str | None:
        """The token of the current connection (for redaction only; never print it)."""
        return self.connection.token if self.connection else None

    @property
    def reconnecting(self) -> bool:
        """Whether a reconnect is under way (keys sent now wait for it)."""
        return self._reconnecting is not None and not self._reconnecting.done()

    async def connect(self) -> None:
        """Ask for a connection string and open an authenticated websocket."""
        self._closed = False
        self._failure = None
        await self._open()

    async def _open(self) -> None:
        connection = await self._connector()
        self.connection = connection
        try:
            ws = await connect(
                connection.url,
                ssl=connection.ssl_context if connection.url.startswith("wss:") else None,
                open_timeout=self.open_timeout,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_interval,
                max_size=None,
                compression=None,
                proxy=None,
            )
        except InvalidStatus as error:
            status = error.response.status_code
            if status in (401, 403):
                raise ConsoleAuthError(f"the serial console gateway refused the connection (HTTP {status})") from error
            raise ConsoleError(
                f"could not open the serial console websocket (HTTP {status}); "
                "check that the VM is running and *.serialconsole.azure.com is reachable"
            ) from error
        except (InvalidURI, InvalidHandshake) as error:
            raise ConsoleError(f"could not open the serial console websocket: {error}") from error
        except TimeoutError as error:
            raise ConsoleTimeoutError(
                f"the serial console websocket did not open within {self.open_timeout:g} s"
            ) from error
        except ssl.SSLError as error:
            raise ConsoleError(f"TLS failed for the serial console websocket: {error.reason or error}") from error
        except OSError as error:
            raise ConsoleError(
                f"could not reach the serial console gateway: {error.strerror or error}; "
                "check network access to *.serialconsole.azure.com"
            ) from error
        # current auth flow: the token is the first text frame (no "Bearer ", never in the URL)
        try:
            await ws.send(connection.token)
        except ConnectionClosed as error:
            raise self._closed_error(error) from error
        self._ws = ws

    def _closed_error(self, error: ConnectionClosed) -> ConsoleError:
        code = error.rcvd.code if error.rcvd is not None else None
        reason = error.rcvd.reason if error.rcvd is not None else ""
        if code in _AUTH_CLOSE_CODES:
            return ConsoleAuthError(
                f"the serial console gateway refused the token (close code {code}{': ' + reason if reason else ''}); "
                "get a fresh token and check you have Virtual Machine Contributor on the VM"
            )
        return ConsoleClosedError(
            f"the serial console connection closed (code {code}{': ' + reason if reason else ''})"
        )

    def _current(self) -> ClientConnection:
        if self._failure is not None:
            raise self._failure
        if self._ws is None:
            raise ConsoleClosedError("the serial console is not connected")
        return self._ws

    async def send(self, data: bytes) -> None:
        """Send keystrokes as one text frame (after the reconnect, when one is under way)."""
        text = bytes(data).decode("utf-8", errors="replace")
        for _ in range(3):
            try:
                await self._current().send(text)
                return
            except ConnectionClosed as error:
                if not await self._maybe_reconnect(error):
                    raise self._closed_error(error) from error
        raise ConsoleClosedError("the serial console connection keeps dropping; the keys were not sent")

    async def receive(self) -> str:
        """Next guest output; binary and text frames both become text."""
        while True:
            try:
                frame = await self._current().recv()
            except ConnectionClosed as error:
                if await self._maybe_reconnect(error):
                    continue
                raise self._closed_error(error) from error
            text = self._decode(frame)
            if text:
                return text

    async def _maybe_reconnect(self, error: ConnectionClosed) -> bool:
        """Reconnect after ``error`` (or join the reconnect under way); ``False`` when not to try.

        Raises
        ------
        ConsoleLostError
            Every attempt failed (now or before): the connection is lost for good.
        ConsoleAuthError
            ARM or the gateway refused the credential while reconnecting.
        """
        if self._failure is not None:
            raise self._failure
        if self._closed or not self.reconnect:
            return False
        if error.rcvd is not None and error.rcvd.code in _AUTH_CLOSE_CODES:
            return False
        if self._ws is not None and self._ws.state.name == "OPEN" and not self.reconnecting:
            return True  # another task already reconnected
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.ensure_future(self._reconnect())
            self._reconnecting.add_done_callback(lambda task: task.cancelled() or task.exception())
        await asyncio.shield(self._reconnecting)
        return True

    async def _reconnect(self) -> None:
        started = time.monotonic()
        self._notify(Notice("reconnecting", "connection dropped; reconnecting", {}))
        last: BaseException | None = None
        for attempt in range(1, self.max_reconnects + 1):
            try:
                await self._open()
            except ConsoleAuthError as failure:
                self._failure, self._ws = failure, None
                raise
            except KitError as failure:  # the gateway, or the /connect POST (throttled, 5xx), failed
                if failure.exit_code == 3:  # ARM refused the credential: retrying won't help
                    self._failure, self._ws = ConsoleAuthError(f"reconnecting failed: {failure}"), None
                    raise self._failure from failure
                last = failure
            except Exception as failure:  # noqa: BLE001 - a foreign error from the connector: retried like the rest
                last = failure
            else:
                if self._closed:  # closed while the socket opened
                    await self.close()
                    raise ConsoleClosedError("the serial console transport was closed")
                self.reconnects += 1
                gap = time.monotonic() - started
                self._restart_decoding()
                self._notify(Notice("gap", f"connection dropped; reconnected after {gap:.1f} s "
                                           "(output in between is lost)",
                                    {"seconds": round(gap, 3), "reconnects": self.reconnects}))
                return
            if attempt < self.max_reconnects:
                await asyncio.sleep(min(self.backoff * 2 ** (attempt - 1), 5.0))
        seconds = time.monotonic() - started
        reason = " ".join(str(last).split()) if last is not None else "no attempt was made"
        self._failure = ConsoleLostError(
            f"the serial console connection was lost: reconnect failed {self.max_reconnects} "
            f"time{'s' if self.max_reconnects != 1 else ''} in {seconds:.1f} s ({reason})"
        )
        self._ws = None
        raise self._failure

    async def admin_command(self, command: str, parameters: dict[str, Any] | None = None) -> None:
        """Post ``nmi``/``sysrq``/``reset`` through the gateway for this connection."""
        if self.connection is None or self._ws is None:
            raise ConsoleClosedError("the serial console is not connected; admin commands need a live session")
        if self.connection.admin is None:
            raise ConsoleError("this connection has no admin endpoint")
        await self.connection.admin(self.connection, command, dict(parameters or {}))
        self._notify(Notice("admin", f"admin command {command} sent", {"command": command, **dict(parameters or {})}))

    async def close(self) -> None:
        """Close the websocket normally (and stop a reconnect under way)."""
        self._closed = True
        task, self._reconnecting = self._reconnecting, None
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(ConnectionClosed, OSError):
                await ws.close()



