"""The real guest's VM agent: the QEMU guest agent on a virtio-serial port, as Run Command's channel.

Azure's Run Command reaches the guest through its VM agent, over a channel of its own: a guest
firewall that drops every SSH packet, or an sshd that does not start, does not stop it. The real
guest runs ``qemu-guest-agent`` (root, started by udev when its port appears) on the port
``org.qemu.guest_agent.0``; :func:`guest_exec` runs a script there with ``guest-exec`` and reads
its output with ``guest-exec-status`` (JSON lines over the unix socket QEMU serves).
"""

from __future__ import annotations

import base64
import json
import socket
import time
from pathlib import Path
from typing import Any

from kit.errors import LabError

__all__ = ["agent_ready", "guest_exec"]

_SYNC_ID = 4242


def _call(conn: socket.socket, reader: Any, command: str, arguments: dict[str, Any] | None = None) -> Any:
    message: dict[str, Any] = {"execute": command}
    if arguments is not None:
        message["arguments"] = arguments
    conn.sendall(json.dumps(message).encode() + b"\n")
    while True:
        line = reader.readline()
        if not line:
            raise LabError(f"the guest agent closed the connection during {command}")
        answer = json.loads(line.lstrip(b"\xff"))
        if "error" in answer:
            raise LabError(f"the guest agent refused {command}: {answer['error'].get('desc', answer['error'])}")
        if "return" in answer:
            return answer["return"]


def _connect(path: Path, timeout: float) -> tuple[socket.socket, Any]:
    conn = socket.socket(socket.AF_UNIX)
    conn.settimeout(timeout)
    conn.connect(str(path))
    reader = conn.makefile("rb")
    # the agent answers with a 0xFF delimiter first: whatever a previous client left unread comes before it
    while _call(conn, reader, "guest-sync-delimited", {"id": _SYNC_ID}) != _SYNC_ID:
        pass
    return conn, reader


def agent_ready(path: Path, timeout: float = 3) -> bool:
    """Whether the guest agent answers on ``path`` (the guest booted far enough to start it)."""
    try:
        conn, reader = _connect(path, timeout)
    except (OSError, LabError, ValueError):
        return False
    with conn, reader:
        return True


def guest_exec(path: Path, script: str, *, timeout: float = 600) -> tuple[str, str, int]:
    """Run ``script`` with ``/bin/sh`` as root in the guest: ``(stdout, stderr, exit code)``.

    Raises
    ------
    LabError
        The agent does not answer, or the script did not end within ``timeout`` seconds.
    """
    try:
        conn, reader = _connect(path, 10)
    except (OSError, ValueError) as error:
        raise LabError(f"the guest agent does not answer on {path}: {error}") from None
    with conn, reader:
        started = _call(conn, reader, "guest-exec", {"path": "/bin/sh", "arg": ["-c", script],
                                                     "capture-output": True})
        deadline = time.monotonic() + timeout
        while True:
            status = _call(conn, reader, "guest-exec-status", {"pid": started["pid"]})
            if status.get("exited"):
                out = base64.b64decode(status.get("out-data", "")).decode("utf-8", errors="replace")
                err = base64.b64decode(status.get("err-data", "")).decode("utf-8", errors="replace")
                return out, err, int(status.get("exitcode", -1 if status.get("signal") else 0))
            if time.monotonic() > deadline:
                raise LabError(f"the script did not end within {timeout:.0f} s in the guest")
            time.sleep(0.2)
