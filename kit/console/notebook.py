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
from collections.abc import Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets

from kit.archive import Stage, incident_dir, transcript_path
from kit.azure.sealing import open_sealed
from kit.azure.serialconsole import ConsolePrecheck, SerialConsoleClient
from kit.azure.target import AzureTarget
from kit.console._redact import redact_text
from kit.console._sync import background_loop
from kit.console.findings import LiveFinding
from kit.console.open import azure_transport, lab_console_client
from kit.console.session import Session, SessionState
from kit.console.transcript import render_text
from kit.console.transports import Notice
from kit.console.widget import AdminCommand, SerialTerminal
from kit.errors import ConsoleLostError, ConsolePrecheckError, UsageError
from kit.evidence.source import parse_source
from kit.ids import name_of, parse_resource_id
from kit.ids import vm_id as arm_vm_id
from kit.times import utc_text

if TYPE_CHECKING:
    from kit.lab import RunningLab
    from kit.lab.guest import CheckResult

__all__ = [
    "ConsoleGlue",
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
    token = session.transport.token
    return redact_text(render_text(session.history_text()), [token] if token else [])


class ConsoleGlue:
    """Hooks between one session and one widget, kept on the widget as ``widget.glue``.

    Session → widget: output, notices and the end of the connection (:meth:`attach`,
    :meth:`watch_end`). Widget → session: keys and confirmed admin commands (:meth:`on_input`,
    :meth:`on_admin`), scheduled on the session's loop without blocking the kernel.

    Parameters
    ----------
    session, widget
        What is wired together.
    """

    def __init__(self, session: Session, widget: SerialTerminal) -> None:
        self.session = session
        self.widget = widget
        self._send_lock: asyncio.Lock | None = None
        self._told_closed = False

    # -------------------------------------------------------------- session → widget
    def on_output(self, text: str) -> None:
        """Guest output: to the terminal."""
        self.widget.write(text)

    def on_notice(self, notice: Notice) -> None:
        """A transport notice: the status badge follows reconnects, the message is shown."""
        if notice.kind == "reconnecting":
            self.widget.status = "reconnecting"
        elif notice.kind == "gap":
            self.widget.status = "connected"
        self.widget.notice(notice.message)

    def on_ended(self) -> None:
        """The connection ended: close the badge and say why."""
        self.widget.status = "closed"
        error = self.session.closed_error
        if isinstance(error, ConsoleLostError) and self.session.state is not SessionState.CLOSED:
            self.widget.notice(f"{error}; the console is lost: run the cell again to open a new session")
        elif self.session.state is not SessionState.CLOSED and error is not None:
            self.widget.notice(f"{error}; run the cell again to reconnect")
        else:
            self.widget.notice("session closed")

    # -------------------------------------------------------------- widget → session
    def _schedule(self, coro: Coroutine[Any, Any, None], what: str) -> Future[None] | None:
        try:
            future = asyncio.run_coroutine_threadsafe(coro, self.session.loop or background_loop())
        except RuntimeError as error:  # the loop is gone
            coro.close()
            self.widget.notice(f"{what} failed: {error}")
            return None
        future.add_done_callback(lambda f: self._report(f, what))
        return future

    def _report(self, future: Future[None], what: str) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            self.widget.notice(f"{what} failed: {error}")

    def on_input(self, data: str) -> None:
        """Keys typed in the widget: to the guest, in order; refused (said once) when not connected."""
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

    def on_admin(self, command: AdminCommand, key: str | None) -> None:
        """An admin command the user confirmed in the widget: to the session (confirmed)."""
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
        """Start relaying the session's output and notices to the widget."""
        self.session.on_output.append(self.on_output)
        self.session.on_notice.append(self.on_notice)

    def detach(self) -> None:
        """Stop relaying output and notices."""
        if self.on_output in self.session.on_output:
            self.session.on_output.remove(self.on_output)
        if self.on_notice in self.session.on_notice:
            self.session.on_notice.remove(self.on_notice)

    def watch_end(self) -> None:
        """Call :meth:`on_ended` when the open session's connection ends."""
        self.session.call_when_ended(self.on_ended)


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
    name = title or name_of(session.vm_id) or "serial console"
    widget = SerialTerminal(transcript=lambda: transcript_text(session), rows=rows, title=name, **widget_options)
    glue = ConsoleGlue(session, widget)
    widget.glue = glue
    widget.on_input = glue.on_input  # the widget's callbacks, set once the glue exists
    widget.on_admin = glue.on_admin
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
        glue.watch_end()
    widget.admin_commands = admin_commands_for(session.os_type)  # the transport may know the OS only once open
    return widget


def findings_panel(session: Session) -> ipywidgets.HTML:
    """An ``ipywidgets.HTML`` listing the session's live findings as they are detected."""
    panel = ipywidgets.HTML()

    def render(_finding: LiveFinding | None = None) -> None:
        items = session.findings.findings
        if not items:
            panel.value = '<div class="kit-live-findings"><i>no findings in the console output yet</i></div>'
            return
        rows = "".join(f"<li><b>{html.escape(f.summary)}</b> <code>{html.escape(f.kind)}</code><br>"
                       f"<span style='font-family:monospace'>{html.escape(f.text[:200])}</span></li>" for f in items)
        panel.value = f'<div class="kit-live-findings"><ul>{rows}</ul></div>'

    session.on_finding.append(render)
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
        What the pre-checks found.
    session
        The open :class:`Session`.
    widget
        Its terminal (display with ``widget.show()``).
    incident_root
        ``archive/<incident>``; the transcript goes to ``transcripts/`` inside it.
    cast_path, text_path
        The redacted transcript being written (flushed as data arrives): in the console's own
        staging folder until :meth:`finish` records it, then where the archive keeps it.
    stage
        The staging folder the transcript is written in outside ``kit report`` (``None`` under it:
        the report's own stage holds it); nothing in it is recorded until :meth:`finish`.
    scenario, lab
        The lab scenario and the lab started for it (``None`` for ``"azure"``).
    in_report
        Running under ``kit report`` (``run_dir`` given): the runner's own manifest, written when
        the notebook ends, records the transcript, so :meth:`finish` does not write one.
    manifest
        The archive manifest :meth:`finish` wrote.
    """

    source: str
    vm_id: str
    precheck: ConsolePrecheck
    session: Session
    widget: SerialTerminal
    incident_root: Path
    cast_path: Path
    text_path: Path
    scenario: str | None = None
    lab: RunningLab | None = None
    in_report: bool = False
    stage: Stage | None = None
    manifest: Path | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)
    _started_at: str = ""
    _finished: bool = False

    def check(self) -> CheckResult | None:
        """The lab's verdict on the fix (``passed`` and ``message``); ``None`` outside the lab."""
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
        transcripts = [self.stage.relative(p) if self.stage else p.relative_to(self.incident_root).as_posix()
                       for p in (self.cast_path, self.text_path)]
        event: dict[str, Any] = {
            "kind": "console", "source": self.source, "vm_id": self.vm_id, "approval": self.session.approval,
            "responder": self.session.responder, "transcripts": transcripts,
            "started_at": self._started_at, "finished_at": utc_text(),
        }
        if check is not None:
            event["lab_check"] = {"passed": bool(check.passed), "message": str(check.message)}
        try:
            if self.stage is not None:
                self.manifest = self.stage.commit(event)
                self.cast_path, self.text_path = self.stage.final(self.cast_path), self.stage.final(self.text_path)
        finally:
            self._stack.close()
        return self.manifest


def _azure_vm_id(subscription: str, resource_group: str, vm: str) -> str:
    """The ARM id of the VM ``source="azure"`` names: ``vm`` as a full id, or a name in a subscription and group."""
    if vm.startswith("/"):
        return str(parse_resource_id(vm))
    if not (subscription and resource_group and vm):
        raise UsageError("source='azure' needs subscription, resource_group and vm (or vm as a full ARM resource id)")
    return str(arm_vm_id(subscription, resource_group, vm))


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
    title
        Shown above the terminal; defaults to the VM's name.

    Raises
    ------
    ConsolePrecheckError
        The console cannot be used for this VM (each reason said); nothing is opened.
    UsageError
        Missing approval, another kind of source, VM coordinates or a bad incident id.
    """
    if not approval or not str(approval).strip():
        raise UsageError("set the approval parameter to the change or incident ticket allowing this console access")
    where = parse_source(source, allowed=("lab", "azure"))
    root = Path(archive_dir) if archive_dir else incident_dir(archive_root, incident)
    stack = contextlib.ExitStack()
    try:
        # outside kit report the transcript is written in a stage of its own, recorded by finish()
        # (a session that is never finished is recorded as abandoned); the lock is held only to commit
        stage = None if run_dir else open_sealed(root, "console", about={"source": str(where), "approval": approval},
                                                  hold_lock=False)
        if stage is not None:
            stack.callback(stage.close)
        lab = None
        if where.scenario is not None:
            # deferred: kit.lab adds 0.3-0.4 s to this module's import, which an Azure console never needs
            from kit.lab import running_lab

            lab = stack.enter_context(running_lab(scenarios=[where.scenario]))
            client, vm_id = lab_console_client(lab, where.scenario, vm or None)
        else:
            target = AzureTarget(arm_endpoint=arm_endpoint or "", cloud=cloud, credential=credential,
                                 ca_bundle=Path(ca_bundle) if ca_bundle else None)
            client = SerialConsoleClient.from_target(target)
            vm_id = _azure_vm_id(subscription, resource_group, vm)
        pre = client.precheck(vm_id)
        if not pre.ok:
            raise ConsolePrecheckError(str(pre))
        transport, _ = azure_transport(client, vm_id, check=False)
        name = name_of(vm_id)
        cast = stage.transcript_path(name) if stage is not None else transcript_path(root, name)
        session = Session(transport, approval=approval, transcript=cast, vm_id=vm_id,
                          responder="lab" if lab is not None else client.responder(), os_type=pre.os_type)
        started = utc_text()
        widget = console_widget(session, title=title or name)
        stack.callback(session.close)
        return ConsoleRun(source=str(where), vm_id=vm_id, precheck=pre, session=session, widget=widget,
                          incident_root=root, cast_path=cast, text_path=cast.with_suffix(".txt"),
                          scenario=where.scenario, lab=lab, in_report=bool(run_dir), stage=stage, _stack=stack,
                          _started_at=started)
    except BaseException:
        stack.close()
        raise


def controls(run: ConsoleRun) -> ipywidgets.VBox:
    """Buttons under the terminal: "Check the fix" (lab only) and "Close and archive the transcript"."""
    result = ipywidgets.HTML()
    buttons: list[ipywidgets.Button] = []

    def show_check(_button: ipywidgets.Button | None = None) -> None:
        check = run.check()
        if check is None:
            return
        colour = "#1f6f2f" if check.passed else "#7a1f1f"
        result.value = (f'<div class="kit-lab-check" data-passed="{str(bool(check.passed)).lower()}" '
                        f'style="padding:4px 8px;border-left:4px solid {colour}">'
                        f'<b>{"PASS" if check.passed else "NOT FIXED"}</b> {html.escape(str(check.message))}</div>')

    def finish(_button: ipywidgets.Button | None = None) -> None:
        for button in buttons:
            button.disabled = True
        try:
            manifest = run.finish()
        except Exception as error:  # shown to the user; the session is closed either way
            result.value = f'<div class="kit-console-finished" data-ok="false">{html.escape(str(error))}</div>'
            return
        files = ", ".join(html.escape(path.relative_to(run.incident_root).as_posix())
                          for path in (run.cast_path, run.text_path))
        recorded = f" (manifest <code>{html.escape(manifest.name)}</code>)" if manifest else ""
        result.value = (f'<div class="kit-console-finished" data-ok="true">Session closed. Transcript archived in '
                        f'<code>{html.escape(str(run.incident_root))}</code>: {files}{recorded}.</div>')

    if run.lab is not None:
        check_button = ipywidgets.Button(description="Check the fix",
                                         tooltip="ask the lab whether the VM is reachable again")
        check_button.on_click(show_check)
        buttons.append(check_button)
    finish_button = ipywidgets.Button(description="Close and archive", button_style="warning",
                                      tooltip="close the console and record the transcript in the incident archive")
    finish_button.on_click(finish)
    buttons.append(finish_button)
    return ipywidgets.VBox([ipywidgets.HBox(buttons), result])
