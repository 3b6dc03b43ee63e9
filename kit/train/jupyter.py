"""JupyterLab for a drill: a workspace with a fresh copy of the walkthrough, and the server.

The server gets the training lab's connection through its environment (every kernel and terminal
inherits it), a random Jupyter token, a fresh workspace state (a persisted one can hang the next
start) and only 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kit.errors import KitError
from kit.times import folder_stamp
from kit.train.registry import get_walkthrough

__all__ = ["JupyterServer", "prepare_workspace", "start_jupyter"]


def _assignment(name: str, value: str) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` replacement that sets ``name = value`` and keeps the line's trailing comment."""
    return lambda match: f"{name} = {value!r}{match.group(1)}"


def prepare_workspace(scenario: str, workspace: str | Path, *, archive_root: str | Path, trainee: str = "",
                      fresh: bool = False) -> Path:
    """Copy the walkthrough into ``workspace`` (kept if there, unless ``fresh``); return the copy.

    The copy's parameters point at ``archive_root`` and name the trainee; with ``fresh`` an
    existing copy is kept aside as ``<scenario>-<UTC time>.ipynb``.
    """
    folder = Path(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{scenario}.ipynb"
    if target.exists() and not fresh:
        return target
    if target.exists():
        target.rename(folder / f"{scenario}-{folder_stamp()}.ipynb")
    import nbformat

    nb = nbformat.read(get_walkthrough(scenario).notebook, as_version=4)
    values = {"archive_root": str(Path(archive_root).resolve())}
    if trainee:
        values["trainee"] = re.sub(r"[^\w .@-]", "", trainee)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            for name, value in values.items():
                cell.source = re.sub(rf"^{name} = [^#\n]*?(\s*#|$)", _assignment(name, value), cell.source, count=1,
                                     flags=re.M)
    nbformat.write(nb, target)
    return target


@dataclass
class JupyterServer:
    """A running JupyterLab."""

    process: subprocess.Popen[bytes]
    url: str
    token: str
    root: Path
    _state: Path

    def notebook_url(self, name: str) -> str:
        """The URL opening ``name`` (relative to the root) in Lab."""
        return f"{self.url}/lab/tree/{name}?token={self.token}"

    def stop(self) -> None:
        """Stop the server and its kernels."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self._state, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_jupyter(root: str | Path, *, env: dict[str, str], port: int = 0, timeout: float = 60.0,
                  waiting: Callable[[float], None] | None = None) -> JupyterServer:
    """Start JupyterLab on 127.0.0.1 serving ``root``, with ``env`` added to its environment.

    ``waiting(seconds)`` is told how long it has waited, each time JupyterLab does not answer yet.
    """
    state = Path(tempfile.mkdtemp(prefix="kit-train-jupyter-"))
    port = port or _free_port()
    token = secrets.token_hex(16)
    full_env = {**os.environ, **env, "JUPYTER_CONFIG_DIR": str(state / "config"),
                "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
                "JUPYTER_DATA_DIR": str(Path(sys.prefix) / "share" / "jupyter"), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={Path(root).resolve()}",
               f"--LabApp.workspaces_dir={state / 'workspaces'}", "--LabApp.expose_app_in_browser=True",
               "--ServerApp.port_retries=0", "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               # the terminal widget's echo would otherwise wait ~40 ms for Nagle on Jupyter's websockets
               "--ServerApp.jpserver_extensions=kit.console.jupyter_nodelay=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = (state / "jupyter.log").open("wb")
    process = subprocess.Popen(command, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = JupyterServer(process, f"http://127.0.0.1:{port}", token, Path(root), state)
    began = time.monotonic()
    deadline = began + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (state / "jupyter.log").read_text(errors="replace")[-800:]
            server.stop()
            raise KitError(f"JupyterLab exited at start: {tail}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/status?token={token}", timeout=2):
                return server
        except OSError:
            if waiting is not None:
                waiting(time.monotonic() - began)
            time.sleep(0.3)
    server.stop()
    raise KitError(f"JupyterLab did not answer on {server.url} within {timeout:.0f} s")


