"""The triage report's screenshot section: an embedded thumbnail, the text and the findings beside it."""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image
from screenshot_data import needs_tesseract, shot

from kit.report.sections import screenshot_section


def _picture(html: str) -> Image.Image:
    match = re.search(r'<img tabindex="0" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert match, "an embedded PNG"
    return Image.open(io.BytesIO(base64.b64decode(match.group(1))))


@needs_tesseract
def test_the_screenshot_is_embedded_with_its_text_and_findings() -> None:
    html = str(screenshot_section(shot("stop-code")))
    assert _picture(html).size == (1024, 768)
    assert "img:focus" in html and "cursor:zoom-in" in html  # a thumbnail that grows on a click
    assert "Stop code: CRITICAL_PROCESS_DIED" in html and "boot:windows:bugcheck" in html
    assert not re.search(r"src=[\"']?(?:https?:)?//", html), "nothing fetched from the network"


def test_no_screenshot_says_so() -> None:
    assert "no boot-diagnostics screenshot" in str(screenshot_section(None))


def test_an_unreadable_screenshot_is_a_note_not_an_exception() -> None:
    html = str(screenshot_section(b"<Error>BlobNotFound</Error>"))
    assert "kit-callout warn" in html and "not a BMP, PNG, JPEG image" in html
    assert "<Error>" not in html and "<img" not in html  # the quoted bytes are escaped


def test_without_tesseract_the_picture_is_still_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    html = str(screenshot_section(shot("bootmgr-missing")))
    assert _picture(html).size == (1024, 768) and "tesseract-ocr" in html
