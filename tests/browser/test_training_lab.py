"""A trainee's drill in JupyterLab, in a real browser (Debian chromium + Playwright).

Set up as ``kit train start firewall-lockout --seed 5`` does it (a training lab serving the
variant, JupyterLab with the lab's connection in its environment, a fresh copy of the
walkthrough). The trainee runs all cells, answers the classification question in its form, finds
the check failing, fixes the VM by typing into the terminal widget, runs the check cell again and
sees it pass; ``kit train report`` then lists the drill with its time to repair.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from jupyterlab import chromium, run_all, terminal_text, wait_terminal  # noqa: E402

pytestmark = pytest.mark.browser

SCENARIO, SEED = "firewall-lockout", 5


@pytest.fixture(scope="module")
def training(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from kit.train import training_lab
    from kit.train.jupyter import prepare_workspace, start_jupyter

    root = tmp_path_factory.mktemp("training")
    archive = root / "archive"
    with training_lab({SCENARIO: SEED}) as lab:
        prepare_workspace(SCENARIO, root / "training", archive_root=archive, trainee="Browser Trainee")
        server = start_jupyter(root / "training", env=lab.env())
        try:
            yield lab, server, archive
        finally:
            server.stop()


def _run_cell_containing(page: Any, text: str) -> None:
    page.evaluate("""(text) => {
        const panel = window.jupyterapp.shell.currentWidget;
        const cells = panel.content.widgets;
        const index = cells.findIndex(c => c.model.sharedModel.getSource().includes(text));
        panel.content.activeCellIndex = index;
        return window.jupyterapp.commands.execute('notebook:run-cell');
    }""", text)


def test_trainee_answers_fixes_through_the_terminal_and_passes_the_check(training: Any, capsys: Any) -> None:
    from kit.cli import main

    lab, server, archive = training
    info = lab.lab.scenario(SCENARIO)
    user, password = info.guest["username"], info.guest["password"]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            run_all(page, server, f"{SCENARIO}.ipynb", timeout_ms=90_000)
            page.wait_for_selector(".kit-check[data-passed='false']", timeout=120_000)   # not fixed yet

            select = page.locator(".kit-question-level select")
            select.select_option("platform")                       # a wrong answer first
            page.locator(".kit-check-level").click()
            page.wait_for_selector(".kit-verdict-level .kit-answer[data-correct='false']", timeout=30_000)
            assert page.locator(".kit-hint").first.get_attribute("open") is None       # hints stay folded
            select.select_option("guest")
            page.locator(".kit-check-level").click()
            page.wait_for_selector(".kit-verdict-level .kit-answer[data-correct='true']", timeout=30_000)

            page.wait_for_selector(".kit-serial-status[data-status='connected']", timeout=60_000)
            page.click(".kit-serial .xterm-screen")
            page.keyboard.press("Enter")
            wait_terminal(page, "login:", 45_000)
            page.keyboard.type(user)
            page.keyboard.press("Enter")
            wait_terminal(page, "Password:", 45_000)
            page.keyboard.type(password)
            page.keyboard.press("Enter")
            wait_terminal(page, f"{user}@", 45_000)
            page.keyboard.type("sudo iptables -S")
            page.keyboard.press("Enter")
            wait_terminal(page, "-P INPUT DROP", 45_000)
            page.keyboard.type("sudo iptables -P INPUT ACCEPT")
            page.keyboard.press("Enter")
            page.keyboard.type("sudo netfilter-persistent save")
            page.keyboard.press("Enter")
            wait_terminal(page, "save", 45_000)
            assert password not in terminal_text(page)

            _run_cell_containing(page, "outcome = drill.check()")
            page.wait_for_selector(".kit-check[data-passed='true']", timeout=60_000)
            assert "time to repair" in page.inner_text(".kit-check[data-passed='true']")
            assert errors == [], f"JavaScript errors: {errors[:5]}"
        except Exception:
            page.screenshot(path=str(server.root / "failure.png"), full_page=True)
            print("terminal shows:", terminal_text(page), "\nJS errors:", errors, "\nscreenshot:",
                  server.root / "failure.png")
            raise
        finally:
            page.close()

    assert main(["train", "report", "--archive", str(archive)]) == 0
    report = capsys.readouterr().out
    row = next(line for line in report.splitlines() if line.startswith(f"DRILL-{SCENARIO}-s{SEED}"))
    assert " PASS " in row and "Browser Trainee" in row and row.rstrip().endswith(" s")
    transcripts = list(archive.glob("DRILL-*/transcripts/*.txt"))
    assert transcripts and all(password not in t.read_text() for t in transcripts)
    assert "sudo iptables -P INPUT ACCEPT" in transcripts[0].read_text()
