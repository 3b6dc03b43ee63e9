"""The network family: the guest's network service failing at boot, and no address from DHCP."""

from __future__ import annotations

import pytest
from bootlog_data import ESC, FAILED, findings, only


@pytest.mark.parametrize(("line", "named"), [
    (f"{FAILED} Failed to start {ESC}[0;1;39mnetworking.service{ESC}[0m - Raise network interfaces.",
     "networking.service - Raise network interfaces"),
    (f"{FAILED} Failed to start Raise network interfaces.", "Raise network interfaces"),
    (f"{FAILED} Failed to start LSB: Bring up/down networking.", "LSB: Bring up/down networking"),
    (f"{FAILED} Failed to start NetworkManager.service - Network Manager.", "Network Manager"),
    (f"{FAILED} Failed to start systemd-networkd.service - Network Configuration.", "Network Configuration"),
])
def test_the_guests_network_service_failing_is_its_own_error_not_a_generic_unit(line: str, named: str) -> None:
    finding = only(line, "boot:network:service_failed")
    assert finding.severity == "error" and named in finding.summary and "VM agent" in finding.summary
    assert not [f for f in findings(line) if f.kind == "boot:systemd:unit_failed"], "reported once, as the network's"


def test_other_units_stay_systemds() -> None:
    for line in (f"{FAILED} Failed to start nginx.service - A high performance web server.",
                 f"{FAILED} Failed to start Wait for Network to be Configured.",
                 f"{FAILED} Failed to start network-online-checker.service - Network Configuration Checker."):
        kinds = [f.kind for f in findings(line)]
        assert kinds == ["boot:systemd:unit_failed"], (line, kinds)


@pytest.mark.parametrize(("line", "on"), [
    ("No DHCPOFFERS received.", ""),
    ("Determining IP information for eth0... failed.", " on eth0"),
])
def test_no_dhcp_lease_names_the_nic_and_why_azure_answers_nothing(line: str, on: str) -> None:
    finding = only(line, "boot:network:no_dhcp_lease")
    assert finding.summary.startswith(f"The guest got no address from DHCP{on}:") and "own MAC" in finding.summary
