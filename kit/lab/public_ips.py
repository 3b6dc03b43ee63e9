"""Public IP addresses as a deallocation treats them, and the update that makes one static.

A Basic public IP with ``publicIPAllocationMethod: Dynamic`` holds an address only while its VM
runs: deallocating the VM releases it (``ipAddress`` disappears) and starting it again assigns
another. A Standard public IP is always static. Changing a dynamic address to static while the
VM runs keeps the address it holds. No Basic address can be created since Basic's retirement
("Cannot create more than 0 IPv4 Basic SKU public IP addresses"), but a legacy VM may still hold
one: :func:`add_public_ip` gives a lab VM one. :mod:`kit.lab.arm_network_write` serves the PUT
that updates one.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

from kit.lab._state import LabState

__all__ = ["add_public_ip", "assign_dynamic", "new_address", "release_dynamic"]

_ADDRESSES = (f"20.62.{third}.{fourth}" for third, fourth in itertools.product(range(100, 200), range(10, 250)))


def add_public_ip(state: LabState, vm_id: str, *, sku: Literal["Basic", "Standard"] = "Basic",
                  allocation: Literal["Dynamic", "Static"] = "Dynamic") -> str:
    """Give the VM's primary NIC a public IP (assigned now: the VM runs); its id."""
    vm = state.get(vm_id)
    if vm is None:
        raise KeyError(vm_id)
    nic_id = str(vm["properties"]["networkProfile"]["networkInterfaces"][0]["id"])
    nic = state.get(nic_id)
    if nic is None:
        raise KeyError(nic_id)
    pip_id = f"{nic_id.rsplit('/providers/', 1)[0]}/providers/Microsoft.Network/publicIPAddresses/{vm['name']}-pip"
    config = nic["properties"]["ipConfigurations"][0]
    state.put(pip_id, {
        "name": f"{vm['name']}-pip", "id": pip_id, "type": "Microsoft.Network/publicIPAddresses",
        "location": vm.get("location", "eastus"), "sku": {"name": sku, "tier": "Regional"},
        "properties": {"provisioningState": "Succeeded", "ipAddress": new_address(),
                       "publicIPAddressVersion": "IPv4", "publicIPAllocationMethod": allocation,
                       "idleTimeoutInMinutes": 4, "ipTags": [], "ipConfiguration": {"id": str(config["id"])}}})
    config.setdefault("properties", {})["publicIPAddress"] = {"id": pip_id}
    return pip_id


def release_dynamic(state: LabState, vm: dict[str, Any]) -> None:
    """A deallocation: the VM's dynamic public IPs give their addresses up."""
    for pip in _dynamic_ips(state, vm):
        pip["properties"].pop("ipAddress", None)


def assign_dynamic(state: LabState, vm: dict[str, Any]) -> None:
    """A start: the VM's dynamic public IPs without an address get a new one."""
    for pip in _dynamic_ips(state, vm):
        pip["properties"].setdefault("ipAddress", new_address())


def new_address() -> str:
    """A public address the lab has not handed out yet."""
    return next(_ADDRESSES)


def _dynamic_ips(state: LabState, vm: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for reference in (vm.get("properties") or {}).get("networkProfile", {}).get("networkInterfaces", []):
        nic = state.get(str(reference.get("id", "")))
        for config in (nic or {}).get("properties", {}).get("ipConfigurations", []):
            pip_id = ((config.get("properties") or {}).get("publicIPAddress") or {}).get("id")
            pip = state.get(str(pip_id)) if pip_id else None
            if pip is not None and str(pip["properties"].get("publicIPAllocationMethod", "")).lower() == "dynamic":
                found.append(pip)
    return found
