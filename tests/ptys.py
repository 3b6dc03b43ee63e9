"""Reading what a program under test writes to a pseudo-terminal."""

from __future__ import annotations

import os
import select
import time
from typing import Any


def read_until(fd: int, needle: bytes, seen: bytearray, timeout: float = 30) -> bytes:
    """Read from ``fd`` into ``seen`` until ``needle`` appears after what was already there; the new part."""
    start = len(seen)
    deadline = time.monotonic() + timeout
    while needle not in seen[start:]:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not seen; got {bytes(seen[-600:])!r}")
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return bytes(seen[start:])


def reap(pid: int, timeout: float = 20) -> int:
    """Wait for the child ``pid`` to exit; kill it if it has not after ``timeout`` s. Its wait status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, 9)
    return os.waitpid(pid, 0)[1]


class BashOnSocket:
    """A unix socket whose one client talks to ``bash`` on a pseudo-terminal, like a guest's serial port.

    Use it as a context manager; the relay runs in a thread and bash is killed on exit.
    """

    def __init__(self, path: str, prompt: str = "root@vm:~# ") -> None:
        import socket
        import threading

        self.path, self.prompt = path, prompt
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(1)
        self._process: Any = None
        self._thread = threading.Thread(target=self._relay, name="bash-on-socket", daemon=True)

    def __enter__(self) -> BashOnSocket:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=5)
        self._listener.close()

    def _relay(self) -> None:
        import fcntl
        import subprocess
        import termios

        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        master, slave = os.openpty()
        self._process = subprocess.Popen(
            ["bash", "--norc", "--noprofile", "-i"], stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
            env={"PS1": self.prompt, "PATH": os.environ["PATH"], "TERM": "dumb"},
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        try:
            while True:
                ready, _, _ = select.select([client, master], [], [], 0.5)
                if client in ready:
                    data = client.recv(4096)
                    if not data:
                        return
                    os.write(master, data)
                if master in ready:
                    client.sendall(os.read(master, 65536))
        except OSError:
            return
        finally:
            client.close()
            os.close(master)
