"""Per-run mutable state of the lab: the resources every route reads and writes.

One :class:`LabState` per running lab. Route modules reach it with
``request.app[STATE_KEY]``; it is only touched from the lab's event loop thread, except
for :meth:`LabState.set_faults`, which swaps one reference.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from kit.errors import InvalidResourceId, LabError
from kit.ids import parse_resource_id, try_parse
from kit.lab.faults import FaultPlan, Faults
from kit.lab.scenario import ScenarioInfo

__all__ = ["STATE_KEY", "LabPrincipal", "LabState", "Operation"]

# Child collections kept inside their parent's body: parent type → (child type, list key).
_CHILDREN = {
    "microsoft.network/virtualnetworks": ("subnets", "subnets"),
    "microsoft.network/networksecuritygroups": ("securityrules", "securityRules"),
    "microsoft.network/routetables": ("routes", "routes"),
}


@dataclass(frozen=True)
class LabPrincipal:
    """Who the lab token stands for (the caller of Activity Log writes).

    Parameters
    ----------
    name
        The user principal name.
    object_id
        The Entra object id.
    tenant_id
        The tenant the token was issued by.
    """

    name: str = "responder@lab.contoso.com"
    object_id: str = "5c1e2b6a-3d0f-4c7e-9a51-2f8d6b0c4e71"
    tenant_id: str = "0f3c6a27-8d1e-4b59-a2c4-7e9b1d5f3a60"


@dataclass
class Operation:
    """A long-running operation the lab is answering polls for.

    Parameters
    ----------
    subscription_id, location
        Where its status URLs live.
    result
        The body of the final GET.
    polls_left
        How many more status polls answer ``InProgress``.
    """

    subscription_id: str
    location: str
    result: dict[str, Any]
    polls_left: int = 1
    started: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime()))


class LabState:
    """Everything one lab run serves and remembers.

    Parameters
    ----------
    scenarios
        The scenarios to serve, each in its own subscription.
    faults
        The faults to inject.
    principal
        Who the token stands for.

    Attributes
    ----------
    token
        The bearer token ARM routes accept (random per run; only ever in memory).
    endpoint
        ``https://127.0.0.1:PORT`` once the server listens (for URLs the lab hands out).
    scenarios
        Served scenarios by name.
    resources
        Lower-cased resource id → REST body (top-level resources; children live inside them).
    instance_views, serial_logs
        Lower-cased VM id → instanceView body / path of the serial log bytes.
    activity, role_assignments
        Lower-cased subscription id → EventData records / roleAssignment bodies.
    directory
        Lower-cased object id → Microsoft Graph directoryObject (every scenario's principals and the lab's own).
    graph_refused
        When true, Microsoft Graph answers 403 ``Authorization_RequestDenied`` (an identity without directory
        permission); set it from any thread.
    operations
        Long-running operations being polled, by id.
    operation_starts
        How many operations each request has started (operation ids derive from it).
    extras
        Room for other route modules' per-run state (the console gateway keeps its hub here).
    """

    def __init__(self, scenarios: Iterable[ScenarioInfo], faults: Faults | None = None,
                 principal: LabPrincipal | None = None) -> None:
        self.principal = principal or LabPrincipal()
        self.token = _make_token(self.principal)
        self.endpoint = ""
        self.blob_secret = secrets.token_bytes(32)
        self.fault_plan = FaultPlan(faults or Faults())
        self.scenarios: dict[str, ScenarioInfo] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        self.instance_views: dict[str, dict[str, Any]] = {}
        self.activity: dict[str, list[dict[str, Any]]] = {}
        self.role_assignments: dict[str, list[dict[str, Any]]] = {}
        self.directory: dict[str, dict[str, Any]] = {self.principal.object_id.lower(): {
            "@odata.type": "#microsoft.graph.user", "id": self.principal.object_id, "accountEnabled": True,
            "displayName": "Lab Responder", "userPrincipalName": self.principal.name}}
        self.graph_refused = False
        self.serial_logs: dict[str, Path] = {}
        self.operations: dict[str, Operation] = {}
        self.operation_starts: dict[str, int] = {}
        self.extras: dict[str, Any] = {}
        self._groups: set[tuple[str, str]] = set()
        self._by_subscription: dict[str, ScenarioInfo] = {}
        for info in scenarios:
            self._add(info)

    # -- scenarios -----------------------------------------------------------------------
    def scenario(self, name: str) -> ScenarioInfo:
        """The served scenario ``name``; :class:`LabError` naming those served otherwise."""
        if name not in self.scenarios:
            raise LabError(f"the lab is not serving a scenario named {name!r}; "
                           f"it serves: {', '.join(self.scenarios) or 'none'}")
        return self.scenarios[name]

    def scenario_for(self, subscription_id: str) -> ScenarioInfo | None:
        """The scenario living in ``subscription_id``, if any."""
        return self._by_subscription.get(subscription_id.lower())

    def has_group(self, subscription_id: str, resource_group: str) -> bool:
        """Whether the resource group exists."""
        return (subscription_id.lower(), resource_group.lower()) in self._groups

    def set_faults(self, faults: Faults) -> None:
        """Inject ``faults`` from now on (attempt counts start again)."""
        self.fault_plan = FaultPlan(faults)

    # -- resources ----------------------------------------------------------------------
    def get(self, resource_id: str) -> dict[str, Any] | None:
        """The body of ``resource_id`` (top-level or a subnet, security rule or route)."""
        key = resource_id.lower().rstrip("/")
        if key in self.resources:
            return self.resources[key]
        found = self._child_list(key)
        if found is None:
            return None
        children, name = found
        return next((child for child in children if str(child.get("name", "")).lower() == name), None)

    def put(self, resource_id: str, body: dict[str, Any]) -> None:
        """Store ``body`` as ``resource_id`` (children go into their parent's list)."""
        key = resource_id.lower().rstrip("/")
        found = self._child_list(key)
        if found is None:
            self.resources[key] = body
            return
        children, name = found
        children[:] = [child for child in children if str(child.get("name", "")).lower() != name] + [body]

    def delete(self, resource_id: str) -> bool:
        """Remove ``resource_id``; whether it existed."""
        key = resource_id.lower().rstrip("/")
        if self.resources.pop(key, None) is not None:
            return True
        found = self._child_list(key)
        if found is None:
            return False
        children, name = found
        kept = [child for child in children if str(child.get("name", "")).lower() != name]
        existed = len(kept) != len(children)
        children[:] = kept
        return existed

    def of_type(self, subscription_id: str, resource_type: str) -> Iterator[dict[str, Any]]:
        """Top-level resources of ``resource_type`` (``Microsoft.Network/networkInterfaces``) in a subscription."""
        prefix = f"/subscriptions/{subscription_id.lower()}/"
        wanted = resource_type.lower()
        for key, body in self.resources.items():
            if key.startswith(prefix) and str(body.get("type", "")).lower() == wanted:
                yield body

    def power_state(self, vm_id: str) -> str | None:
        """The VM's ``PowerState/…`` code suffix (``running``, ``deallocated`` …), if known."""
        view = self.instance_views.get(vm_id.lower())
        for status in (view or {}).get("statuses", []):
            code = str(status.get("code", ""))
            if code.startswith("PowerState/"):
                return code.split("/", 1)[1]
        return None

    def _child_list(self, key: str) -> tuple[list[dict[str, Any]], str] | None:
        """The list inside the parent body that holds the child ``key``, and the child's name."""
        parsed = try_parse(key)
        if parsed is None:
            return None
        parent = parsed.parent
        if parent is None or str(parent).lower() not in self.resources:
            return None
        child = _CHILDREN.get(parent.kind.lower())
        if child is None or child[0] != parsed.types[-1].lower():
            return None
        properties = self.resources[str(parent).lower()].setdefault("properties", {})
        return properties.setdefault(child[1], []), parsed.name.lower()

    def reload(self, name: str) -> ScenarioInfo:
        """Put scenario ``name`` back as it was loaded: every change made through the API is undone."""
        info = self.scenario(name)
        sub = info.subscription_id.lower()
        prefix = f"/subscriptions/{sub}/"
        for key in [key for key in self.resources if key.startswith(prefix)]:
            del self.resources[key]
        for vm in info.vms:
            self.instance_views.pop(info.vm_id(vm).lower(), None)
            self.serial_logs.pop(info.vm_id(vm).lower(), None)
        del self.scenarios[name]
        del self._by_subscription[sub]
        self._add(info)
        return info

    # -- loading ------------------------------------------------------------------------
    def _add(self, info: ScenarioInfo) -> None:
        if info.subscription_id.lower() in self._by_subscription:
            other = self._by_subscription[info.subscription_id.lower()].name
            raise LabError(f"scenarios {other!r} and {info.name!r} share subscription {info.subscription_id}")
        self.scenarios[info.name] = info
        self._by_subscription[info.subscription_id.lower()] = info
        sub = info.subscription_id.lower()
        self._groups.add((sub, info.resource_group.lower()))
        for body in _load_list(info.path / "resources.json", info):
            resource_id = str(body.get("id", ""))
            try:
                parsed = parse_resource_id(resource_id)
            except InvalidResourceId as error:
                raise LabError(f"{info.path / 'resources.json'}: {error}") from None
            if parsed.subscription_id.lower() != sub or parsed.resource_group is None:
                raise LabError(f"{info.path / 'resources.json'}: resource {resource_id!r} is outside "
                               f"subscription {sub}")
            self._groups.add((sub, parsed.resource_group.lower()))
            self.resources[resource_id.lower()] = copy.deepcopy(body)
        for view_path in sorted((info.path / "instance_views").glob("*.json")):
            self.instance_views[info.vm_id(view_path.stem).lower()] = _load_json(view_path)
        for log_path in sorted((info.path / "serial").glob("*.log")):
            self.serial_logs[info.vm_id(log_path.stem).lower()] = log_path
        self.activity[sub] = list(_load_list(info.path / "activity_log.json", info))
        self.role_assignments[sub] = list(_load_list(info.path / "role_assignments.json", info))
        for entry in _load_list(info.path / "directory.json", info):
            self.directory[str(entry.get("id", "")).lower()] = entry


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise LabError(f"cannot read {path}: {error}") from None


def _load_list(path: Path, info: ScenarioInfo) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    data = _load_json(path)
    items = data.get("value") if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise LabError(f"{path} (scenario {info.name!r}) must hold a list or {{\"value\": [...]}} of objects")
    return items


def _make_token(principal: LabPrincipal) -> str:
    """A JWT-shaped bearer token: readable claims, a random signature, valid for this run only."""
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "kid": "kit-lab"}
    claims = {
        "aud": "https://management.azure.com/",
        "iss": f"https://sts.windows.net/{principal.tenant_id}/",
        "iat": now, "nbf": now, "exp": now + 12 * 3600,
        "oid": principal.object_id, "tid": principal.tenant_id,
        "upn": principal.name, "unique_name": principal.name, "name": "Lab Responder",
        "scp": "user_impersonation", "ver": "1.0", "uti": uuid.uuid4().hex,
    }
    return ".".join((_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()),
                     _b64(secrets.token_bytes(64))))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


STATE_KEY = web.AppKey("kit_lab_state", LabState)
