"""Boot-diagnostics screenshots: OCR with Tesseract, then the boot-log rules over the recognised text.

Example::

    report = analyze_screenshot(Path("screenshot.bmp").read_bytes())
    report.text.lines, [f.kind for f in report.findings]

On Windows the serial port is often silent and the screenshot is the evidence: a stop code, a
Boot Manager status, "Preparing Automatic Repair". :func:`read_screenshot` prepares the image
(grayscale; light text on a dark or blue screen inverted to dark on light; binarised with Otsu's
threshold; small images doubled; cropped to the text) and runs Debian's ``tesseract-ocr``
through pytesseract (English, ``--psm 6``: one block of text), single-threaded: on two cores
Tesseract's OpenMP threads make it about five times slower. :func:`analyze_screenshot` then
joins screens whose facts sit on separate lines (:mod:`kit.analyze._screen_layouts`) and hands
the text to :func:`kit.analyze.bootlog.parse_boot_log` with ``source="screenshot"``.

Input that is not an image (empty, truncated, another format, larger than a screen can be)
raises :class:`~kit.errors.AnalysisError` before Tesseract runs; so does a missing Tesseract.
"""

from __future__ import annotations

import io
import os
import shutil
import time
import warnings
from dataclasses import dataclass
from typing import Any

import pytesseract
from PIL import Image, ImageOps, UnidentifiedImageError

from kit.analyze._screen_layouts import fix_line, join_layouts
from kit.analyze.bootlog import BootReport, Finding, parse_boot_log
from kit.errors import AnalysisError

__all__ = ["FORMATS", "JSON_FORMAT", "MAX_PIXELS", "ScreenText", "ScreenshotReport", "analyze_screenshot",
           "open_screenshot", "read_screenshot"]

JSON_FORMAT = "kit-screenshot/1"
#: Image formats read (Azure stores BMP; PNG and JPEG are what people save from the portal).
FORMATS = ("BMP", "PNG", "JPEG")
#: Largest image decoded: a console is at most 4096×4096; a larger header is a decompression bomb.
MAX_PIXELS = 4096 * 4096
#: Images smaller than this (either side) are doubled: Tesseract wants capitals ~20 pixels high.
SMALL = (800, 600)
_CONFIG = "--psm 6 -c tessedit_do_invert=0"  # the image is already dark on light
_LANGUAGE = "eng"
_TIMEOUT = 30.0
_INSTALL = ("tesseract is not installed: install Debian's tesseract-ocr (apt-get install tesseract-ocr) "
            "or conda-forge's tesseract")


