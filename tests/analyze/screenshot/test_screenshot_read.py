"""OCR of the lab's screens: the facts a responder needs are read exactly, fast, and bad input is refused."""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest
from PIL import Image
from screenshot_data import WINLOAD, needs_tesseract, report, shot

from kit.analyze.screenshot import MAX_PIXELS, open_screenshot, read_screenshot
from kit.errors import AnalysisError


@needs_tesseract
@pytest.mark.parametrize(("name", "wanted"), [
    ("stop-code", ["Stop code: CRITICAL_PROCESS_DIED", "What failed: ntfs.sys"]),
    ("stop-code-inaccessible", ["Stop code: INACCESSIBLE_BOOT_DEVICE"]),
    ("boot-manager-winload", [f"File: {WINLOAD}", "Status: 0xc000000e"]),
    ("boot-manager-bcd", ["File: \\Boot\\BCD", "Status: 0xc000000f"]),
    ("recovery-bcd", ["File: \\Boot\\BCD", "Error code: 0xc0000034", "Your PC/Device needs to be repaired"]),
    ("automatic-repair", ["Preparing Automatic Repair"]),
    ("updating", ["Getting Windows ready", "Don't turn off your computer"]),
    ("applying-policy", ["Applying security policy"]),
    ("bootmgr-missing", ["BOOTMGR is missing", "Press Ctrl+Alt+Del to restart"]),
    ("windows-lock", ["Press Ctrl+Alt+Delete to unlock."]),
    ("linux-login", ["sched-02 login:"]),
    ("linux-emergency", ["Give root password for maintenance", "You are in emergency mode."]),
    ("linux-panic", ["Kernel panic - not syncing: VFS: Unable to mount root fs"]),
])
def test_each_lab_screen_is_read_exactly(name: str, wanted: list[str]) -> None:
    text = report(name).text
    for line in wanted:
        assert any(line in read for read in text.lines), f"{line!r} not read on {name}: {text.lines}"
    assert text.engine.startswith("tesseract ") and "--psm 6" in text.engine
    assert text.warnings == ()


@needs_tesseract
def test_reading_takes_well_under_a_few_seconds() -> None:
    started = time.perf_counter()
    text = read_screenshot(shot("stop-code"))
    assert text.seconds <= time.perf_counter() - started
    assert text.seconds < 5  # about 0.2–0.7 s on two idle cores (benchmarks/analyze.py)


@needs_tesseract
def test_a_small_screenshot_is_enlarged_before_reading() -> None:
    image = Image.open(io.BytesIO(shot("stop-code"))).resize((640, 480), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG")
    text = read_screenshot(out.getvalue())
    assert text.size == (640, 480)
    assert any("CRITICAL_PROCESS_DIED" in line for line in text.lines), text.lines


def test_a_one_colour_screen_is_a_warning_not_an_error() -> None:
    out = io.BytesIO()
    Image.new("RGB", (1024, 768), (0, 0, 0)).save(out, format="BMP")
    text = read_screenshot(out.getvalue())  # Tesseract is not even started
    assert text.lines == () and "one colour" in text.warnings[0]


def _bmp_header(width: int, height: int) -> bytes:
    size = width * height * 3
    return (struct.pack("<2sIHHI", b"BM", 54 + size, 0, 0, 54)
            + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, size, 2835, 2835, 0, 0))


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + chunk(b"IEND", b""))


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="GIF")
    return out.getvalue()


@pytest.mark.parametrize(("data", "message"), [
    (b"", r"empty \(0 bytes\)"),
    (b"<?xml version='1.0'?><Error><Code>BlobNotFound</Code></Error>", "not a BMP, PNG, JPEG image"),
    (b"BM" + b"\x00" * 10, "not a BMP, PNG, JPEG image"),
    (_gif(), "not a BMP, PNG, JPEG image"),
    (_bmp_header(20000, 20000) + b"\x00" * 4096, "claims more pixels than a screen has"),
    (_png_header(20000, 20000), "claims more pixels than a screen has"),
    (_bmp_header(5000, 5000) + b"\x00" * 4096, "claims 5000×5000 pixels"),
    (_bmp_header(0, 768), "not a BMP, PNG, JPEG image"),
], ids=["empty", "xml", "short-bmp", "gif", "bmp-bomb", "png-bomb", "too-large", "zero-width"])
def test_bad_input_is_a_clear_error_before_any_decoding(data: bytes, message: str) -> None:
    started = time.perf_counter()
    with pytest.raises(AnalysisError, match=message):
        read_screenshot(data)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("kind", ["BMP", "PNG"])
def test_a_truncated_image_is_a_clear_error(kind: str) -> None:
    out = io.BytesIO()
    Image.open(io.BytesIO(shot("stop-code"))).save(out, format=kind)
    data = out.getvalue()
    with pytest.raises(AnalysisError, match="truncated or corrupt"):
        open_screenshot(data[: len(data) // 2])


def test_the_size_limit_allows_any_real_console() -> None:
    assert MAX_PIXELS >= 1920 * 1200 and open_screenshot(shot("windows-lock")).size == (1024, 768)


def test_missing_tesseract_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(AnalysisError, match="apt-get install tesseract-ocr"):
        read_screenshot(shot("stop-code"))


@needs_tesseract
def test_a_reading_past_its_timeout_is_stopped() -> None:
    with pytest.raises(AnalysisError, match="was stopped"):
        read_screenshot(shot("linux-login"), timeout=0.001)
