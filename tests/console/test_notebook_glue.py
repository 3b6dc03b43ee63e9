"""``console_widget``: a session driven from the terminal widget, as a notebook user drives it.

The browser is replaced by its two seams: what the widget sends (``widget.send``) and what the
browser says (``widget._on_custom_msg``). The session is real: the lab over HTTPS + wss for the
Linux walkthrough, a mock transport for Windows and for a guest that hangs up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kit.console import MockTransport, Session, open_lab_session
from kit.console.notebook import admin_commands_for, console_widget, findings_panel, transcript_text
from kit.console.widget import SerialTerminal

SCENARIO = "firewall-lockout"


class Browser:
    """One browser view of a widget: records what arrives, types keys, clicks confirmed buttons."""

    def __init__(self, widget: SerialTerminal) -> None:
        self.widget = widget
        self.messages: list[dict[str, Any]] = []
        self.statuses: list[str] = [widget.status]
        widget.send = self.messages.append  # type: ignore[method-assign]
        widget.observe(lambda change: self.statuses.append(change["new"]), names="status")
        # the view renders: it says "ready" and gets what was shown before it existed
        widget._on_custom_msg(widget, {"type": "ready", "view": "view-1", "cols": 80, "rows": 24}, [])

    def screen(self) -> str:
        return "".join(m.get("data", "") for m in list(self.messages) if m["type"] in ("output", "replay"))

    def wait_for(self, text: str, timeout: float = 10, since: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen()[since:]:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never reached the terminal; it shows {self.screen()[-300:]!r}")
            time.sleep(0.02)

    def type(self, keys: str) -> None:
        for key in keys:
            self.widget._on_custom_msg(self.widget, {"type": "input", "data": key}, [])

    def confirm(self, command: str, key: str | None = None) -> None:
        message: dict[str, Any] = {"type": "admin", "command": command, "confirmed": True}
        if key is not None:
            message["key"] = key
        self.widget._on_custom_msg(self.widget, message, [])


def _eventually(predicate: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def console_lab() -> Iterator[Any]:
    from kit.lab import running_lab

    with running_lab(scenarios=[SCENARIO]) as lab:
        yield lab


@pytest.fixture
def credentials(console_lab: Any) -> tuple[str, str]:
    guest = console_lab.scenario(SCENARIO).guest
    return guest["username"], guest["password"]


def _login(browser: Browser, user: str, password: str) -> None:
    """Log in through the widget (the lab's guest stays logged in between sessions, as a VM would)."""
    mark = len(browser.screen())
    browser.type("\r")
    _eventually(lambda: any(p in browser.screen()[mark:] for p in ("login: ", "$ ")))
    if "$ " in browser.screen()[mark:]:
        return
    browser.type(user + "\r")
    browser.wait_for("Password: ")
    browser.type(password + "\r")
    browser.wait_for("$ ")


def test_typing_in_the_widget_fixes_the_firewall_and_the_transcript_keeps_no_password(
        console_lab: Any, credentials: tuple[str, str], tmp_path: Path) -> None:
    user, password = credentials
    session = open_lab_session(console_lab, SCENARIO, approval="CHG-42", transcript=tmp_path / "t.cast")
    widget = console_widget(session)
    browser = Browser(widget)
    try:
        assert widget.status == "connected"
        assert widget.title == console_lab.scenario(SCENARIO).broken_vm
        assert widget.admin_commands == ["nmi", "sysrq", "reset"]
        _login(browser, user, password)
        assert not console_lab.check(SCENARIO).passed
        mark = len(browser.screen())
        browser.type("sudo iptables -S\r")
        browser.wait_for("-P INPUT DROP", since=mark)
        browser.type("sudo iptables -P INPUT ACCEPT\r")
        browser.type("sudo netfilter-persistent save\r")
        browser.wait_for("15-ip4tables save", since=mark)
        _eventually(lambda: console_lab.check(SCENARIO).passed)
        fallback = widget.transcript_html()
        assert "sudo iptables -P INPUT ACCEPT" in fallback and "approval: CHG-42" in fallback, fallback[-1500:]
    finally:
        session.close()
    _eventually(lambda: widget.status == "closed")
    assert browser.statuses[-1] == "closed"
    text = (tmp_path / "t.txt").read_text()
    cast = (tmp_path / "t.cast").read_text()
    assert "sudo iptables -P INPUT ACCEPT" in text and "netfilter-persistent save" in text
    assert password not in text and password not in cast and password not in widget.transcript_html()
    assert console_lab.token not in text + cast


def test_keys_typed_fast_reach_the_guest_in_order(console_lab: Any, credentials: tuple[str, str]) -> None:
    session = open_lab_session(console_lab, SCENARIO, approval="CHG-42")
    widget = console_widget(session)
    browser = Browser(widget)
    try:
        _login(browser, *credentials)
        line = "echo " + "".join(chr(ord("a") + n % 26) for n in range(200))
        mark = len(browser.screen())
        browser.type(line + "\r")  # 206 messages, each scheduled on the session loop without waiting
        browser.wait_for(line + "\r\n", since=mark)
    finally:
        session.close()


def test_status_follows_a_dropped_socket_and_the_gap_is_shown(console_lab: Any) -> None:
    from kit.lab.gateway import hub_of

    session = open_lab_session(console_lab, SCENARIO, approval="CHG-42")
    widget = console_widget(session)
    browser = Browser(widget)
    try:
        browser.type("\r")  # the gateway has registered the socket once the guest answers
        _eventually(lambda: any(p in browser.screen() for p in ("login: ", "$ ")))
        hub_of(console_lab.state).drop(session.vm_id)
        browser.wait_for("reconnected after")
        assert "reconnecting" in browser.statuses
        assert widget.status == "connected"
        mark = len(browser.screen())
        browser.type("\r")
        _eventually(lambda: any(p in browser.screen()[mark:] for p in ("login: ", "$ ")))
    finally:
        session.close()


def test_a_confirmed_sysrq_from_the_widget_reaches_the_guest_kernel(console_lab: Any) -> None:
    session = open_lab_session(console_lab, SCENARIO, approval="CHG-42")
    widget = console_widget(session)
    browser = Browser(widget)
    try:
        browser.confirm("sysrq", "h")
        browser.wait_for("sysrq: HELP")
        browser.wait_for("admin command sysrq sent")
    finally:
        session.close()


def test_windows_gets_no_sysrq_button_and_admin_commands_go_to_the_session() -> None:
    transport = MockTransport(banner="SAC>", os_type="windows")
    session = Session(transport, approval="CHG-9")
    widget = console_widget(session)
    browser = Browser(widget)
    try:
        assert widget.admin_commands == ["nmi", "reset"] == admin_commands_for("windows")
        browser.confirm("sysrq", "b")          # not offered: ignored
        browser.confirm("reset")
        browser.wait_for("sending reset")
        _eventually(lambda: transport.admin == [("reset", {})])
        browser.wait_for("SAC>")
    finally:
        session.close()


def test_a_guest_hanging_up_closes_the_badge_and_further_keys_are_not_sent() -> None:
    transport = MockTransport(banner="login: ")
    session = Session(transport, approval="CHG-9")
    widget = console_widget(session)
    browser = Browser(widget)
    browser.wait_for("login: ")
    session.loop.call_soon_threadsafe(transport.hangup)
    _eventually(lambda: widget.status == "closed")
    browser.type("root\r")
    browser.wait_for("not connected")
    assert transport.sent == []
    session.close()


def test_a_lost_connection_closes_the_badge_and_says_the_console_is_lost(tmp_path: Path) -> None:
    from kit.console import SessionState

    transport = MockTransport(banner="login: ")
    session = Session(transport, approval="CHG-9", transcript=tmp_path / "w.cast")
    widget = console_widget(session)
    browser = Browser(widget)
    browser.wait_for("login: ")
    session.loop.call_soon_threadsafe(transport.lose, "reconnect failed 5 times in 6.2 s (HTTP 503)")
    _eventually(lambda: widget.status == "closed")
    browser.wait_for("the console is lost: run the cell again to open a new session")
    assert "reconnect failed 5 times" in browser.screen()
    assert session.state is SessionState.ENDED
    browser.type("root\r")
    browser.wait_for("not connected")
    assert transport.sent == []
    session.close()
    assert "reconnect failed; the console connection is lost" in (tmp_path / "w.cast").read_text()


def test_output_before_the_widget_existed_is_shown_and_the_fallback_is_redacted() -> None:
    transport = MockTransport(banner="boot ok\r\nAuthorization: Bearer eyJabc.def.ghi\r\nlogin: ")
    session = Session(transport, approval="CHG-9")
    session.open()
    try:
        _eventually(lambda: "login: " in session.history_text())
        widget = console_widget(session)
        browser = Browser(widget)
        widget.flush()
        assert "boot ok" in browser.screen()
        assert widget.status == "connected"
        fallback = transcript_text(session)
        assert "boot ok" in fallback and "eyJabc.def.ghi" not in fallback
    finally:
        session.close()


def test_works_from_inside_a_running_event_loop_like_a_notebook_cell(console_lab: Any) -> None:
    async def cell() -> SerialTerminal:
        session = open_lab_session(console_lab, SCENARIO, approval="CHG-42")
        widget = console_widget(session)   # blocking calls inside a running loop, as in Jupyter
        Browser(widget).type("\r")
        return widget

    widget = asyncio.run(cell())
    browser = Browser(widget)
    widget._on_custom_msg(widget, {"type": "ready", "view": "v", "cols": 80, "rows": 24}, [])
    _eventually(lambda: any(p in browser.screen() for p in ("login: ", "$ ")))
    widget.glue.session.close()


def test_findings_panel_shows_what_the_analyzer_sees() -> None:
    transport = MockTransport()
    session = Session(transport, approval="CHG-9")
    widget = console_widget(session)
    panel = findings_panel(session)
    assert "no findings" in panel.value
    session.loop.call_soon_threadsafe(
        transport.feed, "[  OK  ] Reached target Basic System.\r\nYou are in emergency mode. After logging in, "
                        "type \"journalctl -xb\" to view\r\nGive root password for maintenance\r\n")
    _eventually(lambda: "emergency" in panel.value.lower())
    session.close()
    _eventually(lambda: widget.status == "closed")


# ------------------------------------------------------------------ the console notebook's steps
def test_open_console_records_the_transcript_in_the_incident_archive(tmp_path: Path) -> None:
    from kit.archive import read_manifest, verify_archive
    from kit.console.notebook import open_console

    run = open_console("lab:firewall-lockout", approval="CHG-5", incident="INC-5", archive_root=tmp_path)
    browser = Browser(run.widget)
    assert run.precheck.ok and run.widget.status == "connected"
    browser.type("\r")
    browser.wait_for("login: ")
    assert not run.check().passed
    manifest = run.finish()
    assert run.finish() == manifest, "finishing twice records once"
    assert run.widget.status == "closed"
    root = tmp_path / "INC-5"
    event = read_manifest(root)["event"]
    assert event["kind"] == "console" and event["approval"] == "CHG-5" and event["lab_check"]["passed"] is False
    assert event["transcripts"] == [f"transcripts/{run.cast_path.name}", f"transcripts/{run.text_path.name}"]
    assert verify_archive(root).ok
    assert "sched-01 login:" in run.text_path.read_text()


def test_open_console_refuses_without_approval_or_when_the_prechecks_fail(tmp_path: Path) -> None:
    from kit.console.notebook import open_console
    from kit.errors import ConsolePrecheckError, UsageError

    with pytest.raises(UsageError, match="approval"):
        open_console("lab:firewall-lockout", approval=" ", incident="INC-6", archive_root=tmp_path)
    with pytest.raises(ConsolePrecheckError, match="deallocated|running"):
        open_console("lab:deallocated", approval="CHG-6", incident="INC-6", archive_root=tmp_path)
    assert not (tmp_path / "INC-6" / "transcripts").exists()


def test_open_console_takes_a_lab_or_azure_source_only(tmp_path: Path) -> None:
    from kit.console.notebook import open_console
    from kit.errors import UsageError

    for source in ("bundle:archive/INC-1/evidence/x", "lab:", "azure:sub", "aws"):
        with pytest.raises(UsageError, match=r"must be lab:<scenario> or azure$"):
            open_console(source, approval="CHG-7", incident="INC-7", archive_root=tmp_path)
    assert not (tmp_path / "INC-7").exists()


def test_the_title_is_the_vm_name_or_what_the_transport_says() -> None:
    vm = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/" \
         "virtualMachines/web-01"
    assert console_widget(Session(MockTransport(), approval="CHG-9", vm_id=vm), open=False).title == "web-01"
    assert console_widget(Session(MockTransport(), approval="CHG-9"), open=False).title == "mock"
    unopened = console_widget(Session(MockTransport(), approval="CHG-9"), open=False, title="x")
    assert unopened.status == "closed" and unopened.admin_commands == ["nmi", "sysrq", "reset"]
