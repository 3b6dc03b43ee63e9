"""ARM resource bodies as GET returns them (REST shape), built from a story's ``network``/``vms``.

Shapes follow the Azure REST API examples (network 2024-05-01, compute 2024-07-01) and what a
live GET adds to them (etags, resourceGuid, the empty plural rule fields, back-references).
"""

from __future__ import annotations

from typing import Any

from kit.lab.scenarios._render.common import guid, hexid, iso, mac_for, ts
from kit.lab.scenarios._render.images import IMAGES

__all__ = ["Ids", "build_resources", "os_disk_name"]

_NET = "Microsoft.Network"
_CMP = "Microsoft.Compute"

_DEFAULT_RULES = [
    ("AllowVnetInBound", "Allow inbound traffic from all VMs in VNET", "VirtualNetwork", "VirtualNetwork", "Allow", 65000, "Inbound"),
    ("AllowAzureLoadBalancerInBound", "Allow inbound traffic from azure load balancer", "AzureLoadBalancer", "*", "Allow", 65001, "Inbound"),
    ("DenyAllInBound", "Deny all inbound traffic", "*", "*", "Deny", 65500, "Inbound"),
    ("AllowVnetOutBound", "Allow outbound traffic from all VMs to all VMs in VNET", "VirtualNetwork", "VirtualNetwork", "Allow", 65000, "Outbound"),
    ("AllowInternetOutBound", "Allow outbound traffic from all VMs to Internet", "*", "Internet", "Allow", 65001, "Outbound"),
    ("DenyAllOutBound", "Deny all outbound traffic", "*", "*", "Deny", 65500, "Outbound"),
]


class Ids:
    """Resource ids of one scenario (string building only: the lab imports nothing from kit.azure)."""

    def __init__(self, story: dict[str, Any]) -> None:
        self.sub = story["subscription_id"]
        self.rg = story["resource_group"]

    def rg_id(self) -> str:
        """The resource group's id."""
        return f"/subscriptions/{self.sub}/resourceGroups/{self.rg}"

    def of(self, namespace: str, type_: str, name: str, rg: str | None = None) -> str:
        """A top-level resource of ``namespace/type_`` (in ``rg``, default the story's group)."""
        return f"/subscriptions/{self.sub}/resourceGroups/{rg or self.rg}/providers/{namespace}/{type_}/{name}"

    def vm(self, name: str) -> str:
        """A virtual machine."""
        return self.of(_CMP, "virtualMachines", name)

    def disk(self, name: str) -> str:
        """A managed disk."""
        return self.of(_CMP, "disks", name)

    def nic(self, name: str) -> str:
        """A network interface."""
        return self.of(_NET, "networkInterfaces", name)

    def nsg(self, name: str) -> str:
        """A network security group."""
        return self.of(_NET, "networkSecurityGroups", name)

    def vnet(self, name: str) -> str:
        """A virtual network."""
        return self.of(_NET, "virtualNetworks", name)

    def subnet(self, vnet: str, name: str) -> str:
        """A subnet of ``vnet``."""
        return f"{self.vnet(vnet)}/subnets/{name}"

    def rt(self, name: str) -> str:
        """A route table."""
        return self.of(_NET, "routeTables", name)

    def pip(self, name: str) -> str:
        """A public IP address."""
        return self.of(_NET, "publicIPAddresses", name)

    def asg(self, name: str) -> str:
        """An application security group."""
        return self.of(_NET, "applicationSecurityGroups", name)


def _etag(*parts: object) -> str:
    return f'W/"{guid("etag", *parts)}"'


def _base32(*parts: object) -> str:
    """26 lowercase base32 characters, like Azure's internal DNS suffix labels."""
    import base64

    return base64.b32encode(bytes.fromhex(hexid(*parts, length=40))).decode().lower()[:26]


def _nic_name(vm: dict[str, Any]) -> str:
    return vm.get("nic", f"{vm['name']}-nic")


def _pip_name(vm: dict[str, Any]) -> str:
    return f"{vm['name']}-pip"


