"""Finding 9: evidence text reaches the terminal escaped, in every command that prints it.

A ``\\r`` in an Activity Log caller, an ANSI or OSC sequence in a serial log line, a bidi
override in a rule name, a C1 control or a lone surrogate in a file name: each is shown as
``\\r``, ``\\x1b``, ``\\u202e`` … and never acts on the terminal. One helper does it
(:func:`kit.cli._common.safe`); the tests below check it against ``unicodedata`` for every code
point and run every command that prints evidence on evidence full of such characters.
"""

from __future__ import annotations

import json
import shutil
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from kit.cli import main
from kit.cli._common import print_json, safe, safe_block
from kit.evidence.writer import BundleWriter

#: Categories a terminal acts on rather than shows: controls, format characters, separators, surrogates.
ACTIVE = {"Cc", "Cf", "Zl", "Zp", "Cs"}
EVIL = "\rEVIL\x1b[2J\x1b]0;owned\x07\x9b31m\u202egnp.exe\u2028\ud800"


def inert(text: str) -> list[str]:
    """The characters of ``text`` a terminal would act on (line breaks between lines are layout)."""
    return sorted({repr(ch) for ch in text if ch != "\n" and unicodedata.category(ch) in ACTIVE})


def test_the_escaper_covers_every_control_format_separator_and_surrogate_code_point() -> None:
    missed, extra = [], []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        escaped = safe(char) != char
        if category in ACTIVE and not escaped:
            missed.append(f"U+{code:04X} {category}")
        if escaped and category not in ACTIVE | {"Cn"}:  # newer Unicode format characters may be unassigned here
            extra.append(f"U+{code:04X} {category}")
    assert not missed, f"not escaped: {missed[:20]}"
    assert not extra, f"escaped although harmless: {extra[:20]}"


@pytest.mark.parametrize(("raw", "shown"), [
    ("\r", "\\r"), ("\n", "\\n"), ("\t", "\\t"), ("\x1b[31m", "\\x1b[31m"), ("\x07", "\\x07"), ("\x7f", "\\x7f"),
    ("\x9b", "\\x9b"), ("\u202e", "\\u202e"), ("\u200b", "\\u200b"), ("\u2028", "\\u2028"), ("\ufeff", "\\ufeff"),
    ("\ud83d", "\\ud83d"), ("\U000e0041", "\\U000e0041"), ("naïve café ✓ 日本", "naïve café ✓ 日本"),
    ("C:\\Users\\x", "C:\\Users\\x"),
])
def test_safe_shows_what_it_escapes(raw: str, shown: str) -> None:
    assert safe(raw) == shown
    assert not inert(safe(raw))


def test_safe_block_keeps_the_line_breaks_and_escapes_the_rest() -> None:
    assert safe_block("a\rb\nc\x1b") == "a\\rb\nc\\x1b"
    assert safe(None) == "None" and safe(7) == "7"


def test_print_json_stays_valid_json_with_the_same_values(capsys: pytest.CaptureFixture[str]) -> None:
    data = {"caller": EVIL.replace("\ud800", ""), "nested": [{"tag": "\U000e0041x"}], "n": 1}
    print_json(data)
    out = capsys.readouterr().out
    assert json.loads(out) == data
    assert not inert(out)


