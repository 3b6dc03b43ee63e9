"""Serial console sessions, independent of where the bytes come from.

- :class:`Session` (+ :class:`SessionOptions`, :class:`SessionState`): keys, lines, ``expect``,
  ``run``, ``login``, admin commands; async core with blocking twins.
- :class:`Transcript`: redacted asciinema v2 ``.cast`` + ``.txt``.
- :class:`Screen`: the current screen as text (pyte).
- :mod:`kit.console.transports`: Azure websocket, TCP/unix socket, mock.
- :func:`open_lab_session`, :func:`open_azure_session`, :func:`azure_transport`,
  :func:`azure_connection`, :func:`lab_console_client`: sessions and transports wired to the lab
  or to Azure (:mod:`kit.console.open`).

Names are imported on first use: the Azure wiring loads azure-core (~0.15 s) and the widget
anywidget and ipywidgets (~0.2 s), which a session over a socket needs neither of.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kit._lazy import lazy_exports

if TYPE_CHECKING:
    from kit.console._redact import redact_text
    from kit.console.findings import LiveFinding, LiveFindings
    from kit.console.open import (
        ConsoleLab,
        azure_connection,
        azure_transport,
        lab_console_client,
        open_azure_session,
        open_lab_session,
    )
    from kit.console.screen import Screen
    from kit.console.session import PROMPTS, CommandResult, Session, SessionOptions, SessionState
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
    "CommandResult",
    "ConsoleLab",
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
    "azure_connection",
    "azure_transport",
    "lab_console_client",
    "open_azure_session",
    "open_lab_session",
    "redact_text",
    "render_text",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    "redact_text": "kit.console._redact",
    "LiveFinding": "kit.console.findings",
    "LiveFindings": "kit.console.findings",
    "ConsoleLab": "kit.console.open",
    "azure_connection": "kit.console.open",
    "azure_transport": "kit.console.open",
    "lab_console_client": "kit.console.open",
    "open_azure_session": "kit.console.open",
    "open_lab_session": "kit.console.open",
    "Screen": "kit.console.screen",
    "PROMPTS": "kit.console.session",
    "CommandResult": "kit.console.session",
    "Session": "kit.console.session",
    "SessionOptions": "kit.console.session",
    "SessionState": "kit.console.session",
    "Transcript": "kit.console.transcript",
    "render_text": "kit.console.transcript",
    "AzureSerialTransport": "kit.console.transports",
    "MockTransport": "kit.console.transports",
    "Notice": "kit.console.transports",
    "SerialConnection": "kit.console.transports",
    "SocketTransport": "kit.console.transports",
    "Transport": "kit.console.transports",
})
