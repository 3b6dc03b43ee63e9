"""Finding 10, bundles: malformed but hash-consistent bundles get a clear error or a correct partial answer.

Each case rewrites a real bundle (firewall-lockout's broken VM, collected from the lab) through the
real :class:`~kit.evidence.writer.BundleWriter`, so every sha256 matches and only the shape is
wrong: a document that is a list or text, ``properties`` of the wrong type, fields that are
numbers where text belongs, a manifest whose fields have the wrong types, serial logs of binary
garbage or one 5 MB line. Every command that reads the damaged file runs on it in-process
(``kit bundle show``, ``kit analyze boot|flow|diff|verdict``, ``kit timeline``) and must:
exit 0 (an answer, with warnings where evidence was unreadable), or 1/2 with exactly one
``error:`` line naming what is wrong; never a traceback or an internal error (exit 70), never
raw control characters, and within a few seconds. Some cases also check the answer itself.
"""

from __future__ import annotations

import copy
import json
import os
import random
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kit.cli import main
from kit.evidence.writer import BundleWriter

SUBJECT = "sched-01"
FLOW = ["--direction", "Inbound", "--local", "10.42.1.4:22", "--remote", "203.0.113.7:50000"]
COMMANDS: dict[str, Callable[[str], list[str]]] = {
    "show": lambda b: ["bundle", "show", b],
    "boot": lambda b: ["analyze", "boot", b],
    "flow": lambda b: ["analyze", "flow", b, *FLOW],
    "diff": lambda b: ["analyze", "diff", b],
    "verdict": lambda b: ["analyze", "verdict", b],
    "timeline": lambda b: ["timeline", b],
}
NETWORK = ("show", "flow", "diff", "verdict")
READERS: dict[str, tuple[str, ...]] = {
    "vm.json": ("show", "flow", "diff", "verdict", "timeline"),
    "instance_view.json": ("show", "verdict", "timeline"),
    "boot_diagnostics.json": ("show", "verdict"),
    "serial_console_status.json": ("show", "verdict"),
    "activity_log.json": ("show", "timeline", "verdict", "diff"),
    "role_assignments.json": ("show", "verdict"),
    "serial.log": ("show", "boot", "timeline", "verdict"),
    "screenshot.bmp": ("show", "verdict"),
    "manifest.json": ("show", "diff", "verdict", "timeline"),
}
ACTIVE = {"Cc", "Cf", "Zl", "Zp", "Cs"}
Files = dict[str, bytes | None]


def _readers(file: str) -> tuple[str, ...]:
    return READERS.get(file, NETWORK)


# ---------------------------------------------------------------------------------------------------------------
# the cases: (file the case damages, how); ``*`` in a file stands for the bundle's one file in that folder

def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(doc)
    cursor = out
    for key in path[:-1]:
        cursor = cursor[key]
    cursor[path[-1]] = value
    return out


def _json_case(path: tuple[Any, ...], value: Any) -> Callable[[Any], Any]:
    return lambda doc: _set(doc, path, value) if path else value


WRONG_DOCUMENTS = {"a list": [], "text": "x", "a number": 5, "null": None, "an empty object": {},
                   "properties a list": {"properties": []}, "properties text": {"properties": "x"}}
JSON_FILES = ("vm.json", "instance_view.json", "boot_diagnostics.json", "serial_console_status.json",
              "activity_log.json", "role_assignments.json", "nics/*", "nsgs/*", "subnets/*", "vnets/*",
              "public_ips/*", "effective_nsg/*", "effective_routes/*")