def test_error_messages_are_one_line_and_inert(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    name = str(tmp_path / "x\n\rerror: forged\x1b[2J")
    assert main(["analyze", "boot", name]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: no such file")  # the forged "error:" stays inside
    assert "x\\n\\rerror: forged\\x1b[2J" in err and not inert(err)


# ---------------------------------------------------------------------------------------------------------------
# every command that prints evidence, on evidence full of active characters

@pytest.fixture(scope="module")
def trio(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """firewall-lockout's broken VM and peers, collected once with the real collector."""
    from kit.azure.collect import CollectionRequest, collect
    from kit.azure.target import AzureTarget

    info = lab.scenario("firewall-lockout")
    start, end = info.window
    request = CollectionRequest(info.subscription_id, info.resource_group, info.broken_vm, info.known_good,
                                start=start, end=end, source="lab:firewall-lockout")
    return collect(AzureTarget.for_lab(lab), request, tmp_path_factory.mktemp("trio")).subject


def _poison(value: Any) -> Any:
    """Every caller, operation name, rule name and failure message of a document made active."""
    if isinstance(value, dict):
        out = {key: _poison(item) for key, item in value.items()}
        if isinstance(out.get("caller"), str):
            out["caller"] = out["caller"] + EVIL
        if isinstance(out.get("localizedValue"), str):
            out["localizedValue"] = EVIL + out["localizedValue"]
        if isinstance(out.get("name"), str) and ("securityRules" in out["name"] or "protocol" in out
                                                 or "priority" in (out.get("properties") or {})):
            out["name"] = out["name"] + "\x1b[8m\u202e"
        return out
    if isinstance(value, list):
        return [_poison(item) for item in value]
    return value


@pytest.fixture(scope="module")
def poisoned(trio: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same bundles, rewritten through BundleWriter with active characters in their evidence."""
    folder = tmp_path_factory.mktemp("poisoned")
    for peer in trio.parent.iterdir():
        if peer != trio:
            shutil.copytree(peer, folder / peer.name)
    manifest = json.loads((trio / "manifest.json").read_text())
    with BundleWriter(folder / trio.name) as writer:
        for record in manifest["files"]:
            data = (trio / record["path"]).read_bytes()
            if record["path"] == "serial.log":
                data = data.replace(b"fw-baseline-v7 DROP:", b"fw-baseline-v7\x1b]0;owned\x07\r DROP:\xc2\x9b2J"
                                    b"\xe2\x80\xae", 1)
                writer.add_bytes("serial.log", data, call="test")
            elif record["path"].endswith(".json"):  # ASCII JSON: a lone surrogate travels as its \ud800 escape
                writer.add_bytes(record["path"], json.dumps(_poison(json.loads(data))).encode(), call="test")
            else:
                writer.add_bytes(record["path"], data, call="test")
        writer.add_failure({"call": "virtual_machines.get\r\nFailures  none", "resource_id": None, "status": 500,
                            "code": "Evil\x1b[2J", "message": EVIL.replace("\ud800", "")})  # the writer
        # encodes its manifest as UTF-8, which has no lone surrogates
        extra = {key: manifest[key] for key in manifest if key not in ("files", "failures")}
        return writer.commit(extra)


COMMANDS = {
    "bundle show": lambda b: ["bundle", "show", str(b)],
    "analyze boot": lambda b: ["analyze", "boot", str(b)],
    "analyze boot --json": lambda b: ["analyze", "boot", str(b), "--json", "--events"],
    "analyze flow": lambda b: ["analyze", "flow", str(b), "--direction", "Inbound", "--local", "10.42.1.4:22",
                               "--remote", "203.0.113.7:50000"],
    "analyze flow --json": lambda b: ["analyze", "flow", str(b), "--direction", "Inbound", "--local",
                                      "10.42.1.4:22", "--remote", "203.0.113.7:50000", "--json"],
    "analyze diff": lambda b: ["analyze", "diff", str(b)],
    "analyze diff --json": lambda b: ["analyze", "diff", str(b), "--json"],
    "analyze verdict": lambda b: ["analyze", "verdict", str(b)],
    "analyze verdict --json": lambda b: ["analyze", "verdict", str(b), "--json"],
    "timeline": lambda b: ["timeline", str(b)],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_evidence_printing_command_escapes_active_characters(command: str, poisoned: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(COMMANDS[command](poisoned)) == 0
    out, err = capsys.readouterr()
    assert not inert(out), f"{command} printed raw: {inert(out)}"
    assert not inert(err), f"{command} printed raw on stderr: {inert(err)}"
    if command.endswith("--json"):
        json.loads(out)
    if command in ("timeline", "analyze verdict", "bundle show"):
        assert "\\r" in out or "\\x1b" in out, f"{command} should show the escaped evidence, not drop it"


def test_a_carriage_return_in_a_caller_cannot_overwrite_the_timeline_row(poisoned: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timeline", str(poisoned)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "EVIL" in line]
    assert rows, "the poisoned Activity Log rows are on the timeline"
    assert all(line[:4].isdigit() and "\\rEVIL" in line for line in rows)


def test_a_forged_failure_line_stays_on_its_row(poisoned: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", "show", str(poisoned)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not any(line.startswith("Failures  none") for line in lines)
    assert any("virtual_machines.get\\r\\nFailures" in line for line in lines)


def test_import_lists_file_names_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "az"
    source.mkdir()
    vm = {"id": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/g/providers/"
                "Microsoft.Compute/virtualMachines/web-01", "name": "web-01",
          "type": "Microsoft.Compute/virtualMachines", "hardwareProfile": {"vmSize": "Standard_B2s"}}
    (source / "vm\x1b[31m\r.json").write_text(json.dumps(vm))
    (source / "note\u202etxt.json").write_text(json.dumps({"something": "else"}))
    assert main(["import", str(source), "--out", str(tmp_path / "bundle")]) == 0
    out = capsys.readouterr().out
    assert not inert(out) and "vm\\x1b[31m\\r.json" in out and "note\\u202etxt.json" in out
    assert main(["bundle", "show", str(tmp_path / "bundle")]) == 0
    assert not inert(capsys.readouterr().out)


def test_lab_list_escapes_scenario_titles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kit.lab.scenarios import SCENARIOS_DIR

    folder = tmp_path / "scenarios" / "evil"
    shutil.copytree(SCENARIOS_DIR / "nsg-deny", folder)
    text = (folder / "scenario.yaml").read_text()
    lines = ['title: "Evil \\e[2J\\r\\u202e title"' if line.startswith("title:") else line
             for line in text.splitlines()]
    lines = [line.replace("name: nsg-deny", "name: evil") for line in lines]
    (folder / "scenario.yaml").write_text("\n".join(lines) + "\n")
    assert main(["lab", "list", "--scenario-dir", str(tmp_path / "scenarios")]) == 0
    out = capsys.readouterr().out
    assert "Evil \\x1b[2J\\r\\u202e title" in out and not inert(out)
