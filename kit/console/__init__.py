"""Serial console sessions, independent of where the bytes come from.

- :class:`Session` (+ :class:`SessionOptions`, :class:`SessionState`): keys, lines, ``expect``,
  ``run``, ``login``, admin commands; async core with blocking twins.
- :class:`Transcript`: redacted asciinema v2 ``.cast`` + ``.txt``.
- :class:`Screen`: the current screen as text (pyte).
- :mod:`kit.console.transports`: Azure websocket, TCP/unix socket, mock.
- :func:`open_lab_session`, :func:`open_azure_session`: sessions wired to the lab or to Azure.
"""

from kit.console.findings import LiveFinding, LiveFindings
from kit.console.open import open_azure_session, open_lab_session
from kit.console.screen import Screen
from kit.console.session import PROMPTS, Session, SessionOptions, SessionState
from kit.console.transcript import Transcript, render_text
from kit.console.transports import (
    AzureSerialTransport,
    MockTransport,
    Notice,
    SerialConnection,
    SocketTransport,
    Transport,
)

__all__ = [
    "PROMPTS",
    "AzureSerialTransport",
    "LiveFinding",
    "LiveFindings",
    "MockTransport",
    "Notice",
    "Screen",
    "SerialConnection",
    "Session",
    "SessionOptions",
    "SessionState",
    "SocketTransport",
    "Transcript",
    "Transport",
    "open_azure_session",
    "open_lab_session",
    "render_text",
]