WRONG_VALUES = {"text": "x", "negative": -5, "a list": [1], "an object": {"a": 1}, "null": None}
FIELDS: dict[str, tuple[tuple[Any, ...], ...]] = {
    "vm.json": (("properties", "storageProfile"), ("properties", "networkProfile", "networkInterfaces"),
                ("properties", "diagnosticsProfile"), ("properties", "hardwareProfile"), ("id",), ("name",)),
    "instance_view.json": (("statuses",), ("statuses", 0), ("statuses", 0, "code"), ("statuses", 0, "time"),
                           ("disks",), ("vmAgent",)),
    "activity_log.json": (("value", 0), ("value", 0, "status"), ("value", 0, "eventTimestamp"), ("value", 0, "caller"),
                          ("value", 0, "operationName"), ("value", 0, "correlationId"), ("value", 0, "resourceId")),
    "role_assignments.json": (("value", 0), ("value", 0, "properties")),
    "nics/*": (("properties", "ipConfigurations"), ("properties", "ipConfigurations", 0, "properties"),
               ("properties", "ipConfigurations", 0, "properties", "privateIPAddress"),
               ("properties", "ipConfigurations", 0, "properties", "subnet"), ("properties", "networkSecurityGroup")),
    "nsgs/*": (("properties", "securityRules"), ("properties", "securityRules", 0),
               ("properties", "securityRules", 0, "properties", "priority"),
               ("properties", "securityRules", 0, "properties", "destinationPortRange")),
    "subnets/*": (("properties", "addressPrefix"), ("properties", "networkSecurityGroup")),
    "effective_nsg/*": (("value",), ("value", 0, "effectiveSecurityRules")),
    "effective_routes/*": (("value",), ("value", 0, "addressPrefix")),
}


