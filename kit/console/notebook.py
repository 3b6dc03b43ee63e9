"""A console session shown in a notebook: the glue between :class:`Session` and the terminal widget.

``console_widget(session)`` wires both ways and returns the :class:`SerialTerminal`:

- guest output (the session's ``on_output`` hook) → ``widget.write`` (batched for the browser);
- keystrokes from the browser → the session, in order, without blocking the kernel;
- the admin buttons (offered only where the OS has them: no SysRq on Windows) → the session's
  confirmed admin commands, after the user confirmed in the widget;
- the ``status`` badge follows the connection: connecting, connected, reconnecting, closed;
- the static ``text/html`` fallback is the session's redacted transcript, so an exported
  report shows what happened (``widget.show()`` first, ``widget.finalize()`` at the end).

Everything here is safe inside a running kernel loop: the session lives on its own loop
(:mod:`kit.console._sync`) and the widget's callbacks only schedule work there.
"""

from __future__ import annotations

import asyncio
import html
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from kit.console._redact import redact_text
from kit.console._sync import background_loop
from kit.console.findings import LiveFinding
from kit.console.session import Session, SessionState
from kit.console.transcript import render_text
from kit.console.transports import Notice
from kit.console.widget import SerialTerminal

__all__ = ["admin_commands_for", "console_widget", "findings_panel", "transcript_text"]


def admin_commands_for(os_type: str | None) -> list[str]:
    """The admin buttons a guest of ``os_type`` gets: SysRq exists only on Linux."""
    return ["nmi", "reset"] if os_type == "windows" else ["nmi", "sysrq", "reset"]


