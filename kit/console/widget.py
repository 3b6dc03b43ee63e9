"""The serial console in a notebook: an anywidget around a bundled xterm.js.

Keystrokes travel as custom messages (``{"type": "input"}``) and output as batched custom
messages (each at most ``max_message_bytes``), because one message per serial read trips
Jupyter's IOPub rate limit and loses output. While output is sparse (the echo of keystrokes)
it goes out at once; once more than ``immediate_per_second`` messages a second would be
needed, it is collected for ``batch_seconds`` and sent as one batch. A bounded
history is replayed when a view (re)renders. Traits carry only configuration and state.

Exported reports cannot run the widget (its JavaScript is not in the HTML), so the widget's
mime bundle also carries a ``text/html`` transcript; :meth:`SerialTerminal.show` returns a
display handle and :meth:`SerialTerminal.finalize` refreshes that fallback with the final
transcript, so a papermill run archives what happened.
"""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

import anywidget
import traitlets
from IPython.display import DisplayHandle, display

from kit.console._history import History
from kit.console.transcript import render_text

__all__ = ["STATUSES", "AdminCommand", "SerialTerminal"]

_STATIC = Path(__file__).parent / "static"

AdminCommand = Literal["nmi", "sysrq", "reset"]


class _InputMessage(TypedDict, total=False):
    type: Literal["input"]
    data: str
    view: str
    seq: int


class _AdminMessage(TypedDict, total=False):
    type: Literal["admin"]
    command: AdminCommand
    key: str
    confirmed: bool


class _SizeMessage(TypedDict, total=False):
    type: Literal["ready", "resize"]
    view: str
    cols: int
    rows: int


#: what the ``status`` trait may say (shown as a coloured badge)
STATUSES = ("connecting", "connected", "reconnecting", "closed")
_SYSRQ_KEY = re.compile(r"[0-9a-zA-Z]")


