"""Network reads, effective rules/routes as long-running operations, and writes through ARM."""

from __future__ import annotations

import datetime as dt

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.network.models import Route, SecurityRule

from lab.conftest import RG, SUB, AsyncToken, Token, client_kwargs

NIC = "web-01-nic"


def test_network_resources_read_back(network):
    nic = network.network_interfaces.get(RG, NIC)
    assert nic.ip_configurations[0].private_ip_address == "10.20.1.4"
    nsg = network.network_security_groups.get(RG, "web-01-nsg")
    assert [rule.name for rule in nsg.security_rules] == ["DenySSH"]
    assert network.security_rules.get(RG, "web-01-nsg", "DenySSH").destination_port_range == "22"
    assert network.virtual_networks.get(RG, "vnet-tiny").address_space.address_prefixes == ["10.20.0.0/16"]
    subnet = network.subnets.get(RG, "vnet-tiny", "web")
    assert subnet.route_table.id.endswith("/routeTables/web-rt")
    assert network.route_tables.get(RG, "web-rt").routes[0].next_hop_ip_address == "10.0.0.4"
    assert network.routes.get(RG, "web-rt", "default-via-fw").next_hop_type == "VirtualAppliance"
    assert network.public_ip_addresses.get(RG, "web-01-pip").ip_address == "20.50.1.2"
    assert network.application_security_groups.get(RG, "web-asg").name == "web-asg"


def test_missing_child_resource_is_a_404(network):
    with pytest.raises(ResourceNotFoundError) as caught:
        network.security_rules.get(RG, "web-01-nsg", "NoSuchRule")
    assert caught.value.error.code == "NotFound"


def test_effective_nsgs_list_nic_then_subnet_with_defaults_and_tags(network):
    result = network.network_interfaces.begin_list_effective_network_security_groups(RG, NIC).result()
    groups = result.value
    assert [group.network_security_group.id.rsplit("/", 1)[-1] for group in groups] == ["web-01-nsg",
                                                                                         "web-subnet-nsg"]
    assert groups[0].association.network_interface.id.endswith(f"/networkInterfaces/{NIC}")
    assert groups[1].association.subnet.id.endswith("/virtualNetworks/vnet-tiny/subnets/web")
    names = [rule.name for rule in groups[0].effective_security_rules]
    assert names[0] == "securityRules/DenySSH"
    assert names[1:] == ["defaultSecurityRules/AllowVnetInBound", "defaultSecurityRules/AllowAzureLoadBalancerInBound",
                         "defaultSecurityRules/DenyAllInBound", "defaultSecurityRules/AllowVnetOutBound",
                         "defaultSecurityRules/AllowInternetOutBound", "defaultSecurityRules/DenyAllOutBound"]
    deny = groups[0].effective_security_rules[0]
    assert (deny.protocol, deny.destination_port_range, deny.source_port_range) == ("Tcp", "22-22", "0-65535")
    vnet_rule = groups[0].effective_security_rules[1]
    assert vnet_rule.expanded_source_address_prefix == ["10.20.0.0/16", "10.0.0.0/16"]  # own space + peered hub
    assert groups[0].tag_map["AzureLoadBalancer"] == ["168.63.129.16/32"]
    internet = groups[0].tag_map["Internet"]
    assert "10.0.0.0/8" not in internet and "8.0.0.0/7" in internet


def test_effective_routes_mark_the_overridden_default_invalid(network):
    routes = network.network_interfaces.begin_get_effective_route_table(RG, NIC).result().value
    by_prefix = {(route.source, route.address_prefix[0]): route for route in routes}
    assert by_prefix[("Default", "10.20.0.0/16")].next_hop_type == "VnetLocal"
    assert by_prefix[("Default", "10.0.0.0/16")].next_hop_type == "VNetPeering"
    assert by_prefix[("Default", "0.0.0.0/0")].state == "Invalid"
    user = by_prefix[("User", "0.0.0.0/0")]
    assert (user.name, user.state, user.next_hop_type, user.next_hop_ip_address) == (
        "default-via-fw", "Active", "VirtualAppliance", ["10.0.0.4"])
    assert by_prefix[("Default", "192.168.0.0/16")].next_hop_type == "None"


