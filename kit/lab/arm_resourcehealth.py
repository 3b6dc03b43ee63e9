"""Microsoft.ResourceHealth availability statuses of a VM: ``…/availabilityStatuses/current`` and the list.

The statuses are read from the scenario's own story, so they line up with everything else: every
Resource Health record of the VM in the Activity Log (``category`` ResourceHealth, its
``currentHealthStatus`` and ``cause``) is a transition; the newest is ``current``. A VM without
such records has been Available since it was created. The shape is Azure's: ``availabilityState``,
``title``, ``summary``, ``reasonType`` (``Unplanned`` for a platform-initiated event, ``Customer
Initiated`` for a user's), ``context``, ``category``, ``reasonChronicity``, ``occuredTime`` (sic)
and ``reportedTime``; ``recommendedActions`` only with ``$expand=recommendedactions``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kit import ids
from kit.lab._arm import arm_error, arm_json, arm_route, find, state_of
from kit.lab._state import LabState
from kit.times import iso_z, parse_time

__all__ = ["add_routes"]

_PATH = "/{scope*}/providers/Microsoft.ResourceHealth/availabilityStatuses"
_TYPE = "Microsoft.ResourceHealth/AvailabilityStatuses"
_AVAILABLE = ("This virtual machine is running normally",
              "There aren't any known Azure platform problems affecting this virtual machine")
#: Activity Log ``cause`` → (reasonType, context, category)
_REASONS = {"platforminitiated": ("Unplanned", "Platform Initiated", "Unplanned"),
            "userinitiated": ("Customer Initiated", "Customer Initiated", "Not Applicable")}
_ACTIONS = {
    "Unplanned": [{"action": "If you are experiencing problems you believe are caused by Azure, contact support",
                   "actionUrl": "<#SupportCase>", "actionUrlText": "contact support"}],
    "Customer Initiated": [{"action": "To start this virtual machine, open the resource blade and click Start",
                            "actionUrl": "<#ResourceBlade>", "actionUrlText": "resource blade"}],
}


def add_routes(app: web.Application) -> None:
    """Register the availability status routes."""
    arm_route(app, "GET", _PATH + "/current", _current)
    arm_route(app, "GET", _PATH, _list)


async def _current(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    statuses, problem = _statuses(request, params["scope"])
    return problem if statuses is None else arm_json(statuses[0])  # type: ignore[return-value]


async def _list(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    statuses, problem = _statuses(request, params["scope"])
    return problem if statuses is None else arm_json({"value": statuses})  # type: ignore[return-value]


def _statuses(request: web.Request, scope: str) -> tuple[list[dict[str, Any]] | None, web.Response | None]:
    """The VM's statuses, newest (``current``) first, or the error ARM would answer."""
    rid = ids.try_parse(scope)
    if rid is None or not rid.is_kind(ids.VM) or rid.resource_group is None:
        return None, arm_error(400, "InvalidResourceType", f"The lab serves Resource Health for virtual machines "
                                                           f"only, not '{scope}'.")
    state = state_of(request)
    vm, problem = find(state, rid.subscription_id, rid.resource_group, "Microsoft.Compute", "virtualMachines",
                       rid.name)
    if vm is None:
        return None, problem
    expand = request.query.get("$expand", "").lower() == "recommendedactions"
    return _history(state, rid, vm, expand), None


def _history(state: LabState, rid: ids.ResourceId, vm: dict[str, Any], expand: bool) -> list[dict[str, Any]]:
    vm_id, info = str(vm["id"]), state.scenario_for(rid.subscription_id)
    events = sorted((event for event in state.activity.get(rid.subscription_id.lower(), [])
                     if _value(event.get("category")).lower() == "resourcehealth"
                     and str(event.get("resourceId", "")).lower() == vm_id.lower()),
                    key=lambda event: str(event.get("eventTimestamp", "")))
    start, end = (iso_z(info.window_start), iso_z(info.window_end)) if info else ("", "")
    created = str((vm.get("properties") or {}).get("timeCreated") or start)
    before = str((events[0].get("properties") or {}).get("previousHealthStatus") or "Available") if events \
        else "Available"
    transitions = [(created, before, {}, created)] + [
        (str(event.get("eventTimestamp", "")), str(props.get("currentHealthStatus") or "Unknown"), props,
         str(event.get("submissionTimestamp") or event.get("eventTimestamp", "")))
        for event in events for props in [event.get("properties") or {}]]
    out = []
    for index, (when, availability, props, reported) in enumerate(reversed(transitions)):
        newest = index == 0
        body: dict[str, Any] = {"availabilityState": availability}
        if availability.lower() == "available":
            body.update(title="Available", summary=_AVAILABLE[0], detailedStatus=_AVAILABLE[1],
                        reasonChronicity="Persistent")
        else:
            reason, context, category = _REASONS.get(str(props.get("cause", "")).lower(), ("Unplanned", "", ""))
            body.update(title=props.get("title") or availability, summary=props.get("details") or availability,
                        reasonType=reason, context=context, category=category,
                        reasonChronicity="Persistent" if newest else "Transient")
            if reason == "Unplanned":
                body["rootCauseAttributionTime"] = when
        body.update(occuredTime=when, reportedTime=(end or reported) if newest else reported)
        if expand:
            body["recommendedActions"] = _ACTIONS.get(str(body.get("reasonType")), [])
        name = "current" if newest else _name(when)
        out.append({"id": f"{vm_id}/providers/Microsoft.ResourceHealth/availabilityStatuses/{name}", "name": name,
                    "type": _TYPE, "location": vm.get("location", ""), "properties": body})
    return out


def _value(field: Any) -> str:
    """An Activity Log field: ``{"value": …}`` or a plain string."""
    return str(field.get("value", "")) if isinstance(field, dict) else str(field or "")


def _name(when: str) -> str:
    """A history entry's name as Resource Health spells it: ``2016-03-28+16%3a23%3a00Z``."""
    moment = parse_time(when)
    return moment.strftime("%Y-%m-%d+%H%%3a%M%%3a%SZ") if moment else "unknown"
