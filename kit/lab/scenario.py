"""Scenarios: finding them on disk and reading their ``scenario.yaml``.

A scenario is a folder holding ``scenario.yaml`` plus its data files (see
``docs/architecture.md``, "Scenario data"). The built-in ones live in ``kit/lab/scenarios/``;
``scenario_dirs`` replaces that search path (tests keep tiny scenarios of their own). A search
folder that does not exist, or a ``scenario.yaml`` whose fields have the wrong shape (a name
that cannot be a URL segment, VM names ARM would refuse, ``expected`` that is not a mapping …),
is a :class:`~kit.errors.LabError` naming the file and field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kit.errors import InvalidResourceId, LabError
from kit.ids import vm_id as _vm_id
from kit.ids import vmss_vm_id as _vmss_vm_id
from kit.lab.scenarios import SCENARIOS_DIR
from kit.times import parse_time

__all__ = ["Expected", "ScenarioInfo", "list_scenarios", "load_scenario"]

_REQUIRED = ("name", "title", "subscription_id", "tenant_id", "resource_group", "location", "broken_vm", "window")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Expected:
    """What a responder should conclude for the broken VM.

    Parameters
    ----------
    hypothesis
        The top hypothesis kind (``guest_firewall``, ``nsg_deny`` …).
    next_step
        The recommended next step (``serial_console``, ``change_nsg`` …).
    level
        ``guest``, ``platform`` or ``none``.
    """

    hypothesis: str
    next_step: str
    level: str


@dataclass(frozen=True)
class ScenarioInfo:
    """The fields of one ``scenario.yaml``, plus where the scenario lives.

    Parameters
    ----------
    name, title, briefing
        Identity and what on-call knows at the start.
    subscription_id, tenant_id, resource_group, location
        Where the scenario's resources live.
    broken_vm
        The VM that cannot be reached.
    known_good
        Healthy peers to compare against.
    responder_ip
        The address the responder connects from.
    window_start, window_end
        The incident window (tz-aware UTC).
    console_enabled
        Whether the subscription's serial console is enabled.
    expected
        The answer a responder should reach.
    guest
        The scripted guest (``os``, ``username``, ``password`` and anything the console uses).
    path
        The scenario folder.
    scale_set
        The uniform scale set the VMs are instances of (``""``: plain VMs). Its instances are named
        as Azure names them, ``<scale set>_<instance id>``: ``broken_vm``, ``known_good`` and the
        data files use those names, and :meth:`vm_id` gives the instance's id.
    """

    name: str
    title: str
    briefing: str
    subscription_id: str
    tenant_id: str
    resource_group: str
    location: str
    broken_vm: str
    known_good: tuple[str, ...]
    responder_ip: str
    window_start: dt.datetime
    window_end: dt.datetime
    console_enabled: bool
    expected: Expected
    guest: Mapping[str, Any] = field(default_factory=dict)
    path: Path = Path()
    scale_set: str = ""

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime]:
        """The incident window as ``(start, end)``."""
        return self.window_start, self.window_end

    @property
    def vms(self) -> tuple[str, ...]:
        """The broken VM followed by its known-good peers."""
        return (self.broken_vm, *self.known_good)

    def vm_id(self, name: str) -> str:
        """The ARM id of the scenario's VM ``name`` (of the scale-set instance ``name`` in a scale-set scenario)."""
        if self.scale_set:
            return str(_vmss_vm_id(self.subscription_id, self.resource_group, self.scale_set, self.instance_id(name)))
        return str(_vm_id(self.subscription_id, self.resource_group, name))

    def instance_id(self, name: str) -> str:
        """The instance id of the scale-set instance ``name`` (``<scale set>_<id>``); ``""`` outside a scale set."""
        prefix = f"{self.scale_set}_"
        if not self.scale_set or not name.startswith(prefix):
            return ""
        return name[len(prefix):]


def list_scenarios(scenario_dirs: Iterable[Path | str] | None = None) -> list[ScenarioInfo]:
    """Every scenario found, sorted by name.

    Parameters
    ----------
    scenario_dirs
        Folders holding one sub-folder per scenario; the built-in folder when ``None``.

    Raises
    ------
    LabError
        When a folder given in ``scenario_dirs`` does not exist or is not a folder, a
        ``scenario.yaml`` is malformed, or two scenarios share a name.
    """
    found: dict[str, ScenarioInfo] = {}
    for folder in _dirs(scenario_dirs):
        if not folder.is_dir():
            if scenario_dirs is None:
                continue  # the built-in folder of a checkout without scenarios
            raise LabError(f"scenario folder {folder} does not exist or is not a folder")
        for candidate in sorted(folder.iterdir()):
            if (candidate / "scenario.yaml").is_file():
                info = _read(candidate)
                if info.name in found:
                    raise LabError(f"two scenarios are named {info.name!r}: {found[info.name].path} and {candidate}")
                found[info.name] = info
    return [found[name] for name in sorted(found)]