def test_effective_routes_of_a_deallocated_vm_fail_as_azure_does(network):
    with pytest.raises(HttpResponseError) as caught:
        network.network_interfaces.begin_get_effective_route_table(RG, "db-01-nic").result()
    assert caught.value.status_code == 400
    assert caught.value.error.code == "NetworkInterfaceNotAttachedToRunningVm"
    assert "deallocated" in caught.value.message


async def test_async_client_runs_the_same_operations(tiny_lab):
    from azure.mgmt.network.aio import NetworkManagementClient

    async with NetworkManagementClient(AsyncToken(tiny_lab.token), SUB,
                                       **client_kwargs(tiny_lab, polling_interval=0.01)) as client:
        poller = await client.network_interfaces.begin_list_effective_network_security_groups(RG, "web-02-nic")
        groups = (await poller.result()).value
        routes = await (await client.network_interfaces.begin_get_effective_route_table(RG, "web-02-nic")).result()
    assert [group.association.subnet.id.rsplit("/", 1)[-1] for group in groups] == ["web"]
    assert any(route.source == "User" for route in routes.value)


def test_put_rule_changes_effective_nsgs_and_logs_the_write(fresh_lab):
    from azure.mgmt.monitor import MonitorManagementClient
    from azure.mgmt.network import NetworkManagementClient

    network = NetworkManagementClient(Token(fresh_lab.token), SUB, **client_kwargs(fresh_lab, polling_interval=0.01))
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    rule = SecurityRule(protocol="Tcp", source_address_prefix="203.0.113.10", source_port_range="*",
                        destination_address_prefix="*", destination_port_range="22", access="Allow",
                        priority=110, direction="Inbound")
    written = network.security_rules.begin_create_or_update(RG, "web-01-nsg", "AllowResponderSSH", rule).result()
    assert (written.provisioning_state, written.priority) == ("Succeeded", 110)
    groups = network.network_interfaces.begin_list_effective_network_security_groups(RG, NIC).result().value
    deny, allow = groups[0].effective_security_rules[:2]
    assert (deny.name, deny.priority) == ("securityRules/DenySSH", 100)
    assert (allow.name, allow.access, allow.source_address_prefix) == (
        "securityRules/AllowResponderSSH", "Allow", "203.0.113.10/32")

    monitor = MonitorManagementClient(Token(fresh_lab.token), SUB, **client_kwargs(fresh_lab))
    rule_id = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/networkSecurityGroups/"
               f"web-01-nsg/securityRules/AllowResponderSSH")
    events = list(monitor.activity_logs.list(
        filter=f"eventTimestamp ge '{before.isoformat()}' and resourceUri eq '{rule_id}'"))
    assert sorted(event.status.value for event in events) == ["Started", "Succeeded"]
    assert len({event.correlation_id for event in events}) == 1
    assert {event.operation_name.value for event in events} == {
        "Microsoft.Network/networkSecurityGroups/securityRules/write"}
    assert {event.caller for event in events} == {"responder@lab.contoso.com"}


def test_delete_rule_and_put_route_through_arm(fresh_lab):
    from azure.mgmt.network import NetworkManagementClient

    network = NetworkManagementClient(Token(fresh_lab.token), SUB, **client_kwargs(fresh_lab, polling_interval=0.01))
    network.security_rules.begin_delete(RG, "web-01-nsg", "DenySSH").result()
    assert network.network_security_groups.get(RG, "web-01-nsg").security_rules == []
    network.routes.begin_create_or_update(RG, "web-rt", "default-via-fw",
                                          Route(address_prefix="10.0.0.0/16", next_hop_type="VnetLocal")).result()
    routes = network.network_interfaces.begin_get_effective_route_table(RG, NIC).result().value
    assert next(route for route in routes if route.address_prefix == ["0.0.0.0/0"]).state == "Active"


