"""A readable summary of one bundle (what ``kit bundle show`` prints)."""

from __future__ import annotations

from typing import Any

from kit import ids
from kit.evidence.bundle import Bundle

__all__ = ["summarize", "summary_lines"]


def _props(body: Any) -> dict[str, Any]:
    return (body or {}).get("properties") or {} if isinstance(body, dict) else {}


def _power_state(bundle: Bundle) -> str:
    statuses = (bundle.instance_view or {}).get("statuses") or []
    for status in statuses:
        if str(status.get("code", "")).startswith("PowerState/"):
            return str(status.get("displayStatus") or status["code"].split("/", 1)[1])
    return "unknown (no instance view)"


def _os(bundle: Bundle) -> str:
    view = bundle.instance_view or {}
    profile = _props(bundle.vm).get("storageProfile") or {}
    image = profile.get("imageReference") or {}
    os_type = (profile.get("osDisk") or {}).get("osType")
    name = " ".join(str(part) for part in (view.get("osName"), view.get("osVersion")) if part)
    image_text = ":".join(str(image[key]) for key in ("publisher", "offer", "sku") if image.get(key))
    parts = [part for part in (name, os_type and f"({os_type})", image_text and f"image {image_text}") if part]
    return " ".join(parts) or "unknown"


def _boot_diagnostics(bundle: Bundle) -> str:
    enabled = ((_props(bundle.vm).get("diagnosticsProfile") or {}).get("bootDiagnostics") or {}).get("enabled")
    serial = f"serial log {len(bundle.serial_log):,} bytes" if bundle.serial_log is not None else "no serial log"
    shot = f"screenshot {len(bundle.screenshot):,} bytes" if bundle.screenshot is not None else "no screenshot"
    state = {True: "enabled", False: "disabled", None: "unknown"}[enabled if isinstance(enabled, bool) else None]
    return f"{state}; {serial}; {shot}"


def _nic_line(name: str, nic: dict[str, Any], bundle: Bundle) -> str:
    addresses = []
    for configuration in _props(nic).get("ipConfigurations") or []:
        inner = _props(configuration)
        if inner.get("privateIPAddress"):
            addresses.append(str(inner["privateIPAddress"]))
        public_id = (inner.get("publicIPAddress") or {}).get("id")
        if public_id:
            public = next((pip for pip in bundle.public_ips.values()
                           if str(pip.get("id", "")).lower() == str(public_id).lower()), None)
            address = _props(public).get("ipAddress") if public else None
            addresses.append(f"public {address or '?'}")
    nsg = (_props(nic).get("networkSecurityGroup") or {}).get("id")
    nsg_text = f", NSG {ids.name_of(nsg)}" if nsg else ""
    return f"{name}: {', '.join(addresses) or 'no IP'}{nsg_text}"


def summary_lines(bundle: Bundle) -> list[tuple[str, str]]:
    """``(label, text)`` rows describing the bundle."""
    manifest = bundle.manifest
    operations = {event.get("correlationId") or event.get("eventDataId") for event in bundle.activity_log}
    routes = sum(len(body.get("value") or []) for body in bundle.effective_routes.values())
    user_routes = sum(len(_props(table).get("routes") or []) for table in bundle.route_tables.values())
    nsg_rules = {name: len(_props(nsg).get("securityRules") or []) for name, nsg in bundle.nsgs.items()}
    console = bundle.serial_console_status
    console_text = ("unknown" if console is None else
                    "disabled for the subscription" if _props(console).get("disabled") else "enabled")
    window = manifest.get("window") or {}
    rows = [
        ("VM", f"{bundle.name} ({manifest.get('role', 'subject')}) in {manifest.get('resource_group')}, "
               f"subscription {manifest.get('subscription_id')}"),
        ("Source", f"{manifest.get('source')} {manifest.get('arm_endpoint') or ''}".strip()
                   + f", collected {manifest.get('collected_at')}"),
        ("Window", f"{window.get('start')} → {window.get('end')}"),
        ("Power state", _power_state(bundle)),
        ("OS", _os(bundle)),
        ("Boot diagnostics", _boot_diagnostics(bundle)),
        ("Serial console", console_text),
    ]
    rows += [("NIC", _nic_line(name, nic, bundle)) for name, nic in bundle.nics.items()] or [("NIC", "none collected")]
    rows.append(("NSGs", ", ".join(f"{name} ({count} rules)" for name, count in nsg_rules.items()) or "none"))
    rows.append(("Subnets", ", ".join(
        f"{name} {_props(subnet).get('addressPrefix') or ''}".strip() for name, subnet in bundle.subnets.items())
        or "none"))
    rows.append(("Routes",
                 f"{routes} effective, {user_routes} user-defined in {len(bundle.route_tables)} route table(s)"))
    rows.append(("Activity log", f"{len(bundle.activity_log)} records, {len(operations - {None})} operations"))
    rows.append(("Role assignments", str(len(bundle.role_assignments))))
    rows.append(("Files", f"{len(manifest.get('files', []))} (sha256 verified)"))
    failures = bundle.failures
    rows.append(("Failures", str(len(failures)) if failures else "none"))
    for failure in failures:
        status = failure.get("status")
        code = failure.get("code")
        rows.append(("  failed", f"{failure.get('call')}: {status or ''} {code or ''} {failure.get('message', '')}"
                     .replace("  ", " ")))
    if manifest.get("peers"):
        rows.append(("Peers", ", ".join(manifest["peers"])))
    return rows


def summarize(bundle: Bundle) -> str:
    """The summary as plain text, one ``label: text`` line per row."""
    rows = summary_lines(bundle)
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {text}" for label, text in rows)
