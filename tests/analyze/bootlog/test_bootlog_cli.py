"""``kit analyze boot`` as a user runs it: the summary, the JSON document, and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from bootlog_data import DATA

from kit.cli import main


def test_summary_names_stage_platform_and_findings_with_line_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "boot", str(DATA / "ubuntu-fstab-emergency.log")]) == 0
    out = capsys.readouterr().out
    assert "last boot reached: systemd" in out
    assert "platform: hyperv" in out and "hv_vmbus" in out
    assert "line 96" in out and "boot:fstab:device_timeout" in out
    assert "critical line 106    boot:systemd:root_locked" in out
    assert "uptime only" in out


def test_json_is_a_stable_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "boot", str(DATA / "sshd-bad-config.log"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == "kit-bootlog/1"
    assert {"os", "platform", "platform_markers", "stage", "boots", "lines", "bytes", "anchor", "findings",
            "warnings", "source", "format", "earlier_findings"} == set(doc)
    assert (doc["os"], doc["platform"], doc["stage"]) == ("linux", "azure-hyperv", "login")
    assert doc["anchor"]["source"] == "cloud-init" and doc["anchor"]["time"] == "2026-11-25T09:13:50Z"
    bad = next(f for f in doc["findings"] if f["kind"] == "boot:sshd:bad_config")
    assert set(bad) == {"kind", "severity", "line", "text", "evidence", "summary", "boot", "detect_only"}
    assert bad["detect_only"] is False
    assert bad["line"] == 129 and "PermitRootLogn" in bad["text"]


def test_json_events_only_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "boot", str(DATA / "ubuntu-healthy.log"), "--json", "--events"]) == 0
    events = json.loads(capsys.readouterr().out)["events"]
    kernel = next(e for e in events if e["kind"] == "boot:kernel:start")
    assert kernel["time_desc"] == "estimated from uptime" and kernel["time"].endswith("Z")


def test_bundle_folder_reads_its_serial_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(DATA / "grub-rescue.log", tmp_path / "serial.log")
    assert main(["analyze", "boot", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["source"] == "serial.log" and doc["stage"] == "bootloader"
    assert doc["findings"][-1]["evidence"] == "serial.log:4"  # the "grub rescue>" prompt


def test_anchor_option_sets_wall_times(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "boot", str(DATA / "rhel-dracut-root-missing.log"), "--json",
                 "--anchor", "2026-11-25T09:00:00Z"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["anchor"] == {"source": "given", "time": "2026-11-25T09:00:00Z", "uptime": 0.0, "line": None,
                             "text": None}


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["analyze", "boot", "/no/such/serial.log"], 2, "no such file: /no/such/serial.log"),
    (["analyze", "boot", str(DATA / "ubuntu-healthy.log"), "--anchor", "yesterday"], 2, "not an ISO 8601 time"),
])
def test_bad_input_is_one_line_and_an_exit_code(argv: list[str], code: int, message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_folder_without_serial_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "boot", str(tmp_path)]) == 2
    assert "without serial.log" in capsys.readouterr().err


def test_unreadable_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "serial.log"
    target.mkdir()
    (tmp_path / "link.log").symlink_to(target)
    assert main(["analyze", "boot", str(tmp_path / "link.log")]) in (1, 2)
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_garbage_file_still_gives_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 64)
    assert main(["analyze", "boot", str(junk)]) == 0
    out = capsys.readouterr().out
    assert "last boot reached: none" in out and "undecodable" in out


def test_the_summary_leads_with_the_answer_and_the_critical_findings(capsys: pytest.CaptureFixture[str]) -> None:
    log = DATA / "real" / "debian12-fstab-stale-root-locked.log"
    assert main(["analyze", "boot", str(log)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "summary: the last boot reached systemd; 4 critical, 3 error, 2 warning, 1 info"
    assert lines[1].startswith("  critical line 726 (and 2 more like it): systemd dropped to emergency mode")
    assert lines[2].startswith("  critical line 745: Emergency mode could not open a shell: the root account is locked")
    assert lines[3] == "" and lines[4].startswith("debian12-fstab-stale-root-locked.log: 61,397 bytes")


def test_a_healthy_log_says_so_in_its_first_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "boot", str(DATA / "real" / "debian12-healthy.log")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "summary: the last boot reached login; 5 info"
