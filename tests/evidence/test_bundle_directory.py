"""A bundle without Microsoft Graph names (an import, an older collection) still loads and says nothing."""

from __future__ import annotations

import json
from pathlib import Path

from kit.evidence import import_folder, load_bundle


def test_bundle_without_graph_file_has_no_names_and_no_note(tmp_path: Path) -> None:
    source = tmp_path / "az"
    source.mkdir()
    (source / "vm.json").write_text(json.dumps({
        "id": "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg/providers/"
              "Microsoft.Compute/virtualMachines/web-01", "name": "web-01", "type": "Microsoft.Compute/virtualMachines",
        "location": "westeurope", "properties": {"hardwareProfile": {"vmSize": "Standard_B2s"}}}))
    bundle = load_bundle(import_folder(source, tmp_path / "bundle").bundle)
    assert bundle.directory_names == {} and bundle.directory_lookup_note is None
