"""The lab's serial console gateway, spoken to over real wss with TLS verified against the lab CA.

Raw websocket checks of the protocol (token as first frame, text and binary frames, refusals),
and the kit's own client (SerialConsoleClient + AzureSerialTransport + Session) across
multibyte splits, a dropped socket and admin commands.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from kit.azure.serialconsole import SerialConsoleClient, admin_command_url, send_admin_command
from kit.console import AzureSerialTransport, SerialConnection, azure_connection, lab_console_client, open_lab_session
from kit.errors import ConsoleAuthError, ConsoleError, UsageError

SCENARIO = "firewall-lockout"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A lab serving firewall-lockout (rendered by its builder if not committed yet)."""
    from kit.lab import running_lab
    from kit.lab.scenario import list_scenarios

    dirs = None
    if SCENARIO not in {info.name for info in list_scenarios()}:
        out = tmp_path_factory.mktemp("scenarios")
        subprocess.run([sys.executable, "-m", "kit.lab.scenarios.build", "--out", str(out), "--only", SCENARIO],
                       check=True, capture_output=True)
        dirs = [out]
    with running_lab(scenarios=[SCENARIO], scenario_dirs=dirs) as running:
        yield running


@pytest.fixture(scope="module")
def client(lab) -> SerialConsoleClient:
    return SerialConsoleClient.for_lab(lab)


@pytest.fixture(scope="module")
def vm_id(lab) -> str:
    info = lab.scenario(SCENARIO)
    return info.vm_id(info.broken_vm)


def _ssl(lab) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(lab.ca_path))


async def _frames(ws, seconds: float = 0.5) -> list[str | bytes]:
    frames: list[str | bytes] = []
    try:
        while True:
            frames.append(await asyncio.wait_for(ws.recv(), seconds))
    except TimeoutError:
        return frames


async def test_token_as_first_frame_opens_the_console_and_frames_are_text_and_binary(lab, client, vm_id) -> None:
    url = client.connection_string(vm_id)
    assert url.startswith("wss://127.0.0.1:") and url.endswith("/client") and "token" not in url
    async with websockets.connect(url, ssl=_ssl(lab)) as ws:
        await ws.send(lab.token)
        frames = await _frames(ws)
        assert frames and all(isinstance(f, bytes) for f in frames)  # longer output: binary frames
        assert b"".join(frames).rstrip().endswith(b"sched-01 login:")
        await ws.send("a")
        echo = await _frames(ws)
        assert echo == ["a"]  # a keystroke's echo is a text frame
        await ws.send("\r")
        assert "".join(await _frames(ws)) == "\r\nPassword: "  # short output: a text frame
        await ws.send("wrong\r")
        await _frames(ws, 0.3)


@pytest.mark.parametrize("first", ["not-a-token", "Bearer {token}", b"{token}"])
async def test_a_socket_whose_first_frame_is_not_the_token_is_refused(lab, client, vm_id, first) -> None:
    url = client.connection_string(vm_id)
    async with websockets.connect(url, ssl=_ssl(lab)) as ws:
        if isinstance(first, bytes):
            await ws.send(first.replace(b"{token}", lab.token.encode()))
        else:
            await ws.send(first.replace("{token}", lab.token))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd.code == 4401


async def test_wrong_token_surfaces_as_console_auth_error(lab, client, vm_id) -> None:
    connection = SerialConnection(client.connection_string(vm_id), "eyJhbGciOi.fake.token", client.ssl_context())
    transport = AzureSerialTransport(connection, reconnect=False)
    await transport.connect()
    with pytest.raises(ConsoleAuthError, match="refused the token"):
        await asyncio.wait_for(transport.receive(), 5)
    await transport.close()


async def test_connect_refuses_without_a_bearer_token(lab, vm_id) -> None:
    import aiohttp

    path = f"{vm_id}/providers/Microsoft.SerialConsole/serialPorts/0/connect?api-version=2024-07-01"
    async with aiohttp.ClientSession() as http, http.post(lab.endpoint + path, ssl=_ssl(lab)) as response:
        assert response.status == 401


