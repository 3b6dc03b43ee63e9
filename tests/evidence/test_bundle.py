"""Writing a bundle once and loading it back, with every way a bundle can be broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.errors import BundleExistsError, BundleFormatError
from kit.evidence import BundleWriter, load_bundle

SAS = "https://acct.blob.core.windows.net/bootdiag/vm.serialconsole.log?sv=2022-11-02&se=2026-11-25&sp=r&sig=SECRETSIG"


def _write(target: Path, **extra: object) -> Path:
    with BundleWriter(target) as writer:
        writer.add_json("vm.json", {"id": "/subscriptions/x/vm", "name": "web-01", "properties": {}},
                        call="virtual_machines.get", api_version="2024-07-01")
        writer.add_json("boot_diagnostics.json", {"serialConsoleLogBlobUri": SAS},
                        call="virtual_machines.retrieve_boot_diagnostics_data", api_version="2024-07-01")
        writer.add_bytes("serial.log", b"[    0.000000] Linux version 6.8\r\nlogin: ", call="blob")
        writer.add_json("nics/web-01-nic.json", {"name": "web-01-nic"}, call="network_interfaces.get")
        writer.add_json("activity_log.json", {"value": [{"correlationId": "c1"}]}, call="activity_logs.list")
        writer.add_failure({"call": "network_interfaces.begin_get_effective_route_table", "resource_id": "nic",
                            "status": 400, "code": "NicNotAttached", "message": "deallocated"})
        return writer.commit({"format": "kit-bundle/1", "vm_name": "web-01", "peers": [], **extra})


def test_round_trip_gives_typed_access_and_verified_hashes(tmp_path: Path) -> None:
    bundle = load_bundle(_write(tmp_path / "web-01"))
    assert bundle.vm["name"] == "web-01"
    assert bundle.serial_log.startswith(b"[    0.000000]")
    assert bundle.nics == {"web-01-nic": {"name": "web-01-nic"}}
    assert bundle.activity_log == [{"correlationId": "c1"}]
    assert bundle.screenshot is None and bundle.effective_routes == {}
    assert bundle.failures[0]["code"] == "NicNotAttached"
    files = {record["path"]: record for record in bundle.manifest["files"]}
    assert files["vm.json"]["call"] == "virtual_machines.get"
    assert files["vm.json"]["api_version"] == "2024-07-01"
    assert len(files["serial.log"]["sha256"]) == 64 and files["serial.log"]["collected_at"].endswith("Z")


def test_sas_signature_never_reaches_disk(tmp_path: Path) -> None:
    path = _write(tmp_path / "web-01")
    stored = load_bundle(path).boot_diagnostics["serialConsoleLogBlobUri"]
    assert stored == "https://acct.blob.core.windows.net/bootdiag/vm.serialconsole.log"
    assert not any("SECRETSIG" in file.read_text(errors="replace") for file in path.rglob("*") if file.is_file())


def test_a_lone_surrogate_from_an_api_is_stored_and_read_back_unchanged(tmp_path: Path) -> None:
    with BundleWriter(tmp_path / "web-01") as writer:
        writer.add_json("vm.json", {"name": "web-01", "tags": {"owner": "a\ud800b"}}, call="virtual_machines.get")
        path = writer.commit({"format": "kit-bundle/1", "vm_name": "web-01\udcff", "peers": []})
    bundle = load_bundle(path)
    assert bundle.vm["tags"]["owner"] == "a\ud800b"
    assert bundle.manifest["vm_name"] == "web-01\udcff"
    (path / "vm.json").read_bytes().decode("utf-8")  # valid UTF-8 on disk


def test_existing_bundle_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = _write(tmp_path / "web-01")
    before = {file: file.read_bytes() for file in path.rglob("*") if file.is_file()}
    with pytest.raises(BundleExistsError, match="already exists"):
        _write(path)
    assert {file: file.read_bytes() for file in path.rglob("*") if file.is_file()} == before
    assert [entry.name for entry in tmp_path.iterdir()] == ["web-01"]


def test_an_error_while_writing_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), BundleWriter(tmp_path / "web-01") as writer:
        writer.add_json("vm.json", {}, call="virtual_machines.get")
        raise RuntimeError("collector crashed")
    assert list(tmp_path.iterdir()) == []


def test_altered_file_is_a_hash_mismatch(tmp_path: Path) -> None:
    path = _write(tmp_path / "web-01")
    (path / "serial.log").write_bytes(b"tampered")
    with pytest.raises(BundleFormatError, match="serial.log does not match its sha256"):
        load_bundle(path)


def test_added_file_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path / "web-01")
    (path / "nsgs").mkdir()
    (path / "nsgs" / "extra.json").write_text("{}")
    with pytest.raises(BundleFormatError, match="nsgs/extra.json is not listed"):
        load_bundle(path)


def test_missing_manifest(tmp_path: Path) -> None:
    (tmp_path / "web-01").mkdir()
    with pytest.raises(BundleFormatError, match="has no manifest.json"):
        load_bundle(tmp_path / "web-01")


def test_malformed_manifest_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "web-01")
    (path / "manifest.json").write_text('{\n  "format": "kit-bundle/1",\n  "files": [,]\n}')
    with pytest.raises(BundleFormatError, match=r"manifest.json: malformed JSON at line 3 column"):
        load_bundle(path)


def test_malformed_json_file_with_matching_hash_names_file_and_line(tmp_path: Path) -> None:
    target = tmp_path / "web-01"
    with BundleWriter(target) as writer:
        writer.add_bytes("vm.json", b'{\n "name": "web-01",\n oops\n}', call="virtual_machines.get")
        writer.commit({"format": "kit-bundle/1"})
    with pytest.raises(BundleFormatError, match=r"web-01/vm.json: malformed JSON at line 3"):
        load_bundle(target)


def test_peers_are_loaded_from_sibling_folders(tmp_path: Path) -> None:
    _write(tmp_path / "web-02")
    subject = load_bundle(_write(tmp_path / "web-01", peers=["web-02"]))
    assert [peer.path.name for peer in subject.peers()] == ["web-02"]


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "web-01")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["format"] = "something-else/9"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleFormatError, match="expected 'kit-bundle/1'"):
        load_bundle(path)
