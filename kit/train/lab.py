"""The lab a drill runs against: a training lab serving seeded variants, or one reached from a kernel.

``kit train start`` (and the test suite) run :func:`training_lab` in their own process: it renders
the variants, serves them with one extra route (``POST /kit-train/reset/{scenario}``, which puts a
scenario back to its broken state), and hands the connection to JupyterLab's kernels through the
environment (:data:`ENV_ENDPOINT`, :data:`ENV_CA`, :data:`ENV_SCENARIOS`, and the token in
``KIT_ARM_TOKEN``; the token never goes to disk). In a kernel, :func:`connect_lab` reads it back as
a :class:`RemoteLab` that quacks like :class:`~kit.lab.RunningLab` where the kit needs it
(``endpoint``, ``ca_path``, ``token``, ``scenario(name)``, ``check(name)``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import ssl
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from kit.console.open import ConsoleLab
from kit.errors import LabError
from kit.lab import STATE_KEY, LabState, RunningLab, ScenarioInfo, list_scenarios
from kit.lab.gateway import HUB_EXTRA, check_remote
from kit.lab.guest import CheckResult
from kit.lab.server import ROUTE_MODULES
from kit.lab.variants import render_variants, variant_summary

__all__ = ["ENV_CA", "ENV_ENDPOINT", "ENV_SCENARIOS", "ENV_TOKEN", "DrillLab", "RemoteLab", "TrainingLab", "add_routes",
           "connect_lab", "reset_scenario", "served_seed", "training_lab"]

ENV_ENDPOINT = "KIT_LAB_ENDPOINT"
ENV_CA = "KIT_LAB_CA"
ENV_TOKEN = "KIT_ARM_TOKEN"
ENV_SCENARIOS = "KIT_TRAIN_SCENARIOS"


class DrillLab(ConsoleLab, Protocol):
    """What a drill needs of its lab: :class:`~kit.lab.RunningLab` in this process, or a :class:`RemoteLab`."""

    def check(self, scenario: str) -> CheckResult:
        """The lab's verdict on the console fix of ``scenario``."""
        ...


# ---------------------------------------------------------------------- the lab side
def _reset_in_state(state: LabState, name: str) -> None:
    """Put scenario ``name`` back as it was loaded: resources, views, logs, activity, its guests."""
    info = state.reload(name)
    hub = state.extras.get(HUB_EXTRA)
    if hub is not None:
        for vm in info.vms:
            hub.guests.pop(info.vm_id(vm).lower(), None)