def load_scenario(name: str, scenario_dirs: Iterable[Path | str] | None = None) -> ScenarioInfo:
    """The scenario called ``name``.

    Raises
    ------
    LabError
        When no scenario has that name (the message lists those that exist).
    """
    scenarios = {info.name: info for info in list_scenarios(scenario_dirs)}
    if name not in scenarios:
        known = ", ".join(scenarios) or "none"
        raise LabError(f"no lab scenario named {name!r}; known scenarios: {known}")
    return scenarios[name]


def _dirs(scenario_dirs: Iterable[Path | str] | None) -> tuple[Path, ...]:
    if scenario_dirs is None:  # the built-in scenarios
        return (SCENARIOS_DIR,)
    return tuple(Path(folder) for folder in scenario_dirs)


def _read(folder: Path) -> ScenarioInfo:
    source = folder / "scenario.yaml"
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise LabError(f"cannot read {source}: {error}") from None
    if not isinstance(data, dict):
        raise LabError(f"{source} must hold a mapping of scenario fields")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise LabError(f"{source} lacks {', '.join(missing)}")
    window = data["window"]
    if not isinstance(window, dict) or "start" not in window or "end" not in window:
        raise LabError(f"{source}: window must have start and end")
    expected = data.get("expected") or {}
    _check_shapes(data, source)
    start, end = _when(window["start"], source), _when(window["end"], source)
    if start >= end:
        raise LabError(f"{source}: the window starts ({window['start']}) after it ends ({window['end']})")
    return ScenarioInfo(
        name=str(data["name"]),
        title=str(data["title"]),
        briefing=str(data.get("briefing", "")).strip(),
        subscription_id=str(data["subscription_id"]),
        tenant_id=str(data["tenant_id"]),
        resource_group=str(data["resource_group"]),
        location=str(data["location"]),
        broken_vm=str(data["broken_vm"]),
        known_good=tuple(str(vm) for vm in data.get("known_good") or ()),
        responder_ip=str(data.get("responder_ip", "")),
        window_start=start,
        window_end=end,
        console_enabled=bool(data.get("console_enabled", True)),
        expected=Expected(
            hypothesis=str(expected.get("hypothesis", "")),
            next_step=str(expected.get("next_step", "")),
            level=str(expected.get("level", "")),
        ),
        guest=dict(data.get("guest") or {}),
        path=folder,
        scale_set=str(data.get("scale_set") or ""),
    )


def _check_shapes(data: Mapping[str, Any], source: Path) -> None:
    """The fields the lab builds URLs, ids and file names from have the shape they need."""
    name = data["name"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise LabError(f"{source}: name {name!r} must be 1-64 letters, digits, '.', '_' or '-' (it is used in URLs)")
    for field_name in ("expected", "guest"):
        if data.get(field_name) is not None and not isinstance(data[field_name], Mapping):
            raise LabError(f"{source}: {field_name} must be a mapping, got {data[field_name]!r}")
    known_good = data.get("known_good")
    if known_good is not None and not (isinstance(known_good, list) and all(isinstance(vm, str) for vm in known_good)):
        raise LabError(f"{source}: known_good must be a list of VM names, got {known_good!r}")
    if not isinstance(data.get("console_enabled", True), bool):
        raise LabError(f"{source}: console_enabled must be true or false, got {data['console_enabled']!r}")
    try:
        for vm in (data["broken_vm"], *(known_good or ())):
            _vm_id(str(data["subscription_id"]), str(data["resource_group"]), str(vm))
            if data.get("scale_set"):
                prefix = f"{data['scale_set']}_"
                if not str(vm).startswith(prefix) or not str(vm)[len(prefix):].isdigit():
                    raise LabError(f"{source}: {vm!r} is not an instance of scale set {data['scale_set']!r} "
                                   f"(its instances are named {prefix}<instance id>)")
                _vmss_vm_id(str(data["subscription_id"]), str(data["resource_group"]), str(data["scale_set"]),
                            str(vm)[len(prefix):])
    except InvalidResourceId as error:
        raise LabError(f"{source}: {error}") from None


def _when(value: object, source: Path) -> dt.datetime:
    moment = parse_time(value if isinstance(value, dt.datetime) else str(value))  # YAML reads bare dates as dates
    if moment is None:
        raise LabError(f"{source}: {value!r} is not an ISO 8601 time")
    return moment
