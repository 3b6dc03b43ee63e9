"""The transport contract: where a console session's bytes come from and go to.

A transport moves raw serial bytes and nothing else. It knows nothing about prompts,
transcripts or redaction; the session does that. Shaped like httpx's transports: one small
abstract class, independent concrete classes, foreign errors translated at the boundary.
"""

from __future__ import annotations

import abc
import codecs
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from kit.errors import ConsoleError

__all__ = ["Notice", "Transport"]


@dataclass(frozen=True)
class Notice:
    """Something the transport wants the session (and the transcript) to know.

    Parameters
    ----------
    kind
        ``"reconnecting"`` (the connection dropped), ``"gap"`` (it came back; output in between
        is lost), ``"admin"`` (an admin command was sent).
    message
        One sentence for a human.
    details
        Extra fields (``{"seconds": 1.2}`` for a gap).
    """

    kind: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


class Transport(abc.ABC):
    """A bidirectional byte stream to one serial console.

    Use as an async context manager (``async with transport: ...``) or call :meth:`connect`
    and :meth:`close` yourself. :meth:`receive` returns decoded text (UTF-8, decoded
    incrementally so a character split across reads survives) and raises
    :class:`~kit.errors.ConsoleClosedError` once the stream has ended.
    """

    #: what the transcript header says about where the bytes came from
    description: str = "transport"
    #: the guest OS when the transport knows it (``"linux"`` / ``"windows"``), else ``None``
    os_type: str | None = None

    def __init__(self) -> None:
        self.on_notice: Callable[[Notice], None] | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    @property
    def reconnecting(self) -> bool:
        """Whether the transport is reconnecting (keys sent now would wait); never, here."""
        return False

    @property
    def token(self) -> str | None:
        """The secret the current connection authenticated with, for redaction (never print it); ``None`` here."""
        return None

    @abc.abstractmethod
    async def connect(self) -> None:
        """Open the connection."""
        raise NotImplementedError("connect() is not implemented by this transport")

    @abc.abstractmethod
    async def send(self, data: bytes) -> None:
        """Send raw bytes (keystrokes) to the guest."""
        raise NotImplementedError("send() is not implemented by this transport")

    @abc.abstractmethod
    async def receive(self) -> str:
        """Wait for and return the next piece of guest output as text."""
        raise NotImplementedError("receive() is not implemented by this transport")

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        raise NotImplementedError("close() is not implemented by this transport")

    async def admin_command(self, command: str, parameters: dict[str, Any] | None = None) -> None:
        """Send an out-of-band admin command (``nmi``, ``sysrq``, ``reset``).

        Only the Azure serial console has these; other transports raise ``ConsoleError``.
        """
        raise ConsoleError(f"{self.description} has no admin commands ({command!r} needs the Azure serial console)")

    # ------------------------------------------------------------------ for subclasses
    def _decode(self, data: bytes | str) -> str:
        """Decode one chunk with the transport's incremental UTF-8 decoder."""
        if isinstance(data, str):
            return data
        return self._decoder.decode(bytes(data))

    def _restart_decoding(self) -> None:
        """Drop a character cut off by a dropped connection (the next bytes start afresh)."""
        self._decoder.reset()

    def _notify(self, notice: Notice) -> None:
        """Tell the session (``on_notice``) about ``notice``."""
        if self.on_notice is not None:
            self.on_notice(notice)

    async def __aenter__(self) -> Transport:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
