"""Resource ids: one parser, ARM's case rules, errors that name the bad part."""

from __future__ import annotations

import pytest

from kit import ids
from kit.errors import InvalidResourceId, KitError
from kit.ids import parse_resource_id

SUB = "5ab1e000-0000-4000-8000-000000000001"


def test_vm_id_round_trips_and_names_its_parts() -> None:
    text = f"/subscriptions/{SUB}/resourceGroups/rg-lab/providers/Microsoft.Compute/virtualMachines/web-01"
    parsed = parse_resource_id(text, expect=ids.VM)
    assert (parsed.subscription_id, parsed.resource_group, parsed.name) == (SUB, "rg-lab", "web-01")
    assert str(parsed) == text
    assert parsed == ids.vm_id(SUB, "rg-lab", "web-01")


def test_types_and_fixed_segments_match_case_insensitively_but_names_keep_case() -> None:
    parsed = parse_resource_id(
        f"/SUBSCRIPTIONS/{SUB}/resourcegroups/RG-Lab/PROVIDERS/microsoft.network/VIRTUALNETWORKS/Vnet1/Subnets/Default"
    )
    assert parsed.is_kind(ids.SUBNET)
    assert parsed.resource_group == "RG-Lab" and parsed.name == "Default"
    assert parsed.parent is not None and parsed.parent.is_kind(ids.VNET) and parsed.parent.name == "Vnet1"
    assert parsed.same_as(ids.subnet_id(SUB, "rg-lab", "vnet1", "default"))


def test_vmss_instance_has_scale_set_as_parent() -> None:
    parsed = ids.vmss_vm_id(SUB, "rg", "scale", "2")
    assert parsed.is_kind(ids.VMSS_VM)
    assert parsed.names == ("scale", "2")
    assert parsed.parent is not None and parsed.parent.is_kind(ids.VMSS)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "must start with '/subscriptions/'"),
        ("web-01", "must start with '/subscriptions/'"),
        ("/subscription/x", "should be 'subscriptions', found 'subscription'"),
        ("/subscriptions/not-a-guid/resourceGroups/g", "must be a GUID, found 'not-a-guid'"),
        (f"/subscriptions/{SUB}/resourceGroup/g", "should be 'resourceGroups', found 'resourceGroup'"),
        (f"/subscriptions/{SUB}/resourceGroups", "(the resource group name) is missing"),
        (f"/subscriptions/{SUB}/resourceGroups/g/providers/Microsoft.Compute/virtualMachines",
         "(the name of the 'virtualMachines' resource) is missing"),
        (f"/subscriptions/{SUB}/resourceGroups/g/providers/Compute/virtualMachines/v",
         "should look like 'Microsoft.Compute'"),
        (f"/subscriptions/{SUB}/resourceGroups/g//providers", "empty segment"),
        (f"/subscriptions/{SUB}/resourceGroups/bad name/providers/Microsoft.Compute/virtualMachines/v",
         "is not a valid name"),
    ],
)
def test_malformed_ids_raise_an_error_naming_the_bad_part(text: str, says: str) -> None:
    with pytest.raises(InvalidResourceId) as raised:
        parse_resource_id(text)
    assert says in str(raised.value)
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, KitError)


def test_expect_rejects_another_type() -> None:
    nic = ids.nic_id(SUB, "rg", "nic-1")
    with pytest.raises(InvalidResourceId, match="is a Microsoft.Network/networkInterfaces,"
                                                " expected a Microsoft.Compute/virtualMachines"):
        parse_resource_id(str(nic), expect=ids.VM)


def test_builders_refuse_names_that_would_change_the_path() -> None:
    with pytest.raises(InvalidResourceId, match="cannot be empty or contain '/'"):
        ids.nsg_id(SUB, "rg", "a/b")


VM_ID = ("/subscriptions/1f3a2b4c-0000-4000-8000-000000000001/resourceGroups/rg-web"
         "/providers/Microsoft.Compute/virtualMachines/vm-web-01")


def test_lenient_readers_for_evidence_that_is_not_always_clean() -> None:
    assert ids.try_parse(VM_ID) == parse_resource_id(VM_ID)
    assert ids.try_parse("not/an/id") is None and ids.try_parse("") is None and ids.try_parse(None) is None
    assert ids.name_of(VM_ID) == "vm-web-01"
    assert ids.name_of("garbage") == "garbage"
    assert ids.name_of("garbage", "?") == "?" and ids.name_of(None, "?") == "?" and ids.name_of(None) == ""
    assert ids.resource_group_of(VM_ID) == "rg-web"
    assert ids.resource_group_of("/subscriptions/1f3a2b4c-0000-4000-8000-000000000001") is None
    assert ids.resource_group_of("garbage") is None


def test_canonical_ids_compare_as_arm_does() -> None:
    shouting = VM_ID.replace("resourceGroups", "RESOURCEGROUPS").replace("vm-web-01", "VM-WEB-01") + "/"
    assert ids.canonical_id(shouting) == ids.canonical_id(VM_ID) == VM_ID.lower()
    assert ids.canonical_id(" Not An Id/ ") == "not an id"
    assert ids.canonical_id(None) == ""