@dataclass(frozen=True)
class ScreenText:
    """What OCR read on a screenshot.

    Parameters
    ----------
    lines
        The recognised lines, top to bottom, blank lines dropped, common OCR slips corrected
        (``@xc000000e`` → ``0xc000000e``, ``winload. exe`` → ``winload.exe``).
    engine
        The engine, its version and settings (``tesseract 5.3.0 (eng, --psm 6)``).
    seconds
        Time taken, decoding included.
    size
        The image's width and height in pixels.
    warnings
        What made the reading doubtful (a blank screen), as sentences.
    """

    lines: tuple[str, ...]
    engine: str
    seconds: float
    size: tuple[int, int]
    warnings: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The lines as one text."""
        return "\n".join(self.lines)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"lines": list(self.lines), "engine": self.engine, "seconds": round(self.seconds, 3),
                "width": self.size[0], "height": self.size[1], "warnings": list(self.warnings)}


@dataclass(frozen=True)
class ScreenshotReport:
    """A screenshot's text and what the boot-log rules found in it.

    Parameters
    ----------
    text
        What OCR read.
    layout
        The screen recognised and joined for the rules: ``stop_code``, ``boot_manager``,
        ``recovery``, or ``text`` (lines passed on as read).
    rule_lines
        The lines the rules read (a joined screen's facts on one line).
    boot
        The boot-log report over ``rule_lines`` (source ``screenshot``, line numbers of ``rule_lines``).
    """

    text: ScreenText
    layout: str
    rule_lines: tuple[str, ...]
    boot: BootReport

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The findings, in screen order."""
        return self.boot.findings

    @property
    def warnings(self) -> tuple[str, ...]:
        """The OCR's warnings, then the rules'."""
        return self.text.warnings + tuple(warning.message for warning in self.boot.warnings)

    def to_json(self) -> dict[str, Any]:
        """A stable JSON document (``format`` ``kit-screenshot/1``)."""
        return {"format": JSON_FORMAT, **self.text.to_json(), "layout": self.layout,
                "rule_lines": list(self.rule_lines), "os": self.boot.os, "stage": self.boot.stage,
                "findings": [finding.to_json() for finding in self.findings], "warnings": list(self.warnings)}


def read_screenshot(data: bytes, *, timeout: float = _TIMEOUT) -> ScreenText:
    """Read the text on a boot-diagnostics screenshot.

    Parameters
    ----------
    data
        The image file's bytes (BMP as Azure stores it, PNG or JPEG).
    timeout
        Seconds Tesseract may take before the reading is abandoned.

    Raises
    ------
    AnalysisError
        When ``data`` is not a readable image of a sane size, or Tesseract is missing or fails.
    """
    started = time.perf_counter()
    image = open_screenshot(data)
    prepared = _prepare(image)
    if prepared is None:
        return ScreenText((), _engine(), time.perf_counter() - started, image.size,
                          ("the screenshot is one colour: the VM shows nothing (yet), so there is no text to read",))
    raw = _tesseract(prepared, timeout)
    lines = tuple(fix_line(line) for line in raw.splitlines() if line.strip())
    notes = () if lines else ("no text was recognised on the screenshot",)
    return ScreenText(lines, _engine(), time.perf_counter() - started, image.size, notes)


def analyze_screenshot(data: bytes, *, timeout: float = _TIMEOUT) -> ScreenshotReport:
    """OCR a screenshot and run the boot-log rules over its text.

    Parameters
    ----------
    data
        The image file's bytes.
    timeout
        Passed to :func:`read_screenshot`.

    Raises
    ------
    AnalysisError
        As :func:`read_screenshot`.
    """
    text = read_screenshot(data, timeout=timeout)
    layout, rule_lines = join_layouts(text.lines)
    boot = parse_boot_log("\n".join(rule_lines).encode("utf-8"), source="screenshot")
    return ScreenshotReport(text, layout, rule_lines, boot)


def open_screenshot(data: bytes) -> Image.Image:
    """The screenshot as a decoded Pillow image, decoded only once its header shows a sane size.

    Raises
    ------
    AnalysisError
        When ``data`` is empty, not a BMP, PNG or JPEG, larger than :data:`MAX_PIXELS`, truncated or corrupt.
    """
    if not data:
        raise AnalysisError("the screenshot is empty (0 bytes): boot diagnostics stored no picture")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size is checked below
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as error:
        raise AnalysisError(f"the screenshot claims more pixels than a screen has ({error}); it is not decoded") \
            from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise AnalysisError(f"the screenshot is not a {', '.join(FORMATS)} image (it starts with {data[:8]!r})") \
            from None
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise AnalysisError(f"the screenshot claims {width}×{height} pixels; a console screenshot has at most "
                            f"{MAX_PIXELS:,}, so it is not decoded")
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise AnalysisError(f"the {image.format} screenshot is truncated or corrupt ({error}); "
                            "download it again from boot diagnostics") from None
    return image


def _prepare(image: Image.Image) -> Image.Image | None:
    """Dark text on white, large enough, binarised, cropped to the text; None for a one-colour image."""
    gray = image.convert("L")
    if gray.getextrema()[0] == gray.getextrema()[1]:
        return None
    histogram = gray.histogram()
    if sum(index * count for index, count in enumerate(histogram)) < 128 * gray.width * gray.height:
        gray = ImageOps.invert(gray)  # light text on a dark or blue screen
        histogram = histogram[::-1]
    if image.width < SMALL[0] or image.height < SMALL[1]:  # enlarged before binarising, to keep the strokes
        gray = gray.resize((gray.width * 2, gray.height * 2), Image.Resampling.LANCZOS)
        histogram = gray.histogram()
    threshold = _otsu(histogram)
    binary = gray.point(lambda value: 255 if value > threshold else 0)
    box = ImageOps.invert(binary).getbbox()
    if box is None:
        return None
    margin = 12
    return binary.crop((max(box[0] - margin, 0), max(box[1] - margin, 0), min(box[2] + margin, binary.width),
                        min(box[3] + margin, binary.height)))


def _otsu(histogram: list[int]) -> int:
    """Otsu's threshold: the gray level that best separates text from background."""
    total = sum(histogram)
    weighted = sum(index * count for index, count in enumerate(histogram))
    below = below_weighted = 0
    best, threshold = -1.0, 127
    for level, count in enumerate(histogram[:-1]):
        below += count
        below_weighted += level * count
        above = total - below
        if below == 0 or above == 0:
            continue
        spread = below * above * (below_weighted / below - (weighted - below_weighted) / above) ** 2
        if spread > best:
            best, threshold = spread, level
    return threshold


def _tesseract(image: Image.Image, timeout: float) -> str:
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        raise AnalysisError(_INSTALL)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # pytesseract hands os.environ to tesseract; 1 thread is faster
    try:
        return str(pytesseract.image_to_string(image, lang=_LANGUAGE, config=_CONFIG, timeout=timeout))
    except pytesseract.TesseractNotFoundError:
        raise AnalysisError(_INSTALL) from None
    except pytesseract.TesseractError as error:
        raise AnalysisError(f"tesseract failed on the screenshot: {error.message}") from None
    except RuntimeError as error:  # pytesseract's timeout
        raise AnalysisError(f"tesseract took more than {timeout:g} s on the screenshot and was stopped ({error})") \
            from None


def _engine() -> str:
    try:
        version = str(pytesseract.get_tesseract_version()).split()[0]
    except (pytesseract.TesseractNotFoundError, OSError):
        version = "(not installed)"
    return f"tesseract {version} ({_LANGUAGE}, {_CONFIG.split(' -c')[0]})"
