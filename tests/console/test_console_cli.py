"""``kit console precheck|open`` and ``kit lab check``, run as a user would (a pty for the terminal)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ptys import reap

from kit.cli import main

PY = sys.executable


def _read_until(fd: int, needle: bytes, timeout: float = 20) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not seen; got {seen[-400:]!r}")
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen


def test_precheck_against_the_lab_prints_a_ready_console(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["console", "precheck", "--lab", "firewall-lockout"]) == 0
    out = capsys.readouterr().out
    assert "ready" in out and "power state:                  running" in out


def test_open_needs_an_approval_reference(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["console", "open", "--lab", "firewall-lockout"])
    assert exited.value.code == 2
    assert "--approval" in capsys.readouterr().err


def test_terminal_session_types_logs_in_and_quits_from_the_menu(tmp_path: Path) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: `kit console open` in a real terminal
        os.execv(PY, [PY, "-m", "kit", "console", "open", "--lab", "firewall-lockout", "--approval", "CHG-7",
                      "--transcript", str(tmp_path / "t.cast")])
    try:
        _read_until(fd, b"Ctrl+] for the menu")
        os.write(fd, b"\r")
        _read_until(fd, b"login: ")
        os.write(fd, b"azureuser\r")
        _read_until(fd, b"Password: ")
        os.write(fd, b"Lab-Only-Pa55!\r")
        _read_until(fd, b"$ ")
        os.write(fd, b"hostname\r")
        _read_until(fd, b"sched-01\r\n")
        os.write(fd, b"\x1d")
        _read_until(fd, b"q=quit")
        os.write(fd, b"q")
        _read_until(fd, b"session closed")
    finally:
        status = reap(pid)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    text = (tmp_path / "t.txt").read_text()
    assert "approval: CHG-7" in text and "hostname" in text and "Lab-Only-Pa55!" not in text


def test_lab_check_asks_a_running_lab(tmp_path: Path) -> None:
    env = {**os.environ}
    server = subprocess.Popen([PY, "-m", "kit", "lab", "serve", "--scenario", "firewall-lockout"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        endpoint = ca = None
        while endpoint is None or ca is None:
            line = server.stdout.readline()  # type: ignore[union-attr]
            assert line, "kit lab serve ended early"
            if line.startswith("lab listening on "):
                endpoint = line.split()[-1]
            if line.startswith("CA certificate:"):
                ca = line.split()[-1]
        # the token is printed only to a terminal; an unauthenticated check is refused
        result = subprocess.run([PY, "-m", "kit", "lab", "check", "firewall-lockout", "--arm-endpoint", endpoint,
                                 "--ca-bundle", ca], capture_output=True, text=True,
                                env={**env, "KIT_ARM_TOKEN": "not-the-token"})
        assert result.returncode == 1 and "refused the token" in result.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_lab_check_in_process_is_red_until_fixed() -> None:
    from kit.lab import running_lab

    with running_lab(scenarios=["firewall-lockout"]) as lab:
        result = lab.check("firewall-lockout")
        assert not result.passed and "DROP" in result.message


def test_lab_check_turns_green_after_the_fix(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from kit.console import open_lab_session
    from kit.lab import running_lab

    with running_lab(scenarios=["firewall-lockout"]) as lab:
        monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)
        argv = ["lab", "check", "firewall-lockout", "--arm-endpoint", lab.endpoint, "--ca-bundle", str(lab.ca_path)]
        assert main(argv) == 1
        assert capsys.readouterr().out.startswith("FAIL firewall-lockout:")
        with open_lab_session(lab, "firewall-lockout", approval="TRAIN-1") as session:
            session.login("azureuser", "Lab-Only-Pa55!")
            session.run("sudo iptables -P INPUT ACCEPT")
            session.run("sudo netfilter-persistent save")
        assert main(argv) == 0
        assert capsys.readouterr().out.startswith("PASS firewall-lockout:")


CHILD_RECONNECT = """
import contextlib, signal, sys
import kit.lab
from kit.cli import main

real = kit.lab.running_lab


@contextlib.contextmanager
def lab_whose_vm_stops_and_starts(*args, **kwargs):
    with real(*args, **kwargs) as lab:
        info = lab.scenario("firewall-lockout")
        vm = info.vm_id(info.broken_vm).lower()

        def power(state):
            view = lab.state.instance_views[vm]
            view["statuses"] = [s for s in view["statuses"] if not s["code"].startswith("PowerState/")] + [
                {"code": f"PowerState/{state}", "level": "Info", "displayStatus": f"VM {state}"}]

        def lose(*_):
            from kit.lab.gateway import hub_of
            power("deallocated")
            hub_of(lab.state).drop(vm)

        signal.signal(signal.SIGUSR1, lose)
        signal.signal(signal.SIGUSR2, lambda *_: power("running"))
        yield lab


kit.lab.running_lab = lab_whose_vm_stops_and_starts
sys.exit(main(sys.argv[1:]))
"""


def test_when_the_connection_is_lost_enter_opens_a_new_session_as_the_readme_says(tmp_path: Path) -> None:
    import signal

    pid, fd = pty.fork()
    if pid == 0:
        os.execv(PY, [PY, "-c", CHILD_RECONNECT, "console", "--lab", "firewall-lockout", "--approval", "CHG-77",
                      "--transcript", str(tmp_path / "t.cast")])
    try:
        _read_until(fd, b"Ctrl+] for the menu")
        time.sleep(0.2)
        os.write(fd, b"\r")
        _read_until(fd, b"login: ")
        os.kill(pid, signal.SIGUSR1)                       # every reconnect is refused: the VM is deallocated
        said = _read_until(fd, b'press "Enter" to reconnect')
        assert b"reconnect failed 5 times" in said
        os.kill(pid, signal.SIGUSR2)                       # the VM is back
        time.sleep(0.2)
        os.write(fd, b"\r")
        _read_until(fd, b"reconnected (new session)")
        os.write(fd, b"\r")
        _read_until(fd, b"login: ")
        os.write(fd, b"\x1dq")
        _read_until(fd, b"session closed")
    finally:
        status = reap(pid)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert "reconnect failed; the console connection is lost" in (tmp_path / "t.cast").read_text()
    second = (tmp_path / "t-2.cast").read_text()
    assert "CHG-77" in second and "login: " in second


def test_open_attaches_to_a_raw_serial_socket_with_the_same_transcript(tmp_path: Path) -> None:
    from ptys import BashOnSocket

    with BashOnSocket(str(tmp_path / "ttyS0.sock")):
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(PY, [PY, "-m", "kit", "console", "open", "--socket", str(tmp_path / "ttyS0.sock"),
                          "--approval", "CHG-9", "--transcript", str(tmp_path / "s.cast")])
        try:
            _read_until(fd, b"Ctrl+] for the menu")
            os.write(fd, b"\r")
            _read_until(fd, b"root@vm:~# ")
            os.write(fd, b"echo $((6*7))\r")
            _read_until(fd, b"42\r\n")
            os.write(fd, b"\x1d")
            _read_until(fd, b"q=quit")
            os.write(fd, b"q")
            _read_until(fd, b"session closed")
        finally:
            status = reap(pid)
            os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    text = (tmp_path / "s.txt").read_text()
    assert "approval: CHG-9" in text and "echo $((6*7))" in text and "42" in text


def test_open_on_a_socket_refuses_an_azure_target_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["console", "open", "--socket", "/tmp/x.sock", "--lab", "firewall-lockout",
                 "--approval", "CHG-1"]) == 2
    assert "leave out --vm, --lab" in capsys.readouterr().err