def transcript_text(session: Session) -> str:
    """The session's redacted plain-text transcript (its ``.txt``), or a redacted rendering of its history."""
    transcript = session.transcript
    if transcript is not None:
        try:
            return Path(transcript.text_path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            pass
    token = getattr(session.transport, "token", None)
    return redact_text(render_text(session.history_text()), [token] if token else [])


class _Glue:
    """Hooks between one session and one widget (kept on the widget as ``widget.glue``)."""

    def __init__(self, session: Session, widget: SerialTerminal) -> None:
        self.session = session
        self.widget = widget
        self._send_lock: asyncio.Lock | None = None
        self._told_closed = False
        self._lock = threading.Lock()

    # -------------------------------------------------------------- session → widget
    def on_output(self, text: str) -> None:
        self.widget.write(text)

    def on_notice(self, notice: Notice) -> None:
        if notice.kind == "reconnecting":
            self.widget.status = "reconnecting"
        elif notice.kind == "gap":
            self.widget.status = "connected"
        self.widget.notice(notice.message)

    def on_finding(self, finding: LiveFinding) -> None:
        return None  # shown by findings_panel; kept as a seam for the terminal if ever wanted

    def on_reader_done(self, _task: Any) -> None:
        self.widget.status = "closed"
        error = getattr(self.session, "_closed_error", None)
        if self.session.state is not SessionState.CLOSED and error is not None:
            self.widget.notice(f"{error}; run the cell again to reconnect")
        else:
            self.widget.notice("session closed")

    # -------------------------------------------------------------- widget → session
    def _loop(self) -> asyncio.AbstractEventLoop:
        return getattr(self.session, "_loop", None) or background_loop()

    def _schedule(self, coro: Any, what: str) -> Future[Any] | None:
        try:
            future = asyncio.run_coroutine_threadsafe(coro, self._loop())
        except RuntimeError as error:  # the loop is gone
            coro.close()
            self.widget.notice(f"{what} failed: {error}")
            return None
        future.add_done_callback(lambda f: self._report(f, what))
        return future

    def _report(self, future: Future[Any], what: str) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            self.widget.notice(f"{what} failed: {error}")

    def on_input(self, data: str) -> None:
        if self.session.state is not SessionState.OPEN or self.widget.status == "closed":
            if ("\r" in data or "\n" in data) and not self._told_closed:
                self._told_closed = True
                self.widget.notice("the console is not connected; run the cell again to open a new session")
            return
        self._schedule(self._send(data), "sending keys")

    async def _send(self, data: str) -> None:
        if self._send_lock is None:
            self._send_lock = asyncio.Lock()
        async with self._send_lock:  # FIFO: keys reach the guest in the order they were typed
            await self.session.async_send(data)

    def on_admin(self, command: str, key: str | None) -> None:
        if self.session.state is not SessionState.OPEN:
            self.widget.notice(f"{command} not sent: the console is not connected")
            return
        self.widget.notice(f"sending {command}{' ' + key if key else ''} (confirmed in the widget)")
        if command == "nmi":
            self._schedule(self.session.async_nmi(confirm=True), "NMI")
        elif command == "reset":
            self._schedule(self.session.async_reset(confirm=True), "hard reset")
        elif command == "sysrq" and key:
            self._schedule(self.session.async_sysrq(key, confirm=True), "SysRq")

    # -------------------------------------------------------------- life cycle
    def attach(self) -> None:
        self.session.on_output.append(self.on_output)
        self.session.on_notice.append(self.on_notice)

    def detach(self) -> None:
        for hooks, hook in ((self.session.on_output, self.on_output), (self.session.on_notice, self.on_notice)):
            if hook in hooks:
                hooks.remove(hook)

    def watch_reader(self) -> None:
        reader = getattr(self.session, "_reader", None)
        if reader is None:
            return
        loop = self._loop()
        loop.call_soon_threadsafe(reader.add_done_callback, self.on_reader_done)


def console_widget(session: Session, *, title: str | None = None, open: bool = True, rows: int = 24,
                   **widget_options: Any) -> SerialTerminal:
    """A terminal widget driving ``session``; opens the session unless ``open=False``.

    Parameters
    ----------
    session
        A :class:`Session` (from :func:`~kit.console.open_lab_session` or
        :func:`~kit.console.open_azure_session`), opened or not.
    title
        Shown above the terminal; defaults to the VM's name.
    open
        Open the session now (when it is not open yet). Hooks are attached first, so the
        widget sees the very first byte; output seen before attaching is shown too.
    rows
        Terminal height in lines.
    widget_options
        Passed to :class:`SerialTerminal` (``batch_seconds``, ``max_message_bytes``, ``history_chars``).

    Returns
    -------
    SerialTerminal
        Display it with ``widget.show()`` and call ``widget.finalize()`` at the end of a report.
        ``widget.glue.detach()`` stops the relaying.
    """
    name = title or (session.vm_id.rstrip("/").rsplit("/", 1)[-1] if session.vm_id else "serial console")
    widget = SerialTerminal(transcript=lambda: transcript_text(session), rows=rows, title=name, **widget_options)
    glue = _Glue(session, widget)
    widget.glue = glue
    widget._on_input = glue.on_input  # the widget's callbacks, set once the glue exists
    widget._on_admin = glue.on_admin
    widget.admin_commands = admin_commands_for(session.os_type)
    earlier = session.history_text()
    if earlier:
        widget.write(earlier)
    glue.attach()
    if session.state is SessionState.UNOPENED and open:
        widget.status = "connecting"
        try:
            session.open()
        except BaseException:
            widget.status = "closed"
            glue.detach()
            raise
    widget.status = "connected" if session.state is SessionState.OPEN else "closed"
    if session.state is SessionState.OPEN:
        glue.watch_reader()
    widget.admin_commands = admin_commands_for(session.os_type)  # the transport may know the OS only now
    return widget


def findings_panel(session: Session) -> Any:
    """An ``ipywidgets.HTML`` listing the session's live findings as they are detected."""
    import ipywidgets

    panel = ipywidgets.HTML()

    def render(_finding: LiveFinding | None = None) -> None:
        items = session.findings.findings
        if not items:
            panel.value = '<div class="kit-live-findings"><i>no findings in the console output yet</i></div>'
            return
        rows = "".join(f"<li><b>{html.escape(f.summary)}</b> <code>{html.escape(f.kind)}</code><br>"
                       f"<span style='font-family:monospace'>{html.escape(f.text[:200])}</span></li>" for f in items)
        panel.value = f'<div class="kit-live-findings"><ul>{rows}</ul></div>'

    hooks: list[Callable[[LiveFinding], Any]] = session._finding_hooks  # noqa: SLF001 - same package
    hooks.append(render)
    render()
    return panel