def os_disk_name(story: dict[str, Any], vm: dict[str, Any]) -> str:
    """The VM's OS disk name, as Azure names one created with the VM (``<vm>_OsDisk_1_<hex>``)."""
    return f"{vm['name']}_OsDisk_1_{hexid(story['name'], vm['name'], 'osdisk')}"


def _address_fields(prefix: str, value: Any, *, kind: str) -> dict[str, Any]:
    """Singular or plural rule field (never both set), the other present and empty, as GET returns."""
    single, plural = (f"{prefix}AddressPrefix", f"{prefix}AddressPrefixes") if kind == "addr" else (
        f"{prefix}PortRange", f"{prefix}PortRanges")
    if isinstance(value, list):
        return {plural: value}
    return {single: value, plural: []}


def _security_rule(ids: Ids, nsg: str, rule: dict[str, Any], *, default: bool = False) -> dict[str, Any]:
    collection = "defaultSecurityRules" if default else "securityRules"
    props: dict[str, Any] = {"provisioningState": "Succeeded"}
    if rule.get("description"):
        props["description"] = rule["description"]
    props["protocol"] = rule.get("protocol", "*")
    props.update(_address_fields("source", rule.get("src_port", "*"), kind="port"))
    props.update(_address_fields("destination", rule.get("dst_port", "*"), kind="port"))
    if rule.get("src_asgs"):
        props["sourceApplicationSecurityGroups"] = [{"id": ids.asg(a)} for a in rule["src_asgs"]]
        props["sourceAddressPrefixes"] = []
    else:
        props.update(_address_fields("source", rule.get("src", "*"), kind="addr"))
    if rule.get("dst_asgs"):
        props["destinationApplicationSecurityGroups"] = [{"id": ids.asg(a)} for a in rule["dst_asgs"]]
        props["destinationAddressPrefixes"] = []
    else:
        props.update(_address_fields("destination", rule.get("dst", "*"), kind="addr"))
    props.update({"access": rule["access"], "priority": rule["priority"], "direction": rule["direction"]})
    return {
        "name": rule["name"],
        "id": f"{ids.nsg(nsg)}/{collection}/{rule['name']}",
        "etag": _etag(ids.sub, nsg, rule.get("etag_seed", "v1")),
        "type": f"{_NET}/networkSecurityGroups/{collection}",
        "properties": props,
    }


def _default_rules(ids: Ids, nsg: str) -> list[dict[str, Any]]:
    out = []
    for name, desc, src, dst, access, prio, direction in _DEFAULT_RULES:
        rule = {"name": name, "description": desc, "src": src, "dst": dst, "access": access,
                "priority": prio, "direction": direction}
        out.append(_security_rule(ids, nsg, rule, default=True))
    return out


