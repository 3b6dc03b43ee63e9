"""The Azure Storage witness against a real Azurite (Microsoft's storage emulator), with the real SDK.

Azurite is pinned in ``tests/azurite/package.json`` (``npm ci --prefix tests/azurite``); the
tests start ``azurite-blob`` on free ports with a temporary workspace, once over plain HTTP with
the well-known development account, once over HTTPS with Entra ID (``--oauth basic``: tokens are
checked for audience, issuer and lifetime, not signature), and stop it after. Without
``tests/azurite/node_modules`` they are skipped with that reason.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from kit.archive import record, verify_archive
from kit.archive.witness import FileWitness, Head, parse_head_lines, witness_append, witness_check
from kit.azure.target import AzureTarget, RetrySettings
from kit.azure.witness import CONNECTION_STRING_ENV, BlobWitness, open_witness
from kit.errors import WitnessError
from kit.lab.certs import make_certificates

AZURITE = Path(__file__).resolve().parents[1] / "azurite" / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "devstoreaccount1"
#: Azurite's published development account key (not a secret: every Azurite has it).
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
FAST = RetrySettings(total=0, connection_timeout=3, read_timeout=10)
#: One worker runs them all (``make test`` uses ``--dist loadgroup``), so each Azurite starts once.
pytestmark = pytest.mark.xdist_group("azurite")


@dataclass(frozen=True)
class Azurite:
    """A running azurite-blob: its account endpoint, connection string and (for HTTPS) CA."""

    endpoint: str
    connection_string: str
    ca: Path | None = None

    def container_url(self) -> str:
        """A fresh container's URL, so tests never share heads."""
        return f"{self.endpoint}/w{uuid.uuid4().hex[:12]}"

    def environ(self) -> dict[str, str]:
        return {CONNECTION_STRING_ENV: self.connection_string}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(workspace: Path, *extra: str, scheme: str = "http", ca: Path | None = None) -> Iterator[Azurite]:
    if not AZURITE.exists():
        pytest.skip("Azurite is not installed: run `npm ci --prefix tests/azurite`")
    port = _free_port()
    log = (workspace / "azurite.log").open("wb")
    process = subprocess.Popen(
        [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(workspace),
         "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent", *extra],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"azurite-blob exited: {(workspace / 'azurite.log').read_text()[-2000:]}"
            assert time.monotonic() < deadline, "azurite-blob did not listen within 60 s"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        endpoint = f"{scheme}://127.0.0.1:{port}/{ACCOUNT}"
        yield Azurite(endpoint, f"DefaultEndpointsProtocol={scheme};AccountName={ACCOUNT};AccountKey={DEV_KEY};"
                                f"BlobEndpoint={endpoint};", ca)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        log.close()


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """azurite-blob over HTTP with the development account (connection-string authentication)."""
    yield from _start(tmp_path_factory.mktemp("azurite"))


@pytest.fixture(scope="module")
def azurite_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """azurite-blob over HTTPS (a throw-away CA) accepting Entra ID bearer tokens."""
    folder = tmp_path_factory.mktemp("azurite-tls")
    certs = make_certificates(folder)
    yield from _start(folder, "--cert", str(certs.cert_path), "--key", str(certs.key_path), "--oauth", "basic",
                      scheme="https", ca=certs.ca_path)


def _jwt(audience: str) -> str:
    """An unsigned Entra-shaped access token (Azurite's basic OAuth checks claims, not the signature)."""
    now = int(time.time())
    claims = {"aud": audience, "iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000001/",
              "nbf": now - 60, "iat": now - 60, "exp": now + 3600, "upn": "oncall@example.com",
              "tid": "00000000-0000-0000-0000-000000000001"}

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def _witness(azurite: Azurite, url: str | None = None) -> BlobWitness:
    return BlobWitness.from_url(url or azurite.container_url(), target=AzureTarget(retry=FAST),
                                environ=azurite.environ())


def _chain(root: Path) -> list[tuple[Path, bytes]]:
    return [(path, path.read_bytes()) for path in sorted((root / "manifests").glob("*.json"))]


# --- the witness itself ------------------------------------------------------------------------------------------

def test_heads_go_to_one_append_blob_per_incident_created_when_missing(azurite: Azurite) -> None:
    witness = _witness(azurite)
    assert witness.name.startswith(azurite.endpoint + "/w")
    witness.append(Head("INC-1", 1, "a" * 64))
    witness.append(Head("INC-2", 1, "b" * 64))
    witness.append(Head("INC-1", 2, "c" * 64))
    assert [(h.sequence, h.sha256[0]) for h in witness.heads("INC-1")] == [(1, "a"), (2, "c")]
    assert [h.sha256[0] for h in witness.heads("INC-2")] == ["b"]
    assert witness.heads("INC-3") == []
    # what is in the storage account, read with the SDK directly
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.get_container_client(witness.name.rsplit("/", 1)[1])
    blobs = {blob.name: blob.blob_type for blob in container.list_blobs()}
    assert blobs == {"INC-1.jsonl": "AppendBlob", "INC-2.jsonl": "AppendBlob"}
    lines = container.get_blob_client("INC-1.jsonl").download_blob().readall()
    assert [h.sequence for h in parse_head_lines(lines, "INC-1.jsonl")] == [1, 2]
    assert all(json.loads(line)["format"] == "kit-witness/1" for line in lines.splitlines())
    witness.close()


def test_a_recorded_archive_rolled_back_and_forked_is_named_by_the_blob_witness(azurite: Azurite,
                                                                               tmp_path: Path) -> None:
    witness = _witness(azurite)
    append = witness_append(witness)
    root = tmp_path / "laptop-a" / "INC-7"
    for n in range(1, 4):
        (root / "reports" / f"run-{n}").mkdir(parents=True)
        (root / "reports" / f"run-{n}" / "triage.html").write_text(f"<p>run {n}</p>")
        written = record(root, {"kind": "report", "run": n})
        append(written, written.read_bytes())
    assert witness_check(witness)(root, _chain(root)) == []
    # another responder's copy, taken at manifest 2, goes its own way
    copy = tmp_path / "laptop-b" / "INC-7"
    shutil.copytree(root, copy)
    (copy / "manifests" / "0003.json").unlink()
    shutil.rmtree(copy / "reports" / "run-3")
    shutil.copyfile(copy / "manifests" / "0002.json", copy / "manifest.json")
    assert verify_archive(copy).ok, "the shortened copy is an intact chain"
    assert witness_check(witness)(copy, _chain(copy)) == [
        f"the witness {witness.name} recorded manifest 3 of INC-7, but the archive ends at manifest 2: "
        "the newest history was rolled back (removed)"]
    (copy / "notes.txt").write_text("a different run 3")
    written = record(copy, {"kind": "report", "run": "3b"})
    append(written, written.read_bytes())
    fork = (f"the witness {witness.name} holds 2 different manifests with sequence 3 for INC-7: two histories were "
            "recorded (a fork), and at most one of them is this archive's")
    assert witness_check(witness)(copy, _chain(copy)) == [fork]
    assert witness_check(witness)(root, _chain(root)) == [fork]


def test_entra_id_tokens_for_storage_are_used_over_verified_tls(azurite_tls: Azurite) -> None:
    target = AzureTarget(credential="env-token", token=_jwt("https://storage.azure.com"), ca_bundle=azurite_tls.ca,
                         retry=FAST)
    witness = BlobWitness.from_url(azurite_tls.container_url(), target=target, environ={})
    witness.append(Head("INC-1", 1, "d" * 64))
    assert [h.sha256 for h in witness.heads("INC-1")] == ["d" * 64]
    arm = AzureTarget(credential="env-token", token=_jwt("https://management.azure.com"), ca_bundle=azurite_tls.ca,
                      retry=FAST)
    refused = BlobWitness.from_url(witness.name, target=arm, environ={})
    with pytest.raises(WitnessError, match=r"cannot read the heads of INC-1: HTTP 40[13]") as caught:
        refused.heads("INC-1")
    assert "\n" not in str(caught.value)
    untrusted = AzureTarget(credential="env-token", token=_jwt("https://storage.azure.com"), retry=FAST)
    with pytest.raises(WitnessError, match="cannot be reached .*check the URL, the network and --ca-bundle"):
        BlobWitness.from_url(witness.name, target=untrusted, environ={}).heads("INC-1")


# --- what goes wrong: one line, never the secret ------------------------------------------------------------------

def test_a_wrong_account_key_is_one_line_without_the_key(azurite: Azurite) -> None:
    wrong = base64.b64encode(b"k" * 64).decode()
    environ = {CONNECTION_STRING_ENV: azurite.connection_string.replace(DEV_KEY, wrong)}
    witness = BlobWitness.from_url(azurite.container_url(), target=AzureTarget(retry=FAST), environ=environ)
    with pytest.raises(WitnessError, match=r"cannot append manifest 1 of INC-1: HTTP 403") as caught:
        witness.append(Head("INC-1", 1, "a" * 64))
    message = str(caught.value)
    assert "\n" not in message and wrong not in message and DEV_KEY not in message


def test_an_unreachable_endpoint_is_one_line(azurite: Azurite) -> None:
    closed = f"http://127.0.0.1:{_free_port()}/{ACCOUNT}"
    environ = {CONNECTION_STRING_ENV: azurite.connection_string.replace(azurite.endpoint, closed)}
    witness = BlobWitness.from_url(f"{closed}/witness", target=AzureTarget(retry=FAST), environ=environ)
    with pytest.raises(WitnessError, match="the storage endpoint cannot be reached") as caught:
        witness.append(Head("INC-1", 1, "a" * 64))
    assert "\n" not in str(caught.value) and DEV_KEY not in str(caught.value)


def test_reading_a_container_that_does_not_exist_is_an_error(azurite: Azurite) -> None:
    with pytest.raises(WitnessError, match="the container does not exist; check the URL"):
        _witness(azurite).heads("INC-1")


def test_a_blob_replaced_by_a_block_blob_cannot_be_appended_to(azurite: Azurite) -> None:
    witness = _witness(azurite)
    witness.append(Head("INC-1", 1, "a" * 64))
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    blob = service.get_blob_client(witness.name.rsplit("/", 1)[1], "INC-1.jsonl")
    blob.upload_blob(b"", overwrite=True)  # what someone rewriting the witness would do, absent a WORM policy
    with pytest.raises(WitnessError, match=r"cannot append manifest 2 of INC-1: HTTP 409"):
        witness.append(Head("INC-1", 2, "b" * 64))


def test_the_url_must_be_the_connection_strings_own_container(azurite: Azurite) -> None:
    elsewhere = "https://other.blob.core.windows.net/witness"
    with pytest.raises(WitnessError, match="is not the container .* that KIT_WITNESS_CONNECTION_STRING connects to"):
        BlobWitness.from_url(elsewhere, environ=azurite.environ())


@pytest.mark.parametrize(("location", "complaint"), [
    ("http://witness.example.com/acct/heads", "must use https://"),
    ("https://acct.blob.core.windows.net/heads?sv=2024&sig=SECRETSIG", "without a query"),
    ("https://acct.blob.core.windows.net", "is not a container URL .*<account>.blob.core.windows.net/<container>"),
    ("ftp://acct/heads", "neither an https:// container URL nor a file"),
    ("file://server/share/heads.jsonl", "names another host"),
])
def test_bad_witness_locations_are_refused(location: str, complaint: str) -> None:
    with pytest.raises(WitnessError, match=complaint) as caught:
        open_witness(location, environ={CONNECTION_STRING_ENV: "AccountName=a;AccountKey=" + DEV_KEY})
    assert "SECRETSIG" not in str(caught.value) and DEV_KEY not in str(caught.value)


def test_a_malformed_connection_string_is_refused_without_repeating_it() -> None:
    with pytest.raises(WitnessError, match="is not a Storage connection string") as caught:
        BlobWitness.from_url("https://acct.blob.core.windows.net/witness",
                             environ={CONNECTION_STRING_ENV: "password=hunter2"})
    assert "hunter2" not in str(caught.value)


def test_open_witness_picks_the_kind_from_the_location(tmp_path: Path, azurite: Azurite) -> None:
    assert isinstance(open_witness(str(tmp_path / "heads.jsonl")), FileWitness)
    file_witness = open_witness(f"file://{tmp_path}/heads.jsonl")
    assert isinstance(file_witness, FileWitness) and file_witness.name == str(tmp_path / "heads.jsonl")
    blob = open_witness(azurite.container_url(), target=AzureTarget(retry=FAST), environ=azurite.environ())
    assert isinstance(blob, BlobWitness)
