"""A console session shown in a notebook: the glue between :class:`Session` and the terminal widget.

``console_widget(session)`` wires both ways and returns the :class:`SerialTerminal`:

- guest output (the session's ``on_output`` hook) → ``widget.write`` (batched for the browser);
- keystrokes from the browser → the session, in order, without blocking the kernel;
- the admin buttons (offered only where the OS has them: no SysRq on Windows) → the session's
  confirmed admin commands, after the user confirmed in the widget;
- the ``status`` badge follows the connection: connecting, connected, reconnecting, closed;
- the static ``text/html`` fallback is the session's redacted transcript, so an exported
  report shows what happened (``widget.show()`` first, ``widget.finalize()`` at the end).

``open_console(...)`` runs the steps of ``notebooks/console.ipynb`` (pre-checks, session with a
transcript under ``archive/<incident>/transcripts/``, widget) and returns a :class:`ConsoleRun`
whose ``finish()`` closes the session and records the transcript in the incident archive;
``controls(run)`` gives the notebook its "Check the fix" / "Close and archive" buttons.

Everything here is safe inside a running kernel loop: the session lives on its own loop
(:mod:`kit.console._sync`) and the widget's callbacks only schedule work there.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.archive import check_appendable, incident_dir, record, transcript_path
from kit.console._redact import redact_text
from kit.console._sync import background_loop
from kit.console.findings import LiveFinding
from kit.console.open import azure_transport
from kit.console.session import Session, SessionState
from kit.console.transcript import render_text
from kit.console.transports import Notice
from kit.console.widget import SerialTerminal
from kit.ids import name_of
from kit.times import utc_text

__all__ = [
    "ConsoleRun",
    "admin_commands_for",
    "console_widget",
    "controls",
    "findings_panel",
    "open_console",
    "transcript_text",
]


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


# ---------------------------------------------------------------------- the console notebook's steps
@dataclass
class ConsoleRun:
    """One console session opened by ``notebooks/console.ipynb`` (or :func:`open_console`).

    Attributes
    ----------
    source
        ``"lab:<scenario>"`` or ``"azure"``.
    vm_id
        The VM's ARM id.
    precheck
        What the pre-checks found (``kit.azure.serialconsole.ConsolePrecheck``).
    session
        The open :class:`Session`.
    widget
        Its terminal (display with ``widget.show()``).
    incident_root
        ``archive/<incident>``; the transcript goes to ``transcripts/`` inside it.
    in_report
        Running under ``kit report`` (``run_dir`` given): the runner's own manifest, written when
        the notebook ends, records the transcript, so :meth:`finish` does not write one.
    cast_path, text_path
        The redacted transcript being written (flushed as data arrives).
    """

    source: str
    vm_id: str
    precheck: Any
    session: Session
    widget: SerialTerminal
    incident_root: Path
    cast_path: Path
    text_path: Path
    scenario: str | None = None
    lab: Any = None
    in_report: bool = False
    manifest: Path | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)
    _started_at: str = ""
    _finished: bool = False

    def check(self) -> Any:
        """The lab's verdict on the fix (``CheckResult`` with ``passed`` and ``message``); ``None`` outside the lab."""
        if self.lab is None or self.scenario is None:
            return None
        return self.lab.check(self.scenario)

    def finish(self) -> Path | None:
        """Close the session, refresh the widget's static transcript, record the transcript in the archive.

        Returns the archive manifest written (calling it again returns the same one), or ``None``
        under ``kit report``, whose run manifest records the transcript when the notebook ends.
        """
        if self.manifest is not None or self._finished:
            return self.manifest
        self._finished = True
        self.session.close()
        self.widget.finalize()
        check = self.check()
        event: dict[str, Any] = {
            "kind": "console", "source": self.source, "vm_id": self.vm_id, "approval": self.session.approval,
            "responder": self.session.responder,
            "transcripts": [p.relative_to(self.incident_root).as_posix() for p in (self.cast_path, self.text_path)],
            "started_at": self._started_at, "finished_at": utc_text(),
        }
        if check is not None:
            event["lab_check"] = {"passed": bool(check.passed), "message": str(check.message)}
        try:
            if not self.in_report:
                self.manifest = record(self.incident_root, event)
        finally:
            self._stack.close()
        return self.manifest


def _vm_id(subscription: str, resource_group: str, vm: str) -> str:
    from kit.errors import UsageError
    from kit.ids import parse_resource_id, vm_id

    if vm.startswith("/"):
        return str(parse_resource_id(vm))
    if not (subscription and resource_group and vm):
        raise UsageError("source='azure' needs subscription, resource_group and vm (or vm as a full ARM resource id)")
    return str(vm_id(subscription, resource_group, vm))


