"""The lab's probe: a VM's SSH/RDP port answers as the guest's state, the NSGs and the power state say."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient

from kit.errors import LabError
from kit.lab import RunningLab, running_lab
from kit.lab.gateway import hub_of
from kit.lab.probe import SSH_BANNER, X224_CONFIRM

from .conftest import Token, client_kwargs

X224_REQUEST = bytes.fromhex("030000130ee000000000000100080003000000")


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    """A lab of its own: these tests fix guests and change NSGs and power states."""
    with running_lab(scenarios=["sshd-broken", "windows-rdp", "deallocated", "nsg-deny"]) as running:
        yield running


def answer(address: tuple[str, int], send: bytes = b"") -> bytes | str:
    """What the port says first, or ``"reset"``.

    A reset can land before ``connect`` has read the socket's error (a busy client): that is a reset too.
    """
    try:
        with socket.create_connection(address, timeout=5) as sock:
            sock.settimeout(5)
            if send:
                sock.sendall(send)
            return sock.recv(256)
    except ConnectionResetError:
        return "reset"


def shell(lab: RunningLab, scenario: str, *lines: str) -> str:
    """Log in on the scenario's console and type ``lines``; what the console printed."""
    guest = hub_of(lab.state).scenario_guest(scenario)
    out = guest.feed(guest.shell.username + "\r") + guest.feed(guest.shell.password + "\r")
    return out + "".join(guest.feed(line + "\r") for line in lines)


def test_sshd_answers_only_once_its_configuration_is_fixed(lab: RunningLab) -> None:
    address = lab.probe_address("sshd-broken")
    assert address[0] == "127.0.0.1"
    assert answer(address) == "reset"
    shell(lab, "sshd-broken", "sudo systemctl restart ssh")
    assert answer(address) == "reset", "restarting sshd without fixing the bad line fixes nothing"
    shell(lab, "sshd-broken", "sudo sed -i '3s/^/#/' /etc/ssh/sshd_config.d/50-cloud-init.conf",
          "sudo systemctl restart ssh")
    assert answer(address) == SSH_BANNER
    assert lab.probe_address("sshd-broken") == address, "one listener per VM"


def test_rdp_confirms_the_connection_only_with_termservice_running(lab: RunningLab) -> None:
    address = lab.probe_address("windows-rdp")
    assert answer(address, X224_REQUEST) == "reset"
    services = hub_of(lab.state).scenario_guest("windows-rdp").shell.services  # type: ignore[union-attr]
    services["termservice"].update(start="demand", state="RUNNING")
    reply = answer(address, X224_REQUEST)
    assert reply == X224_CONFIRM and isinstance(reply, bytes) and reply[5] == 0xD0


def test_a_deallocated_vm_answers_nothing_until_it_is_started(lab: RunningLab) -> None:
    info = lab.scenario("deallocated")
    address = lab.probe_address("deallocated")
    assert answer(address) == "reset"
    compute = ComputeManagementClient(Token(lab.token), info.subscription_id, **client_kwargs(lab))
    compute.virtual_machines.begin_start(info.resource_group, info.broken_vm, polling_interval=0.05).result()
    assert answer(address) == SSH_BANNER


def test_an_nsg_deny_resets_until_the_rule_is_deleted_and_peers_answer(lab: RunningLab) -> None:
    info = lab.scenario("nsg-deny")
    address = lab.probe_address("nsg-deny")
    assert answer(address) == "reset"
    peer = lab.probe_address(info.vm_id(info.known_good[0]))
    assert peer != address and answer(peer) == SSH_BANNER
    network = NetworkManagementClient(Token(lab.token), info.subscription_id, **client_kwargs(lab))
    network.security_rules.begin_delete(info.resource_group, "nsg-pos-api-01", "Deny-SSH-Inbound",
                                        polling_interval=0.05).result()
    assert answer(address) == SSH_BANNER


def test_unknown_names_are_refused_and_listeners_stop_with_the_lab() -> None:
    with running_lab(scenarios=["sshd-broken"]) as lab:
        with pytest.raises(LabError, match="no lab scenario|not served|no-such"):
            lab.probe_address("no-such-scenario")
        info = lab.scenario("sshd-broken")
        with pytest.raises(LabError, match="serves no VM"):
            lab.probe_address(info.vm_id("not-a-vm"))
        address = lab.probe_address("sshd-broken")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=5)
    with pytest.raises(LabError, match="not running"):
        lab.probe_address("sshd-broken")
