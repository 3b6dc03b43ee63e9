"""A JupyterLab server and a headless Debian chromium, for the widget's browser test and benchmark.

Follows the recipe that works on this machine: ``--IdentityProvider.token``, ``--allow-root``,
a fresh workspaces folder per run (a persisted workspace made Lab hang), and
``expose_app_in_browser`` so a page can run every cell through ``window.jupyterapp``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-dev-shm-usage"]


@dataclass
class Lab:
    """A running JupyterLab: where it listens and the folder it serves."""

    url: str
    token: str
    root: Path
    log: Path

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def jupyterlab(root: Path, timeout: float = 60, *, extensions: tuple[str, ...] = ()) -> Iterator[Lab]:
    """Start ``jupyter lab`` serving ``root`` on a free port; stop it (the whole process group) after.

    ``extensions`` are extra server extensions to enable (module names).
    """
    port, token = _free_port(), secrets.token_hex(16)
    scratch = Path(tempfile.mkdtemp(prefix="kit-jlab-"))
    enable = [f"--ServerApp.jpserver_extensions={name}=True" for name in extensions]
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(scratch / "cfg"), "JUPYTER_RUNTIME_DIR": str(scratch / "rt"),
           "JUPYTER_DATA_DIR": str(Path(sys.prefix) / "share" / "jupyter"), "PYTHONUNBUFFERED": "1"}
    log = scratch / "lab.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             f"--IdentityProvider.token={token}", "--allow-root", f"--ServerApp.root_dir={root}",
             f"--LabApp.workspaces_dir={scratch / 'ws'}", "--LabApp.expose_app_in_browser=True",
             "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", *enable],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=root)
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, root=root, log=log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{lab.url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield lab
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def console_notebook(folder: Path, name: str = "console.ipynb", **parameters: Any) -> Path:
    """A copy of ``notebooks/console.ipynb`` in ``folder`` with its parameters cell set to ``parameters``."""
    source = Path(__file__).resolve().parents[2] / "notebooks" / "console.ipynb"
    nb = nbformat.read(source, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    lines = cell.source.splitlines()
    for key, value in parameters.items():
        for index, line in enumerate(lines):
            if line.split("=")[0].strip() == key:
                lines[index] = f"{key} = {value!r}"
                break
        else:
            lines.append(f"{key} = {value!r}")
    cell.source = "\n".join(lines)
    target = folder / name
    nbformat.write(nb, target)
    return target


def run_all(page: Any, lab: Lab, name: str, timeout_ms: int = 60_000) -> None:
    """Open notebook ``name``, wait for an idle kernel, run every cell."""
    page.goto(lab.notebook_url(name), timeout=timeout_ms)
    page.wait_for_function(
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
        " return k && k.status === 'idle'; }", timeout=timeout_ms)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def terminal_text(page: Any) -> str:
    """What the xterm screen shows (xterm 6 renders rows into the DOM)."""
    return str(page.evaluate("() => { const r = document.querySelector('.kit-serial .xterm-rows');"
                             " return r ? r.innerText : ''; }"))


def wait_terminal(page: Any, text: str, timeout_ms: int = 20_000) -> None:
    """Wait until the terminal shows ``text``."""
    page.wait_for_function(
        "(t) => { const r = document.querySelector('.kit-serial .xterm-rows'); return r && r.innerText.includes(t); }",
        arg=text, timeout=timeout_ms)
