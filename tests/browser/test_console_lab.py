"""The console notebook in JupyterLab, in a real browser: a responder fixes firewall-lockout by typing.

JupyterLab is started by the test; Debian chromium opens ``console.ipynb`` (parameters: the lab's
firewall-lockout scenario, an approval reference, an incident archive in a temp folder), runs it,
types into the terminal, sees the guest's echo, logs in, fixes the firewall, asks the lab whether
the fix is right, closes the console and finds the transcript in the archive — with the commands
and without the password.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from jupyterlab import chromium, console_notebook, jupyterlab, run_all, terminal_text, wait_terminal  # noqa: E402

pytestmark = pytest.mark.browser

INCIDENT = "INC-BROWSER"


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("console-nb")
    archive = root / "archive" / INCIDENT
    console_notebook(root, source="lab:firewall-lockout", approval="CHG-BROWSER", incident=INCIDENT,
                     archive_dir=str(archive))
    with jupyterlab(root) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def test_fix_firewall_lockout_from_the_console_notebook(lab_server: Any, browser: Any) -> None:
    from kit.lab import load_scenario

    guest = load_scenario("firewall-lockout").guest
    user, password = guest["username"], guest["password"]
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        run_all(page, lab_server, "console.ipynb")
        page.wait_for_selector(".kit-serial .xterm-screen", timeout=60_000)
        page.wait_for_selector(".kit-serial-status[data-status='connected']", timeout=30_000)
        assert "DisplayHandle" not in page.inner_text("body")  # showing the terminal prints nothing else
        buttons = page.locator(".kit-serial-admin-button")
        assert [buttons.nth(i).inner_text() for i in range(buttons.count())] == ["NMI", "SysRq", "Hard reset"]

        page.click(".kit-serial .xterm-screen")
        page.keyboard.press("Enter")                       # a serial console shows nothing until a key
        wait_terminal(page, "login:")
        page.keyboard.type(user)
        wait_terminal(page, f"login: {user}")              # the guest's echo of what was typed
        page.keyboard.press("Enter")
        wait_terminal(page, "Password:")
        page.keyboard.type(password)
        page.keyboard.press("Enter")
        wait_terminal(page, f"{user}@")
        page.keyboard.type("sudo iptables -S")
        page.keyboard.press("Enter")
        wait_terminal(page, "-P INPUT DROP")

        page.get_by_role("button", name="Check the fix").click()
        page.wait_for_selector(".kit-lab-check[data-passed='false']", timeout=20_000)

        page.click(".kit-serial .xterm-screen")            # back into the terminal after the button
        page.keyboard.type("sudo iptables -P INPUT ACCEPT")
        page.keyboard.press("Enter")
        page.keyboard.type("sudo netfilter-persistent save")
        page.keyboard.press("Enter")
        wait_terminal(page, "15-ip4tables save")
        assert password not in terminal_text(page)

        page.get_by_role("button", name="Check the fix").click()
        page.wait_for_selector(".kit-lab-check[data-passed='true']", timeout=20_000)
        assert "PASS" in page.inner_text(".kit-lab-check")

        page.get_by_role("button", name="Close and archive").click()
        page.wait_for_selector(".kit-console-finished[data-ok='true']", timeout=30_000)
        page.wait_for_selector(".kit-serial-status[data-status='closed']", timeout=10_000)
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_timeout(1000)
        assert errors == [], f"JavaScript errors: {errors[:5]}"
    except Exception:
        page.screenshot(path=str(lab_server.root / "failure.png"), full_page=True)
        print("terminal shows:", terminal_text(page), "\nJS errors:", errors, "\nscreenshot:",
              lab_server.root / "failure.png")
        raise
    finally:
        page.close()

    root = lab_server.root / "archive" / INCIDENT
    manifest = json.loads((root / "manifest.json").read_text())
    event = manifest["event"]
    assert event["kind"] == "console" and event["approval"] == "CHG-BROWSER" and event["lab_check"]["passed"]
    text = (root / event["transcripts"][1]).read_text()
    cast = (root / event["transcripts"][0]).read_text()
    for command in ("sudo iptables -S", "sudo iptables -P INPUT ACCEPT", "sudo netfilter-persistent save"):
        assert command in text, f"{command!r} is in the transcript"
    assert "approval: CHG-BROWSER" in text
    # the password line is hidden: typed at the prompt, or (on a loaded machine, the browser's keys beating the
    # kernel's copy of "Password:") typed ahead of it: kit.console._typeahead says which
    assert re.search(r"input hidden \(typed (at|ahead)", cast), cast
    saved = (lab_server.root / "console.ipynb").read_text()
    for place, content in (("transcript", text), ("cast", cast), ("notebook", saved)):
        assert password not in content, f"the password leaked into the {place}"
