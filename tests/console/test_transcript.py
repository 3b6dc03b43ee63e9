"""Transcripts: asciinema v2 shape, flushed as data arrives, redacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.console import Transcript
from kit.console._redact import RedactingStream
from kit.errors import BundleExistsError

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ1cG4iOiJhbGljZUBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJl"


def _new(tmp_path: Path, **kw) -> Transcript:
    return Transcript(tmp_path / "s.cast", vm_id="/subscriptions/x/vm", responder="alice@example.com",
                      approval="CHG-42", transport="mock", **kw)


def test_header_and_events_are_asciinema_v2_and_flushed_immediately(tmp_path: Path) -> None:
    t = _new(tmp_path)
    t.output("hello\r\n")
    lines = (tmp_path / "s.cast").read_text().splitlines()  # readable before close: nothing buffered
    header = json.loads(lines[0])
    assert header["version"] == 2 and header["width"] == 80
    assert header["kit"]["approval"] == "CHG-42" and header["kit"]["responder"] == "alice@example.com"
    assert json.loads(lines[-1])[1:] == ["o", "hello\r\n"]
    t.close()
    assert "hello\n" in (tmp_path / "s.txt").read_text()


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    _new(tmp_path).close()
    with pytest.raises(BundleExistsError):
        _new(tmp_path)


def test_token_echoed_one_character_at_a_time_is_never_written(tmp_path: Path) -> None:
    t = _new(tmp_path, secrets=[TOKEN])
    t.output("$ ")
    for ch in "echo " + TOKEN[:-3] + "xyz" + " " + TOKEN:  # a near-miss then the real one
        t.output(ch)
    t.output("\r\n")
    t.close()
    for path in (tmp_path / "s.cast", tmp_path / "s.txt"):
        text = path.read_text()
        assert TOKEN not in text
        assert TOKEN[20:60] not in text


def test_input_after_a_password_prompt_is_not_recorded(tmp_path: Path) -> None:
    t = _new(tmp_path)
    t.output("Give root password for maintenance\r\n(or press Control-D to continue): ")
    for ch in "hunter2-canary\r":
        t.input(ch)
    t.output("\r\nroot@vm:~# ")
    t.input("ls\r")
    t.close()
    cast = (tmp_path / "s.cast").read_text()
    assert "hunter2" not in cast and "input hidden" in cast and '"i", "ls' in cast


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Authorization: Bearer abcdefghijklmnop1234\r\n", "abcdefghijklmnop1234"),
        ("https://x.blob.core.windows.net/c/b?sv=2020&sig=AbCdEf%2Bghij&se=1\r\n", "AbCdEf%2Bghij"),
        ("db_password=Tr0ub4dor&3 next\r\n", "Tr0ub4dor"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\r\nb3BlbnNzaC1rZXktdjEAAAAA\r\nQUFBQUFB\r\n"
         "-----END OPENSSH PRIVATE KEY-----\r\n", "b3BlbnNzaC1rZXktdjEAAAAA"),
        (f"token {TOKEN}\r\n", TOKEN[:30]),
    ],
)
def test_output_patterns_are_masked_even_when_split(text: str, leak: str) -> None:
    stream = RedactingStream()
    out = "".join(stream.feed(text[i:i + 3]) for i in range(0, len(text), 3)) + stream.flush()
    assert leak not in out
    assert "REDACTED" in out


def _events(tmp_path: Path) -> list[list[object]]:
    return [json.loads(line) for line in (tmp_path / "s.cast").read_text().splitlines()[1:]]


def test_a_password_typed_ahead_and_echoed_is_held_then_masked_in_input_and_output(tmp_path: Path) -> None:
    t = _new(tmp_path)
    t.output("sched-01 login: ")
    t.input("azureuser\r")
    t.input("hunter2-canary\r")                          # before Password: arrives
    t.output("azureuser\r\nhunter2-canary\r\n")         # a tty echoing what arrived while nothing read
    assert t.holding and "hunter2" not in (tmp_path / "s.cast").read_text()
    t.output("Password: ")
    assert not t.holding
    t.output("\r\nazureuser@sched-01:~$ ")
    t.close()
    for path in (tmp_path / "s.cast", tmp_path / "s.txt"):
        assert "hunter2" not in path.read_text()
    events = _events(tmp_path)
    assert ["i", "azureuser\r"] in [e[1:] for e in events]
    assert ["m", "input hidden (typed ahead of a password prompt)"] in [e[1:] for e in events]
    times = [float(e[0]) for e in events]  # type: ignore[arg-type]
    assert times == sorted(times), "held events keep their order and times"


def test_a_line_held_too_long_is_settled_by_its_echo(tmp_path: Path) -> None:
    import time

    t = _new(tmp_path, hold_seconds=0.05)
    t.output("azureuser@sched-01:~$ ")
    t.input("top\r")
    t.input("q")                                         # keys for a full-screen program: no prompt follows
    t.output("\x1b[H\x1b[2Jtop - 10:00:01 up 3 min\r\n")
    assert t.holding
    time.sleep(0.1)
    t.output("Tasks: 97 total\r\n")
    assert not t.holding
    t.close()
    assert "Tasks: 97 total" in (tmp_path / "s.txt").read_text()


def test_sas_and_tokens_typed_or_in_markers_are_removed(tmp_path: Path) -> None:
    url = "https://diag.blob.core.windows.net/c/serial.log?sv=2022-11-02&sp=r&sig=TypedSig0123%2Babc"
    t = _new(tmp_path)
    t.output("azureuser@sched-01:~$ ")
    t.input(f"curl -o log '{url}'\r")
    t.output(f"curl -o log '{url}'\r\n100  2048\r\n")
    t.marker("admin command nmi requested", url=url, token=TOKEN)
    t.close()
    for path in (tmp_path / "s.cast", tmp_path / "s.txt"):
        text = path.read_text()
        assert "TypedSig0123" not in text and TOKEN not in text
        assert "diag.blob.core.windows.net/c/serial.log" in text


def test_after_lost_output_the_next_line_waits_for_a_prompt(tmp_path: Path) -> None:
    t = _new(tmp_path)
    t.output("azureuser@sched-01:~$ ")
    t.output_lost()                                     # a reconnect gap: the guest may be anywhere
    t.input("hunter2-canary\r")                         # e.g. at a Password: printed during the gap
    t.output("\r\nazureuser@sched-01:~$ ")
    t.output("\r\nazureuser@sched-01:~$ ")
    t.close()
    assert "hunter2" not in (tmp_path / "s.cast").read_text()