def open_console(source: str, *, approval: str, incident: str, archive_dir: str | Path = "", run_dir: str | Path = "",
                 archive_root: str | Path = "archive", subscription: str = "", resource_group: str = "",
                 vm: str = "", arm_endpoint: str = "", cloud: str = "AzureCloud", credential: str = "default",
                 ca_bundle: str = "", title: str | None = None) -> ConsoleRun:
    """Pre-check, open and show-ready a console for the notebook: the steps of ``console.ipynb``.

    Parameters
    ----------
    source
        ``"lab:<scenario>"`` (starts the lab in this process and uses the scenario's broken VM
        unless ``vm`` names another) or ``"azure"``.
    approval
        The approval / ticket reference (required; recorded in the transcript and the archive).
    incident, archive_dir, archive_root
        The transcript goes to ``archive_dir`` (``archive/<incident>`` as ``kit report`` fills it
        in) or else ``<archive_root>/<incident>``, under ``transcripts/``.
    run_dir
        Set by ``kit report``: the run's manifest will record the transcript.
    subscription, resource_group, vm
        The VM for ``"azure"`` (``vm`` may also be a full ARM id).
    arm_endpoint, cloud, credential, ca_bundle
        The same connection options as ``kit collect`` (a credential *kind*; secrets only ever
        come from the environment).

    Raises
    ------
    ConsolePrecheckError
        The console cannot be used for this VM (each reason said); nothing is opened.
    UsageError
        Missing approval, VM coordinates or a bad incident id.
    """
    from kit.azure.serialconsole import SerialConsoleClient
    from kit.azure.target import AzureTarget
    from kit.errors import ConsolePrecheckError, UsageError

    if not approval or not str(approval).strip():
        raise UsageError("set the approval parameter to the change or incident ticket allowing this console access")
    root = Path(archive_dir) if archive_dir else incident_dir(archive_root, incident)
    check_appendable(root)
    stack = contextlib.ExitStack()
    try:
        lab = scenario = None
        if source.startswith("lab:"):
            from kit.lab import running_lab

            scenario = source.removeprefix("lab:")
            lab = stack.enter_context(running_lab(scenarios=[scenario]))
            info = lab.scenario(scenario)
            client = SerialConsoleClient.for_lab(lab)
            vm_id = str(info.vm_id(vm or info.broken_vm))
            responder = "lab"
        elif source == "azure":
            target = AzureTarget(arm_endpoint=arm_endpoint or "", cloud=cloud, credential=credential,
                                 ca_bundle=Path(ca_bundle) if ca_bundle else None)
            client = SerialConsoleClient.from_target(target)
            vm_id = _vm_id(subscription, resource_group, vm)
            responder = ""
        else:
            raise UsageError(f"source must be 'lab:<scenario>' or 'azure', not {source!r}")
        pre = client.precheck(vm_id)
        if not pre.ok:
            raise ConsolePrecheckError(str(pre))
        transport, _ = azure_transport(client, vm_id, check=False)
        transport.os_type = transport.os_type or pre.os_type
        name = name_of(vm_id)
        cast = transcript_path(root, name)
        session = Session(transport, approval=approval, transcript=cast, vm_id=vm_id,
                          responder=responder or client.responder(), os_type=pre.os_type)
        started = utc_text()
        widget = console_widget(session, title=title or name)
        stack.callback(session.close)
        return ConsoleRun(source=source, vm_id=vm_id, precheck=pre, session=session, widget=widget,
                          incident_root=root, cast_path=cast, text_path=cast.with_suffix(".txt"),
                          scenario=scenario, lab=lab, in_report=bool(run_dir), _stack=stack, _started_at=started)
    except BaseException:
        stack.close()
        raise


def controls(run: ConsoleRun) -> Any:
    """Buttons under the terminal: "Check the fix" (lab only) and "Close and archive the transcript"."""
    import ipywidgets

    result = ipywidgets.HTML()
    buttons = []

    def show_check(_button: Any = None) -> None:
        check = run.check()
        if check is None:
            return
        colour = "#1f6f2f" if check.passed else "#7a1f1f"
        result.value = (f'<div class="kit-lab-check" data-passed="{str(bool(check.passed)).lower()}" '
                        f'style="padding:4px 8px;border-left:4px solid {colour}">'
                        f'<b>{"PASS" if check.passed else "NOT FIXED"}</b> {html.escape(str(check.message))}</div>')

    def finish(_button: Any = None) -> None:
        for button in buttons:
            button.disabled = True
        try:
            manifest = run.finish()
        except Exception as error:  # shown to the user; the session is closed either way
            result.value = f'<div class="kit-console-finished" data-ok="false">{html.escape(str(error))}</div>'
            return
        files = ", ".join(html.escape(p.relative_to(run.incident_root).as_posix()) for p in (run.cast_path, run.text_path))
        recorded = f" (manifest <code>{html.escape(manifest.name)}</code>)" if manifest else ""
        result.value = (f'<div class="kit-console-finished" data-ok="true">Session closed. Transcript archived in '
                        f'<code>{html.escape(str(run.incident_root))}</code>: {files}{recorded}.</div>')

    if run.lab is not None:
        check_button = ipywidgets.Button(description="Check the fix", tooltip="ask the lab whether the VM is reachable again")
        check_button.on_click(show_check)
        buttons.append(check_button)
    finish_button = ipywidgets.Button(description="Close and archive", button_style="warning",
                                      tooltip="close the console and record the transcript in the incident archive")
    finish_button.on_click(finish)
    buttons.append(finish_button)
    return ipywidgets.VBox([ipywidgets.HBox(buttons), result])
