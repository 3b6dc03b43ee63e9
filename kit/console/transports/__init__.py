"""Transports: where a console session's bytes come from.

- :class:`Transport` — the contract (``connect``, ``send``, ``receive``, ``close``).
- :class:`AzureSerialTransport` — the Azure serial console websocket (reaches the lab by URL).
- :class:`SocketTransport` — a raw serial line over TCP or a unix socket (QEMU, libvirt, socat).
- :class:`MockTransport` — a scripted guest in a function, for unit tests.
"""

from kit.console.transports._azure import AzureSerialTransport, SerialConnection
from kit.console.transports._base import Notice, Transport
from kit.console.transports._mock import MockTransport
from kit.console.transports._serialsocket import SocketTransport

__all__ = ["AzureSerialTransport", "MockTransport", "Notice", "SerialConnection", "SocketTransport", "Transport"]
