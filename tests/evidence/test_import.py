"""``kit import``: saved ``az … -o json`` outputs become a bundle equal to a collected one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kit import ids
from kit.errors import BundleExistsError, BundleFormatError
from kit.evidence import import_folder, load_bundle
from kit.evidence.importers import IMPORTERS, Importers
from kit.evidence.importers.arm import VmImporter
from kit.lab import list_scenarios

#: the VM scenarios: the importer reads `az vm …` outputs (a scale-set instance is collected, not imported)
SCENARIOS = [info.name for info in list_scenarios() if not info.scale_set]
ENVELOPE = {"id", "name", "type", "location", "tags", "etag", "zones", "identity", "plan", "sku",
            "extendedLocation", "managedBy", "systemData", "kind", "resources"}
CHILDREN = {"ipConfigurations", "securityRules", "defaultSecurityRules", "subnets", "routes", "virtualNetworkPeerings"}
COMPARED = ("vm", "instance_view", "nics", "nsgs", "subnets", "vnets", "route_tables", "public_ips",
            "effective_nsgs", "effective_routes", "activity_log", "role_assignments", "serial_log",
            "serial_console_status")


# -- a converter that prints ARM REST bodies the way az does ------------------------------------
def _az_key(key: str) -> str:
    return key if key in ("nextHopIpAddress", "clientIpAddress") else re.sub(r"(?<=[a-z])IP(?=[A-Z]|$)", "Ip", key)


def _az_plain(value: Any, group: str) -> Any:
    if isinstance(value, dict):
        out = {_az_key(k): (v if k == "tags" else _az_plain(v, group)) for k, v in value.items()}
        if set(value) == {"id"}:
            out["resourceGroup"] = group  # az adds the group to every reference
        return out
    if isinstance(value, list):
        return [_az_plain(item, group) for item in value]
    return value


def az_flatten(body: dict[str, Any], group: str) -> dict[str, Any]:
    """``az … show`` output for a REST body: properties lifted, ``Ip`` spelling, resourceGroup added."""
    out = {key: value for key, value in body.items() if key in ENVELOPE}
    for key, value in (body.get("properties") or {}).items():
        if key in CHILDREN and isinstance(value, list):
            out[_az_key(key)] = [az_flatten(item, group) if isinstance(item, dict) and "properties" in item
                                 else _az_plain(item, group) for item in value]
        else:
            out[_az_key(key)] = _az_plain(value, group)
    out["resourceGroup"] = group
    return out


def _az_event(event: dict[str, Any]) -> dict[str, Any]:
    return {key: (value.replace("Z", "+00:00") if key in ("eventTimestamp", "submissionTimestamp")
                  and isinstance(value, str) and value.endswith("Z") else value) for key, value in event.items()}


def write_az_folder(bundle: Any, folder: Path) -> None:
    """What an engineer would have saved with az for this VM (file names deliberately meaningless)."""
    group = bundle.manifest["resource_group"]
    folder.mkdir()
    outputs: list[Any] = [az_flatten(bundle.vm, group),
                          {**az_flatten(bundle.vm, group), "instanceView": bundle.instance_view}]
    for attribute in ("nics", "nsgs", "subnets", "vnets", "route_tables", "public_ips"):
        outputs += [az_flatten(body, group) for body in getattr(bundle, attribute).values()]
    outputs += [{"nextLink": None, "value": body["value"]} for body in bundle.effective_nsgs.values()]
    outputs += [{"nextLink": None, "value": body["value"]} for body in bundle.effective_routes.values()]
    outputs.append([_az_event(event) for event in bundle.activity_log])
    outputs.append([az_flatten(item, group) for item in bundle.role_assignments])
    outputs.append(bundle.serial_console_status)
    outputs.append(bundle.boot_diagnostics)
    for index, output in enumerate(outputs):
        (folder / f"saved-{index:02d}.json").write_text(json.dumps(output, indent=2))
    (folder / "bootlog").write_bytes(bundle.serial_log)
    (folder / "notes.txt").write_text("ssh timed out from the jump host at 09:12\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "account.json").write_text(json.dumps({"foo": 1}))


@pytest.mark.skipif(not SCENARIOS, reason="no lab scenarios under kit/lab/scenarios yet")
@pytest.mark.parametrize("name", SCENARIOS)
def test_import_of_az_outputs_equals_the_collected_bundle(lab: Any, tmp_path: Path, name: str) -> None:
    from kit.azure.collect import CollectionRequest, collect
    from kit.azure.target import AzureTarget

    info = lab.scenario(name)
    request = CollectionRequest(info.subscription_id, info.resource_group, info.broken_vm, (),
                                info.window_start, info.window_end, source=f"lab:{name}")
    collected = load_bundle(collect(AzureTarget.for_lab(lab), request, tmp_path / "collected").subject)
    write_az_folder(collected, tmp_path / "az")
    result = import_folder(tmp_path / "az", tmp_path / "imported")
    imported = load_bundle(result.bundle)
    for attribute in COMPARED:
        assert getattr(imported, attribute) == getattr(collected, attribute), attribute
    assert imported.boot_diagnostics == collected.boot_diagnostics
    assert {"notes.txt", "sub/account.json"} <= set(result.unrecognised)
    assert result.recognised["bootlog"] == "boot-log"
    assert imported.manifest["source"] == "import"
    assert imported.manifest["vm_id"].lower() == info.vm_id(info.broken_vm).lower()
    unrecognised = [f["message"] for f in imported.failures if f["code"] == "UnrecognisedFile"]
    assert any(message.startswith("notes.txt") for message in unrecognised)


def _vm(name: str = "web-01") -> dict[str, Any]:
    vm_id = ids.vm_id("11111111-2222-3333-4444-555555555555", "rg", name)
    return {"id": str(vm_id), "name": name, "type": "Microsoft.Compute/virtualMachines", "location": "westeurope",
            "properties": {"networkProfile": {"networkInterfaces": []}}}


def test_az_nic_is_stored_in_rest_shape(tmp_path: Path) -> None:
    folder = tmp_path / "az"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(_vm()))
    (folder / "b.json").write_text(json.dumps({
        "id": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/"
              "Microsoft.Network/networkInterfaces/web-01-nic",
        "name": "web-01-nic", "type": "Microsoft.Network/networkInterfaces", "resourceGroup": "rg",
        "enableIpForwarding": False,
        "ipConfigurations": [{"name": "ipconfig1", "privateIpAddress": "10.0.0.4", "resourceGroup": "rg",
                              "subnet": {"id": "/subscriptions/x/subnet", "resourceGroup": "rg"}}]}))
    bundle = load_bundle(import_folder(folder, tmp_path / "bundle").bundle)
    nic = bundle.nics["web-01-nic"]
    assert nic["properties"]["enableIPForwarding"] is False
    assert nic["properties"]["ipConfigurations"][0] == {
        "name": "ipconfig1",
        "properties": {"privateIPAddress": "10.0.0.4", "subnet": {"id": "/subscriptions/x/subnet"}}}
    assert "\"resourceGroup\"" not in json.dumps(nic)


def test_malformed_json_is_named_with_line_and_nothing_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "az"
    folder.mkdir()
    (folder / "vm.json").write_text(json.dumps(_vm()))
    (folder / "broken.json").write_text('{\n  "name": "nic",\n  "type": \n}\n')
    with pytest.raises(BundleFormatError, match=r"broken.json: malformed JSON at line 4 column 1"):
        import_folder(folder, tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()
    assert [entry.name for entry in tmp_path.iterdir()] == ["az"]


def test_folder_without_a_vm_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "az"
    folder.mkdir()
    (folder / "x.json").write_text("[]")
    with pytest.raises(BundleFormatError, match="holds no 'az vm show'"):
        import_folder(folder, tmp_path / "bundle")


def test_existing_output_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "az"
    folder.mkdir()
    (folder / "vm.json").write_text(json.dumps(_vm()))
    import_folder(folder, tmp_path / "bundle")
    with pytest.raises(BundleExistsError):
        import_folder(folder, tmp_path / "bundle")


def test_registry_refuses_duplicate_names() -> None:
    registry = Importers()
    registry.register(VmImporter())
    with pytest.raises(KeyError, match="already registered"):
        registry.register(VmImporter())
    assert {importer.name for importer in IMPORTERS} >= {"vm", "nic", "nsg", "effective-nsg", "effective-routes",
                                                         "activity-log", "role-assignments", "boot-log"}