def test_invalid_rule_is_refused_with_a_clear_message(fresh_lab):
    from azure.mgmt.network import NetworkManagementClient

    network = NetworkManagementClient(Token(fresh_lab.token), SUB, **client_kwargs(fresh_lab, polling_interval=0.01))
    rule = SecurityRule(protocol="Tcp", source_address_prefix="*", source_port_range="*",
                        destination_address_prefix="*", destination_port_range="22", access="Allow",
                        priority=100, direction="Inbound")
    with pytest.raises(HttpResponseError) as caught:
        network.security_rules.begin_create_or_update(RG, "web-01-nsg", "Clash", rule).result()
    assert caught.value.error.code == "SecurityRulesConflictingPriority"


def test_put_nsg_and_route_table_replace_their_children(fresh_lab):
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.network.models import NetworkSecurityGroup, RouteTable

    network = NetworkManagementClient(Token(fresh_lab.token), SUB, **client_kwargs(fresh_lab, polling_interval=0.01))
    nsg = network.network_security_groups.get(RG, "web-01-nsg")
    allow = SecurityRule(name="AllowSSH", protocol="Tcp", source_address_prefix="*", source_port_range="*",
                         destination_address_prefix="*", destination_port_range="22", access="Allow",
                         priority=100, direction="Inbound")
    updated = network.network_security_groups.begin_create_or_update(
        RG, "web-01-nsg", NetworkSecurityGroup(location=nsg.location, security_rules=[allow])).result()
    assert [rule.name for rule in updated.security_rules] == ["AllowSSH"]
    assert updated.network_interfaces[0].id.endswith("/networkInterfaces/web-01-nic")  # read-only links survive
    effective = network.network_interfaces.begin_list_effective_network_security_groups(RG, NIC).result().value
    assert effective[0].effective_security_rules[0].access == "Allow"

    table = network.route_tables.begin_create_or_update(
        RG, "web-rt", RouteTable(location="westeurope", routes=[], disable_bgp_route_propagation=True)).result()
    assert table.routes == [] and table.disable_bgp_route_propagation is True
    routes = network.network_interfaces.begin_get_effective_route_table(RG, NIC).result().value
    assert {route.source for route in routes} == {"Default"}
    assert all(route.disable_bgp_route_propagation for route in routes)
    assert all(route.state == "Active" for route in routes)


def test_detaching_the_route_table_from_the_subnet_restores_the_internet_route(fresh_lab):
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.network.models import NetworkSecurityGroup as Nsg
    from azure.mgmt.network.models import Subnet

    network = NetworkManagementClient(Token(fresh_lab.token), SUB, **client_kwargs(fresh_lab, polling_interval=0.01))
    subnet = network.subnets.get(RG, "vnet-tiny", "web")
    updated = network.subnets.begin_create_or_update(
        RG, "vnet-tiny", "web", Subnet(address_prefix=subnet.address_prefix,
                                       network_security_group=Nsg(id=subnet.network_security_group.id))).result()
    assert updated.route_table is None and updated.provisioning_state == "Succeeded"
    routes = network.network_interfaces.begin_get_effective_route_table(RG, NIC).result().value
    internet = next(route for route in routes if route.address_prefix == ["0.0.0.0/0"])
    assert (internet.source, internet.next_hop_type, internet.state) == ("Default", "Internet", "Active")
    ghost = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/networkSecurityGroups/ghost"
    with pytest.raises(HttpResponseError) as caught:
        subnet = Subnet(address_prefix="10.20.1.0/24", network_security_group=Nsg(id=ghost))
        network.subnets.begin_create_or_update(RG, "vnet-tiny", "web", subnet).result()
    assert caught.value.error.code == "InvalidResourceReference"
