"""Finding 7: every SAS form is removed everywhere a URL can reach the archive — JSON, serial log, HTML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.evidence import import_folder, load_bundle
from kit.evidence.manifest import new_manifest
from kit.evidence.sas import strip_sas, strip_sas_bytes, strip_sas_everywhere, strip_sas_text
from kit.evidence.writer import BundleWriter

CANARY = "CanarySig0042xYz"
BLOB = "https://acct.blob.core.windows.net/bootdiagnostics-vm/vm.serialconsole.log"

#: every spelling a SAS signature reaches a log, a JSON file or a page in
FORMS = {
    "query": f"{BLOB}?sv=2021-08-06&se=2026-11-25T10%3A00Z&sr=b&sp=r&sig={CANARY}",
    "upper-case key": f"{BLOB}?sp=r&SIG={CANARY}",
    "signature key": f"{BLOB}?sv=1&signature={CANARY}",
    "html entity": f'<a href="{BLOB}?sv=1&amp;sig={CANARY}">log</a>',
    "url-encoded": f"{BLOB}%3Fsv%3D1%26sig%3D{CANARY}",
    "fragment": f"{BLOB}#sv=1&sig={CANARY}",
    "json escape": f'"{BLOB}?sv=1\\u0026sig={CANARY}"',
    "connection string": f"BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2021&sig={CANARY}",
    "connection string, spaced": f"SharedAccessSignature = sv%3D2021%26sig%3D{CANARY}; EndpointSuffix=core",
    "bare token": f"retrying with sig={CANARY}&se=2026",
    "websocket": f"wss://gateway.serialconsole.azure.com/client?sig={CANARY}",
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_form_is_removed_from_text(form: str) -> None:
    cleaned, removed = strip_sas_text(FORMS[form])
    assert CANARY not in cleaned and removed >= 1, cleaned


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_form_is_removed_from_json_values(form: str) -> None:
    value = {"a": [FORMS[form], {"b": FORMS[form]}]}
    assert CANARY not in json.dumps(strip_sas_everywhere(value))


def test_what_is_not_a_signature_is_kept() -> None:
    text = "signal=ok design=sigma https://acct.blob.core.windows.net/c/b?sv=2021&sp=r"
    assert strip_sas_text(text) == (text, 0)
    assert strip_sas(f"{BLOB}?sv=1&sig=x") == BLOB


def test_serial_log_bytes_are_kept_but_the_signature() -> None:
    raw = b"\x00\xff[ 1.0] boot \x1b[0;32mOK\x1b[0m\r\r\n" + FORMS["query"].encode() + b"\r\n\xfe end"
    cleaned, removed = strip_sas_bytes(raw)
    assert removed == 1 and CANARY.encode() not in cleaned
    assert cleaned.startswith(b"\x00\xff[ 1.0] boot \x1b[0;32mOK\x1b[0m\r\r\n") and cleaned.endswith(b"\r\n\xfe end")
    assert strip_sas_bytes(b"no signature here") == (b"no signature here", 0)


def _bundle(tmp_path: Path, serial: bytes) -> Path:
    sub = "1f3a2b4c-0000-4000-8000-000000000001"
    manifest = new_manifest(source="import", subscription_id=sub, resource_group="rg", vm_name="vm1",
                            vm_id=f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/"
                                  "virtualMachines/vm1",
                            window={"start": "2026-11-25T00:00:00Z", "end": "2026-11-25T12:00:00Z"})
    with BundleWriter(tmp_path / "vm1") as writer:
        writer.add_bytes("serial.log", serial, call="boot_diagnostics.serial_log")
        writer.add_json("boot_diagnostics.json", {"serialConsoleLogBlobUri": FORMS["json escape"].strip('"'),
                                                  "consoleScreenshotBlobUri": FORMS["fragment"]},
                        call="virtual_machines.retrieve_boot_diagnostics_data")
        return writer.commit(manifest)


def test_a_bundle_stores_the_serial_log_redacted_and_says_so(tmp_path: Path) -> None:
    serial = ("\n".join(f"[ {i}.0] cloud-init: fetching {FORMS[form]}" for i, form in enumerate(sorted(FORMS)))
              + "\n").encode()
    path = _bundle(tmp_path, serial)
    on_disk = b"".join(p.read_bytes() for p in path.rglob("*") if p.is_file())
    assert CANARY.encode() not in on_disk
    bundle = load_bundle(path)  # hashes still verify: the redacted bytes are what was hashed
    entry = next(f for f in bundle.manifest["files"] if f["path"] == "serial.log")
    assert entry["redacted"] == {"sas_signatures": len(FORMS)}
    assert "cloud-init: fetching https://acct.blob.core.windows.net" in (bundle.serial_log or b"").decode()


def test_imported_az_output_with_signatures_leaves_none(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    sub = "1f3a2b4c-0000-4000-8000-000000000001"
    vm_id = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
    (folder / "vm.json").write_text(json.dumps({"id": vm_id, "name": "vm1", "location": "westeurope",
                                                "type": "Microsoft.Compute/virtualMachines",
                                                "properties": {"storageProfile": {"osDisk": {"osType": "Linux"}}}}))
    (folder / "boot-log.txt").write_text("[    0.000000] Linux version 6.1\n" + FORMS["query"] + "\n"
                                         + FORMS["connection string"] + "\n")
    result = import_folder(folder, tmp_path / "bundle")
    assert not [p for p in (tmp_path / "bundle").rglob("*") if p.is_file() and CANARY.encode() in p.read_bytes()]
    assert result.bundle is not None


@pytest.mark.slow
def test_the_triage_report_of_such_a_bundle_shows_no_signature(tmp_path: Path) -> None:
    from kit.report import run_report

    serial = ("[    0.000000] Linux version 6.1.0-27-cloud-amd64\n"
              f"[    5.1] cloud-init[523]: downloading {FORMS['query']}\n"
              f"[    5.2] cloud-init[523]: {FORMS['connection string']}\n").encode()
    bundle = _bundle(tmp_path / "evidence", serial)
    run = run_report("triage", incident="INC-SAS", archive_root=tmp_path / "archive",
                     parameters={"source": f"bundle:{bundle}"})
    archived = [p for p in (tmp_path / "archive").rglob("*") if p.is_file()]
    assert run.html is not None and archived
    assert not [p for p in archived if CANARY.encode() in p.read_bytes()]
