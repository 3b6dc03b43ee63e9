"""The serial console in a plain terminal, for people outside Jupyter (``kit console``).

The terminal is put in raw mode, so every key (Ctrl+C, arrows, Tab) goes to the guest; guest
output is written to stdout as it arrives. ``Ctrl+]`` opens the kit's menu, which sends nothing
to the guest itself:

    n  NMI            (asks for a capital Y)
    s  SysRq + a key  (Linux only; asks for a capital Y)
    r  hard reset     (asks for a capital Y)
    q  quit
    Ctrl+]  send a literal 0x1d to the guest
    anything else: back to the console

The terminal settings are restored however the session ends (quit, the guest hanging up, an
exception). When the connection is gone for good (the guest hung up, or every reconnect
failed), the terminal says why and Enter opens a new session if the caller gave a way to make
one, as the Azure CLI does; without one it says plainly that the console is lost. A session
left lost (the user quit instead, or no new session could be made) ends with
:class:`~kit.errors.ConsoleLostError` (``kit console`` exits 7).
"""

from __future__ import annotations

import os
import select
import sys
import termios
import tty
from collections.abc import Callable
from dataclasses import dataclass, field

from kit.console.session import Session, SessionState
from kit.errors import ConsoleLostError, KitError

__all__ = ["ESCAPE", "EscapeMenu", "MenuAction", "run_terminal"]

#: Ctrl+] — the local escape key (never sent to the guest unless pressed twice)
ESCAPE = b"\x1d"
_MENU = "[kit] n=NMI s=SysRq r=reset q=quit Ctrl+]=send 0x1d, other key=back: "
_NAMES = {"nmi": "NMI", "sysrq": "SysRq", "reset": "a hard reset (power cycle)"}


@dataclass
class MenuAction:
    """What a key press in the console means.

    Parameters
    ----------
    send
        Bytes for the guest.
    admin
        ``("nmi", None)``, ``("reset", None)`` or ``("sysrq", key)``: confirmed, send it.
    quit
        Leave the console.
    say
        Text for the user (the menu, a question, a refusal); never sent to the guest.
    """

    send: bytes = b""
    admin: tuple[str, str | None] | None = None
    quit: bool = False
    say: str = ""


@dataclass
class EscapeMenu:
    """The ``Ctrl+]`` state machine, separate from any terminal so it can be tested alone.

    Parameters
    ----------
    os_type
        ``"windows"`` refuses SysRq (it exists only on Linux).
    """

    os_type: str | None = None
    _state: str = field(default="console", init=False)
    _command: str = field(default="", init=False)
    _key: str | None = field(default=None, init=False)

    @property
    def in_menu(self) -> bool:
        """Whether keys are being read by the menu rather than sent to the guest."""
        return self._state != "console"

    def feed(self, data: bytes) -> list[MenuAction]:
        """Interpret the keys read from the terminal."""
        actions: list[MenuAction] = []
        plain = bytearray()
        for byte in data:
            key = bytes([byte])
            if self._state == "console":
                if key == ESCAPE:
                    if plain:
                        actions.append(MenuAction(send=bytes(plain)))
                        plain.clear()
                    self._state = "menu"
                    actions.append(MenuAction(say="\r\n" + _MENU))
                else:
                    plain += key
                continue
            if plain:
                actions.append(MenuAction(send=bytes(plain)))
                plain.clear()
            actions.append(self._menu_key(key))
        if plain:
            actions.append(MenuAction(send=bytes(plain)))
        return [a for a in actions if a.send or a.admin or a.quit or a.say]

    def _menu_key(self, key: bytes) -> MenuAction:
        state, self._state = self._state, "console"
        if state == "menu":
            if key == ESCAPE:
                return MenuAction(send=ESCAPE, say="\r\n")
            if key in (b"q", b"Q"):
                return MenuAction(quit=True, say="\r\n")
            if key in (b"n", b"r"):
                self._command, self._key = ("nmi" if key == b"n" else "reset"), None
                self._state = "confirm"
                return MenuAction(say=f"\r\n[kit] send {_NAMES[self._command]} to the VM? type capital Y to confirm: ")
            if key == b"s":
                if self.os_type == "windows":
                    return MenuAction(
                        say="\r\n[kit] SysRq exists only on Linux guests; use NMI or reset on Windows\r\n")
                self._command = "sysrq"
                self._state = "sysrq-key"
                return MenuAction(say="\r\n[kit] SysRq key (h=help, b=reboot now, c=crash): ")
            return MenuAction(say="\r\n")
        if state == "sysrq-key":
            letter = key.decode("ascii", errors="replace")
            if not (letter.isascii() and letter.isalnum()):
                return MenuAction(say="\r\n[kit] a SysRq key is one letter or digit; nothing sent\r\n")
            self._key = letter
            self._state = "confirm"
            return MenuAction(say=f"\r\n[kit] send SysRq '{letter}' to the VM? type capital Y to confirm: ")
        # confirm
        if key == b"Y":
            return MenuAction(admin=(self._command, self._key), say="\r\n")
        return MenuAction(say="\r\n[kit] not confirmed; nothing sent\r\n")


def _write(fd: int, text: str | bytes) -> None:
    data = text.encode("utf-8", errors="replace") if isinstance(text, str) else text
    while data:
        try:
            written = os.write(fd, data)
        except BlockingIOError:
            select.select([], [fd], [], 1)
            continue
        data = data[written:]