async def test_multibyte_characters_split_across_binary_frames_arrive_whole(lab, tmp_path: Path) -> None:
    from kit.lab.gateway import hub_of

    text = "Grüße ● └─ 日本語 ✓ 🙂\r\n"
    async with open_lab_session(lab, SCENARIO, approval="TEST-UTF8", transcript=tmp_path / "u.cast") as session:
        await session.async_expect("login: ", timeout=10)
        hub = hub_of(lab.state)
        await asyncio.to_thread(hub.say, session.vm_id, text.encode(), 1)  # one byte per binary frame
        await session.async_expect("🙂", timeout=5)
        assert "Grüße ● └─ 日本語 ✓ 🙂" in session.screen_text()
    assert "Grüße ● └─ 日本語 ✓ 🙂" in (tmp_path / "u.txt").read_text()


async def test_reconnects_after_the_lab_drops_the_socket_and_marks_the_gap(lab, tmp_path: Path) -> None:
    from kit.lab.gateway import hub_of

    hub = hub_of(lab.state)
    async with open_lab_session(lab, SCENARIO, approval="TEST-DROP", transcript=tmp_path / "d.cast") as session:
        await session.async_expect("login: ", timeout=10)
        before = len(hub.sessions)
        await asyncio.to_thread(hub.drop, session.vm_id)
        await asyncio.sleep(0.5)
        await session.async_sendline("")
        await session.async_expect("login: ", timeout=10)
        assert session.transport.reconnects == 1
        assert len(hub.sessions) == before + 1  # a fresh /connect POST for the new socket
    cast = (tmp_path / "d.cast").read_text()
    assert '"m", "connection dropped; reconnected after' in cast
    assert "connection dropped; reconnected" in (tmp_path / "d.txt").read_text()


async def test_admin_commands_print_what_a_linux_kernel_prints(lab, tmp_path: Path) -> None:
    async with open_lab_session(lab, SCENARIO, approval="TEST-ADMIN", transcript=tmp_path / "a.cast") as session:
        await session.async_expect("login: ", timeout=10)
        with pytest.raises(UsageError, match="confirm=True"):
            await session.async_nmi()
        await session.async_sysrq("h", confirm=True)
        await session.async_expect(r"sysrq: HELP : loglevel\(0-9\) reboot\(b\)", timeout=5)
        await session.async_nmi(confirm=True)
        await session.async_expect("NMI received for unknown reason", timeout=5)
        await session.async_reset(confirm=True)
        await session.async_expect(r"Linux version [\s\S]*sched-01 login: $", timeout=10)
    cast = (tmp_path / "a.cast").read_text()
    for command in ("sysrq", "nmi", "reset"):
        assert f"admin command {command} requested" in cast


async def test_admin_command_needs_the_token_and_a_live_session(lab, client, vm_id) -> None:
    connection = azure_connection(client, vm_id)
    with pytest.raises(ConsoleError, match="live console session"):
        await send_admin_command(connection, "nmi", confirm=True, verify=str(lab.ca_path))
    forged = SerialConnection(connection.url, "forged-token", connection.ssl_context)
    with pytest.raises(ConsoleAuthError):
        await send_admin_command(forged, "nmi", confirm=True, verify=str(lab.ca_path))
    with pytest.raises(UsageError):
        await send_admin_command(connection, "reset")


def test_admin_url_rewrites_only_the_scheme_and_the_last_segment() -> None:
    url = "wss://westus.gateway.serialconsole.azure.com/n/connector/wsabc/sessions/ws1/client"
    assert admin_command_url(url, "sysrq") == \
        "https://westus.gateway.serialconsole.azure.com/n/connector/wsabc/sessions/ws1/adminCommand/sysrq"
    with pytest.raises(UsageError):
        admin_command_url(url, "format-c")


def test_lab_console_client_reaches_the_lab_and_names_the_scenario_vm(lab, vm_id) -> None:
    info = lab.scenario(SCENARIO)
    client, broken = lab_console_client(lab, SCENARIO)
    assert broken == vm_id and client.target.arm_endpoint == lab.endpoint
    _, other = lab_console_client(lab, SCENARIO, info.known_good[0])
    assert other == info.vm_id(info.known_good[0]) != vm_id


def test_precheck_reports_a_linux_vm_ready(lab, client, vm_id) -> None:
    result = client.precheck(vm_id)
    assert result.ok and result.console_enabled and result.boot_diagnostics
    assert result.power_state == "running" and result.os_type == "linux"
    assert "ready" in str(result)


