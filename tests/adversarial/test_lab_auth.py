"""Finding 2: the lab's bearer-token check cannot be bypassed by spelling a path differently.

Every route the lab serves — each ARM route its dispatcher knows, and each route that checks a
credential of its own (boot-diagnostics blob, console websocket, admin commands, the fix check) —
is sent without a token, with wrong tokens and with case/slash variants of its path
(``/Subscriptions/…``, ``/SUBSCRIPTIONS/…``, ``//subscriptions/…``, ``%73ubscriptions`` …). Every
one is refused, and nothing changes: NSG rules, power states, the Activity Log and the console
sessions are the same afterwards. With the right token the same variants do reach a handler, so
the refusals are the guard's, not a 404 for a path nobody serves.
"""

from __future__ import annotations

import asyncio
import copy
import http.client
import json
import ssl
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from kit.lab import RunningLab, build_app, running_lab
from kit.lab._arm import OWN_CREDENTIAL_KEY, ROUTER_KEY
from kit.lab.gateway import hub_of

SCENARIO = "firewall-lockout"
API = "api-version=2024-07-01"
WRONG = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.not-the-lab-token"

#: Authorization headers that must all be refused (None: no header at all).
AUTH_VARIANTS: dict[str, str | None] = {
    "no header": None,
    "wrong token": f"Bearer {WRONG}",
    "empty bearer": "Bearer ",
    "basic scheme": "Basic {token}",
    "token with a suffix": "Bearer {token}x",
    "token prefix only": "Bearer {token_prefix}",
    "token in another header": None,  # sent as X-Authorization / ?access_token instead
}


def _spellings(path: str) -> dict[str, str]:
    """Case and slash variants of an ARM path: every one names the same resource to ARM."""
    head, _, tail = path.lstrip("/").partition("/")
    swapped = "/".join(part.swapcase() if not any(c.isdigit() for c in part) else part
                       for part in path.split("/"))
    return {
        "as registered": path,
        "Subscriptions": f"/{head.capitalize()}/{tail}",
        "SUBSCRIPTIONS": f"/{head.upper()}/{tail}",
        "all upper case": path.upper(),
        "case swapped": swapped,
        "leading //": f"/{path}",
        "leading ///": f"//{path}",
        "trailing /": f"{path}/",
        "percent-encoded first letter": f"/%{ord(head[0]):02x}{head[1:]}/{tail}",
        "dot segment": f"/./{path.lstrip('/')}",
    }


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    """A lab of this module's own: the tests try to write through it and check nothing changed."""
    with running_lab(scenarios=[SCENARIO]) as running:
        yield running


