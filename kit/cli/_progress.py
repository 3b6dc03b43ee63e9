"""Progress of a long command on stderr: a live rich display on a terminal, plain timestamped lines otherwise.

A command opens one :class:`Progress` and hands it (a :data:`~kit.azure.request.StepCallback`:
``progress(step, note)``) to the library calls that take a progress callback. Only a step that
lasts longer than a second is shown; then its state is shown once a second at most, and its
last state when it ends, so a log stays short and a command that fails at once prints only its
error. Plain lines read ``[12:00:01] collect: 3 VMs: 41 calls (…)`` (UTC). Nothing goes to
stdout, which carries the command's results; the live display is cleared when the command
ends. Every text shown goes through :func:`~kit.cli._common.safe`.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import Any, TextIO

from kit.cli._common import safe

__all__ = ["Progress"]

#: A step is shown once it has lasted this long, and then at most this often.
_INTERVAL = 1.0


class Progress:
    """The progress of ``command`` on ``stream`` (stderr); use it as a context manager.

    Parameters
    ----------
    command
        The command's name, leading every line (``collect``).
    stream
        Where to write; the rich display is used when it is a terminal.
    """

    def __init__(self, command: str, stream: TextIO | None = None) -> None:
        self.command = command
        self.stream = stream if stream is not None else sys.stderr
        self._live: Any = None
        self._task: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._step = ""
        self._line = ""
        self._began = 0.0
        self._shown = False  # the current step has been shown
        self._fresh = False  # the current line has not been written yet
        self._written = 0.0

    def __enter__(self) -> Progress:
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import Progress as Live
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

            self._live = Live(SpinnerColumn(), TextColumn("[bold]{task.fields[step]}[/] {task.description}"),
                              TimeElapsedColumn(), console=Console(file=self.stream), transient=True,
                              redirect_stdout=False, redirect_stderr=False)
            self._live.start()
            self._task = self._live.add_task("", total=None, step=f"{self.command}:")
        else:
            self._ticker = threading.Thread(target=self._tick, name="kit-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
            return
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            self._flush()

    def __call__(self, step: str, note: str = "") -> None:
        """Now doing ``step`` (``note``: what is happening inside it)."""
        step, note = safe(step), safe(note)
        if self._live is not None:
            self._live.update(self._task, step=f"{self.command}: {step}", description=note)
            return
        with self._lock:
            if step != self._step:
                self._flush()
                self._step, self._began, self._shown = step, time.monotonic(), False
            self._line, self._fresh = (f"{step}: {note}" if note else step), True

    def _tick(self) -> None:
        while not self._stop.wait(0.1):
            with self._lock:
                now = time.monotonic()
                if self._fresh and self._step and now - self._began >= _INTERVAL and now - self._written >= _INTERVAL:
                    self._write()

    def _flush(self) -> None:
        """The last state of a step that was shown, if not written yet (the lock is held)."""
        if self._shown and self._fresh:
            self._write()

    def _write(self) -> None:
        self._shown, self._fresh, self._written = True, False, time.monotonic()
        stamp = time.strftime("%H:%M:%S", time.gmtime())
        print(f"[{stamp}] {self.command}: {self._line}", file=self.stream, flush=True)
