"""``kit analyze screenshot`` as a user runs it: text and findings, JSON, bundle folders and bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from screenshot_data import needs_tesseract, shot

from kit.cli import main


@needs_tesseract
def test_summary_prints_the_text_and_the_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "web-01.screenshot.bmp"
    path.write_bytes(shot("stop-code"))
    assert main(["analyze", "screenshot", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: 1024×768 pixels, ") and "screen: stop_code" in out
    assert "  | Stop code: CRITICAL_PROCESS_DIED" in out
    assert "critical boot:windows:bugcheck" in out


@needs_tesseract
def test_json_and_a_bundle_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "screenshot.bmp").write_bytes(shot("linux-login"))
    assert main(["analyze", "screenshot", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == "kit-screenshot/1" and doc["source"] == str(tmp_path)
    assert doc["layout"] == "text" and doc["os"] == "linux"
    assert any(line.endswith("login: _") for line in doc["lines"])
    assert "boot:systemd:login_prompt" in [f["kind"] for f in doc["findings"]]


@pytest.mark.parametrize(("setup", "code", "message"), [
    (lambda p: p, 2, "no such file"),
    (lambda p: (p.mkdir(), p)[1], 2, "a folder without screenshot.bmp"),
    (lambda p: (os.mkfifo(p), p)[1], 2, "not a regular file"),
    (lambda p: (p.write_bytes(b"GIF89a not really"), p)[1], 1, "not a BMP, PNG, JPEG image"),
    (lambda p: (p.write_bytes(b""), p)[1], 1, "is empty (0 bytes)"),
], ids=["missing", "folder", "fifo", "garbage", "empty"])
def test_bad_input_is_one_line_and_a_documented_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          setup: object, code: int, message: str) -> None:
    path = setup(tmp_path / "shot.bmp")  # type: ignore[operator]
    assert main(["analyze", "screenshot", str(path)]) == code
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_without_tesseract_the_error_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    (tmp_path / "screenshot.bmp").write_bytes(shot("stop-code"))
    assert main(["analyze", "screenshot", str(tmp_path)]) == 1
    assert "apt-get install tesseract-ocr" in capsys.readouterr().err