def _one_line(error: BaseException | None) -> str:
    return " ".join(str(error).split()) if error is not None else "the connection ended"


def _ended(session: Session) -> str:
    """What the terminal says when the session's connection ended (before the offer, if any)."""
    error = session.closed_error
    if isinstance(error, ConsoleLostError):
        return f"\r\n[kit] {_one_line(error)}\r\n"
    return f"\r\n[kit] Connection closed ({_one_line(error)})\r\n"


_OFFER = '[kit] press "Enter" to reconnect (a new session), Ctrl+] q to quit\r\n'
_FINAL = "[kit] the console is lost for good: this terminal cannot open a new session\r\n"


def run_terminal(
    session: Session,
    *,
    new_session: Callable[[], Session] | None = None,
    banner: str = "",
    stdin: int | None = None,
    stdout: int | None = None,
    stderr: int | None = None,
) -> int:
    """Run an interactive console in this terminal until the user quits; returns an exit code.

    Parameters
    ----------
    session
        An unopened (or open) :class:`Session`; it is opened here and always closed.
    new_session
        Makes a fresh session when Enter is pressed after the connection ended for good;
        without it the console ends when the connection does.
    banner
        Said once the session is open and the terminal is in raw mode (keys typed from then on
        reach the guest), e.g. "connected to … Ctrl+] for the menu".
    stdin, stdout, stderr
        File descriptors (default: the process's own). Raw mode is used when stdin is a tty.

    Returns
    -------
    int
        0 when the user quit or the guest hung up.

    Raises
    ------
    ConsoleLostError
        The console was left lost: every reconnect failed and the user quit, no new session
        could be made, or opening one failed. Raised once the terminal is restored.
    """
    fd_in = sys.stdin.fileno() if stdin is None else stdin
    fd_out = sys.stdout.fileno() if stdout is None else stdout
    fd_err = sys.stderr.fileno() if stderr is None else stderr
    saved = termios.tcgetattr(fd_in) if os.isatty(fd_in) else None

    def attach(current: Session) -> None:
        current.on_output.append(lambda text: _write(fd_out, text))
        current.on_notice.append(lambda notice: _write(fd_err, f"\r\n[kit] {notice.message}\r\n"))

    attach(session)
    menu = EscapeMenu(os_type=session.os_type)
    lost: ConsoleLostError | None = None
    try:
        session.open()
        menu.os_type = session.os_type
        if saved is not None:
            tty.setraw(fd_in, termios.TCSANOW)  # keys typed ahead are kept, not flushed
        if banner:
            _write(fd_err, banner.rstrip("\n") + "\r\n")
        told_closed = told_reconnecting = False
        while True:
            if session.ended and not told_closed:
                told_closed = True
                error = session.closed_error if session.state is not SessionState.CLOSED else None
                lost = error if isinstance(error, ConsoleLostError) else lost
                _write(fd_err, _ended(session) + (_OFFER if new_session is not None else _FINAL if lost else ""))
                if new_session is None:
                    break
            ready, _, _ = select.select([fd_in], [], [], 0.2)
            if not ready:
                continue
            data = os.read(fd_in, 1024)
            if not data:
                break
            quit_now = False
            for action in menu.feed(data):
                if action.say:
                    _write(fd_err, action.say)
                if action.quit:
                    quit_now = True
                    break
                if session.ended:
                    if action.send and (b"\r" in action.send or b"\n" in action.send) and new_session is not None:
                        session.close()
                        try:
                            fresh = new_session()
                            attach(fresh)
                            fresh.open()
                        except KitError as failure:
                            lost = ConsoleLostError(f"the serial console connection was lost and a new session "
                                                    f"could not be opened: {_one_line(failure)}")
                            _write(fd_err, f"\r\n[kit] could not open a new session: {_one_line(failure)}\r\n"
                                           + _OFFER)
                            continue
                        session, lost, told_closed = fresh, None, False
                        menu.os_type = session.os_type
                        _write(fd_err, "\r\n[kit] reconnected (new session)\r\n")
                    continue
                if action.send:
                    if session.transport.reconnecting:
                        if not told_reconnecting:
                            told_reconnecting = True
                            _write(fd_err, "\r\n[kit] reconnecting: keys typed now are not sent\r\n")
                        continue
                    told_reconnecting = False
                    try:
                        session.send(action.send)
                    except KitError:  # the connection ended meanwhile: said on the next turn
                        continue
                if action.admin:
                    _admin(session, *action.admin, fd_err=fd_err)
            if quit_now:
                break
    finally:
        if saved is not None:
            termios.tcsetattr(fd_in, termios.TCSADRAIN, saved)
        session.close()
        _write(fd_err, "\r\nsession closed\r\n")
    if lost is not None:
        raise lost
    return 0


def _admin(session: Session, command: str, key: str | None, *, fd_err: int) -> None:
    try:
        if command == "nmi":
            session.nmi(confirm=True)
        elif command == "reset":
            session.reset(confirm=True)
        elif command == "sysrq" and key:
            session.sysrq(key, confirm=True)
    except KitError as error:
        _write(fd_err, f"\r\n[kit] {command} failed: {error}\r\n")
