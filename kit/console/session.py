"""A console session over any transport: keys, lines, expect, run, login, admin commands.

Async core with blocking twins (``run`` / ``async_run``), like nbclient: a notebook cell can
call ``session.run("iptables -S")``. The session owns its transport (closes it in ``finally``),
records a redacted transcript as data arrives, keeps a pyte screen and a bounded history for a
widget to replay, and passes output through the boot-log analyzer for live findings.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from kit.console._framing import CommandResult, Frame, reads_logs, without_console_messages
from kit.console._history import History
from kit.console._login import login
from kit.console._prompts import PROMPTS, classify
from kit.console._sync import sync_twin
from kit.console.findings import LiveFinding, LiveFindings
from kit.console.screen import Screen
from kit.console.transcript import Transcript, render_text
from kit.console.transports import Notice, Transport
from kit.errors import ConsoleClosedError, ConsoleError, ConsoleLostError, ConsoleTimeoutError, UsageError

__all__ = ["PROMPTS", "CommandResult", "Session", "SessionOptions", "SessionState"]

_ANY_PROMPT = "|".join(f"(?:{p})" for p in PROMPTS.values())


def _password_prompt(rendered: str, frame: Frame) -> str | None:
    """The password prompt the framed command waits at (the last line, after its begin marker), if any."""
    at = rendered.find(f"kit:{frame.nonce}:begin\n")
    return _last_line_prompt(rendered[at:]) if at >= 0 else None


def _last_line_prompt(text: str) -> str | None:
    """The password prompt ``text`` ends with, if it does."""
    lines = text.split("\n")
    last, previous = lines[-1], (lines[-2] if len(lines) > 1 else "")
    return last.strip() if classify(last, previous) == "secret" else None


def _without_password_prompts(output: str) -> str:
    """``output`` without the password prompt lines that were answered (the answer is not echoed)."""
    return "".join(line for line in output.splitlines(keepends=True)
                   if classify(line.rstrip("\n")) != "secret")


class SessionState(enum.Enum):
    """Where a session is in its life; reuse after close raises a sentence saying why.

    ``ENDED``: the connection ended by itself (the guest hung up, reconnecting failed: see
    :attr:`Session.closed_error`); output already received can still be read, nothing can be
    sent, and :meth:`Session.close` still files the transcript.
    """

    UNOPENED = "unopened"
    OPEN = "open"
    ENDED = "ended"
    CLOSED = "closed"


@dataclass
class SessionOptions:
    """Every session option, with its help text.

    Parameters
    ----------
    timeout
        Default seconds for ``expect``/``run`` before :class:`~kit.errors.ConsoleTimeoutError`.
    settle
        Seconds of silence after a prompt-looking line before it counts as the prompt (so a
        ``#`` at the end of a chunk mid-output is not taken for one).
    prompt
        A regex for the shell prompt, overriding the per-OS default (:data:`PROMPTS`).
    os_type
        ``"linux"`` / ``"windows"``; default from the transport, else both prompt styles match.
    newline
        What Enter sends (a serial console wants ``"\\r"``).
    width, height
        Screen size for the pyte rendering and the transcript header.
    history_limit
        Characters of raw output kept for a widget to replay (bounded).
    error_lines
        Screen lines shown in a timeout message.
    boot_log_tail
        The end of the VM's boot-diagnostics serial log, read before connecting: a console shows
        nothing until a key is pressed, so :meth:`Session.login` reads it to know a locked-root
        "Press Enter" screen is waiting and never presses Enter there.
    """

    timeout: float = 30.0
    settle: float = 0.15
    prompt: str | None = None
    os_type: str | None = None
    newline: str = "\r"
    width: int = 80
    height: int = 24
    history_limit: int = 1_000_000
    error_lines: int = 8
    boot_log_tail: str = ""


async def _run_hook(hook: Callable[..., Any], *args: Any) -> None:
    try:
        result = hook(*args)
        if inspect.isawaitable(result):
            await result
    except Exception as error:  # a broken hook must not kill the session
        warnings.warn(f"console hook {getattr(hook, '__name__', hook)!r} failed: {error}", RuntimeWarning, stacklevel=2)


class Session:
    """An interactive console session.

    Parameters
    ----------
    transport
        Where the bytes go (:mod:`kit.console.transports`).
    approval
        The approval / ticket reference that allows opening this console (break-glass); required,
        recorded in the transcript.
    transcript
        A ``.cast`` path to record to (``.txt`` goes next to it), a :class:`Transcript`, or ``None``.
    vm_id, responder
        For the transcript header.
    options
        :class:`SessionOptions`; keyword arguments matching its fields are accepted too.
    owns_transport
        Close the transport when the session closes (default ``True``).
    on_output, on_prompt, on_finding, on_notice
        Hooks (sync or async): raw output text; a detected prompt; a :class:`LiveFinding`;
        a transport :class:`Notice` (reconnect gap, admin command).

    Attributes
    ----------
    on_output, on_prompt, on_finding, on_notice
        The hook lists; append to add a hook, remove to stop it (a widget or a terminal does).
    screen, history, findings
        The pyte :class:`Screen`, the bounded raw output (:meth:`history_text`) and the
        :class:`LiveFindings` so far.
    transcript
        The :class:`Transcript` being written (created on open from a path), or ``None``.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        approval: str,
        transcript: str | Path | Transcript | None = None,
        vm_id: str = "",
        responder: str = "",
        options: SessionOptions | None = None,
        owns_transport: bool = True,
        on_output: Callable[[str], Any] | None = None,
        on_prompt: Callable[[str], Any] | None = None,
        on_finding: Callable[[LiveFinding], Any] | None = None,
        on_notice: Callable[[Notice], Any] | None = None,
        **option_overrides: Any,
    ) -> None:
        if not approval or not str(approval).strip():
            raise UsageError(
                "opening a serial console needs an approval reference (a change or incident ticket); "
                "pass approval='CHG-1234' — it is recorded in the transcript"
            )
        self.options = options or SessionOptions()
        for name, value in option_overrides.items():
            if not hasattr(self.options, name):
                raise UsageError(f"unknown session option {name!r}")
            setattr(self.options, name, value)
        self.transport = transport
        self.approval = str(approval).strip()
        self.vm_id = vm_id or transport.description
        self.responder = responder or "unknown"
        self.owns_transport = owns_transport
        self.state = SessionState.UNOPENED
        self.screen = Screen(self.options.width, self.options.height)
        self.history = History(self.options.history_limit)
        self.on_output: list[Callable[[str], Any]] = [on_output] if on_output else []
        self.on_prompt: list[Callable[[str], Any]] = [on_prompt] if on_prompt else []
        self.on_finding: list[Callable[[LiveFinding], Any]] = [on_finding] if on_finding else []
        self.on_notice: list[Callable[[Notice], Any]] = [on_notice] if on_notice else []
        self._new_findings: list[LiveFinding] = []
        self.findings = LiveFindings(self._new_findings.append)
        self._marked: set[str] = set()
        self.transcript: Transcript | None = transcript if isinstance(transcript, Transcript) else None
        self._transcript_path = None if isinstance(transcript, Transcript) else transcript
        self._pending = ""
        self._changed: asyncio.Event | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closed_error: ConsoleError | None = None
        self._last_output = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._framing: bool | None = None  # whether commands can be framed (probed on the first run)

    # ------------------------------------------------------------------ life cycle
    @property
    def os_type(self) -> str | None:
        """The guest OS, from the options or the transport."""
        return self.options.os_type or self.transport.os_type

    @property
    def prompt_pattern(self) -> re.Pattern[str]:
        """The shell prompt looked for: ``options.prompt``, else the OS's (:data:`PROMPTS`), else any."""
        if self.options.prompt:
            return re.compile(self.options.prompt)
        return re.compile(PROMPTS.get(self.os_type or "", _ANY_PROMPT))

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop the session was opened on (``None`` before); its reader runs there."""
        return self._loop

    @property
    def closed_error(self) -> ConsoleError | None:
        """Why the connection ended (the guest hung up, the socket failed, the session closed), else ``None``."""
        return self._closed_error

    @property
    def ended(self) -> bool:
        """Whether nothing more will arrive: the session is closed or its connection ended for good."""
        return self.state in (SessionState.ENDED, SessionState.CLOSED) or (
            self._reader is not None and self._reader.done())

    def call_when_ended(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` on the session's loop once the connection has ended; safe from any thread.

        Does nothing for a session that was never opened.
        """
        reader, loop = self._reader, self._loop
        if reader is None or loop is None:
            return
        loop.call_soon_threadsafe(reader.add_done_callback, lambda _task: callback())

    async def async_open(self) -> Session:
        """Connect the transport, start the transcript and the reader."""
        if self.state is SessionState.OPEN:
            return self
        if self.state is SessionState.CLOSED:
            raise ConsoleError("this session is closed; open a new Session to reconnect")
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self.transport.on_notice = self._notice
        try:
            await self.transport.connect()
        except BaseException:
            if self.owns_transport:
                await self.transport.close()
            raise
        if self._transcript_path is not None and self.transcript is None:
            self.transcript = Transcript(
                self._transcript_path, vm_id=self.vm_id, responder=self.responder, approval=self.approval,
                transport=self.transport.description, width=self.options.width, height=self.options.height,
            )
        self._protect_token()
        if self.transcript is not None:
            self.transcript.marker("session opened", approval=self.approval)
        self.state = SessionState.OPEN
        self._reader = asyncio.ensure_future(self._read_loop())
        return self

    async def async_close(self) -> None:
        """Stop reading, close the transport if owned, flush and close the transcript."""
        if self.state is SessionState.CLOSED:
            return
        self.state = SessionState.CLOSED
        try:
            if self._reader is not None:
                self._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._reader
        finally:
            try:
                if self.owns_transport:
                    await self.transport.close()
            finally:
                if self.transcript is not None:
                    self.transcript.close()

    async def __aenter__(self) -> Session:
        return await self.async_open()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.async_close()

    def __enter__(self) -> Session:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Session {self.vm_id!r} {self.state.value}>"

    # ------------------------------------------------------------------ reading
    async def _read_loop(self) -> None:
        try:
            while True:
                text = await self.transport.receive()
                await self._output(text)
        except ConsoleError as error:
            self._end(error)
        except Exception as error:  # a transport bug or a foreign error: the session is over all the same
            self._end(ConsoleClosedError(f"the console connection failed: {error}"))
        except asyncio.CancelledError:
            self._closed_error = self._closed_error or ConsoleClosedError("the session was closed")
            raise
        finally:
            if self._changed is not None:
                self._changed.set()

    def _end(self, error: ConsoleError) -> None:
        """The connection ended by itself: say why in the transcript, leave ``OPEN``."""
        self._closed_error = error
        if self.state is SessionState.OPEN:
            self.state = SessionState.ENDED
        if self.transcript is not None:
            reason = " ".join(str(error).split())
            if isinstance(error, ConsoleLostError):
                self.transcript.marker("reconnect failed; the console connection is lost", reason=reason)
            else:
                self.transcript.marker("the console connection ended", reason=reason)

    async def _output(self, text: str) -> None:
        self._last_output = time.monotonic()
        self._pending = (self._pending + text)[-self.options.history_limit:]
        self.history.append(text)
        self.screen.feed(text)
        if self.transcript is not None:
            self.transcript.output(text)
        self.findings.feed(text)
        assert self._changed is not None
        self._changed.set()
        for hook in self.on_output:
            await _run_hook(hook, text)
        while self._new_findings:
            finding = self._new_findings.pop(0)
            if self.transcript is not None and finding.summary not in self._marked:
                self._marked.add(finding.summary)
                self.transcript.marker(f"finding: {finding.summary}", kind=finding.kind)
            for finding_hook in self.on_finding:
                await _run_hook(finding_hook, finding)

    def _protect_token(self) -> None:
        """Never write the transport's current token (a reconnect brings a fresh one)."""
        token = self.transport.token
        if token and self.transcript is not None:
            self.transcript.add_secret(token)

    def _notice(self, notice: Notice) -> None:
        if notice.kind == "gap":
            self._protect_token()
            if self.transcript is not None:
                self.transcript.output_lost()
        if self.transcript is not None:
            self.transcript.marker(notice.message, **notice.details)
        for hook in self.on_notice:
            result = hook(notice)
            if inspect.isawaitable(result):
                asyncio.ensure_future(result)

    def _check_open(self, *, sending: bool = False) -> None:
        if self.state is SessionState.UNOPENED:
            raise ConsoleError("the session is not open yet; call open() (or use it as a context manager)")
        if self.state is SessionState.CLOSED:
            raise ConsoleClosedError("the session is closed; open a new Session")
        if sending and self.state is SessionState.ENDED:
            raise self._ended_error("nothing can be sent")

    def _ended_error(self, what: str) -> ConsoleClosedError:
        """The error for ``what`` failing because the connection ended (its class follows why it ended)."""
        error = self._closed_error
        reason = " ".join(str(error).split()) if error is not None else "the connection ended"
        cls = ConsoleLostError if isinstance(error, ConsoleLostError) else ConsoleClosedError
        return cls(f"{what}: {reason}")

    def timeout_error(self, what: str, timeout: float) -> ConsoleTimeoutError:
        """A :class:`~kit.errors.ConsoleTimeoutError` saying ``what`` did not happen, with the last screen lines."""
        lines = self.screen.last_lines(self.options.error_lines)
        shown = "\n".join(f"  | {line}" for line in lines) or "  | (the screen is empty)"
        return ConsoleTimeoutError(f"{what} did not happen within {timeout:g} s; the screen ends with:\n{shown}")

    # ------------------------------------------------------------------ writing
    async def async_send(self, data: str | bytes, timeout: float | None = None, *, recorded: str | None = None) -> None:
        """Send keys as they are (``"\\x03"`` is Ctrl+C); recorded (redacted) in the transcript.

        While the transport reconnects, the keys wait for the new connection, at most ``timeout``
        seconds (default ``options.timeout``): then :class:`~kit.errors.ConsoleTimeoutError`.
        ``recorded`` is what the transcript records as typed instead (a framed command's own text).
        """
        self._check_open(sending=True)
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if self.transcript is not None:
            self.transcript.input(recorded if recorded is not None else raw.decode("utf-8", errors="replace"))
        limit = self.options.timeout if timeout is None else timeout
        try:
            await asyncio.wait_for(self.transport.send(raw), max(limit, 0.001))
        except TimeoutError:
            raise self.timeout_error("sending keys (the console is reconnecting)", limit) from None
        except ConsoleClosedError:
            if self._closed_error is not None:
                raise self._ended_error("the keys were not sent") from self._closed_error
            raise

    async def async_sendline(self, line: str = "", timeout: float | None = None) -> None:
        """Send ``line`` followed by Enter (``timeout`` as for :meth:`async_send`)."""
        await self.async_send(line + self.options.newline, timeout)

    @property
    def pending(self) -> str:
        """Output received but not consumed yet by ``expect``/``read``/``run``."""
        return self._pending

    def discard_pending(self) -> None:
        """Forget the output not consumed yet (the next ``expect`` only sees what arrives after)."""
        self._pending = ""

    async def async_read(self, timeout: float = 0.5) -> str:
        """Return output not consumed yet, waiting up to ``timeout`` seconds for some to arrive."""
        self._check_open()
        if not self._pending and self.state is SessionState.OPEN:
            await self._wait_change(time.monotonic() + timeout)
        text, self._pending = self._pending, ""
        return text

    async def _wait_change(self, deadline: float) -> bool:
        assert self._changed is not None
        self._changed.clear()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            await asyncio.wait_for(self._changed.wait(), remaining)
            return True
        except TimeoutError:
            return False

    async def async_expect(self, pattern: str | re.Pattern[str] | Sequence[str | re.Pattern[str]],
                           timeout: float | None = None, *, settle: float = 0.0) -> re.Match[str]:
        """Wait until the unconsumed output matches ``pattern`` (one regex or a list, tried in order).

        Output up to the end of the match is consumed. With ``settle``, a match at the end of the
        output only counts after that many seconds without new output.

        Raises
        ------
        ConsoleTimeoutError
            After ``timeout`` seconds, with the last screen lines.
        ConsoleClosedError
            When the connection ends first.
        """
        self._check_open()
        patterns = [pattern] if isinstance(pattern, str | re.Pattern) else pattern
        compiled = [re.compile(p) if isinstance(p, str) else p for p in patterns]
        timeout = self.options.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            match = next((m for regex in compiled if (m := regex.search(self._pending))), None)
            wait_until = deadline
            if match is not None:
                quiet = time.monotonic() - self._last_output
                if not settle or match.end() < len(self._pending) or quiet >= settle:
                    self._pending = self._pending[match.end():]
                    return match
                wait_until = min(deadline, time.monotonic() + settle - quiet)  # a prompt only once it settles
            elif self._closed_error is not None:
                raise self._ended_error(f"the console closed while waiting for {compiled[0].pattern!r}") \
                    from self._closed_error
            if time.monotonic() >= deadline:
                raise self.timeout_error(f"output matching {compiled[0].pattern!r}", timeout)
            await self._wait_change(wait_until)

    async def async_expect_prompt(self, timeout: float | None = None) -> str:
        """Wait for the shell prompt; return the output before it (as plain text)."""
        match = await self.async_expect(self.prompt_pattern, timeout, settle=self.options.settle)
        prompt = match.group(0).lstrip("\r\n")
        for hook in self.on_prompt:
            await _run_hook(hook, prompt)
        return render_text(match.string[: match.start()])

    async def async_run(self, command: str, timeout: float | None = None, *, password: str | None = None) -> str:
        """Type ``command``, wait for it to end, return its output (see :meth:`async_execute`)."""
        return (await self.async_execute(command, timeout, password=password)).output

    async def async_execute(self, command: str, timeout: float | None = None, *, password: str | None = None,
                            keep_log_lines: bool | None = None) -> CommandResult:
        """Run ``command`` in the guest's shell; return its exact output and exit status.

        In a shell that runs ``printf`` (probed once per session; not on Windows) the command is
        framed by markers (:mod:`kit.console._framing`): the output comes back exactly, without
        a final newline when it has none, without the echoed line, the prompt or the kernel and
        systemd messages the console printed meanwhile (kept when the command reads logs itself,
        or with ``keep_log_lines=True``), with ``$?``. Elsewhere the output ends where the prompt
        comes back and the status is unknown. The transcript records ``command`` as typed input;
        the framed line the guest echoes is in its output.

        Parameters
        ----------
        password
            Answers a password prompt the command shows (``sudo``); registered as a secret, so it
            is never written. Without it a password prompt stops the command (Ctrl-C) with a
            :class:`~kit.errors.ConsoleError`, instead of waiting out the timeout.

        Raises
        ------
        ConsoleTimeoutError
            The command did not end within ``timeout`` seconds (it may still run or wait for input).
        """
        self._check_open(sending=True)
        limit = self.options.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        if self._framing is None:
            self._framing = self.os_type != "windows" and await self._probe_framing(deadline)
        if not self._framing:
            return CommandResult(command, await self._run_to_prompt(command, deadline, limit), None)
        frame = Frame.new()
        keep = reads_logs(command) if keep_log_lines is None else keep_log_lines
        self.discard_pending()
        await self._send_line(frame.line(command), command, deadline, limit)
        output, status = await self._framed_result(frame, command, keep, password, deadline, limit)
        with contextlib.suppress(ConsoleTimeoutError):
            await self.async_expect_prompt(min(max(deadline - time.monotonic(), 0.0), 5.0))
        self.discard_pending()
        return CommandResult(command, output, status)

    async def _send_line(self, line: str, recorded: str, deadline: float, limit: float) -> None:
        """Send ``line`` and Enter, recording ``recorded`` as the typed input."""
        try:
            await self.async_send(line + self.options.newline, max(deadline - time.monotonic(), 0.001),
                                  recorded=recorded + self.options.newline)
        except ConsoleTimeoutError:
            raise self.timeout_error(f"running {recorded!r} (the console is reconnecting)", limit) from None

    async def _probe_framing(self, deadline: float) -> bool:
        """Whether the shell runs ``printf`` (so commands can be framed); recorded in the transcript."""
        frame = Frame.new()
        self.discard_pending()
        await self.async_send(frame.probe_line + self.options.newline, max(deadline - time.monotonic(), 0.001))
        marker = re.compile(rf"(?:^|\n){frame.probe_marker}\n")
        prompt = self.prompt_pattern
        while time.monotonic() < deadline:
            rendered = without_console_messages(render_text(self._pending))
            if marker.search(rendered):
                framed = True
                break
            quiet = time.monotonic() - self._last_output
            if quiet >= max(self.options.settle, 0.5) and prompt.search(rendered) and "\n" in rendered:
                framed = False
                break
            if self._closed_error is not None:
                raise self._ended_error("the console closed while the kit probed the shell") from self._closed_error
            await self._wait_change(min(deadline, time.monotonic() + self.options.settle))
        else:
            framed = False
        with contextlib.suppress(ConsoleTimeoutError):
            await self.async_expect_prompt(min(max(deadline - time.monotonic(), 0.0), 2.0))
        self.discard_pending()
        if self.transcript is not None:
            self.transcript.marker("commands are framed by printf markers (kit:<nonce>:begin/end) to read their "
                                   "output and exit status" if framed else
                                   "the shell does not run printf: command output is read up to the prompt")
        return framed

    async def _framed_result(self, frame: Frame, command: str, keep: bool, password: str | None,
                             deadline: float, limit: float) -> tuple[str, int]:
        """Wait for ``frame``'s end marker, answering (or refusing) a password prompt on the way."""
        answered = 0
        checked = 0
        answered_at = 0  # where the output stood when the password was sent
        while True:
            quiet = time.monotonic() - self._last_output
            if ":end:" in self._pending[max(checked - 32, 0):] or quiet >= self.options.settle:
                checked = len(self._pending)
                rendered = render_text(self._pending)
                found = frame.parse(rendered, keep_log_lines=keep)
                if found is not None:
                    output, status = found
                    return (_without_password_prompts(output) if answered else output), status
                asked = None
                if quiet >= self.options.settle:
                    asked = _last_line_prompt(render_text(self._pending[answered_at:])) if answered else \
                        _password_prompt(rendered, frame)
                if asked is not None and answered < 1 and password:
                    if self.transcript is not None:
                        self.transcript.add_secret(password)
                    answered, answered_at = answered + 1, len(self._pending)
                    await self.async_send(password + self.options.newline, max(deadline - time.monotonic(), 0.001))
                    continue
                if asked is not None:
                    await self.async_send("\x03")
                    with contextlib.suppress(ConsoleTimeoutError):  # back at the prompt before saying so
                        await self.async_expect_prompt(min(max(deadline - time.monotonic(), 0.0), 5.0))
                    self.discard_pending()
                    refused = "refused the password" if answered else "asks for a password"
                    raise ConsoleError(f"{command!r} {refused} ({asked!r}): it was stopped with Ctrl-C; "
                                       + ("check the password" if answered else
                                          "pass password=… to answer it (never recorded), or run it as root"))
            if self._closed_error is not None:
                raise self._ended_error(f"the console closed while {command!r} ran") from self._closed_error
            if time.monotonic() >= deadline:
                raise self.timeout_error(f"the end of {command!r} (its end marker never came: it may still be "
                                         "running, or waiting for input)", limit)
            await self._wait_change(min(deadline, time.monotonic() + max(self.options.settle, 0.05)))

    async def _run_to_prompt(self, command: str, deadline: float, limit: float) -> str:
        """The unframed way: the output ends where the prompt comes back."""
        self.discard_pending()
        await self._send_line(command, command, deadline, limit)
        try:
            text = await self.async_expect_prompt(max(deadline - time.monotonic(), 0.0))
        except ConsoleTimeoutError:
            raise self.timeout_error(f"the prompt after {command!r}", limit) from None
        first_newline = text.find("\n")
        text = text[first_newline + 1:] if first_newline >= 0 else ""
        return text.rstrip("\n") + ("\n" if text.strip() else "")

    async def async_login(self, username: str, password: str, timeout: float | None = None) -> str:
        """Log in from whatever state the console is in (login prompt, emergency mode, SAC).

        Returns the prompt reached. The password is registered as a secret so it never reaches
        the transcript, even if the guest echoes it. See :func:`kit.console._login.login`.
        """
        return await login(self, username, password, self.options.timeout if timeout is None else timeout)

    async def async_wait_quiet(self, limit: float) -> None:
        """Wait until the guest has been silent for ``settle`` seconds (at most ``limit``)."""
        deadline = time.monotonic() + limit
        while time.monotonic() - self._last_output < self.options.settle and time.monotonic() < deadline:
            await asyncio.sleep(self.options.settle / 3)

    # ------------------------------------------------------------------ admin commands
    async def _admin(self, command: str, confirm: bool, parameters: dict[str, Any] | None = None) -> None:
        self._check_open()
        if confirm is not True:
            raise UsageError(f"{command} affects the running VM; call it again with confirm=True if you mean it")
        if self.transcript is not None:
            self.transcript.marker(f"admin command {command} requested", **(parameters or {}))
        await self.transport.admin_command(command, parameters)

    async def async_nmi(self, *, confirm: bool = False) -> None:
        """Send a non-maskable interrupt (a Linux guest may panic and dump; needs ``confirm=True``)."""
        await self._admin("nmi", confirm)

    async def async_reset(self, *, confirm: bool = False) -> None:
        """Hard-reset the VM (like pulling the power; needs ``confirm=True``)."""
        await self._admin("reset", confirm)

    async def async_sysrq(self, key: str, *, confirm: bool = False) -> None:
        """Send a Magic SysRq key (Linux only; ``"b"`` reboots, ``"h"`` prints help; needs ``confirm=True``)."""
        if self.os_type == "windows":
            raise ConsoleError("SysRq exists only on Linux guests; on Windows use NMI or reset")
        if not re.fullmatch(r"[0-9a-zA-Z]", key or ""):
            raise UsageError(f"a SysRq key is one letter or digit, got {key!r}")
        await self._admin("sysrq", confirm, {"SysRqCommand": key})

    # ------------------------------------------------------------------ views
    def screen_text(self) -> str:
        """The current screen as text (pyte rendering: what a screenshot would show)."""
        return self.screen.text()

    def history_text(self) -> str:
        """The bounded raw output history (for a widget replaying on ``ready``)."""
        return self.history.text()

    # ------------------------------------------------------------------ blocking twins
    open = sync_twin(async_open)
    close = sync_twin(async_close)
    send = sync_twin(async_send)
    sendline = sync_twin(async_sendline)
    read = sync_twin(async_read)
    expect = sync_twin(async_expect)
    expect_prompt = sync_twin(async_expect_prompt)
    run = sync_twin(async_run)
    execute = sync_twin(async_execute)
    login = sync_twin(async_login)
    nmi = sync_twin(async_nmi)
    reset = sync_twin(async_reset)
    sysrq = sync_twin(async_sysrq)
