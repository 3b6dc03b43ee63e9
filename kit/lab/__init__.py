"""The lab: a local HTTPS emulator of the ARM endpoints the kit uses, serving scenarios.

The kit reaches it with the real Azure SDK clients (``base_url=lab.endpoint``,
``connection_verify=lab.ca_path``, a bearer token credential for ``lab.token``)::

    from kit.lab import running_lab, Faults
    with running_lab(faults=Faults(error_rate=0.1, seed=7)) as lab:
        lab.endpoint, lab.ca_path, lab.token, lab.scenario("firewall-lockout")

See ``docs/architecture.md`` ("The lab") for the contract.
"""

from kit.lab._state import STATE_KEY, LabPrincipal, LabState
from kit.lab.faults import FAULT_KINDS, Faults
from kit.lab.scenario import Expected, ScenarioInfo, list_scenarios, load_scenario
from kit.lab.server import ROUTE_MODULES, RunningLab, arunning_lab, build_app, running_lab

__all__ = [
    "FAULT_KINDS",
    "ROUTE_MODULES",
    "STATE_KEY",
    "Expected",
    "Faults",
    "LabPrincipal",
    "LabState",
    "RunningLab",
    "ScenarioInfo",
    "arunning_lab",
    "build_app",
    "list_scenarios",
    "load_scenario",
    "running_lab",
]
