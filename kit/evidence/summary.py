"""A readable summary of one bundle (what ``kit bundle show`` prints).

Documents are read leniently: a field of the wrong JSON type inside a document (``properties``
as text, ``statuses`` as a number) reads as absent, so a malformed but hash-consistent bundle
still gets a summary that says ``unknown`` or ``none`` where the evidence is unreadable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kit import ids
from kit.evidence.bundle import Bundle

__all__ = ["summarize", "summary_lines"]


def _obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _seq(value: Any) -> list[Any]:
    """``value`` if it is a JSON list, else an empty one."""
    return value if isinstance(value, list) else []


def _props(body: Any) -> dict[str, Any]:
    return _obj(_obj(body).get("properties"))


def _power_state(bundle: Bundle) -> str:
    for status in _seq(_obj(bundle.instance_view).get("statuses")):
        code = _obj(status).get("code")
        if isinstance(code, str) and code.startswith("PowerState/"):
            return str(_obj(status).get("displayStatus") or code.split("/", 1)[1])
    return "unknown (no instance view)" if bundle.instance_view is None else "unknown (no power state in the view)"


def _os(bundle: Bundle) -> str:
    view = _obj(bundle.instance_view)
    profile = _obj(_props(bundle.vm).get("storageProfile"))
    image = _obj(profile.get("imageReference"))
    os_type = _obj(profile.get("osDisk")).get("osType")
    name = " ".join(str(part) for part in (view.get("osName"), view.get("osVersion")) if part)
    image_text = ":".join(str(image[key]) for key in ("publisher", "offer", "sku") if image.get(key))
    parts = [part for part in (name, os_type and f"({os_type})", image_text and f"image {image_text}") if part]
    return " ".join(parts) or "unknown"


def _boot_diagnostics(bundle: Bundle) -> str:
    serial = f"serial log {len(bundle.serial_log):,} bytes" if bundle.serial_log is not None else "no serial log"
    shot = f"screenshot {len(bundle.screenshot):,} bytes" if bundle.screenshot is not None else "no screenshot"
    state = {True: "enabled", False: "disabled", None: "unknown"}[bundle.boot_diagnostics_enabled]
    return f"{state}; {serial}; {shot}"


def _health(bundle: Bundle) -> str:
    if bundle.resource_health is None:
        return "not collected"
    props = _props(bundle.resource_health)
    reason = ", ".join(str(props[key]) for key in ("reasonType", "reasonChronicity") if props.get(key))
    text = f"{props.get('availabilityState') or 'unknown'}{f' ({reason})' if reason else ''}"
    if props.get("summary"):
        text += f": {props['summary']}"
    return f"{text}; {len(bundle.resource_health_history)} in the history"


def _nic_line(name: str, nic: dict[str, Any], bundle: Bundle) -> str:
    addresses = []
    for configuration in _seq(_props(nic).get("ipConfigurations")):
        inner = _props(configuration)
        if inner.get("privateIPAddress"):
            addresses.append(str(inner["privateIPAddress"]))
        public_id = _obj(inner.get("publicIPAddress")).get("id")
        if public_id:
            public = next((pip for pip in bundle.public_ips.values()
                           if str(pip.get("id", "")).lower() == str(public_id).lower()), None)
            address = _props(public).get("ipAddress") if public else None
            addresses.append(f"public {address or '?'}")
    nsg = _obj(_props(nic).get("networkSecurityGroup")).get("id")
    nsg_text = f", NSG {ids.name_of(str(nsg))}" if nsg else ""
    return f"{name}: {', '.join(addresses) or 'no IP'}{nsg_text}"


def summary_lines(bundle: Bundle) -> list[tuple[str, str]]:
    """``(label, text)`` rows describing the bundle."""
    manifest = bundle.manifest
    records = [event for event in bundle.activity_log if isinstance(event, dict)]
    operations = {str(event.get("correlationId") or event.get("eventDataId") or "") for event in records}
    routes = sum(len(_seq(_obj(body).get("value"))) for body in bundle.effective_routes.values())
    user_routes = sum(len(_seq(_props(table).get("routes"))) for table in bundle.route_tables.values())
    nsg_rules = {name: len(_seq(_props(nsg).get("securityRules"))) for name, nsg in bundle.nsgs.items()}
    console = bundle.serial_console_status
    console_text = ("unknown" if console is None else
                    "disabled for the subscription" if _props(console).get("disabled") is True else "enabled")
    window = _obj(manifest.get("window"))
    rows = [
        ("VM", f"{bundle.name} ({manifest.get('role', 'subject')}) in {manifest.get('resource_group')}, "
               f"subscription {manifest.get('subscription_id')}"),
        ("Source", f"{manifest.get('source')} {manifest.get('arm_endpoint') or ''}".strip()
                   + f", collected {manifest.get('collected_at')}"),
        ("Window", f"{window.get('start')} → {window.get('end')}"),
        *([("Scale set", _scale_set(bundle))] if bundle.scale_set else []),
        ("Power state", _power_state(bundle)),
        ("OS", _os(bundle)),
        ("Boot diagnostics", _boot_diagnostics(bundle)),
        ("Serial console", console_text),
        ("Resource Health", _health(bundle)),
    ]
    rows += [("NIC", _nic_line(name, nic, bundle)) for name, nic in bundle.nics.items()] or [("NIC", "none collected")]
    rows.append(("NSGs", ", ".join(f"{name} ({count} rules)" for name, count in nsg_rules.items()) or "none"))
    rows.append(("Subnets", ", ".join(
        f"{name} {_props(subnet).get('addressPrefix') or ''}".strip() for name, subnet in bundle.subnets.items())
        or "none"))
    rows.append(("Routes",
                 f"{routes} effective, {user_routes} user-defined in {len(bundle.route_tables)} route table(s)"))
    unreadable = len(bundle.activity_log) - len(records)
    rows.append(("Activity log", f"{len(bundle.activity_log)} records, {len(operations - {''})} operations"
                 + (f", {unreadable} unreadable (not an object)" if unreadable else "")))
    rows.append(("Role assignments", str(len(bundle.role_assignments))))
    rows.append(("Files", f"{len(manifest.get('files', []))} (sha256 verified)"))
    failures = bundle.failures
    rows.append(("Failures", str(len(failures)) if failures else "none"))
    for failure in map(_obj, failures):
        status = failure.get("status")
        code = failure.get("code")
        rows.append(("  failed", f"{failure.get('call')}: {status or ''} {code or ''} {failure.get('message', '')}"
                     .replace("  ", " ")))
    if manifest.get("peers"):
        rows.append(("Peers", ", ".join(map(str, manifest["peers"]))))
    return rows


def _scale_set(bundle: Bundle) -> str:
    """``NAME, instance ID`` with whether the instance runs the scale set's latest model and the upgrade policy."""
    latest = _props(bundle.vm).get("latestModelApplied")
    policy = _obj(_props(bundle.scale_set_model).get("upgradePolicy")).get("mode")
    notes = [f"latest model: {'yes' if latest else 'no'}" if isinstance(latest, bool) else "",
             f"upgrade policy {policy}" if policy else ""]
    shown = "; ".join(note for note in notes if note)
    return f"{bundle.scale_set}, instance {bundle.instance_id}" + (f" ({shown})" if shown else "")


def summarize(bundle: Bundle, *, escape: Callable[[str], str] = str) -> str:
    """The summary as plain text, one ``label: text`` line per row.

    Parameters
    ----------
    bundle
        The loaded bundle.
    escape
        Applied to each row's text (``kit bundle show`` passes the terminal escaper, so a
        newline or an escape sequence inside the evidence stays on its row, visible).
    """
    rows = summary_lines(bundle)
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {escape(text)}" for label, text in rows)
