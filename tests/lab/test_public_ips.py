"""The lab's public IPs through the real SDK: a dynamic address goes with a deallocation, a static one stays."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient

from kit.azure.target import AzureTarget
from kit.lab import running_lab
from kit.lab.public_ips import add_public_ip


def test_deallocating_releases_a_dynamic_address_starting_gives_another_and_static_keeps_it() -> None:
    with running_lab(scenarios=["kernel-panic"]) as lab:
        info = lab.scenario("kernel-panic")
        target, vm_id = AzureTarget.for_lab(lab), str(info.vm_id(info.broken_vm))
        group, name = info.resource_group, info.broken_vm
        kwargs = target.client_kwargs()
        compute = ComputeManagementClient(target.sync_credential(), info.subscription_id, **kwargs)
        network = NetworkManagementClient(target.sync_credential(), info.subscription_id, **kwargs)
        add_public_ip(lab.state, vm_id)
        first = network.public_ip_addresses.get(group, f"{name}-pip").ip_address
        compute.virtual_machines.begin_deallocate(group, name).result()
        assert network.public_ip_addresses.get(group, f"{name}-pip").ip_address is None
        compute.virtual_machines.begin_start(group, name).result()
        second = network.public_ip_addresses.get(group, f"{name}-pip").ip_address
        assert second and second != first

        pip = network.public_ip_addresses.get(group, f"{name}-pip")
        pip.public_ip_allocation_method = "Static"
        network.public_ip_addresses.begin_create_or_update(group, f"{name}-pip", pip).result()
        compute.virtual_machines.begin_deallocate(group, name).result()
        compute.virtual_machines.begin_start(group, name).result()
        assert network.public_ip_addresses.get(group, f"{name}-pip").ip_address == second

        pip.sku.name, pip.public_ip_allocation_method = "Standard", "Dynamic"
        with pytest.raises(HttpResponseError, match="must have AllocationMethod set to Static"):
            network.public_ip_addresses.begin_create_or_update(group, f"{name}-pip", pip).result()
