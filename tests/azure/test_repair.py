"""``kit.azure.repair``: the repair VM flow against the lab through the real SDK, and its fix scripts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from repairs import FSTAB, PANIC, broken_vm, kit_fix

from kit.analyze.repair_scripts import facts_from_boot_log, fix_script
from kit.azure.actions import WriteLog
from kit.azure.repair import (
    ADE_REFUSAL,
    BootProof,
    RepairRefused,
    RepairResources,
    boot_proof,
    read_boot_state,
    repair,
)
from kit.azure.target import AzureTarget
from kit.errors import UsageError
from kit.lab import RunningLab, running_lab
from kit.lab.capacity import restrict_size
from kit.lab.gateway import check
from kit.lab.policy import allow_sizes, require_disk_encryption_set, require_encryption_at_host, require_tag


@pytest.fixture
def lab() -> Iterator[RunningLab]:
    """A lab of its own per test: a repair changes the VM, its disks and its guest."""
    with running_lab(scenarios=[PANIC, FSTAB]) as running:
        yield running


def _serial(lab: RunningLab, vm_id: str) -> str:
    return lab.state.serial_logs[vm_id.lower()].read_text(encoding="utf-8")


def test_a_kernel_panic_is_repaired_proven_and_cleaned_up_keeping_the_original_disk(lab: RunningLab) -> None:
    target, vm_id, compute = broken_vm(lab, PANIC)
    group, name = vm_id.split("/")[4], vm_id.rsplit("/", 1)[1]
    original = compute.virtual_machines.get(group, name).as_dict()["properties"]["storageProfile"]["osDisk"]
    steps: list[str] = []
    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:kernel_panic"),
                     finding="boot_failure:kernel_panic", approval="CHG-1",
                     prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2), write_log=WriteLog(),
                     on_step=lambda step: steps.append(step.name))
    assert outcome.status == "recovered", outcome.message
    assert "update-initramfs: Generating /boot/initrd.img-6.8.0-1018-azure" in outcome.fix_output["stdout"]
    assert steps.index("snapshot the OS disk") < steps.index("create a disk from the snapshot") < \
        steps.index("attach the copy to the repair VM") < steps.index("swap in the repaired OS disk") < \
        steps.index("prove the recovery") < steps.index("delete the repair VM")
    assert steps.index("create the repair VM (Standard_D2s_v5)") < steps.index("attach the copy to the repair VM")
    assert _serial(lab, vm_id).rstrip().endswith("login:") and "Kernel panic" not in _serial(lab, vm_id)
    now = compute.virtual_machines.get(group, name).as_dict()["properties"]["storageProfile"]["osDisk"]
    assert now["managedDisk"]["id"] == outcome.repaired_disk != original["managedDisk"]["id"]
    assert compute.disks.get(group, original["name"]).as_dict()["properties"]["diskState"] == "Unattached"
    assert compute.snapshots.get(group, outcome.snapshot.rsplit("/", 1)[1]) is not None
    assert original["name"] in outcome.message and outcome.snapshot.rsplit("/", 1)[1] in outcome.message
    for deleted in outcome.deleted:  # the repair VM, its OS disk, NIC and NSG
        assert lab.state.get(deleted) is None
    assert len(outcome.deleted) == 4


def test_a_zone_redundant_os_disk_of_a_zonal_vm_is_copied_unpinned_and_the_repair_recovers(lab: RunningLab) -> None:
    target, vm_id, compute = broken_vm(lab, FSTAB)
    group, name = vm_id.split("/")[4], vm_id.rsplit("/", 1)[1]
    vm = compute.virtual_machines.get(group, name).as_dict()
    assert vm["zones"] == ["1"]
    disk = lab.state.get(str(compute.disks.get(group, vm["properties"]["storageProfile"]["osDisk"]["name"]).id))
    assert disk is not None
    disk["sku"] = {"name": "Premium_ZRS", "tier": "Premium"}  # replicated in every zone: the disk has none
    disk.pop("zones", None)
    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:fstab"), finding="boot_failure:fstab",
                     approval="CHG-9", prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2))
    assert outcome.status == "recovered", outcome.message
    copy = compute.disks.get(group, outcome.repaired_disk.rsplit("/", 1)[1]).as_dict()
    assert copy["sku"]["name"] == "Premium_ZRS" and not copy.get("zones")
    assert check(lab, FSTAB).passed


def test_an_arm64_vm_is_repaired_on_an_arm64_repair_vm_and_its_copy_stays_arm64(lab: RunningLab) -> None:
    target, vm_id, compute = broken_vm(lab, PANIC)
    group, name = vm_id.split("/")[4], vm_id.rsplit("/", 1)[1]
    vm = compute.virtual_machines.get(group, name).as_dict()
    disk = lab.state.get(str(compute.disks.get(group, vm["properties"]["storageProfile"]["osDisk"]["name"]).id))
    assert disk is not None
    disk["properties"]["supportedCapabilities"] = {"architecture": "Arm64"}  # a Cobalt / Ampere VM's disk
    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:kernel_panic"),
                     finding="boot_failure:kernel_panic", approval="CHG-10", keep_repair_vm=True,
                     prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2))
    assert outcome.status == "recovered", outcome.message
    repair_vm = lab.state.get(outcome.repair_vm)
    assert repair_vm is not None
    assert repair_vm["properties"]["hardwareProfile"]["vmSize"] == "Standard_D2ps_v5"
    assert repair_vm["properties"]["storageProfile"]["imageReference"]["sku"] == "server-arm64"
    assert "securityProfile" not in repair_vm["properties"]  # no Trusted Launch on Arm64
    copy = compute.disks.get(group, outcome.repaired_disk.rsplit("/", 1)[1]).as_dict()
    assert copy["properties"]["supportedCapabilities"]["architecture"] == "Arm64"


def test_a_size_out_of_capacity_or_past_its_family_quota_gives_way_to_the_next_size(lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, FSTAB)
    restrict_size(lab.state, "Standard_D2s_v5", "capacity")
    restrict_size(lab.state, "Standard_D2as_v5", "family-quota")
    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:fstab"), finding="boot_failure:fstab",
                     approval="CHG-11", keep_repair_vm=True,
                     prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2))
    assert outcome.status == "recovered", outcome.message
    tried = [(s.name, s.result) for s in outcome.steps if s.name.startswith("create the repair VM")]
    assert [name for name, _ in tried] == ["create the repair VM (Standard_D2s_v5)",
                                           "create the repair VM (Standard_D2as_v5)",
                                           "create the repair VM (Standard_D2s_v4)"]
    assert "SkuNotAvailable" in tried[0][1] and "standardDASv5Family Cores quota" in tried[1][1]
    assert tried[2][1] == "ok"
    repair_vm = lab.state.get(outcome.repair_vm)
    assert repair_vm is not None and repair_vm["properties"]["hardwareProfile"]["vmSize"] == "Standard_D2s_v4"
    assert check(lab, FSTAB).passed


def test_a_regional_vcpu_quota_used_up_stops_the_repair_before_the_vm_is_touched(lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, FSTAB)
    before = lab.state.get(vm_id)["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]  # type: ignore[index]
    restrict_size(lab.state, "Standard_D2s_v5", "regional-quota")
    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:fstab"), approval="CHG-12",
                     prove=lambda: BootProof(True, "unused"))
    assert outcome.status == "failed"
    assert "create the repair VM (Standard_D2s_v5) failed" in outcome.message
    assert "Total Regional Cores quota" in outcome.message and "nothing was deleted" in outcome.message
    assert not any("Standard_D2as_v5" in s.name for s in outcome.steps)  # every size counts against that quota
    assert lab.state.get(vm_id)["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"] == before  # type: ignore[index]
    assert lab.state.power_state(vm_id) == "running"


def test_the_fstab_fix_finds_a_rhel_root_behind_its_separate_boot_partition(lab: RunningLab) -> None:
    from kit.lab._disks import content_of

    target, vm_id, _ = broken_vm(lab, FSTAB)
    os_disk = lab.state.get(vm_id)["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]  # type: ignore[index]
    content = content_of(lab.state, os_disk)
    assert content is not None
    # RHEL 9 on Azure: /boot/efi, then /boot (XFS), then / (XFS), none labelled; the first Linux file system is /boot
    content.definition["disk_layout"] = "rhel"
    failing = next(line for line in content.files["/etc/fstab"].splitlines() if "/srv/customs/archive" in line)
    content.files["/etc/fstab"] = ("UUID=0b3d6f1e-3f7a-4c52-9a0e-5d8f2c1b7e44 / xfs defaults 0 0\n"
                                   "UUID=7c1e9a20-58d4-4b3f-8e6a-2f9d0c4b1a37 /boot xfs defaults 0 0\n"
                                   "UUID=A1B2-C3D4 /boot/efi vfat umask=077 0 2\n" + failing + "\n")
    content.files["/boot/grub2/grub.cfg"] = "### BEGIN /etc/grub.d/10_linux ###\n"
    content.definition["devices"] = [*content.definition.get("devices", []), "UUID=A1B2-C3D4",
                                      "UUID=0b3d6f1e-3f7a-4c52-9a0e-5d8f2c1b7e44",
                                      "UUID=7c1e9a20-58d4-4b3f-8e6a-2f9d0c4b1a37"]
    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:fstab"), finding="boot_failure:fstab",
                     approval="CHG-13", prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2))
    assert outcome.status == "recovered", outcome.message
    stdout = outcome.fix_output["stdout"]
    assert "root /dev/sdc4, boot partition UUID=7c1e9a20-58d4-4b3f-8e6a-2f9d0c4b1a37" in stdout
    assert "# UUID=b4e2d8f0" in stdout and check(lab, FSTAB).passed
    fixed = content_of(lab.state, outcome.repaired_disk)
    assert fixed is not None and fixed.files["/boot/grub2/grub.cfg"].startswith("### BEGIN")  # /boot came back whole


def test_a_second_repair_while_a_repair_vm_is_kept_is_refused_before_any_write(lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, FSTAB)
    failed = repair(target, vm_id, script="echo 'kit: cannot fix this' >&2\nexit 5\n", approval="CHG-14",
                    prove=lambda: BootProof(True, "unused"))
    assert failed.status == "fix-failed" and lab.state.get(failed.repair_vm) is not None  # kept to look at
    log = WriteLog()
    with pytest.raises(RepairRefused) as refused:
        repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:fstab"), approval="CHG-15",
               prove=lambda: BootProof(True, "unused"), write_log=log)
    other = failed.repair_vm.rsplit("/", 1)[1]
    assert f"customs-proc-01 already has a repair VM, {other}" in str(refused.value)
    assert f"az vm delete -g rg-customs-proc-prod -n {other} --yes" in str(refused.value)
    assert log.writes == []


def test_a_policy_requiring_a_tag_stops_the_repair_at_its_first_write_until_the_tag_is_given(lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, FSTAB)
    require_tag(lab.state, "CostCenter")
    script = kit_fix(target, vm_id, "boot_failure:fstab")
    denied = repair(target, vm_id, script=script, approval="CHG-16", prove=lambda: BootProof(True, "unused"))
    assert denied.status == "failed"
    assert "RequestDisallowedByPolicy" in denied.message and "Require a tag on resources" in denied.message
    assert "--tag KEY=VALUE" in denied.message and "nothing was deleted" in denied.message
    assert lab.state.get(denied.repair_vm) is None and lab.state.get(denied.snapshot) is None
    outcome = repair(target, vm_id, script=script, approval="CHG-17", keep_repair_vm=True,
                     resources=RepairResources(tags={"CostCenter": "4711"}, sizes=("Standard_E2s_v5",)),
                     prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2))
    assert outcome.status == "recovered", outcome.message
    for made in (outcome.snapshot, outcome.repaired_disk, outcome.repair_vm):
        assert lab.state.get(made)["tags"] == {"CostCenter": "4711", "kit-repair": "customs-proc-01"}  # type: ignore[index]
    assert lab.state.get(outcome.repair_vm)["properties"]["hardwareProfile"]["vmSize"] == "Standard_E2s_v5"  # type: ignore[index]


def test_a_policy_allowing_other_sizes_is_met_with_the_size_given(lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, FSTAB)
    allow_sizes(lab.state, "Standard_B2ms")
    script = kit_fix(target, vm_id, "boot_failure:fstab")
    denied = repair(target, vm_id, script=script, approval="CHG-18", prove=lambda: BootProof(True, "unused"))
    assert denied.status == "failed" and "Allowed virtual machine size SKUs" in denied.message
    assert "--repair-vm-size SIZE" in denied.message
    with pytest.raises(UsageError, match="not a VM size"):
        RepairResources(sizes=("B2ms; rm -rf /",))
    with pytest.raises(UsageError, match="kit-repair is the kit's own"):
        RepairResources(tags={"kit-repair": "x"})


def test_a_disk_encrypted_with_a_customer_key_is_copied_with_its_encryption_set_as_a_policy_requires(
        lab: RunningLab) -> None:
    target, vm_id, compute = broken_vm(lab, PANIC)
    group, name = vm_id.split("/")[4], vm_id.rsplit("/", 1)[1]
    des = f"{'/'.join(vm_id.split('/')[:5])}/providers/Microsoft.Compute/diskEncryptionSets/des-prod"
    os_disk = compute.virtual_machines.get(group, name).as_dict()["properties"]["storageProfile"]["osDisk"]
    disk = lab.state.get(str(compute.disks.get(group, os_disk["name"]).id))
    assert disk is not None
    disk["properties"]["encryption"] = {"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": des}
    require_disk_encryption_set(lab.state, des)  # judged on each request: nothing inherited counts
    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:kernel_panic"),
                     finding="boot_failure:kernel_panic", approval="CHG-19", keep_repair_vm=True,
                     prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2))
    assert outcome.status == "recovered", outcome.message
    for made in (outcome.snapshot, outcome.repaired_disk):
        assert lab.state.get(made)["properties"]["encryption"] == {  # type: ignore[index]
            "type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": des}
    repair_vm = lab.state.get(outcome.repair_vm)
    assert repair_vm is not None
    repair_disk = lab.state.get(f"{'/'.join(vm_id.split('/')[:5])}/providers/Microsoft.Compute/disks/"
                                f"{repair_vm['properties']['storageProfile']['osDisk']['name']}")
    assert repair_disk is not None and repair_disk["properties"]["encryption"]["diskEncryptionSetId"] == des


def test_a_vm_encrypted_at_host_gets_a_repair_vm_encrypted_at_host_as_a_guardrail_policy_requires(
        lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, FSTAB)
    vm = lab.state.get(vm_id)
    assert vm is not None
    vm["properties"].setdefault("securityProfile", {})["encryptionAtHost"] = True
    require_encryption_at_host(lab.state)
    outcome = repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:fstab"), approval="CHG-25",
                     keep_repair_vm=True, prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2))
    assert outcome.status == "recovered", outcome.message
    repair_vm = lab.state.get(outcome.repair_vm)
    assert repair_vm is not None and repair_vm["properties"]["securityProfile"]["encryptionAtHost"] is True
    assert repair_vm["properties"]["securityProfile"]["securityType"] == "TrustedLaunch"  # a Gen2 VM's, kept


def test_a_fix_that_does_not_work_is_rolled_back_to_the_original_disk(lab: RunningLab) -> None:
    target, vm_id, compute = broken_vm(lab, PANIC)
    group, name = vm_id.split("/")[4], vm_id.rsplit("/", 1)[1]
    before = compute.virtual_machines.get(group, name).as_dict()["properties"]["storageProfile"]["osDisk"]
    useless = "set -e\nmount /dev/sdc1 /rescue\nls /rescue/etc\numount /rescue\n"
    outcome = repair(target, vm_id, script=useless, approval="CHG-2",
                     prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2))
    assert outcome.status == "rolled-back" and outcome.rolled_back
    assert "failed again (Kernel panic - not syncing)" in outcome.message and "rolled back" in outcome.message
    after = compute.virtual_machines.get(group, name).as_dict()["properties"]["storageProfile"]["osDisk"]
    assert after["managedDisk"]["id"] == before["managedDisk"]["id"] and after["name"] == before["name"]
    assert "Kernel panic - not syncing" in _serial(lab, vm_id)
    assert lab.state.power_state(vm_id) == "running"
    assert lab.state.get(outcome.repair_vm) is not None  # kept: nothing is deleted unless proven
    assert [s.name for s in outcome.steps][-3:] == [f"deallocate {name} (roll back)", "swap the original OS disk back",
                                                    f"start {name} (roll back)"]


def test_a_failing_fix_leaves_the_vm_untouched_and_keeps_the_repair_vm(lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, FSTAB)
    before = lab.state.get(vm_id)["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]  # type: ignore[index]
    outcome = repair(target, vm_id, script="echo 'kit: cannot fix this' >&2\nexit 5\n", approval="CHG-6",
                     prove=lambda: BootProof(True, "unused"))
    assert outcome.status == "fix-failed" and "exit code 5" in outcome.message
    assert outcome.fix_output == {"stdout": "", "stderr": "kit: cannot fix this\n", "exit_code": 5}
    assert lab.state.get(vm_id)["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"] == before  # type: ignore[index]
    assert lab.state.power_state(vm_id) == "running" and lab.state.get(outcome.repair_vm) is not None
    assert not any(step.name.startswith("deallocate") for step in outcome.steps)


def test_an_ade_encrypted_os_disk_is_refused_before_any_change(lab: RunningLab) -> None:
    target, vm_id, compute = broken_vm(lab, FSTAB)
    group, name = vm_id.split("/")[4], vm_id.rsplit("/", 1)[1]
    disk_name = compute.virtual_machines.get(group, name).as_dict()["properties"]["storageProfile"]["osDisk"]["name"]
    disk = compute.disks.get(group, disk_name)
    lab.state.get(str(disk.id))["properties"]["encryptionSettingsCollection"] = {
        "enabled": True, "encryptionSettingsVersion": "1.1", "encryptionSettings": []}
    log = WriteLog()
    with pytest.raises(RepairRefused) as refused:
        repair(target, vm_id, script=kit_fix(target, vm_id, "boot_failure:fstab"), approval="CHG-3",
               prove=lambda: BootProof(True, "unused"), write_log=log)
    assert ADE_REFUSAL in str(refused.value) and "--unlock-encrypted-vm" in str(refused.value)
    assert log.writes == []


def test_an_ephemeral_os_disk_and_a_confidential_vm_are_refused_before_any_change(lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, PANIC)
    vm = lab.state.get(vm_id)
    assert vm is not None
    log = WriteLog()
    vm["properties"]["storageProfile"]["osDisk"]["diffDiskSettings"] = {"option": "Local", "placement": "ResourceDisk"}
    with pytest.raises(RepairRefused, match=r"ephemeral OS disk.*az vm reimage"):
        repair(target, vm_id, script="true", approval="CHG-3", prove=lambda: BootProof(True, "unused"), write_log=log)
    del vm["properties"]["storageProfile"]["osDisk"]["diffDiskSettings"]
    vm["properties"]["securityProfile"] = {"securityType": "ConfidentialVM",
                                           "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
    with pytest.raises(RepairRefused, match=r"confidential VM.*serial console or Run Command"):
        repair(target, vm_id, script="true", approval="CHG-3", prove=lambda: BootProof(True, "unused"), write_log=log)
    assert log.writes == []


def test_a_scale_set_instance_is_refused_with_the_reimage_it_takes_instead(lab: RunningLab) -> None:
    target = AzureTarget.for_lab(lab)
    instance = "/subscriptions/6e0b2c71-94d3-4f5a-b8e6-2a7d1c9f0e34/resourceGroups/rg-checkout-prod/providers/" \
               "Microsoft.Compute/virtualMachineScaleSets/vmss-checkout/virtualMachines/2"
    with pytest.raises(RepairRefused, match=r"vmss-checkout instance 2 is a scale-set instance.*kit run-command.*"
                                            r"az vmss reimage -g rg-checkout-prod -n vmss-checkout --instance-ids 2"):
        repair(target, instance, script="true", approval="CHG-3", prove=lambda: BootProof(True, "unused"))


def test_an_unmanaged_os_disk_is_refused(lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, PANIC)
    vm = lab.state.get(vm_id)
    assert vm is not None
    vm["properties"]["storageProfile"]["osDisk"] = {"osType": "Linux", "name": "osdisk", "createOption": "FromImage",
                                                    "vhd": {"uri": "https://st.blob.core.windows.net/vhds/os.vhd"}}
    with pytest.raises(RepairRefused, match="unmanaged OS disk"):
        repair(target, vm_id, script="true", approval="CHG-3", prove=lambda: BootProof(True, "unused"))


def test_the_sequential_baseline_makes_the_same_writes_as_the_concurrent_flow(lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, FSTAB)
    script = kit_fix(target, vm_id, "boot_failure:fstab")
    logs = []
    for concurrent in (False, True):
        log = WriteLog()
        outcome = repair(target, vm_id, script=script, finding="boot_failure:fstab", approval="CHG-4",
                         prove=lambda: boot_proof(target, vm_id, timeout=10, interval=0.2), concurrent=concurrent,
                         write_log=log)
        assert outcome.status == "recovered", outcome.message
        assert check(lab, FSTAB).passed
        logs.append(sorted(w.operation for w in log.writes))
    assert logs[0] == logs[1] and len(logs[0]) == 15


def test_the_fstab_fix_comments_the_entry_the_boot_failed_on_with_a_backup(lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, FSTAB)
    facts = facts_from_boot_log(read_boot_state(target, vm_id).serial_log)
    assert facts["mount_point"] == "/srv/customs/archive"
    script = fix_script("boot_failure:fstab", facts, stamp="20261203T000000Z")
    assert "cp /rescue/etc/fstab /rescue/etc/fstab.kit-20261203T000000Z" in script
    assert "lsblk" in script and "/dev/sdc" not in script  # the copy is found, not assumed
    generic = fix_script("boot_failure:fstab", {})
    assert ",nofail|" in generic


def test_fix_scripts_refuse_what_they_cannot_fix_offline() -> None:
    with pytest.raises(UsageError, match="kit run-command --fix"):
        fix_script("guest_firewall", {})
    with pytest.raises(UsageError, match="not a plain path"):
        fix_script("boot_failure:fstab", {"mount_point": "/x'; rm -rf / #"})
    previous = fix_script("boot_failure:kernel_panic", {"boot_previous_kernel": True,
                                                        "previous_kernel": "6.8.0-1017-azure"})
    assert "grub-set-default 'Advanced options for Ubuntu>Ubuntu, with Linux 6.8.0-1017-azure'" in previous
    assert "update-initramfs" not in previous and "console=ttyS0" in previous


def test_a_repair_without_approval_or_script_is_refused_as_bad_usage(lab: RunningLab) -> None:
    target, vm_id, _ = broken_vm(lab, FSTAB)
    with pytest.raises(UsageError, match="approval"):
        repair(target, vm_id, script="true", approval=" ", prove=lambda: BootProof(True, ""))
    with pytest.raises(UsageError, match="empty"):
        repair(target, vm_id, script="\n", approval="CHG-5", prove=lambda: BootProof(True, ""))


@pytest.mark.parametrize(("hypothesis", "short"), [("boot_failure:kernel_panic", "kernel"),
                                                   ("boot_failure:fstab", "fstab")])
def test_the_repair_vm_next_step_offers_kit_repair_first_and_az_vm_repair_second(hypothesis: str,
                                                                                 short: str) -> None:
    from kit.analyze._verdict_facts import Facts
    from kit.analyze._verdict_steps import next_step_for

    vm_id = "/subscriptions/1f3a2b4c-0000-4000-8000-0000000000aa/resourceGroups/rg/providers/Microsoft.Compute/" \
            "virtualMachines/vm"
    facts = Facts(vm_name="vm", vm_id=vm_id, role="subject", resource_group="rg", os="linux", power="running",
                  power_row=None, operations=[], responder_ip=None, responder_given=False, console_status=None)
    step = next_step_for(hypothesis, "repair_vm", facts)
    assert step.commands[0] == f"kit repair --vm {vm_id} --approval <change-ref> --incident <INC-ID> --finding {short}"
    assert any(c.startswith("az vm repair create") for c in step.commands[1:])
    assert "`kit repair`" in step.text
    windows = next_step_for(hypothesis, "repair_vm", Facts(**{**facts.__dict__, "os": "windows"}))
    assert not any(c.startswith("kit repair") for c in windows.commands)
