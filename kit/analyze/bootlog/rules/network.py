"""The guest's own network: its network service failing at boot, or no address from DHCP.

An Azure VM takes its address, route and DNS servers by DHCP from 168.63.129.16. When the guest's
network service fails — ifupdown's ``networking.service``, RHEL's network-scripts (the ``network``
LSB service), NetworkManager or systemd-networkd — or DHCP answers nothing, the VM still boots to
its login prompt, and nothing reaches it: not SSH, not the VM agent (so no Run Command either).
A static address in the guest that is not the NIC's, or a configuration pinned to a MAC address
the NIC no longer has, end here too.

Sources: the units' descriptions, which systemd prints in ``Failed to start …``: Debian ifupdown
``debian/networking.service`` ("Raise network interfaces"), initscripts ``rc.d/init.d/network``
("Short-Description: Bring up/down networking", shown as ``LSB: …`` by systemd-sysv-generator),
NetworkManager ``data/NetworkManager.service.in`` ("Network Manager"), systemd
``units/systemd-networkd.service.in`` ("Network Configuration"); ISC DHCP ``client/dhclient.c``
("No DHCPOFFERS received."); initscripts ``network-scripts/ifup-eth`` ("Determining IP information
for ${DEVICE}..." then " failed."). Microsoft, "Troubleshoot SSH connections to an Azure Linux VM
that fails, errors out, or is refused" (the guest's network configuration).
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["NETWORK_UNITS", "RULE"]

_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/troubleshoot-ssh-connection"
#: the network services' systemd descriptions (with the unit name systemd 250+ prints before them)
NETWORK_UNITS = re.compile(r"^(?:(?:networking|network|NetworkManager|systemd-networkd)\.service - )?"
                           r"(?:Raise network interfaces|LSB: Bring up/down networking|Network Manager|"
                           r"Network Configuration)\.?$")


def _service(signature: Signature, match: re.Match[str], context: Context) -> Hit | None:
    unit = match.group("unit").rstrip(". ")
    if not NETWORK_UNITS.match(unit):
        return None
    return signature.hit(match, summary=f"The guest's network service failed to start ({unit}): the NIC may have no "
                         "address or route, so nothing reaches the VM, the VM agent included.")


def _no_lease(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    on = f" on {match.group('nic')}" if match.group("nic") else ""
    return signature.hit(match, summary=f"The guest got no address from DHCP{on}: Azure's DHCP (168.63.129.16) "
                         "answers the NIC's own MAC only, so a renamed interface, a MAC pinned in the guest's network "
                         "configuration or a firewall on ports 67/68 leaves the VM without an address.")


RULE = register(Rule("network", [
    Signature("boot:network:service_failed", r"Failed to start (?P<unit>.+?)\s*$", build=_service,
              severity="error", os="linux", source=_DOCS,
              samples=("[FAILED] Failed to start networking.service - Raise network interfaces.",
                       "[FAILED] Failed to start Raise network interfaces.",
                       "[FAILED] Failed to start LSB: Bring up/down networking.",
                       "[FAILED] Failed to start NetworkManager.service - Network Manager.",
                       "[FAILED] Failed to start systemd-networkd.service - Network Configuration.")),
    Signature("boot:network:no_dhcp_lease",
              r"No DHCPOFFERS received|Determining IP information for (?P<nic>\S+?)\.\.\. ?failed",
              build=_no_lease, severity="error", os="linux", source=_DOCS,
              samples=("No DHCPOFFERS received.",
                       "Determining IP information for eth0... failed.")),
]))