def build_resources(story: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource body of the scenario, in a stable order."""
    ids = Ids(story)
    net = story["network"]
    loc = story["location"]
    vms = story["vms"]
    subnet_of = {s["name"]: s for s in net["vnet"]["subnets"]}
    vnet = net["vnet"]["name"]
    tags = story.get("tags", {})

    nic_ipconfigs: dict[str, list[str]] = {s: [] for s in subnet_of}
    nsg_nics: dict[str, list[str]] = {}
    for vm in vms:
        nic = _nic_name(vm)
        nic_ipconfigs[vm["subnet"]].append(f"{ids.nic(nic)}/ipConfigurations/ipconfig1")
        if vm.get("nic_nsg"):
            nsg_nics.setdefault(vm["nic_nsg"], []).append(ids.nic(nic))

    out: list[dict[str, Any]] = []
    for vm in vms:
        out.append(_vm_body(story, ids, vm))
    for vm in vms:
        out.append(_nic_body(story, ids, vm))
        if vm.get("public_ip"):
            out.append(_pip_body(story, ids, vm))
    for nsg in net.get("nsgs", []):
        subnets = [ids.subnet(vnet, s["name"]) for s in net["vnet"]["subnets"] if s.get("nsg") == nsg["name"]]
        body = {
            "name": nsg["name"], "id": ids.nsg(nsg["name"]), "etag": _etag(ids.sub, nsg["name"], nsg.get("etag_seed", "v1")),
            "type": f"{_NET}/networkSecurityGroups", "location": loc, "tags": dict(tags),
            "properties": {
                "provisioningState": "Succeeded",
                "resourceGuid": guid(story["name"], "nsg", nsg["name"]),
                "securityRules": [_security_rule(ids, nsg["name"], r) for r in nsg["rules"]],
                "defaultSecurityRules": _default_rules(ids, nsg["name"]),
            },
        }
        if nsg_nics.get(nsg["name"]):
            body["properties"]["networkInterfaces"] = [{"id": i} for i in nsg_nics[nsg["name"]]]
        if subnets:
            body["properties"]["subnets"] = [{"id": s} for s in subnets]
        out.append(body)
    for rt in net.get("route_tables", []):
        out.append(_route_table_body(story, ids, rt))
    for asg in net.get("asgs", []):
        out.append({
            "name": asg, "id": ids.asg(asg), "etag": _etag(ids.sub, asg), "type": f"{_NET}/applicationSecurityGroups",
            "location": loc, "tags": dict(tags),
            "properties": {"resourceGuid": guid(story["name"], "asg", asg), "provisioningState": "Succeeded"},
        })
    out.append(_vnet_body(story, ids, nic_ipconfigs))
    return out


def _vnet_body(story: dict[str, Any], ids: Ids, nic_ipconfigs: dict[str, list[str]]) -> dict[str, Any]:
    net = story["network"]
    vnet = net["vnet"]["name"]
    subnets = []
    for s in net["vnet"]["subnets"]:
        props: dict[str, Any] = {"provisioningState": "Succeeded", "addressPrefix": s["prefix"]}
        if s.get("nsg"):
            props["networkSecurityGroup"] = {"id": ids.nsg(s["nsg"])}
        if s.get("route_table"):
            props["routeTable"] = {"id": ids.rt(s["route_table"])}
        if nic_ipconfigs.get(s["name"]):
            props["ipConfigurations"] = [{"id": i} for i in nic_ipconfigs[s["name"]]]
        props.update({"delegations": [], "privateEndpointNetworkPolicies": "Disabled",
                      "privateLinkServiceNetworkPolicies": "Enabled"})
        subnets.append({"name": s["name"], "id": ids.subnet(vnet, s["name"]),
                        "etag": _etag(ids.sub, vnet, s["name"], s.get("etag_seed", "v1")),
                        "type": f"{_NET}/virtualNetworks/subnets", "properties": props})
    return {
        "name": vnet, "id": ids.vnet(vnet), "etag": _etag(ids.sub, vnet, net["vnet"].get("etag_seed", "v1")),
        "type": f"{_NET}/virtualNetworks", "location": story["location"], "tags": dict(story.get("tags", {})),
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": guid(story["name"], "vnet", vnet),
            "addressSpace": {"addressPrefixes": list(net["vnet"]["address_space"])},
            "dhcpOptions": {"dnsServers": list(net["vnet"].get("dns_servers", []))},
            "subnets": subnets,
            "virtualNetworkPeerings": [],
            "enableDdosProtection": False,
        },
    }


def _route_table_body(story: dict[str, Any], ids: Ids, rt: dict[str, Any]) -> dict[str, Any]:
    vnet = story["network"]["vnet"]["name"]
    routes = []
    for r in rt["routes"]:
        props: dict[str, Any] = {"provisioningState": "Succeeded", "addressPrefix": r["prefix"], "nextHopType": r["next_hop"]}
        if r.get("next_hop_ip"):
            props["nextHopIpAddress"] = r["next_hop_ip"]
        props["hasBgpOverride"] = False
        routes.append({"name": r["name"], "id": f"{ids.rt(rt['name'])}/routes/{r['name']}",
                       "etag": _etag(ids.sub, rt["name"], r["name"]), "type": f"{_NET}/routeTables/routes",
                       "properties": props})
    subnets = [{"id": ids.subnet(vnet, s["name"])} for s in story["network"]["vnet"]["subnets"]
               if s.get("route_table") == rt["name"]]
    return {
        "name": rt["name"], "id": ids.rt(rt["name"]), "etag": _etag(ids.sub, rt["name"], rt.get("etag_seed", "v1")),
        "type": f"{_NET}/routeTables", "location": story["location"], "tags": dict(story.get("tags", {})),
        "properties": {"provisioningState": "Succeeded", "resourceGuid": guid(story["name"], "rt", rt["name"]),
                       "disableBgpRoutePropagation": rt.get("disable_bgp", False), "routes": routes,
                       "subnets": subnets},
    }


def _nic_body(story: dict[str, Any], ids: Ids, vm: dict[str, Any]) -> dict[str, Any]:
    nic = _nic_name(vm)
    vnet = story["network"]["vnet"]["name"]
    ipprops: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "privateIPAddress": vm["ip"],
        "privateIPAllocationMethod": vm.get("ip_allocation", "Static"),
    }
    if vm.get("public_ip"):
        ipprops["publicIPAddress"] = {"id": ids.pip(_pip_name(vm))}
    ipprops["subnet"] = {"id": ids.subnet(vnet, vm["subnet"])}
    ipprops["primary"] = True
    ipprops["privateIPAddressVersion"] = "IPv4"
    if vm.get("asgs"):
        ipprops["applicationSecurityGroups"] = [{"id": ids.asg(a)} for a in vm["asgs"]]
    props: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "resourceGuid": guid(story["name"], "nic", nic),
        "ipConfigurations": [{
            "name": "ipconfig1", "id": f"{ids.nic(nic)}/ipConfigurations/ipconfig1",
            "etag": _etag(ids.sub, nic), "type": f"{_NET}/networkInterfaces/ipConfigurations", "properties": ipprops,
        }],
        "dnsSettings": {"dnsServers": list(vm.get("dns_servers", [])), "appliedDnsServers": list(vm.get("dns_servers", [])),
                        "internalDomainNameSuffix": f"{_base32(story['name'], 'dns')}.{story.get('dns_zone', 'ax')}.internal.cloudapp.net"},
        "macAddress": mac_for(story["name"], vm["name"]),
        "vnetEncryptionSupported": False,
        "enableIPForwarding": vm.get("ip_forwarding", False),
        "disableTcpStateTracking": False,
        "enableAcceleratedNetworking": vm.get("accelerated", True),
    }
    if vm.get("nic_nsg"):
        props["networkSecurityGroup"] = {"id": ids.nsg(vm["nic_nsg"])}
    props.update({"hostedWorkloads": [], "tapConfigurations": [], "virtualMachine": {"id": ids.vm(vm["name"])},
                  "nicType": "Standard", "allowPort25Out": False, "auxiliaryMode": "None", "auxiliarySku": "None",
                  "primary": True})
    return {"name": nic, "id": ids.nic(nic), "etag": _etag(ids.sub, nic), "type": f"{_NET}/networkInterfaces",
            "location": story["location"], "tags": dict(story.get("tags", {})), "kind": "Regular", "properties": props}


def _pip_body(story: dict[str, Any], ids: Ids, vm: dict[str, Any]) -> dict[str, Any]:
    name = _pip_name(vm)
    body: dict[str, Any] = {
        "name": name, "id": ids.pip(name), "etag": _etag(ids.sub, name), "type": f"{_NET}/publicIPAddresses",
        "location": story["location"], "tags": dict(story.get("tags", {})),
        "sku": {"name": "Standard", "tier": "Regional"},
    }
    if vm.get("zone"):
        body["zones"] = [vm["zone"]]
    body["properties"] = {
        "provisioningState": "Succeeded", "resourceGuid": guid(story["name"], "pip", name),
        "ipAddress": vm["public_ip"], "publicIPAddressVersion": "IPv4", "publicIPAllocationMethod": "Static",
        "idleTimeoutInMinutes": 4, "ipTags": [],
        "ipConfiguration": {"id": f"{ids.nic(_nic_name(vm))}/ipConfigurations/ipconfig1"},
        "ddosSettings": {"protectionMode": "VirtualNetworkInherited"},
    }
    return body


def _vm_body(story: dict[str, Any], ids: Ids, vm: dict[str, Any]) -> dict[str, Any]:
    image = IMAGES[vm["image"]]
    name = vm["name"]
    os_disk = os_disk_name(story, vm)
    storage: dict[str, Any] = {
        "imageReference": dict(image["reference"]),
        "osDisk": {
            "osType": image["os_type"], "name": os_disk, "createOption": "FromImage", "caching": "ReadWrite",
            "managedDisk": {"storageAccountType": vm.get("disk_sku", "Premium_LRS"), "id": ids.disk(os_disk)},
            "deleteOption": "Delete", "diskSizeGB": image["os_disk_gb"],
        },
        "dataDisks": [
            {"lun": d["lun"], "name": d["name"], "createOption": "Attach", "caching": d.get("caching", "ReadOnly"),
             "writeAcceleratorEnabled": False,
             "managedDisk": {"storageAccountType": d.get("sku", "Premium_LRS"), "id": ids.disk(d["name"])},
             "deleteOption": "Detach", "diskSizeGB": d["size_gb"], "toBeDetached": False}
            for d in vm.get("data_disks", [])
        ],
        "diskControllerType": "SCSI",
    }
    admin = vm.get("admin", "azureuser")
    if image["os_type"] == "Linux":
        os_profile: dict[str, Any] = {
            "computerName": name, "adminUsername": admin,
            "linuxConfiguration": {
                "disablePasswordAuthentication": True,
                "ssh": {"publicKeys": [{"path": f"/home/{admin}/.ssh/authorized_keys",
                                        "keyData": f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{hexid(story['name'], name, 'key', length=43)} {story.get('key_comment', 'ops')}\r\n"}]},
                "provisionVMAgent": True,
                "patchSettings": {"patchMode": vm.get("patch_mode", "ImageDefault"), "assessmentMode": "ImageDefault"},
                "enableVMAgentPlatformUpdates": False,
            },
            "secrets": [], "allowExtensionOperations": True, "requireGuestProvisionSignal": True,
        }
    else:
        os_profile = {
            "computerName": name, "adminUsername": admin,
            "windowsConfiguration": {"provisionVMAgent": True, "enableAutomaticUpdates": True,
                                     "patchSettings": {"patchMode": "AutomaticByOS", "assessmentMode": "ImageDefault"},
                                     "enableVMAgentPlatformUpdates": False},
            "secrets": [], "allowExtensionOperations": True, "requireGuestProvisionSignal": True,
        }
    props: dict[str, Any] = {
        "hardwareProfile": {"vmSize": vm["size"]},
        "provisioningState": "Succeeded",
        "vmId": guid(story["name"], "vmId", name),
        "additionalCapabilities": {"hibernationEnabled": False},
        "storageProfile": storage,
        "osProfile": os_profile,
        "securityProfile": {"uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}, "securityType": "TrustedLaunch"},
        "networkProfile": {"networkInterfaces": [{"id": ids.nic(_nic_name(vm)), "properties": {"deleteOption": "Detach"}}]},
        "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
        "timeCreated": iso(ts(vm["created"])),
    }
    body: dict[str, Any] = {
        "name": name, "id": ids.vm(name), "type": f"{_CMP}/virtualMachines", "location": story["location"],
        "tags": {**story.get("tags", {}), **vm.get("tags", {})},
    }
    if vm.get("zone"):
        body["zones"] = [vm["zone"]]
    body["etag"] = f'"{vm.get("model_version", 3)}"'
    body["properties"] = props
    if vm.get("extensions"):
        body["resources"] = [_extension_body(story, ids, vm, e) for e in vm["extensions"]]
    return body


def _extension_body(story: dict[str, Any], ids: Ids, vm: dict[str, Any], ext: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": ext["name"], "id": f"{ids.vm(vm['name'])}/extensions/{ext['name']}",
        "type": f"{_CMP}/virtualMachines/extensions", "location": story["location"],
        "properties": {"autoUpgradeMinorVersion": True, "provisioningState": "Succeeded",
                       "publisher": ext["publisher"], "type": ext["type"], "typeHandlerVersion": ext["version"],
                       **({"enableAutomaticUpgrade": True} if ext.get("auto_upgrade") else {}),
                       "settings": ext.get("settings", {})},
    }
