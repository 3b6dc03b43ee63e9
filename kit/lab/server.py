"""The lab's HTTPS server: the aiohttp app, its guards, and a background-thread runner.

:func:`build_app` assembles the app from route modules, each with ``add_routes(app)``;
another module (the serial console gateway) joins by being added to :data:`ROUTE_MODULES`.
:func:`running_lab` runs the app on its own event loop in a daemon thread, so it works from
plain scripts, from async code and inside a Jupyter kernel whose loop is already running.

The bearer-token guard decides before any ARM routing and whatever the path's spelling: ARM
matches paths case-insensitively (``/Subscriptions/…``, ``/SUBSCRIPTIONS/…``) and the
dispatcher tolerates extra slashes (``//subscriptions/…``), so the guard does not look at the
path at all. Every request needs the token unless aiohttp matched it exactly to one of the
routes registered with :func:`~kit.lab._arm.own_credential_route` (the boot-diagnostics blob
with its SAS signature, the console websocket with its first frame, admin commands and the
fix check with their own bearer check). Routes a caller adds with plain aiohttp (the training
lab's reset) need the token too; ARM calls (the dispatcher's) also need ``api-version``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import importlib
import logging
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import ModuleType

from aiohttp import web
from aiohttp.typedefs import Handler

from kit.errors import LabError
from kit.lab._arm import OWN_CREDENTIAL_KEY, arm_error, dispatch
from kit.lab._real_disks import stop_real_guests
from kit.lab._state import STATE_KEY, LabState
from kit.lab.arm_resourcegraph import set_quota
from kit.lab.certs import LabCertificates, make_certificates
from kit.lab.faults import Faults, fault_middleware
from kit.lab.fleet import Fleet, FleetSpec, attach_fleet, fleet_of, generate_fleet
from kit.lab.gateway import check, register_real_guest
from kit.lab.guest import CheckResult
from kit.lab.locks import lock_guard
from kit.lab.probe import close_probes, probe_address
from kit.lab.realguest import RealGuest, start_real_guest
from kit.lab.scenario import ScenarioInfo, list_scenarios

__all__ = ["ROUTE_MODULES", "RunningLab", "arunning_lab", "build_app", "running_lab"]

#: Route modules served by every lab, in registration order (each has ``add_routes(app)``).
ROUTE_MODULES: tuple[str, ...] = (
    "kit.lab.arm_compute",
    "kit.lab.arm_vmss",
    "kit.lab.arm_compute_power",
    "kit.lab.restart_boots",
    "kit.lab.arm_network",
    "kit.lab.arm_network_write",
    "kit.lab.arm_disks",
    "kit.lab.arm_compute_write",
    "kit.lab.arm_operations",
    "kit.lab.arm_monitor",
    "kit.lab.loganalytics",
    "kit.lab.arm_metrics",
    "kit.lab.arm_resourcehealth",
    "kit.lab.arm_authorization",
    "kit.lab.arm_permissions",
    "kit.lab.locks",
    "kit.lab.arm_storage",
    "kit.lab.arm_resourcegraph",
    "kit.lab.arm_serialconsole",
    "kit.lab.arm_runcommand",
    "kit.lab.graph",
    "kit.lab.gateway",
)
_START_TIMEOUT = 15.0
_log = logging.getLogger(__name__)


def build_app(state: LabState, route_modules: Sequence[str | ModuleType] = ROUTE_MODULES) -> web.Application:
    """The aiohttp application serving ``state``.

    Parameters
    ----------
    state
        The run's :class:`~kit.lab.LabState`; routes read it as ``request.app[STATE_KEY]``.
    route_modules
        Modules (or their dotted names) whose ``add_routes(app)`` registers their routes.
    """
    app = web.Application(middlewares=[_errors, fault_middleware(lambda request: request.app[STATE_KEY].fault_plan),
                                       _arm_guard, lock_guard])
    app[STATE_KEY] = state
    for module in route_modules:
        loaded = importlib.import_module(module) if isinstance(module, str) else module
        loaded.add_routes(app)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:  # a lab bug: answer like ARM would, keep the trace in the log
        _log.exception("lab handler failed for %s %s", request.method, request.path_qs)
        return arm_error(500, "InternalServerError", "The lab failed to answer this request (a lab bug; see its log).")


@web.middleware
async def _arm_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.match_info.handler in request.app.get(OWN_CREDENTIAL_KEY, set()):
        return await handler(request)  # matched exactly to a route that checks its own credential
    header = request.headers.get("Authorization")
    if header is None:
        return arm_error(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                         {"WWW-Authenticate": 'Bearer authorization_uri="https://login.windows.net/", '
                                              'error="invalid_token", error_description="The authentication failed '
                                              "because of missing 'Authorization' header.\""})
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return arm_error(401, "AuthenticationFailed",
                         "Authentication failed. The 'Authorization' header is provided in an invalid format.")
    if not hmac.compare_digest(token.strip().encode(), request.app[STATE_KEY].token.encode()):
        return arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.",
                         {"WWW-Authenticate": 'Bearer authorization_uri="https://login.windows.net/", '
                                              'error="invalid_token", '
                                              'error_description="The access token is invalid."'})
    if request.match_info.handler is dispatch and not request.query.get("api-version"):  # ARM calls only
        return arm_error(400, "MissingApiVersionParameter",
                         "The api-version query parameter (?api-version=) is required for all requests.")
    return await handler(request)


class RunningLab:
    """A lab serving on a background thread; use :func:`running_lab` to get one.

    Attributes
    ----------
    endpoint
        ``https://127.0.0.1:PORT`` (no trailing slash).
    ca_path
        The PEM CA that signed the server certificate.
    token
        The bearer token the lab accepts (random per start, never written to disk).
    state
        The run's :class:`~kit.lab.LabState`.
    """

    def __init__(self, state: LabState, route_modules: Sequence[str | ModuleType] = ROUTE_MODULES) -> None:
        self.state = state
        self._route_modules = route_modules
        self._folder = Path(tempfile.mkdtemp(prefix="kit-lab-"))
        self.ca_path = self._folder / "lab-ca.pem"
        self.endpoint = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self.real_guests: dict[str, RealGuest] = {}

    @property
    def token(self) -> str:
        """The bearer token the lab accepts."""
        return self.state.token

    @property
    def scenario_names(self) -> tuple[str, ...]:
        """The served scenarios, sorted."""
        return tuple(sorted(self.state.scenarios))

    def scenario(self, name: str) -> ScenarioInfo:
        """The served scenario ``name`` (:class:`~kit.errors.LabError` if it is not served)."""
        return self.state.scenario(name)

    def check(self, scenario: str) -> CheckResult:
        """Whether the console fix of ``scenario`` is right: ``CheckResult(passed, message)``."""
        return check(self.state, scenario)

    def add_real_guest(self, scenario: str, *, variant: str | None = None,
                       progress: Callable[[str], None] = lambda _line: None) -> RealGuest:
        """Make ``scenario``'s broken VM a real Debian 12 under QEMU (booting when this returns).

        The base image is built first if the cache has none for the current recipe (minutes, once);
        the variant disk takes seconds; booting to the login prompt takes 20-60 s on TCG
        (``guest.wait_until_booted()``). Stopped with the lab.
        """
        info = self.scenario(scenario)
        guest = start_real_guest(info, self._folder / f"realguest-{scenario}", variant=variant, progress=progress)
        self.real_guests[scenario] = guest
        register_real_guest(self.state, scenario, guest)
        return guest

    def probe_address(self, scenario_or_vm: str) -> tuple[str, int]:
        """``(host, port)`` answering like the SSH/RDP port of a scenario's broken VM or a VM id (see kit.lab.probe)."""
        if self._loop is None:
            raise LabError("the lab is not running: start it before asking for a probe address")
        answer = asyncio.run_coroutine_threadsafe(probe_address(self.state, scenario_or_vm), self._loop)
        return answer.result(timeout=10)

    def set_faults(self, faults: Faults) -> None:
        """Inject ``faults`` from now on (pass ``Faults()`` to stop injecting)."""
        self.state.set_faults(faults)

    @property
    def fleet(self) -> Fleet | None:
        """The generated fleet the lab serves (``None`` until :meth:`add_fleet`); see :mod:`kit.lab.fleet`."""
        return fleet_of(self.state)

    def add_fleet(self, spec: FleetSpec) -> Fleet:
        """Generate ``spec``'s fleet and serve it (Resource Graph, statusOnly lists, console status) from now on."""
        fleet = generate_fleet(spec, self.state.principal.tenant_id)
        attach_fleet(self.state, fleet)
        return fleet

    def set_resource_graph_quota(self, requests: int, window_seconds: float) -> None:
        """Let each caller send ``requests`` Resource Graph queries per ``window_seconds`` (then 429)."""
        set_quota(self.state, requests, window_seconds)

    def refuse_graph(self, refused: bool = True) -> None:
        """Make Microsoft Graph answer 403 ``Authorization_RequestDenied`` from now on (``False``: answer again)."""
        self.state.graph_refused = refused

    def start(self, port: int = 0) -> RunningLab:
        """Bind ``127.0.0.1:port`` (0 = a free port) and serve until :meth:`stop`."""
        certificates = make_certificates(self._folder)
        self._thread = threading.Thread(target=self._serve, args=(certificates, port), name="kit-lab", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT) or self._failure is not None:
            self.stop()
            raise LabError(f"the lab could not listen on 127.0.0.1:{port}: {self._failure or 'timed out'} "
                           "(choose another --port, or 0 for any free port)")
        return self

    def stop(self) -> None:
        """Stop serving and delete the certificates; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
        self._loop = self._thread = None
        for guest in self.real_guests.values():
            guest.qemu.stop()
        stop_real_guests(self.state)
        shutil.rmtree(self._folder, ignore_errors=True)

    def __repr__(self) -> str:
        return f"<RunningLab {self.endpoint or '(stopped)'} scenarios={list(self.scenario_names)}>"

    def _serve(self, certificates: LabCertificates, port: int) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup(certificates, port))
        except BaseException as error:  # reported to start() through _failure
            self._failure = error
            loop.run_until_complete(self._shutdown())
            loop.close()
            self._ready.set()
            return
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _startup(self, certificates: LabCertificates, port: int) -> None:
        app = build_app(self.state, self._route_modules)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, ssl_context=certificates.server_context())
        await site.start()
        bound = self._runner.addresses[0][1]
        self.endpoint = f"https://127.0.0.1:{bound}"
        self.state.endpoint = self.endpoint

    async def _shutdown(self) -> None:
        await close_probes(self.state)
        if self._runner is not None:
            await self._runner.cleanup()
        # Answers still held back (a "timeout" fault, an open console socket) end with the lab.
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _start(faults: Faults | None, scenarios: Iterable[str] | None, port: int,
           scenario_dirs: Iterable[Path | str] | None, real_guests: Iterable[str] = ()) -> RunningLab:
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise LabError(f"lab port must be 0 (any free port) or 1-65535, got {port!r}")
    folders = None if scenario_dirs is None else list(scenario_dirs)
    found = {info.name: info for info in list_scenarios(folders)}
    if not found:
        where = ", ".join(str(folder) for folder in folders) if folders is not None else "the kit"
        raise LabError(f"no scenarios found in {where}: a scenario is a folder holding scenario.yaml")
    wanted = list(found) if scenarios is None else list(scenarios)
    unknown = [name for name in wanted if name not in found]
    if unknown:
        raise LabError(f"no lab scenario named {', '.join(map(repr, unknown))}; known: {', '.join(found) or 'none'}")
    real = list(real_guests)
    unserved = [name for name in real if name not in wanted]
    if unserved:
        raise LabError(f"a real guest needs its scenario served: {', '.join(map(repr, unserved))} is not")
    lab = RunningLab(LabState([found[name] for name in wanted], faults)).start(port)
    try:
        for name in real:
            lab.add_real_guest(name)
    except BaseException:
        lab.stop()
        raise
    return lab


@contextlib.contextmanager
def running_lab(faults: Faults | None = None, scenarios: Iterable[str] | None = None, port: int = 0,
                scenario_dirs: Iterable[Path | str] | None = None,
                real_guests: Iterable[str] = (), fleet: FleetSpec | None = None) -> Iterator[RunningLab]:
    """Run the lab for the duration of a ``with`` block.

    Parameters
    ----------
    faults
        Faults to inject (none by default); change later with ``lab.set_faults``.
    scenarios
        Names of the scenarios to serve; all found when ``None``.
    port
        The port on 127.0.0.1; 0 picks a free one.
    scenario_dirs
        Folders to find scenarios in, instead of the built-in ``kit/lab/scenarios``.
    real_guests
        Scenarios whose broken VM is a real Debian 12 under QEMU (see
        :meth:`RunningLab.add_real_guest`); booting, not yet booted, when the block starts.
    fleet
        A generated fleet of VMs to serve as well (:class:`~kit.lab.fleet.FleetSpec`; ``lab.fleet``).

    Yields
    ------
    RunningLab
        With ``endpoint``, ``ca_path``, ``token``, ``scenario(name)``, ``scenario_names``,
        ``set_faults`` and ``stop``.

    Raises
    ------
    LabError
        When a scenario is unknown or malformed, or the port cannot be bound.
    """
    lab = _start(faults, scenarios, port, scenario_dirs, real_guests)
    try:
        if fleet is not None:
            lab.add_fleet(fleet)
        yield lab
    finally:
        lab.stop()


@contextlib.asynccontextmanager
async def arunning_lab(faults: Faults | None = None, scenarios: Iterable[str] | None = None, port: int = 0,
                       scenario_dirs: Iterable[Path | str] | None = None,
                       fleet: FleetSpec | None = None) -> AsyncIterator[RunningLab]:
    """:func:`running_lab` for ``async with``: starting and stopping do not block the caller's loop."""
    lab = await asyncio.to_thread(_start, faults, scenarios, port, scenario_dirs)
    try:
        if fleet is not None:
            await asyncio.to_thread(lab.add_fleet, fleet)
        yield lab
    finally:
        await asyncio.to_thread(lab.stop)
