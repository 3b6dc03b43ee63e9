"""The lab's disks, snapshots, repair VMs and OS-disk swaps, through the real azure-mgmt-compute SDK."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import ComputeManagementClient

from kit.lab import RunningLab, running_lab
from kit.lab._scripts import script_runner
from kit.lab.gateway import hub_of
from tests.lab.conftest import Token, client_kwargs

SCENARIO = "kernel-panic"


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    """A lab of its own per test: repairs change disks and guests."""
    with running_lab(scenarios=[SCENARIO, "fstab-emergency"]) as running:
        yield running


def _compute(lab: RunningLab, scenario: str = SCENARIO) -> tuple[ComputeManagementClient, str, str]:
    info = lab.scenario(scenario)
    client = ComputeManagementClient(Token(lab.token), info.subscription_id, **client_kwargs(lab))
    return client, info.resource_group, info.broken_vm


def _os_disk(client: ComputeManagementClient, group: str, vm: str) -> str:
    return str(client.virtual_machines.get(group, vm).as_dict()["properties"]["storageProfile"]["osDisk"]["name"])


def _copy(client: ComputeManagementClient, group: str, source_id: str, kind: str, name: str, location: str) -> str:
    body = {"location": location, "properties": {"creationData": {"createOption": "Copy",
                                                                  "sourceResourceId": source_id}}}
    operations = client.snapshots if kind == "snapshot" else client.disks
    return str(operations.begin_create_or_update(group, name, body).result().id)


def test_the_scenario_vms_disks_are_served_from_their_storage_profile(lab: RunningLab) -> None:
    client, group, vm = _compute(lab)
    disk = client.disks.get(group, _os_disk(client, group, vm)).as_dict()
    assert disk["managedBy"].endswith(f"/virtualMachines/{vm}")
    assert disk["properties"]["diskState"] == "Attached"
    assert disk["properties"]["osType"] == "Linux" and disk["properties"]["hyperVGeneration"] == "V2"
    assert disk["zones"] == ["1"]
    with pytest.raises(HttpResponseError) as refused:
        client.disks.begin_delete(group, disk["name"]).result()
    assert refused.value.status_code == 409 and "attached" in str(refused.value.message)


def test_a_snapshot_and_its_copy_keep_the_source_and_its_encryption(lab: RunningLab) -> None:
    client, group, vm = _compute(lab)
    disk_name = _os_disk(client, group, vm)
    source = client.disks.get(group, disk_name)
    lab.state.get(str(source.id))["properties"]["encryptionSettingsCollection"] = {"enabled": True,
                                                                                   "encryptionSettings": []}
    snapshot_id = _copy(client, group, str(source.id), "snapshot", "snap-1", "centralus")
    copy_id = _copy(client, group, snapshot_id, "disk", "copy-1", "centralus")
    copy = client.disks.get(group, "copy-1").as_dict()
    assert copy["id"] == copy_id and copy["properties"]["diskState"] == "Unattached" and "managedBy" not in copy
    assert copy["properties"]["creationData"]["sourceResourceId"] == snapshot_id
    assert copy["properties"]["encryptionSettingsCollection"]["enabled"] is True
    with pytest.raises(HttpResponseError) as missing:
        _copy(client, group, source.id.replace(disk_name, "nope"), "disk", "copy-2", "centralus")
    assert missing.value.status_code == 404
    client.disks.begin_delete(group, "copy-1").result()
    with pytest.raises(HttpResponseError):
        client.disks.get(group, "copy-1")
    operations = [r["operationName"]["value"] for r in lab.state.activity[source.id.split("/")[2]]
                  if r["status"]["value"] == "Started"]
    assert operations[-3:] == ["Microsoft.Compute/snapshots/write", "Microsoft.Compute/disks/write",
                               "Microsoft.Compute/disks/delete"]


def test_the_os_disk_of_a_running_vm_cannot_be_swapped(lab: RunningLab) -> None:
    client, group, vm = _compute(lab)
    source = client.disks.get(group, _os_disk(client, group, vm))
    copy_id = _copy(client, group, str(source.id), "disk", "copy-1", "centralus")
    swap = {"properties": {"storageProfile": {"osDisk": {"name": "copy-1", "managedDisk": {"id": copy_id}}}}}
    with pytest.raises(HttpResponseError) as refused:
        client.virtual_machines.begin_update(group, vm, swap).result()
    assert refused.value.status_code == 409 and "stopped or deallocated" in str(refused.value.message)
    client.virtual_machines.begin_deallocate(group, vm).result()
    assert client.disks.get(group, source.name).as_dict()["properties"]["diskState"] == "Reserved"
    client.virtual_machines.begin_update(group, vm, swap).result()
    assert _os_disk(client, group, vm) == "copy-1"
    assert client.disks.get(group, "copy-1").as_dict()["managedBy"].endswith(f"/virtualMachines/{vm}")
    assert client.disks.get(group, source.name).as_dict()["properties"]["diskState"] == "Unattached"


def test_an_unfixed_copy_panics_again_and_a_repaired_one_boots_to_login(lab: RunningLab) -> None:
    client, group, vm = _compute(lab)
    info = lab.scenario(SCENARIO)
    source = client.disks.get(group, _os_disk(client, group, vm))
    snapshot_id = _copy(client, group, str(source.id), "snapshot", "snap-1", "centralus")
    client.virtual_machines.begin_deallocate(group, vm).result()
    for name in ("unfixed", "fixed"):
        disk_id = _copy(client, group, snapshot_id, "disk", name, "centralus")
        if name == "fixed":  # what update-initramfs on a repair VM leaves on the copy
            from kit.lab._disks import content_of

            content = content_of(lab.state, disk_id)
            assert content is not None
            content.files["/boot/initrd.img-6.8.0-1018-azure"] = "(initramfs)\n"
            content.files["/boot/grub/grub.cfg"] += "initrd /initrd.img-6.8.0-1018-azure\n"
        client.virtual_machines.begin_deallocate(group, vm).result()
        swap = {"properties": {"storageProfile": {"osDisk": {"name": name, "managedDisk": {"id": disk_id}}}}}
        client.virtual_machines.begin_update(group, vm, swap).result()
        client.virtual_machines.begin_start(group, vm).result()
        log = lab.state.serial_logs[info.vm_id(vm).lower()].read_text(encoding="utf-8")
        if name == "unfixed":
            assert "Kernel panic - not syncing" in log and "login:" not in log
        else:
            assert "Kernel panic" not in log and log.rstrip().endswith("login:")
            assert "Linux version 6.8.0-1018-azure" in log and "Cloud-init v." in log
            assert not hub_of(lab.state).guest(SCENARIO, info.vm_id(vm)).silent


def test_a_repair_vm_runs_scripts_in_a_rescue_shell_that_edits_the_attached_copy(lab: RunningLab) -> None:
    from azure.mgmt.network import NetworkManagementClient

    client, group, vm = _compute(lab, "fstab-emergency")
    info = lab.scenario("fstab-emergency")
    network = NetworkManagementClient(Token(lab.token), info.subscription_id, **client_kwargs(lab))
    source = client.disks.get(group, _os_disk(client, group, vm))
    location = str(source.location)
    copy_id = _copy(client, group, _copy(client, group, str(source.id), "snapshot", "s", location), "disk", "c",
                    location)
    nic = network.network_interfaces.get(group, f"{vm}-nic").as_dict()
    subnet = nic["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]
    nsg = network.network_security_groups.begin_create_or_update(group, "rescue-nsg", {"location": location}).result()
    assert [r.name for r in nsg.default_security_rules or []][2] == "DenyAllInBound"
    new_nic = network.network_interfaces.begin_create_or_update(group, "rescue-nic", {
        "location": location, "properties": {"networkSecurityGroup": {"id": nsg.id}, "ipConfigurations": [
            {"name": "ipconfig1", "properties": {"subnet": {"id": subnet}}}]}}).result()
    rescue = client.virtual_machines.begin_create_or_update(group, "rescue", _rescue_body(location, source.zones,
                                                                                         str(new_nic.id), [])).result()
    assert "adminPassword" not in (rescue.as_dict()["properties"].get("osProfile") or {})
    assert _agent(client, group, "rescue") == "Ready"
    attach = {"properties": {"storageProfile": {"dataDisks": [{"lun": 0, "createOption": "Attach",
                                                               "managedDisk": {"id": copy_id}}]}}}
    client.virtual_machines.begin_update(group, "rescue", attach).result()
    assert client.disks.get(group, "c").as_dict()["managedBy"] == rescue.id
    assert _agent(client, group, "rescue") == "Ready"  # attached after its boot: it stays on its own root
    runner = script_runner(lab.state, str(rescue.id))
    assert runner is not None
    script = ("set -e\nlsblk -o NAME,LABEL,MOUNTPOINT\nmount /dev/sdc1 /rescue\n"
              "sed -i 's|^\\(UUID=b4e2.*\\)$|# \\1|' /rescue/etc/fstab\numount /rescue\nmount /dev/sdc1 /mnt/x\n"
              "grep b4e2 /mnt/x/etc/fstab\numount /mnt/x\nmount /dev/sdz1 /rescue\necho never")
    run = asyncio.run(runner(script, "bash"))
    table = [line.split() for line in run.stdout.splitlines()[:10]]
    assert ["└─sdc1", "cloudimg-rootfs"] in table and ["└─sda1", "cloudimg-rootfs", "/"] in table
    assert "# UUID=b4e2" in run.stdout and "never" not in run.stdout
    assert run.exit_code == 32 and "/dev/sdz1 does not exist" in run.stderr
    with pytest.raises(HttpResponseError) as in_use:
        network.network_interfaces.begin_delete(group, "rescue-nic").result()
    assert in_use.value.status_code == 400
    client.virtual_machines.begin_delete(group, "rescue").result()
    assert script_runner(lab.state, str(rescue.id)) is None
    assert client.disks.get(group, "c").as_dict()["properties"]["diskState"] == "Unattached"
    network.network_interfaces.begin_delete(group, "rescue-nic").result()
    network.network_security_groups.begin_delete(group, "rescue-nsg").result()


def test_a_vm_created_with_a_copy_of_the_same_image_attached_boots_the_copy_and_never_gets_ready(
        lab: RunningLab) -> None:
    from azure.mgmt.network import NetworkManagementClient

    client, group, vm = _compute(lab)
    info = lab.scenario(SCENARIO)
    network = NetworkManagementClient(Token(lab.token), info.subscription_id, **client_kwargs(lab))
    source = client.disks.get(group, _os_disk(client, group, vm))
    location = str(source.location)
    snapshot = _copy(client, group, str(source.id), "snapshot", "s", location)
    copies = [_copy(client, group, snapshot, "disk", f"c{n}", location) for n in (1, 2)]
    subnet = network.network_interfaces.get(group, f"{vm}-nic").as_dict()["properties"]["ipConfigurations"][0][
        "properties"]["subnet"]["id"]
    nics = [network.network_interfaces.begin_create_or_update(group, f"nic-{n}", {
        "location": location, "properties": {"ipConfigurations": [
            {"name": "ipconfig1", "properties": {"subnet": {"id": subnet}}}]}}).result() for n in (1, 2)]
    # the same Ubuntu image as the broken VM's, its OS disk copy attached from the start: two roots, one UUID
    client.virtual_machines.begin_create_or_update(group, "clash", _rescue_body(
        location, source.zones, str(nics[0].id), [copies[0]])).result()
    # another distribution's image has another root identity: no clash
    client.virtual_machines.begin_create_or_update(group, "plain", _rescue_body(
        location, source.zones, str(nics[1].id), [copies[1]], ("Debian", "debian-12", "12-gen2"))).result()
    assert _agent(client, group, "clash") == "Not Ready" and _agent(client, group, "plain") == "Ready"
    with pytest.raises(HttpResponseError, match="has not reported status for VM agent"):
        client.virtual_machines.begin_run_command(group, "clash", {"commandId": "RunShellScript",
                                                                   "script": ["lsblk"]}).result()
    ran = client.virtual_machines.begin_run_command(group, "plain", {"commandId": "RunShellScript",
                                                                     "script": ["echo ready"]}).result()
    assert "ready" in str(ran.as_dict())


def _rescue_body(location: str, zones: list[str] | None, nic_id: str, data_disks: list[str],
                 image: tuple[str, str, str] = ("canonical", "ubuntu-24_04-lts", "server")) -> dict[str, object]:
    publisher, offer, sku = image
    return {"location": location, "zones": zones,
            "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v5"},
                           "storageProfile": {"imageReference": {"publisher": publisher, "offer": offer,
                                                                 "sku": sku, "version": "latest"},
                                              "osDisk": {"createOption": "FromImage"},
                                              "dataDisks": [{"lun": lun, "createOption": "Attach",
                                                             "managedDisk": {"id": disk}}
                                                            for lun, disk in enumerate(data_disks)]},
                           "osProfile": {"computerName": "rescue", "adminUsername": "kit",
                                         "adminPassword": "Unused-1!"},
                           "networkProfile": {"networkInterfaces": [{"id": nic_id}]}}}


def _agent(client: ComputeManagementClient, group: str, vm: str) -> str:
    agent = client.virtual_machines.instance_view(group, vm).vm_agent
    return str(agent.statuses[0].display_status) if agent is not None and agent.statuses else "(no agent)"


def test_a_zone_redundant_copy_pinned_to_a_zone_is_refused_as_azure_refuses_it(lab: RunningLab) -> None:
    client, group, vm = _compute(lab)
    source = client.disks.get(group, _os_disk(client, group, vm))
    body = {"location": str(source.location), "zones": ["1"], "sku": {"name": "Premium_ZRS"},
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": str(source.id)}}}
    with pytest.raises(HttpResponseError) as refused:
        client.disks.begin_create_or_update(group, "zrs-copy", body).result()
    assert refused.value.status_code == 409
    assert "A disk with sku 'Premium_ZRS' cannot be created in an availability zone" in str(refused.value.message)
    del body["zones"]
    assert client.disks.begin_create_or_update(group, "zrs-copy", body).result().sku.name == "Premium_ZRS"
