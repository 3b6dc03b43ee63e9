"""What Azure itself says about the VM, read from the bundle: Resource Health and the VM agent.

Resource Health (``resource_health.json``, ``resource_health_history.json``) tells whether Azure sees
the VM Available, Degraded or Unavailable, and why: ``reasonType`` ``Unplanned`` (or ``context``
``Platform Initiated``) is the platform's doing, ``Customer Initiated`` someone's stop or restart.
The instance view's ``vmAgent.statuses`` says whether the agent inside the guest reaches Azure
(``Ready``) or not (``Not Ready``, code ``ProvisioningState/Unavailable``). Each function answers
a signal: ``(strength 0–1, evidence rows)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kit.analyze._verdict_evidence import Evidence
from kit.times import parse_time

__all__ = ["agent_not_ready", "agent_statuses", "health_available", "unplanned_before", "unplanned_now"]

_UNPLANNED = ("unplanned", "platform initiated", "platforminitiated")
_DOWN = ("unavailable", "degraded")
Signal = tuple[float, list[Evidence]]


def unplanned_now(current: dict[str, Any] | None) -> Signal:
    """Unavailable (1.0) or Degraded (0.8) now, after a platform-initiated, unplanned event."""
    props = _props(current)
    state = str(props.get("availabilityState", "")).lower()
    if state not in _DOWN or not _unplanned(props):
        return 0.0, []
    return (1.0 if state == "unavailable" else 0.8), [_row(props, "resource_health.json: properties")]


def health_available(current: dict[str, Any] | None) -> Signal:
    """Resource Health says the VM is Available now."""
    props = _props(current)
    if str(props.get("availabilityState", "")).lower() != "available":
        return 0.0, []
    return 1.0, [_row(props, "resource_health.json: properties")]


def unplanned_before(history: list[dict[str, Any]], window: tuple[datetime | None, datetime | None]) -> Signal:
    """Platform-initiated unavailability earlier in the history, inside the window (the host had trouble)."""
    start, end = window
    rows = []
    for i, status in enumerate(history):
        props = _props(status)
        if status.get("name") == "current" or str(props.get("availabilityState", "")).lower() not in _DOWN \
                or not _unplanned(props):
            continue
        when = _when(props)
        if when is None or ((start is None or when >= start) and (end is None or when <= end)):
            rows.append(_row(props, f"resource_health_history.json: value[{i}]"))
    return (1.0, rows) if rows else (0.0, [])


def agent_statuses(view: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The instance view's ``vmAgent.statuses`` (entries of the wrong type dropped)."""
    agent = view.get("vmAgent") if isinstance(view, dict) else None
    statuses = agent.get("statuses") if isinstance(agent, dict) else None
    return [status for status in statuses if isinstance(status, dict)] if isinstance(statuses, list) else []


def agent_not_ready(statuses: list[dict[str, Any]]) -> Signal:
    """The VM agent is not Ready: it cannot reach Azure from inside the guest."""
    rows = []
    for i, status in enumerate(statuses):
        display, code = str(status.get("displayStatus") or ""), str(status.get("code") or "")
        if display.lower() == "not ready" or (display.lower() != "ready"
                                              and code.lower().endswith(("/unavailable", "/failed"))):
            message = f" ({status['message']})" if status.get("message") else ""
            rows.append(Evidence("instance_view", code or display, f"VM agent: {display or code}{message}",
                                 f"instance_view.json: vmAgent.statuses[{i}]", parse_time(status.get("time"))))
    return (1.0, rows) if rows else (0.0, [])


def _props(body: Any) -> dict[str, Any]:
    props = body.get("properties") if isinstance(body, dict) else None
    return props if isinstance(props, dict) else {}


def _unplanned(props: dict[str, Any]) -> bool:
    return any(str(props.get(key, "")).lower() in _UNPLANNED for key in ("reasonType", "context", "category"))


def _when(props: dict[str, Any]) -> datetime | None:
    return parse_time(props.get("occuredTime") or props.get("occurredTime"))  # Azure spells it "occured"


def _row(props: dict[str, Any], where: str) -> Evidence:
    state = str(props.get("availabilityState") or "Unknown")
    reason = ", ".join(str(props[key]) for key in ("reasonType", "context", "reasonChronicity") if props.get(key))
    summary = f"Resource Health: {state}" + (f" ({reason})" if reason else "") + (
        f": {props['summary']}" if props.get("summary") else "")
    details: dict[str, Any] = {key: props[key] for key in ("availabilityState", "reasonType", "context", "category",
                                           "reasonChronicity", "summary", "detailedStatus", "resolutionETA")
               if key in props}
    return Evidence("resource_health", f"availabilityState:{state}", summary, where, _when(props), details)