def _garbage(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


BYTE_CASES: dict[str, tuple[str, Callable[[bytes], bytes | None]]] = {
    "serial.log binary garbage": ("serial.log", lambda _: _garbage(200_000, 1)),
    "serial.log one 5 MB line": ("serial.log", lambda _: b"A" * 5_000_000),
    "serial.log NUL padding only": ("serial.log", lambda _: b"\0" * 100_000),
    "serial.log control sequences": ("serial.log",
                                     lambda _: b"\x1b]0;owned\x07\x1b[2J\r\xc2\x9b31m\xe2\x80\xae\n" * 50),
    "serial.log empty": ("serial.log", lambda _: b""),
    "serial.log UTF-16": ("serial.log", lambda data: data.decode("utf-8", "replace").encode("utf-16")),
    "serial.log invalid UTF-8 inside lines": ("serial.log", lambda data: data.replace(b"login:", b"log\xff\xfein:")),
    "serial.log missing": ("serial.log", lambda _: None),
    "screenshot.bmp garbage": ("screenshot.bmp", lambda _: _garbage(1000, 2)),
    "vm.json missing": ("vm.json", lambda _: None),
    "activity_log.json junk records": ("activity_log.json", lambda data: json.dumps(
        {"value": [*json.loads(data)["value"], 1, "x", None, [], {"eventTimestamp": "garbage"}]}).encode()),
    "activity_log.json 5 MB caller": ("activity_log.json", lambda data: json.dumps(
        _set(json.loads(data), ("value", 0, "caller"), "c" * 5_000_000)).encode()),
    "vm.json not UTF-8": ("vm.json", lambda data: b"\xff\xfe" + data),
    "vm.json truncated": ("vm.json", lambda data: data[: len(data) // 2]),
    "nics/* not JSON": ("nics/*", lambda _: b"\x00\x01 not json"),
}

WRONG_MANIFEST_VALUES = {"text": "x", "a number": 5, "a list of numbers": [1], "null": None, "an object": {"a": 1},
                         "control characters": "\r\x1b[31mX"}
MANIFEST_FIELDS = ("peers", "window", "vm_name", "role", "failures", "source", "collected_at", "resource_group",
                   "subscription_id", "vm_id", "collector", "arm_endpoint", "kit_version")
MANIFEST_SPECIALS: dict[str, Callable[[dict[str, Any]], None]] = {
    "peers leave the folder": lambda m: m.__setitem__("peers", ["../../etc"]),
    "peers name the bundle itself": lambda m: m.__setitem__("peers", [SUBJECT]),
    "peers name '.'": lambda m: m.__setitem__("peers", ["."]),
    "peers name a missing folder": lambda m: m.__setitem__("peers", ["no-such-peer"]),
    "window of numbers": lambda m: m.__setitem__("window", {"start": 5, "end": [1]}),
    "window of garbage text": lambda m: m.__setitem__("window", {"start": "garbage", "end": "also garbage"}),
    "a files entry with a NUL": lambda m: m["files"].append({"path": "a\0b", "sha256": "0"}),
    "a files entry outside the bundle": lambda m: m["files"].append({"path": "../sched-02/vm.json", "sha256": "0"}),
    "a files entry without a path": lambda m: m["files"].append({"sha256": "0"}),
    "a failure that is text": lambda m: m["failures"].append("x"),
    "an unknown role": lambda m: m.__setitem__("role", "attacker"),
    "format missing": lambda m: m.pop("format"),
}


def _cases() -> dict[str, tuple[str, Any]]:
    cases: dict[str, tuple[str, Any]] = {}
    for file in JSON_FILES:
        for shape, value in WRONG_DOCUMENTS.items():
            cases[f"{file} is {shape}"] = (file, ("json", _json_case((), value)))
    for file, paths in FIELDS.items():
        for path in paths:
            for kind, value in WRONG_VALUES.items():
                shown = ".".join(str(part) for part in path)
                cases[f"{file} {shown} is {kind}"] = (file, ("json", _json_case(path, value)))
    for name, (file, change) in BYTE_CASES.items():
        cases[name] = (file, ("bytes", change))
    for field in MANIFEST_FIELDS:
        for kind, value in WRONG_MANIFEST_VALUES.items():
            cases[f"manifest {field} is {kind}"] = ("manifest.json", ("manifest", _json_case((field,), value)))
    for name, edit in MANIFEST_SPECIALS.items():
        cases[f"manifest: {name}"] = ("manifest.json", ("manifest-edit", edit))
    return cases


CASES = _cases()
#: Whole documents that are not JSON objects: the loader refuses them, naming the file.
NOT_OBJECTS = {f"{file} is {shape}" for file in JSON_FILES for shape in ("a list", "text", "a number", "null")}
RUNS = [(case, command) for case, (file, _) in CASES.items() for command in _readers(file)]


# ---------------------------------------------------------------------------------------------------------------
# the source bundle and the damaged copies

@pytest.fixture(scope="module")
def source(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """firewall-lockout's broken VM and its peers, collected once with the real collector."""
    from kit.azure.collect import CollectionRequest, collect
    from kit.azure.target import AzureTarget

    info = lab.scenario("firewall-lockout")
    assert info.broken_vm == SUBJECT
    start, end = info.window
    request = CollectionRequest(info.subscription_id, info.resource_group, info.broken_vm, info.known_good,
                                start=start, end=end, source="lab:firewall-lockout")
    return collect(AzureTarget.for_lab(lab), request, tmp_path_factory.mktemp("source")).subject


@pytest.fixture(scope="module")
def damaged(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """case → the damaged subject bundle (written once per case, peers beside it)."""
    manifest = json.loads((source / "manifest.json").read_text())
    originals: Files = {record["path"]: (source / record["path"]).read_bytes() for record in manifest["files"]}
    made: dict[str, Path] = {}

    def make(case: str) -> Path:
        if case in made:
            return made[case]
        file, (kind, change) = CASES[case]
        files = dict(originals)
        target = file
        if "*" in file:
            target = next(path for path in files if path.startswith(file.split("/")[0] + "/"))
        if kind == "json":
            files[target] = json.dumps(change(json.loads(files[target] or b"null"))).encode()
        elif kind == "bytes":
            files[target] = change(files[target] or b"")
        folder = tmp_path_factory.mktemp("case")
        for peer in source.parent.iterdir():
            if peer.name != SUBJECT:
                os.symlink(peer, folder / peer.name)
        with BundleWriter(folder / SUBJECT) as writer:
            for path, data in files.items():
                if data is not None:
                    writer.add_bytes(path, data, call="test")
            writer.commit({key: value for key, value in manifest.items() if key not in ("files", "failures")})
        if kind in ("manifest", "manifest-edit"):
            written = json.loads((folder / SUBJECT / "manifest.json").read_text())
            if kind == "manifest":
                written = change(written)
            else:
                change(written)
            (folder / SUBJECT / "manifest.json").write_text(json.dumps(written))  # not hashed: still consistent
        made[case] = folder / SUBJECT
        return made[case]

    return make


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str, float]:
    started = time.monotonic()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err, time.monotonic() - started


def _check_clear(code: int, out: str, err: str, seconds: float, allowed: frozenset[int] = frozenset({0, 1, 2})) -> None:
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in allowed, (code, err)
    raw = {repr(ch) for ch in out + err if ch != "\n" and unicodedata.category(ch) in ACTIVE}
    assert not raw, f"raw control characters printed: {sorted(raw)[:5]}"
    assert seconds < 20, f"took {seconds:.1f} s"
    if code:
        lines = [line for line in err.splitlines() if not line.startswith("warning:")]
        assert len(lines) == 1 and lines[0].startswith("error: "), err


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 300 and len(RUNS) >= 1000, (len(CASES), len(RUNS))


@pytest.mark.parametrize(("case", "command"), RUNS)
def test_a_damaged_bundle_gives_a_clear_error_or_an_answer(case: str, command: str, damaged: Callable[[str], Path],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    bundle = damaged(case)
    code, out, err, seconds = _run(COMMANDS[command](str(bundle)), capsys)
    _check_clear(code, out, err, seconds)
    file, _ = CASES[case]
    if case in NOT_OBJECTS:
        shown = file.split("/")[0] if "/" in file else file
        assert code == 1 and shown in err, f"a {file} that is not an object must be refused naming it: {err}"
    if code == 0:
        assert out.strip(), "an answer was expected on stdout"


# ---------------------------------------------------------------------------------------------------------------
# cases whose answer is known

def _outcome(bundle: Path, command: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code, out, err, seconds = _run(COMMANDS[command](str(bundle)), capsys)
    _check_clear(code, out, err, seconds)
    return code, out, err


@pytest.mark.parametrize("command", ["show", "diff", "verdict", "timeline"])
def test_peers_that_leave_the_folder_are_refused(command: str, damaged: Callable[[str], Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _outcome(damaged("manifest: peers leave the folder"), command, capsys)
    assert code == 1 and "peers[0]" in err


def test_a_bundle_named_as_its_own_peer_is_left_out_or_refused(damaged: Callable[[str], Path],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    bundle = damaged("manifest: peers name the bundle itself")
    code, out, err = _outcome(bundle, "verdict", capsys)
    assert code == 0 and "left out" in err and "compared with itself" in err
    assert out.startswith(f"{SUBJECT} (subject): guest_firewall")
    code, _, err = _outcome(bundle, "diff", capsys)
    assert code == 2 and "compared with itself" in err


@pytest.mark.parametrize("case", ["vm.json properties.storageProfile is text", "vm.json properties.diagnosticsProfile"
                                  " is a list", "instance_view.json statuses is negative",
                                  "serial_console_status.json is properties text", "screenshot.bmp garbage"])
def test_unreadable_side_evidence_still_gives_the_right_verdict(case: str, damaged: Callable[[str], Path],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _outcome(damaged(case), "verdict", capsys)
    assert code == 0 and out.startswith(f"{SUBJECT} (subject): guest_firewall"), out[:200]


def test_junk_activity_records_become_warnings_and_the_rest_still_counts(damaged: Callable[[str], Path],
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _outcome(damaged("activity_log.json junk records"), "timeline", capsys)
    assert code == 0 and "warning:" in err and "activity" in out
    code, out, _ = _outcome(damaged("activity_log.json junk records"), "show", capsys)
    assert code == 0 and "unreadable" in out


@pytest.mark.parametrize("case", ["serial.log binary garbage", "serial.log one 5 MB line",
                                  "serial.log invalid UTF-8 inside lines", "serial.log control sequences"])
def test_messy_serial_logs_are_analysed_with_warnings(case: str, damaged: Callable[[str], Path],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _outcome(damaged(case), "boot", capsys)
    assert code == 0 and "last boot reached:" in out
    if case != "serial.log control sequences":
        assert "warnings (" in out


@pytest.mark.parametrize("case", ["manifest role is text", "manifest: an unknown role", "manifest peers is text",
                                  "manifest window is a list of numbers", "manifest failures is an object",
                                  "manifest: a files entry with a NUL", "manifest: a files entry outside the bundle"])
def test_manifest_fields_of_the_wrong_type_are_named(case: str, damaged: Callable[[str], Path],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _outcome(damaged(case), "show", capsys)
    field = case.split()[1] if not case.startswith("manifest:") else ("role" if "role" in case else "path")
    assert code == 1 and "manifest.json" in err and field in err, err