class SerialTerminal(anywidget.AnyWidget):
    """An xterm.js terminal for a serial console session.

    Parameters
    ----------
    on_input
        Called with each keystroke string the user types (already VT-encoded by xterm).
    on_admin
        Called as ``on_admin(command, key)`` with ``"nmi"``, ``"sysrq"`` or ``"reset"`` after the
        user confirmed it in the widget; ``key`` is the SysRq letter (``None`` for the others).
        Only commands listed in the ``admin_commands`` trait are offered and accepted.
    transcript
        Returns the redacted plain-text transcript for the static HTML fallback; defaults to
        the widget's own (bounded) history with escape sequences removed.
    batch_seconds
        Longest time output waits before it is sent to the browser.
    immediate_per_second, burst
        Output is sent at once while fewer than this many messages per second went out (a
        token bucket holding ``burst``); beyond that it is batched per ``batch_seconds``. So
        typing echoes without delay, a flood becomes at most ``1 / batch_seconds`` messages a
        second, and the whole stays far below Jupyter's IOPub limit of 1000 messages a second.
    max_message_bytes
        Largest output message.
    history_chars
        How much output is kept for replay when a view renders.

    Attributes
    ----------
    on_input, on_admin
        The callbacks above; may be set after construction (the notebook glue does).
    size
        ``(cols, rows)`` of the last view that reported its size, else ``None``.
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    status = traitlets.Unicode("closed").tag(sync=True)
    title = traitlets.Unicode("serial console").tag(sync=True)
    admin_commands = traitlets.List(traitlets.Unicode(), default_value=[]).tag(sync=True)
    rows = traitlets.Int(24).tag(sync=True)

    def __init__(
        self,
        *,
        on_input: Callable[[str], Any] | None = None,
        on_admin: Callable[[AdminCommand, str | None], Any] | None = None,
        transcript: Callable[[], str] | None = None,
        batch_seconds: float = 0.05,
        max_message_bytes: int = 64 * 1024,
        history_chars: int = 512 * 1024,
        immediate_per_second: float = 100.0,
        burst: int = 20,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.on_input = on_input
        self.on_admin = on_admin
        self._transcript = transcript
        self._batch_seconds = batch_seconds
        self._max_message = max_message_bytes
        self._history = History(history_chars)
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._rate = float(immediate_per_second)
        self._burst = float(burst)
        self._tokens = float(burst)
        self._token_time = time.monotonic()
        self._handle: DisplayHandle | None = None
        self.size: tuple[int, int] | None = None
        self._typed: dict[str, tuple[int, dict[int, str]]] = {}  # view -> (next key number, keys ahead of it)
        self.on_msg(self._on_custom_msg)

    def write(self, data: str) -> None:
        """Queue guest output for the terminal; safe from any thread."""
        if not data:
            return
        with self._lock:
            self._pending.append(data)
            self._history.append(data)
            if self._timer is not None:
                return  # a flush is already due: this joins its batch
            if not self._take_token():  # busy: collect for one window, then send it all
                self._timer = threading.Timer(self._batch_seconds, self.flush)
                self._timer.daemon = True
                self._timer.start()
                return
        # few messages lately (a keystroke's echo): send at once instead of waiting for a window
        self.flush()

    def _take_token(self) -> bool:
        """A token bucket: at most ``immediate_per_second`` immediate sends, in bursts of ``burst``."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._token_time) * self._rate)
        self._token_time = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def flush(self) -> None:
        """Send queued output now, in messages of at most ``max_message_bytes``."""
        with self._send_lock:  # a replay cannot come between taking the output and sending it
            with self._lock:
                pending, self._pending = "".join(self._pending), []
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
            for chunk in _chunks(pending, self._max_message):
                self.send({"type": "output", "data": chunk})

    def notice(self, text: str) -> None:
        """Show a line from the kit itself (not the guest) in the terminal, dimmed."""
        self.write(f"\r\n\x1b[2;33m[kit] {text}\x1b[0m\r\n")

    def clear(self) -> None:
        """Clear the terminal and its history."""
        with self._lock:
            self._pending.clear()
            self._history.clear()
        self.send({"type": "clear"})

    def transcript_html(self) -> str:
        """The static fallback: the transcript as escaped, monospaced HTML."""
        text = self._transcript() if self._transcript else render_text(self._history.text())
        return (
            f'<div class="kit-serial-transcript"><div style="font-weight:bold">{html.escape(self.title)}'
            f" — transcript ({html.escape(self.status)})</div>"
            '<pre style="font-family:Menlo,Consolas,\'DejaVu Sans Mono\',monospace;white-space:pre;'
            'background:#111;color:#ddd;padding:6px;max-height:40em;overflow:auto">'
            f"{html.escape(text)}</pre></div>"
        )

    def show(self) -> None:
        """Display the widget (the handle :meth:`finalize` updates is kept, not returned: a notebook cell
        ending in ``widget.show()`` would print it as ``<DisplayHandle …>``)."""
        self._handle = display(self, display_id=True)

    def finalize(self) -> None:
        """Flush output and refresh the displayed ``text/html`` fallback with the final transcript."""
        self.flush()
        if self._handle is not None:
            self._handle.update(self)

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        return {**data, "text/html": self.transcript_html()}, metadata

    def _on_custom_msg(self, _widget: object, content: dict[str, Any], _buffers: list[bytes]) -> None:
        # Not `_handle_msg`: that name is ipywidgets' own comm dispatcher.
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "input":
            message = cast(_InputMessage, content)
            if self.on_input is not None and isinstance(message.get("data"), str):
                for keys in self._in_typing_order(message):
                    self.on_input(keys)
        elif kind == "admin":
            admin = cast(_AdminMessage, content)
            command = admin.get("command")
            if admin.get("confirmed") is not True or command not in self.admin_commands or not self.on_admin:
                return
            key = admin.get("key")
            if command == "sysrq":
                if not isinstance(key, str) or not _SYSRQ_KEY.fullmatch(key):
                    return
            else:
                key = None
            self.on_admin(command, key)
        elif kind in ("ready", "resize"):
            size = cast(_SizeMessage, content)
            self.size = (int(size.get("cols", 80)), int(size.get("rows", 24)))
            if kind == "ready":
                self._replay(str(size.get("view", "")))

    def _in_typing_order(self, message: _InputMessage) -> list[str]:
        """Keystrokes in the order they were typed.

        ipykernel dispatches a comm message that arrives while a cell runs without waiting for
        the cell, so two keys typed as a cell ends can reach Python swapped. Each view numbers
        its keys; keys ahead of a missing number wait for it (at most 64 of them).
        """
        seq, view = message.get("seq"), str(message.get("view", ""))
        if not isinstance(seq, int):
            return [message["data"]]
        expected, waiting = self._typed.get(view, (0, {}))
        waiting[seq] = message["data"]
        ready: list[str] = []
        while expected in waiting:
            ready.append(waiting.pop(expected))
            expected += 1
        if len(waiting) > 64:  # a number that never comes must not hold the keyboard
            for number in sorted(waiting):
                ready.append(waiting.pop(number))
                expected = number + 1
        self._typed[view] = (expected, waiting)
        return ready

    def _replay(self, view: str) -> None:
        """Send the new view everything shown so far, except what the next flush will send to all views."""
        with self._send_lock:
            with self._lock:
                history = self._history.text()
                pending = sum(len(p) for p in self._pending)
            history = history[: max(0, len(history) - pending)]
            chunks = _chunks(history, self._max_message) or [""]
            for index, chunk in enumerate(chunks):
                self.send({"type": "replay", "view": view, "data": chunk, "last": index == len(chunks) - 1})


def _chunks(text: str, max_bytes: int) -> list[str]:
    """Split ``text`` into pieces whose UTF-8 size is at most ``max_bytes``, never inside a character."""
    data = text.encode()
    chunks, start = [], 0
    while start < len(data):
        end = min(len(data), start + max_bytes)
        while end < len(data) and data[end] & 0xC0 == 0x80:
            end -= 1
        chunks.append(data[start:end].decode())
        start = end
    return chunks
