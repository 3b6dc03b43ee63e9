"""The terminal widget's Python side: batching, replay, confirmations, the static fallback."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from kit.console.widget import SerialTerminal


class Sent(list):
    """Messages the widget sent to the browser."""

    def outputs(self) -> str:
        return "".join(m["data"] for m in self if m["type"] == "output")

    def replayed(self, view: str) -> str:
        return "".join(m["data"] for m in self if m["type"] == "replay" and m["view"] == view)


@pytest.fixture
def terminal() -> tuple[SerialTerminal, Sent, list[str], list[tuple[str, str | None]]]:
    typed: list[str] = []
    admin: list[tuple[str, str | None]] = []
    widget = SerialTerminal(on_input=typed.append, on_admin=lambda c, k: admin.append((c, k)), batch_seconds=0.02)
    sent = Sent()
    widget.send = sent.append  # type: ignore[method-assign]  # the comm seam: no browser in unit tests
    return widget, sent, typed, admin


def browser_says(widget: SerialTerminal, content: dict[str, Any]) -> None:
    widget._on_custom_msg(widget, content, [])


def test_many_small_writes_go_out_as_few_batched_messages(terminal: Any) -> None:
    widget, sent, _, _ = terminal
    lines = [f"line {n:05d} " + "x" * 60 + "\r\n" for n in range(20_000)]
    started = time.monotonic()
    for line in lines:
        widget.write(line)
    elapsed = time.monotonic() - started
    widget.flush()
    assert sent.outputs() == "".join(lines)
    # at most: the burst sent at once, one message per 20 ms window while writing (a window begun, and the
    # timer's one after the last write, count whole), the 64 KiB cuts
    bound = 20 + math.ceil(elapsed / 0.02) + 1 + math.ceil(len("".join(lines)) / (64 * 1024)) + 2
    assert len(sent) <= bound, f"{len(sent)} messages for 20,000 writes in {elapsed:.2f} s: output is not batched"
    assert len(sent) < 1000, "output must be batched, not one message per write (20,000 writes)"
    assert all(len(m["data"].encode()) <= 64 * 1024 for m in sent)


def test_output_is_flushed_by_the_timer_without_an_explicit_flush(terminal: Any) -> None:
    widget, sent, _, _ = terminal
    widget.write("login: ")
    deadline = time.monotonic() + 2
    while not sent and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sent.outputs() == "login: "


def test_a_new_view_gets_the_history_replayed(terminal: Any) -> None:
    widget, sent, _, _ = terminal
    widget.write("boot line 1\r\n")
    widget.flush()
    sent.clear()
    browser_says(widget, {"type": "ready", "view": "v2", "cols": 100, "rows": 30})
    assert sent.replayed("v2") == "boot line 1\r\n"
    assert sent[-1]["last"] is True
    assert sent.outputs() == "", "views already showing the output get nothing twice"
    assert widget.size == (100, 30)


def test_output_still_queued_when_a_view_opens_is_shown_once(terminal: Any) -> None:
    widget, sent, _, _ = terminal
    widget.write("shown before\r\n")
    widget.flush()
    widget.write("queued\r\n")          # not flushed yet: the next batch carries it to every view
    browser_says(widget, {"type": "ready", "view": "v2", "cols": 80, "rows": 24})
    widget.flush()
    replay_then_output = sent.replayed("v2") + "".join(
        m["data"] for m in sent[next(i for i, m in enumerate(sent) if m["type"] == "replay"):] if m["type"] == "output")
    assert replay_then_output == "shown before\r\nqueued\r\n"


def test_an_empty_history_still_ends_the_replay(terminal: Any) -> None:
    widget, sent, _, _ = terminal
    browser_says(widget, {"type": "ready", "view": "v1", "cols": 80, "rows": 24})
    assert sent == [{"type": "replay", "view": "v1", "data": "", "last": True}]


def test_history_is_bounded() -> None:
    widget = SerialTerminal(history_chars=1000)
    widget.send = lambda _m: None  # type: ignore[method-assign]
    for n in range(500):
        widget.write(f"{n:04d}\n")
    assert "0499" in widget.transcript_html() and "0000" not in widget.transcript_html()


def test_keystrokes_reach_the_session(terminal: Any) -> None:
    widget, _, typed, _ = terminal
    browser_says(widget, {"type": "input", "data": "a"})
    browser_says(widget, {"type": "input", "data": "\r"})
    assert typed == ["a", "\r"]


def test_admin_commands_need_confirmation_and_must_be_offered(terminal: Any) -> None:
    widget, _, _, admin = terminal
    widget.admin_commands = ["nmi", "reset"]
    browser_says(widget, {"type": "admin", "command": "reset"})
    browser_says(widget, {"type": "admin", "command": "sysrq", "key": "b", "confirmed": True})
    assert admin == []
    browser_says(widget, {"type": "admin", "command": "reset", "confirmed": True})
    assert admin == [("reset", None)]


def test_sysrq_needs_one_letter_or_digit(terminal: Any) -> None:
    widget, _, _, admin = terminal
    widget.admin_commands = ["nmi", "sysrq", "reset"]
    for bad in (None, "", "bb", ";", "\r"):
        browser_says(widget, {"type": "admin", "command": "sysrq", "key": bad, "confirmed": True})
    browser_says(widget, {"type": "admin", "command": "sysrq", "key": "h", "confirmed": True})
    assert admin == [("sysrq", "h")]


def test_static_fallback_escapes_hostile_output_and_drops_escape_sequences() -> None:
    widget = SerialTerminal(title="sched-01")
    widget.send = lambda _m: None  # type: ignore[method-assign]
    widget.write("\x1b[1;31m<script>alert(1)</script>\x1b[0m\r\n")
    data, _ = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    fallback = data["text/html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fallback
    assert "<script>" not in fallback and "\x1b" not in fallback


def test_static_fallback_uses_the_redacted_transcript_when_given() -> None:
    widget = SerialTerminal(transcript=lambda: "$ iptables -S\n-P INPUT ACCEPT")
    widget.send = lambda _m: None  # type: ignore[method-assign]
    widget.write("raw output that is not the transcript")
    assert "iptables -S" in widget.transcript_html()
    assert "raw output" not in widget.transcript_html()


def test_the_bundle_is_shipped_with_the_package() -> None:
    widget = SerialTerminal()
    assert "xterm" in widget._esm and len(widget._esm) > 100_000
    assert ".xterm" in widget._css


def test_sparse_output_like_keystroke_echoes_is_sent_at_once() -> None:
    widget = SerialTerminal(batch_seconds=5.0, immediate_per_second=10, burst=3)  # a window longer than the test
    sent = Sent()
    widget.send = sent.append  # type: ignore[method-assign]
    for key in "abc":
        widget.write(key)
    assert sent.outputs() == "abc" and len(sent) == 3, "echoes do not wait for the batch window"
    widget.write("d")
    widget.write("e")
    assert sent.outputs() == "abc", "past the budget, output waits for the window"
    widget.flush()
    assert sent.outputs() == "abcde" and len(sent) == 4


def test_keys_reach_the_session_in_typing_order_even_when_the_kernel_swaps_them(terminal: Any) -> None:
    widget, _, typed, _ = terminal
    for seq, key in [(0, "n"), (1, "t"), (3, "s"), (2, " "), (4, "a")]:   # " " and "s" dispatched swapped
        browser_says(widget, {"type": "input", "view": "v1", "seq": seq, "data": key})
    browser_says(widget, {"type": "input", "view": "v2", "seq": 0, "data": "X"})  # another view numbers its own
    assert "".join(typed) == "nt saX"
