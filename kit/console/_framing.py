"""Framing a shell command so that its output and exit status are read exactly.

A prompt regex cannot tell where a command's output ends: a line that is a lone ``#`` or ends
in ``$`` looks like a prompt when the output pauses there, and output with no final newline runs
into the next prompt. So :meth:`Frame.line` wraps the command between two ``printf`` calls that
print unique markers carrying a nonce, the second one with ``$?``::

    printf 'kit:%s:begin\\n' 3f9a1c; iptables -S; printf '\\nkit:%s:end:%d\\n' 3f9a1c $?

The format strings split each marker from its nonce, so the echoed command line never contains
the markers the shell prints. :meth:`Frame.parse` reads the rendered output: what lies between
``kit:<nonce>:begin`` and the newline before ``kit:<nonce>:end:<status>`` is the output, byte for
byte (a missing final newline stays missing). Kernel and systemd messages the console prints
while the command runs (netfilter LOG lines, ``[  OK  ] Started …``) can land anywhere, even in
the middle of a line or of a marker: :func:`without_console_messages` takes them out before the
markers are looked for and, unless the command reads logs itself (:func:`reads_logs`), out of
the result. They stay in the transcript and feed the live findings.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

__all__ = ["CommandResult", "Frame", "reads_logs", "without_console_messages"]

#: a kernel message (``[   12.345678] …``) or a systemd status line, up to and including its newline
_CONSOLE_MESSAGE = re.compile(
    r"\[ {0,5}\d{1,6}\.\d{6}\] [^\n]*\n"
    r"|\[ *(?:OK|FAILED|DEPEND|TIME|WARN|INFO) *\] [^\n]*\n"
    r"|\[ {0,2}\*{1,3} {0,3}\] [^\n]*\n"
    r"|(?<=\n) {9}(?:Starting|Stopping|Mounting|Unmounting|Activating|Deactivating) [^\n]*\.\.\.\n"
)
#: commands whose own output is kernel or systemd log lines
_LOG_READERS = re.compile(r"(?:^|[;&|(`]\s*|\bsudo\s+)(?:dmesg|journalctl|systemctl\s+status|tail|head|cat|less|grep"
                          r"|zcat|zgrep|awk|sed)\b[^;&|]*?(?:/var/log/|\bdmesg\b|journalctl|systemctl)"
                          r"|(?:^|[;&|(`]\s*|\bsudo\s+)(?:dmesg|journalctl|systemctl\s+status)\b")


@dataclass(frozen=True)
class CommandResult:
    """What a command run through the console gave.

    Parameters
    ----------
    command
        The command as given.
    output
        Its output as plain text (escape sequences removed, ``\\n`` line ends); the echoed
        command line and the prompt are not part of it.
    exit_status
        ``$?`` after it, or ``None`` when the shell could not frame it (no ``printf``: the
        output then ends where the prompt came back).
    """

    command: str
    output: str
    exit_status: int | None

    @property
    def ok(self) -> bool:
        """Whether it exited 0 (unknown counts as not ok)."""
        return self.exit_status == 0


@dataclass(frozen=True)
class Frame:
    """The markers of one framed command.

    Parameters
    ----------
    nonce
        A fresh random hex string (:meth:`new`): output cannot fake a marker it does not know.
    """

    nonce: str

    @classmethod
    def new(cls) -> Frame:
        """A frame with a fresh nonce."""
        return cls(secrets.token_hex(6))

    @property
    def probe_line(self) -> str:
        """A line that prints ``kit:<nonce>:probe`` in a shell that runs ``printf``."""
        return f"printf 'kit:%s:probe\\n' {self.nonce}"

    @property
    def probe_marker(self) -> str:
        """What :attr:`probe_line` prints."""
        return f"kit:{self.nonce}:probe"

    def line(self, command: str) -> str:
        """``command`` between the begin and end ``printf`` calls, as one line to send."""
        return (f"printf 'kit:%s:begin\\n' {self.nonce}; {command}\n"
                f"printf '\\nkit:%s:end:%d\\n' {self.nonce} $?") if "\n" in command else (
                f"printf 'kit:%s:begin\\n' {self.nonce}; {command}; printf '\\nkit:%s:end:%d\\n' {self.nonce} $?")

    def parse(self, rendered: str, *, keep_log_lines: bool = False) -> tuple[str, int] | None:
        """``(output, exit status)`` once ``rendered`` holds both markers, else ``None``.

        ``rendered`` is plain text (:func:`~kit.console.transcript.render_text`) from before the
        command was sent. Console messages are taken out first (see the module docstring); with
        ``keep_log_lines`` (the command reads logs) only those outside its output are, when the
        markers themselves were not cut by one.
        """
        found = self._span(without_console_messages(rendered))
        if found is None:
            return None
        output, status = found
        if keep_log_lines and (raw := self._span(rendered)) is not None:
            output = raw[0]
        return output, status

    def _span(self, text: str) -> tuple[str, int] | None:
        begin = re.search(rf"(?:^|\n)kit:{self.nonce}:begin\n", text)
        if begin is None:
            return None
        end = re.compile(rf"\nkit:{self.nonce}:end:(\d{{1,3}})\n").search(text, begin.end())
        if end is None:
            return None
        return text[begin.end():end.start()], int(end.group(1))


def without_console_messages(text: str) -> str:
    """``text`` without the kernel messages and systemd status lines printed into it."""
    return _CONSOLE_MESSAGE.sub("", text)


def reads_logs(command: str) -> bool:
    """Whether ``command`` prints kernel or systemd log lines itself (``dmesg``, ``journalctl`` …)."""
    return bool(_LOG_READERS.search(command))