class Client:
    """Raw HTTPS requests to the lab (paths sent exactly as written), TLS verified."""

    def __init__(self, lab: RunningLab) -> None:
        self.host, port = lab.endpoint.removeprefix("https://").split(":")
        self.port = int(port)
        self.context = ssl.create_default_context(cafile=str(lab.ca_path))
        self.connection = self._connect()

    def _connect(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=10)

    def send(self, method: str, target: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        body = b"{}" if method in ("PUT", "POST") else None
        headers = {"Content-Type": "application/json", **(headers or {})}
        for attempt in range(2):
            try:
                self.connection.request(method, target, body=body, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = self._connect()
                if attempt:
                    raise
        raise AssertionError("unreachable")


def _values(lab: RunningLab) -> dict[str, str]:
    """Real names for every capture of the lab's routes, so a bypass would really act."""
    info = lab.scenario(SCENARIO)
    state = lab.state
    sub = info.subscription_id

    def first(kind: str) -> dict[str, Any]:
        return next(iter(state.of_type(sub, kind)), {})

    nsg = first("Microsoft.Network/networkSecurityGroups")
    vnet = first("Microsoft.Network/virtualNetworks")
    rules = (nsg.get("properties") or {}).get("securityRules") or [{}]
    return {
        "sub": sub, "rg": info.resource_group, "vm": info.broken_vm, "port": "0",
        "nic": str(first("Microsoft.Network/networkInterfaces").get("name", "nic")),
        "nsg": str(nsg.get("name", "nsg")), "vnet": str(vnet.get("name", "vnet")),
        "rt": "rt", "pip": str(first("Microsoft.Network/publicIPAddresses").get("name", "pip")), "asg": "asg",
        "rule": str(rules[0].get("name", "rule")), "namespace": "Microsoft.Network", "location": info.location,
        "operation": "00000000-0000-4000-8000-000000000000", "role": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "name": "default", "vmss": "vmss", "instance": "0", "scope": info.vm_id(info.broken_vm),
    }


def _arm_routes(lab: RunningLab) -> list[tuple[str, str]]:
    """(method, concrete path) for every ARM route the lab's dispatcher serves."""
    app = build_app(lab.state)
    values = _values(lab)
    routes = []
    for route in app[ROUTER_KEY].routes:
        parts = []
        for segment in route.segments:
            if segment == "{scope*}":
                parts.append(values["scope"].strip("/"))
            elif segment.startswith("{"):
                key = segment[1:-1]
                if key in ("parent", "child"):
                    key = {"parent": "nsg", "child": "rule"}[key] if "networkSecurityGroups" in route.segments \
                        else {"parent": "vnet" if "virtualNetworks" in route.segments else "rt",
                              "child": "default"}[key]
                parts.append(values.get(key, "x"))
            else:
                parts.append(segment)
        routes.append((route.method, "/" + "/".join(parts)))
    return routes


def _headers(variant: str, token: str) -> dict[str, str]:
    template = AUTH_VARIANTS[variant]
    if variant == "token in another header":
        return {"X-Authorization": f"Bearer {token}", "X-Ms-Token": token}
    if template is None:
        return {}
    return {"Authorization": template.format(token=token, token_prefix=token[: len(token) // 2])}


def _snapshot(lab: RunningLab) -> dict[str, Any]:
    """What an unauthorised write could change: resources, power states, Activity Log, console sessions."""
    info = lab.scenario(SCENARIO)
    state = lab.state
    return {
        "nsgs": copy.deepcopy(list(state.of_type(info.subscription_id, "Microsoft.Network/networkSecurityGroups"))),
        "vnets": copy.deepcopy(list(state.of_type(info.subscription_id, "Microsoft.Network/virtualNetworks"))),
        "power": {vm: state.power_state(info.vm_id(vm)) for vm in info.vms},
        "activity": len(state.activity.get(info.subscription_id, [])),
        "sessions": len(hub_of(state).sessions),
    }


def test_every_arm_route_refuses_every_missing_or_wrong_token_however_the_path_is_spelt(lab: RunningLab) -> None:
    client = Client(lab)
    routes = _arm_routes(lab)
    assert len(routes) >= 35, "the lab serves fewer ARM routes than this test expects"
    methods = {method for method, _ in routes}
    assert {"GET", "PUT", "POST", "DELETE"} <= methods
    before = _snapshot(lab)
    sent = refused = 0
    leaks = []
    for method, path in routes:
        for spelling, variant in _spellings(path).items():
            for auth in AUTH_VARIANTS:
                target = f"{variant}?{API}" + ("&access_token=" + lab.token if auth == "token in another header"
                                               else "")
                status, body = client.send(method, target, _headers(auth, lab.token))
                sent += 1
                if status == 401:
                    refused += 1
                    assert json.loads(body)["error"]["code"] in ("AuthenticationFailed", "InvalidAuthenticationToken")
                else:
                    leaks.append((method, spelling, auth, status, variant))
    assert not leaks, f"{len(leaks)} of {sent} unauthorised requests were served, e.g. {leaks[:5]}"
    assert refused == sent == len(routes) * len(_spellings("/a/b")) * len(AUTH_VARIANTS)
    assert _snapshot(lab) == before, "an unauthorised request changed the lab"


def test_the_variants_reach_a_handler_with_the_right_token(lab: RunningLab) -> None:
    """The control: the spellings above are served with the token (so their 401s were the guard's)."""
    client = Client(lab)
    served = []
    for method, path in _arm_routes(lab):
        if method != "GET":
            continue
        for spelling in ("Subscriptions", "SUBSCRIPTIONS", "case swapped", "leading //"):
            status, _ = client.send("GET", f"{_spellings(path)[spelling]}?{API}",
                                    {"Authorization": f"Bearer {lab.token}"})
            assert status != 401, (spelling, path)
            served.append(status)
    assert served.count(200) >= len(served) // 2, "most case/slash variants should be served with the token"


def test_missing_api_version_is_asked_for_only_after_the_token(lab: RunningLab) -> None:
    client = Client(lab)
    info = lab.scenario(SCENARIO)
    path = info.vm_id(info.broken_vm)
    assert client.send("GET", path.upper())[0] == 401
    status, body = client.send("GET", path.upper(), {"Authorization": f"Bearer {lab.token}"})
    assert (status, json.loads(body)["error"]["code"]) == (400, "MissingApiVersionParameter")


def test_unknown_paths_are_refused_without_a_token_too(lab: RunningLab) -> None:
    client = Client(lab)
    for target in ("/", "/nothing", "//", "/providers/Microsoft.Compute/operations", "/SUBSCRIPTIONS",
                   "/%2e%2e/subscriptions", "/kit-lab/check", "/KIT-LAB/check/firewall-lockout",
                   "//kit-lab/check/firewall-lockout", "/N/connector/x/sessions/y/client",
                   "/Bootdiagnostics/a/b/c", "/kit-train/reset/firewall-lockout"):
        for method in ("GET", "POST", "PUT", "DELETE"):
            assert client.send(method, target)[0] == 401, (method, target)


def _own_credential_paths(lab: RunningLab) -> dict[str, tuple[str, str]]:
    """name → (method, path) of the routes that check their own credential."""
    app = build_app(lab.state)
    own = app[OWN_CREDENTIAL_KEY]
    found = {}
    for route in app.router.routes():
        if route.handler in own:
            found[route.handler.__name__] = (route.method, str(route.resource.canonical))
    assert set(found) == {"_get_blob", "_client", "_admin", "_check"}, found
    return found


def test_routes_with_their_own_credential_refuse_a_missing_or_wrong_one(lab: RunningLab) -> None:
    client = Client(lab)
    _own_credential_paths(lab)
    info = lab.scenario(SCENARIO)
    session = "0" * 32
    for auth in AUTH_VARIANTS:
        headers = _headers(auth, lab.token)
        assert client.send("GET", f"/kit-lab/check/{SCENARIO}", headers)[0] == 401, auth
        assert client.send("POST", f"/n/connector/c/sessions/{session}/adminCommand/reset", headers)[0] == 401, auth
    blob = f"/bootdiagnostics/{info.subscription_id}/{info.resource_group}/{info.broken_vm}.serialconsole.log"
    for query in ("", "?sig=", "?sig=forged&se=2999-01-01T00:00:00Z", f"?sig={lab.token}&se=2999-01-01T00:00:00Z"):
        assert client.send("GET", blob + query)[0] == 403, query
    assert client.send("GET", f"/n/connector/c/sessions/{session}/client")[0] == 404  # no such session


def test_console_connect_and_websocket_refuse_without_the_token(lab: RunningLab) -> None:
    info = lab.scenario(SCENARIO)
    client = Client(lab)
    connect = f"{info.vm_id(info.broken_vm)}/providers/Microsoft.SerialConsole/serialPorts/0/connect"
    sessions = len(hub_of(lab.state).sessions)
    for spelling, variant in _spellings(connect).items():
        for auth in AUTH_VARIANTS:
            status, _ = client.send("POST", f"{variant}?{API}", _headers(auth, lab.token))
            assert status == 401, (spelling, auth)
    assert len(hub_of(lab.state).sessions) == sessions, "an unauthorised connect created a console session"
    status, body = client.send("POST", f"{connect}?{API}", {"Authorization": f"Bearer {lab.token}"})
    assert status == 200
    url = json.loads(body)["connectionString"]

    async def first_frame(frame: str | bytes | None) -> int | None:
        context = ssl.create_default_context(cafile=str(lab.ca_path))
        async with aiohttp.ClientSession() as http_session, http_session.ws_connect(url, ssl=context) as ws:
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            elif frame is not None:
                await ws.send_str(frame)
            message = await ws.receive(timeout=15)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
            return ws.close_code

    for frame in (WRONG, "", f"Bearer {lab.token}", lab.token.encode(), lab.token[:-1]):
        assert asyncio.run(first_frame(frame)) == 4401, frame
    status, _ = client.send("POST", f"/n/connector/c/sessions/{url.rsplit('/', 2)[-2]}/adminCommand/reset",
                            {"Authorization": f"Bearer {WRONG}"})
    assert status == 401