async def _reset(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    if request.headers.get("Authorization", "") != f"Bearer {state.token}":
        return web.json_response({"error": "the lab token is required"}, status=401)
    name = request.match_info["scenario"]
    if name not in state.scenarios:
        return web.json_response({"error": f"the lab does not serve {name!r}"}, status=404)
    hub = state.extras.get(HUB_EXTRA)
    if hub is not None:  # close the consoles of that scenario: their guest is replaced
        ids = {state.scenario(name).vm_id(vm).lower() for vm in state.scenario(name).vms}
        for session in list(hub.sessions.values()):
            if session.vm_id in ids:
                for ws in list(session.sockets):
                    await ws.close(code=1001, message=b"kit train: scenario reset")
    _reset_in_state(state, name)
    return web.json_response({"scenario": name, "reset": True})


def add_routes(app: web.Application) -> None:
    """Register ``POST /kit-train/reset/{scenario}`` (bearer token required)."""
    app.router.add_post("/kit-train/reset/{scenario}", _reset)


@dataclass
class TrainingLab:
    """A running lab serving variants, and what a kernel needs to reach it.

    Attributes
    ----------
    lab
        The :class:`~kit.lab.RunningLab`.
    scenario_dir
        The folder holding the rendered variants (one sub-folder per scenario).
    seeds
        Scenario → seed served.
    """

    lab: RunningLab
    scenario_dir: Path
    seeds: dict[str, int]

    @property
    def endpoint(self) -> str:
        """The lab's ``https://127.0.0.1:PORT``."""
        return str(self.lab.endpoint)

    def env(self) -> dict[str, str]:
        """Environment variables that let a kernel (or ``kit train reset``) reach this lab."""
        return {ENV_ENDPOINT: self.lab.endpoint, ENV_CA: str(self.lab.ca_path), ENV_TOKEN: self.lab.token,
                ENV_SCENARIOS: str(self.scenario_dir)}

    def reset(self, scenario: str) -> None:
        """Put ``scenario`` back to its broken state."""
        reset_scenario(self.lab.endpoint, scenario, token=self.lab.token, ca_path=self.lab.ca_path)


@contextlib.contextmanager
def training_lab(seeds: Mapping[str, int], *, port: int = 0) -> Iterator[TrainingLab]:
    """Render the variants ``seeds`` (scenario → seed) and serve them until the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="kit-train-"))
    try:
        render_variants(dict(seeds), folder)
        state = LabState(list_scenarios([folder]))
        lab = RunningLab(state, (*ROUTE_MODULES, __name__)).start(port)
        try:
            yield TrainingLab(lab=lab, scenario_dir=folder, seeds=dict(seeds))
        finally:
            lab.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------- the kernel side
def _request(endpoint: str, path: str, *, token: str, ca_path: str | Path | None, method: str = "GET") -> Any:
    context = ssl.create_default_context(cafile=str(ca_path) if ca_path else None)
    request = urllib.request.Request(f"{endpoint.rstrip('/')}{path}", method=method,
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = json.loads(error.read() or b"{}").get("error", error.reason)
        raise LabError(f"the training lab refused {path}: {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise LabError(f"cannot reach the training lab at {endpoint}: {reason} "
                       "(is `kit train start` running?)") from None


def reset_scenario(endpoint: str, scenario: str, *, token: str, ca_path: str | Path | None) -> None:
    """Ask a training lab to put ``scenario`` back to its broken state."""
    _request(endpoint, f"/kit-train/reset/{scenario}", token=token, ca_path=ca_path, method="POST")


class RemoteLab:
    """A training lab running in another process, as a kernel sees it.

    Parameters
    ----------
    endpoint, ca_path
        Where it listens and the CA that signed it.
    token
        Its bearer token (kept in memory; read from ``KIT_ARM_TOKEN`` by :func:`connect_lab`).
    scenario_dir
        The folder of the variants it serves.
    """

    def __init__(self, endpoint: str, ca_path: str | Path, token: str, scenario_dir: str | Path) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.ca_path = Path(ca_path)
        self.token = token
        self.scenario_dir = Path(scenario_dir)
        self._scenarios = {info.name: info for info in list_scenarios([self.scenario_dir])}

    @property
    def scenario_names(self) -> tuple[str, ...]:
        """The scenarios served, sorted."""
        return tuple(sorted(self._scenarios))

    def scenario(self, name: str) -> ScenarioInfo:
        """The served scenario's ``ScenarioInfo``."""
        if name not in self._scenarios:
            raise LabError(f"the training lab does not serve {name!r}; it serves: {', '.join(self._scenarios)}")
        return self._scenarios[name]

    def check(self, scenario: str) -> CheckResult:
        """The lab's verdict on the console fix (``CheckResult``)."""
        return check_remote(self.endpoint, scenario, token=self.token, ca_path=self.ca_path)

    def reset(self, scenario: str) -> None:
        """Put ``scenario`` back to its broken state."""
        reset_scenario(self.endpoint, scenario, token=self.token, ca_path=self.ca_path)

    def __repr__(self) -> str:
        return f"<RemoteLab {self.endpoint} scenarios={list(self.scenario_names)}>"


def connect_lab(environ: Mapping[str, str] | None = None) -> RemoteLab | None:
    """The training lab named by the environment (set by ``kit train start``), or ``None``."""
    env = os.environ if environ is None else environ
    if not all(env.get(key) for key in (ENV_ENDPOINT, ENV_CA, ENV_TOKEN, ENV_SCENARIOS)):
        return None
    return RemoteLab(env[ENV_ENDPOINT], env[ENV_CA], env[ENV_TOKEN], env[ENV_SCENARIOS])


def served_seed(scenario_folder: str | Path) -> int:
    """The seed of the variant rendered in ``scenario_folder`` (0 for the committed scenario)."""
    return int(variant_summary(scenario_folder).get("seed", 0))