def test_precheck_refuses_a_resource_that_is_not_a_vm(client, lab) -> None:
    info = lab.scenario(SCENARIO)
    with pytest.raises(UsageError, match="VM or a scale-set instance"):
        client.precheck(f"/subscriptions/{info.subscription_id}/resourceGroups/{info.resource_group}"
                        "/providers/Microsoft.Network/networkSecurityGroups/x")


def test_check_endpoint_answers_with_the_token_only(lab) -> None:
    import urllib.request

    request = urllib.request.Request(f"{lab.endpoint}/kit-lab/check/{SCENARIO}",
                                     headers={"Authorization": f"Bearer {lab.token}"})
    with urllib.request.urlopen(request, context=_ssl(lab)) as response:
        body = json.loads(response.read())
    assert body["scenario"] == SCENARIO and body["passed"] is False
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{lab.endpoint}/kit-lab/check/{SCENARIO}", context=_ssl(lab))
    assert refused.value.code == 401



async def test_a_failed_connect_post_during_reconnect_is_retried(lab, client, vm_id) -> None:
    from kit.errors import AzureError
    from kit.lab.gateway import hub_of

    calls = 0

    async def flaky_connector() -> SerialConnection:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first reconnect's /connect POST is throttled
            raise AzureError("serial_ports.connect: HTTP 429 TooManyRequests", status=429)
        return await asyncio.to_thread(azure_connection, client, vm_id)

    transport = AzureSerialTransport(flaky_connector)
    notices = []
    transport.on_notice = notices.append
    await transport.connect()
    assert "login:" in await asyncio.wait_for(transport.receive(), 5)
    await asyncio.to_thread(hub_of(lab.state).drop, vm_id)
    await transport.send(b"\r")
    while "login:" not in await asyncio.wait_for(transport.receive(), 10):
        pass
    assert calls == 3 and transport.reconnects == 1
    assert [n.kind for n in notices] == ["reconnecting", "gap"]
    await transport.close()


async def test_azure_session_records_the_responder_from_the_token_claims(lab, vm_id, tmp_path: Path) -> None:
    from kit.azure.target import AzureTarget
    from kit.console import open_azure_session

    session = open_azure_session(AzureTarget.for_lab(lab), vm_id, approval="INC-4242", transcript=tmp_path / "z.cast")
    async with session:
        await session.async_expect("login: ", timeout=10)
    header = json.loads((tmp_path / "z.cast").read_text().splitlines()[0])
    assert header["kit"]["responder"] == lab.state.principal.name
    assert header["kit"]["approval"] == "INC-4242" and header["kit"]["vm_id"] == vm_id
    assert lab.token not in (tmp_path / "z.cast").read_text()


def _power(lab, vm_id: str, state: str) -> None:  # type: ignore[no-untyped-def]
    view = lab.state.instance_views[vm_id.lower()]
    view["statuses"] = [s for s in view["statuses"] if not s["code"].startswith("PowerState/")] + [
        {"code": f"PowerState/{state}", "level": "Info", "displayStatus": f"VM {state}"}]


async def test_a_vm_deallocated_under_the_session_loses_the_console_for_good(lab, vm_id, tmp_path: Path) -> None:
    from kit.console import SessionState
    from kit.errors import ConsoleLostError
    from kit.lab.gateway import hub_of

    session = open_lab_session(lab, SCENARIO, approval="TEST-LOST", transcript=tmp_path / "lost.cast")
    session.transport.backoff = 0.05  # type: ignore[attr-defined]
    try:
        async with session:
            await session.async_expect("login: ", timeout=10)
            _power(lab, vm_id, "deallocated")                  # every /connect is refused (409) from now on
            await asyncio.to_thread(hub_of(lab.state).drop, vm_id)
            with pytest.raises(ConsoleLostError, match="reconnect failed 5 times .*running"):
                await session.async_expect("never", timeout=20)
            assert session.state is SessionState.ENDED
    finally:
        _power(lab, vm_id, "running")
    assert "reconnect failed; the console connection is lost" in (tmp_path / "lost.cast").read_text()
    assert lab.token not in (tmp_path / "lost.cast").read_text()
