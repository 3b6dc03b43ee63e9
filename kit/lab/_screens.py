"""Boot-diagnostics screenshots: what a lab VM's screen shows, drawn with Pillow as the BMP Azure serves.

Which screen follows from the VM's serial log (its last boot: a stop code, a Boot Manager status,
the SAC start of a healthy Windows, or the last rows of a Linux console), so a guest that is
fixed and rebooted through the console shows its new screen. A scenario whose serial port is
silent names the broken VM's screen in ``scenario.yaml``: ``guest: {screen: automatic_repair}``
or ``guest: {screen: {kind: stop_code, code: CRITICAL_PROCESS_DIED, what_failed: ntfs.sys}}``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont

from kit.errors import LabError
from kit.ids import try_parse

if TYPE_CHECKING:
    from kit.lab._state import LabState

__all__ = ["SCREENS", "STOP_NAMES", "Screen", "console_rows", "render_bmp", "screen_for", "screen_from_log"]

#: The screens the lab can show.
SCREENS = ("stop_code", "boot_manager", "recovery", "automatic_repair", "updating", "applying_policy",
           "bootmgr_missing", "windows_lock", "linux_console")
#: Bug check numbers the stop-code screen names (as Windows 10 and later print them); the lab's own short
#: table, since it imports nothing of the analyzer.
STOP_NAMES = {
    0x0000000A: "IRQL_NOT_LESS_OR_EQUAL", 0x0000001E: "KMODE_EXCEPTION_NOT_HANDLED", 0x00000019: "BAD_POOL_HEADER",
    0x0000001A: "MEMORY_MANAGEMENT", 0x00000050: "PAGE_FAULT_IN_NONPAGED_AREA", 0x0000007B: "INACCESSIBLE_BOOT_DEVICE",
    0x0000007E: "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED", 0x000000D1: "DRIVER_IRQL_NOT_LESS_OR_EQUAL",
    0x000000EF: "CRITICAL_PROCESS_DIED", 0x000000ED: "UNMOUNTABLE_BOOT_VOLUME", 0x0000005A: "CRITICAL_SERVICE_FAILED",
    0x00000139: "KERNEL_SECURITY_CHECK_FAILURE",
}
_WINDOWS_SIZE, _LINUX_SIZE = (1024, 768), (800, 600)
_BLUE, _BLACK, _WHITE, _GREY = (0, 120, 215), (0, 0, 0), (255, 255, 255), (170, 170, 170)
_COLUMNS, _ROWS = 80, 25
_TRUETYPE = Path("/usr/share/fonts/truetype")
_MONO = (_TRUETYPE / "liberation" / "LiberationMono-Regular.ttf", _TRUETYPE / "dejavu" / "DejaVuSansMono.ttf")
_SANS = (_TRUETYPE / "dejavu" / "DejaVuSans.ttf", _TRUETYPE / "liberation" / "LiberationSans-Regular.ttf")
_SGR = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]")
_STOP = re.compile(r"\*\*\* STOP: (0x[0-9A-Fa-f]{8})|Stop code:\s*(0x[0-9A-Fa-f]+|[A-Z0-9_]+)")
_STATUS = re.compile(r"Status:\s*(0x[0-9A-Fa-f]{8})")
_FILE = re.compile(r"File:\s*(\S+)")
_INFO = re.compile(r"Info:\s*(.+)")


@dataclass(frozen=True)
class Screen:
    """What a VM's screen shows.

    Parameters
    ----------
    kind
        One of :data:`SCREENS`.
    code
        The stop code (a name, or ``0x…`` for one without a name) or the Boot Manager status.
    file, info
        The Boot Manager's ``File:`` and ``Info:`` lines (``recovery``: the file and its sentence).
    what_failed
        The stop-code screen's ``What failed:`` module, if any.
    lines
        A Linux console's rows, oldest first (at most 25 are shown).
    clock
        The time a Windows lock screen shows.
    """

    kind: str
    code: str = ""
    file: str = ""
    info: str = ""
    what_failed: str = ""
    lines: tuple[str, ...] = ()
    clock: dt.datetime | None = None

    @classmethod
    def from_setting(cls, setting: str | Mapping[str, Any], where: str) -> Screen:
        """The screen a ``scenario.yaml`` names (``kind`` alone, or a mapping of the fields); LabError if malformed."""
        values = {"kind": setting} if isinstance(setting, str) else dict(setting)
        known = {f.name for f in fields(cls)} - {"lines", "clock"}
        if values.get("kind") not in SCREENS or set(values) - known:
            raise LabError(f"{where}: guest.screen must be one of {', '.join(SCREENS)}, or a mapping of kind and "
                           f"{', '.join(sorted(known - {'kind'}))}; got {setting!r}")
        text = {key: str(value) for key, value in values.items()}
        return cls(text["kind"], code=text.get("code", ""), file=text.get("file", ""), info=text.get("info", ""),
                   what_failed=text.get("what_failed", ""))


def screen_for(state: LabState, vm: Mapping[str, Any]) -> Screen:
    """The screen of the lab VM ``vm`` (its REST body): the scenario's ``guest.screen``, else from its serial log."""
    vm_id = str(vm.get("id", ""))
    parsed = try_parse(vm_id)
    info = state.scenario_for(parsed.subscription_id) if parsed is not None else None
    setting = info.guest.get("screen") if info is not None else None
    if setting is not None and info is not None and str(vm.get("name", "")).lower() == info.broken_vm.lower():
        return Screen.from_setting(setting, str(info.path / "scenario.yaml"))
    path = state.serial_logs.get(vm_id.lower())
    log = path.read_bytes() if path is not None else b""
    os_type = str(((vm.get("properties") or {}).get("storageProfile") or {}).get("osDisk", {}).get("osType", ""))
    return screen_from_log(log, windows=os_type.lower() == "windows",
                           clock=info.window_end - dt.timedelta(minutes=45) if info is not None else None)


def screen_from_log(log: bytes, *, windows: bool, clock: dt.datetime | None = None) -> Screen:
    """What the screen shows at the end of serial log ``log``.

    Parameters
    ----------
    log
        The serial log bytes (NUL padding, ``\\r\\n`` and colour codes allowed).
    windows
        Whether the VM runs Windows (else its screen is a Linux text console).
    clock
        The time a Windows lock screen shows.
    """
    text = log.replace(b"\x00", b"").decode("utf-8", errors="replace")
    if not windows:
        return Screen("linux_console", lines=console_rows(text))
    screen = Screen("windows_lock", clock=clock)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index, line in enumerate(lines):
        stop, status = _STOP.search(line), _STATUS.search(line)
        if "Computer is booting" in line:
            screen = Screen("windows_lock", clock=clock)
        elif stop:
            code = stop.group(1) or stop.group(2)
            number = int(code, 16) if code.startswith("0x") else None
            screen = Screen("stop_code", code=STOP_NAMES.get(number, code) if number is not None else code)
        elif status:
            nearby = "\n".join(lines[max(index - 3, 0):index + 4])
            found_file, found_info = _FILE.search(nearby), _INFO.search(nearby)
            screen = Screen("boot_manager", code=status.group(1), file=found_file.group(1) if found_file else "",
                            info=found_info.group(1).strip() if found_info else "")
        elif "BOOTMGR is missing" in line:
            screen = Screen("bootmgr_missing")
    return screen


def console_rows(text: str) -> tuple[str, ...]:
    """The last 25 rows a console shows for ``text``: colours dropped, ``\\r`` overwrites, lines cut at 80 columns."""
    rows: list[str] = []
    for line in _SGR.sub("", text).replace("\r\n", "\n").split("\n"):
        line = line.rstrip("\r").rsplit("\r", 1)[-1].expandtabs()
        line = "".join(char for char in line if char.isprintable())
        rows += [line[start:start + _COLUMNS] for start in range(0, len(line), _COLUMNS)] or [""]
    while len(rows) > 1 and not rows[-1].strip() and not rows[-2].strip():
        rows.pop()
    return tuple(rows[-_ROWS:])


def render_bmp(screen: Screen) -> bytes:
    """``screen`` as a 24-bit BMP: 1024×768 for Windows screens, 800×600 for a Linux console."""
    image = _DRAW[screen.kind](screen)
    out = io.BytesIO()
    image.save(out, format="BMP")
    return out.getvalue()


@lru_cache(maxsize=16)
def _font(size: int, mono: bool = False) -> ImageFont.FreeTypeFont:
    """Liberation Mono for text consoles (a plain zero, as the VGA font has), DejaVu Sans for Windows' own screens."""
    for path in (_MONO if mono else _SANS):
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    default = ImageFont.load_default(size=size)  # Pillow's own scalable font, when neither Debian font is installed
    if not isinstance(default, ImageFont.FreeTypeFont):
        raise LabError("Pillow was built without FreeType, so the lab cannot draw its screenshots")
    return default


def _wrapped(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, font: ImageFont.FreeTypeFont, width: int,
             fill: tuple[int, int, int], spacing: float = 1.35) -> int:
    """Draw ``text`` wrapped to ``width`` pixels at ``xy``; the y below it."""
    x, y = xy
    step = int(font.size * spacing)
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}".strip()
            if line and draw.textlength(candidate, font=font) > width:
                draw.text((x, y), line, font=font, fill=fill)
                y, line = y + step, word
            else:
                line = candidate
        draw.text((x, y), line, font=font, fill=fill)
        y += step
    return y


def _canvas(size: tuple[int, int], colour: tuple[int, int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", size, colour)
    return image, ImageDraw.Draw(image)


def _stop_code(screen: Screen) -> Image.Image:
    image, draw = _canvas(_WINDOWS_SIZE, _BLUE)
    draw.text((100, 110), ":(", font=_font(120), fill=_WHITE)
    y = _wrapped(draw, (100, 290), "Your PC ran into a problem and needs to restart. We're just collecting some error "
                 "info, and then we'll restart for you.", _font(26), 800, _WHITE)
    _wrapped(draw, (100, y + 20), "20% complete", _font(26), 800, _WHITE)
    digest = hashlib.sha256(screen.code.encode()).digest()
    for cell in range(144):  # a QR-code look-alike, 12×12 cells
        if digest[cell % 32] >> (cell % 8) & 1 or cell in (0, 1, 12, 13, 10, 11, 22, 23, 120, 121, 132, 133):
            left, top = 100 + cell % 12 * 9, 480 + cell // 12 * 9
            draw.rectangle((left, top, left + 8, top + 8), fill=_WHITE)
    y = _wrapped(draw, (240, 480), "For more information about this issue and possible fixes, visit "
                 "https://www.windows.com/stopcode", _font(15), 640, _WHITE)
    y = _wrapped(draw, (240, y + 14), "If you call a support person, give them this info:", _font(15), 640, _WHITE)
    y = _wrapped(draw, (240, y), f"Stop code: {screen.code}", _font(15), 640, _WHITE)
    if screen.what_failed:
        _wrapped(draw, (240, y), f"What failed: {screen.what_failed}", _font(15), 640, _WHITE)
    return image


def _text_mode(rows: dict[int, str], bars: dict[int, tuple[str, str]] | None = None) -> Image.Image:
    """The Boot Manager's 25 rows on 1024×768: light grey on black; ``bars``: rows on a grey band (left, right text).

    Drawn in DejaVu Sans: the monospace fonts at hand draw a dotted zero that OCR reads as ``e``
    or ``@``, which would garble every status code.
    """
    image, draw = _canvas(_WINDOWS_SIZE, _BLACK)
    font, height = _font(20), _WINDOWS_SIZE[1] / _ROWS
    for row, (left, right) in (bars or {}).items():
        draw.rectangle((0, row * height, _WINDOWS_SIZE[0], (row + 1) * height), fill=_GREY)
        if right:
            draw.text((20, row * height + 4), left, font=font, fill=_WHITE)
            draw.text((_WINDOWS_SIZE[0] - 20 - draw.textlength(right, font=font), row * height + 4), right,
                      font=font, fill=_WHITE)
        else:
            _centred(draw, int(row * height + 4), left, font)
    for row, text in rows.items():
        indent = len(text) - len(text.lstrip(" "))
        draw.text((20 + indent * 12, row * height + 4), text.lstrip(" "), font=font, fill=(192, 192, 192))
    return image


def _boot_manager(screen: Screen) -> Image.Image:
    rows: dict[int, str] = {}
    text = ("Windows failed to start. A recent hardware or software change might be the cause. To fix the problem:",
            "", "  1. Insert your Windows installation disc and restart your computer.",
            '  2. Choose your language settings, and then click "Next."', '  3. Click "Repair your computer."', "",
            "If you do not have this disc, contact your system administrator or computer manufacturer for "
            "assistance.", "", "")
    lines = [row for paragraph in text for row in (textwrap.wrap(paragraph, 80) or [""])]
    for label, value in (("File:", screen.file), ("Status:", screen.code), ("Info:", screen.info)):
        if value:
            lines += textwrap.wrap(f"    {label} {value}", 84, subsequent_indent=" " * (len(label) + 5)) + [""]
    rows = {2 + index: line for index, line in enumerate(lines) if line and 2 + index < _ROWS - 1}
    return _text_mode(rows, {0: ("Windows Boot Manager", ""), _ROWS - 1: ("ENTER=Continue", "ESC=Exit")})


def _recovery(screen: Screen) -> Image.Image:
    image, draw = _canvas(_WINDOWS_SIZE, _BLUE)
    draw.text((100, 80), "Recovery", font=_font(40), fill=_WHITE)
    y = _wrapped(draw, (100, 160), "Your PC/Device needs to be repaired", _font(26), 820, _WHITE)
    y = _wrapped(draw, (100, y + 16), screen.info or "The operating system couldn't be loaded because a required "
                 "file is missing or contains errors.", _font(18), 820, _WHITE)
    if screen.file:
        y = _wrapped(draw, (100, y + 16), f"File: {screen.file}", _font(18), 820, _WHITE)
    y = _wrapped(draw, (100, y + 4), f"Error code: {screen.code or '0xc000000e'}", _font(18), 820, _WHITE)
    y = _wrapped(draw, (100, y + 16), "You'll need to use recovery tools. If you don't have any installation media "
                 "(like a disc or USB device), contact your PC administrator or PC/Device manufacturer.",
                 _font(18), 820, _WHITE)
    for key in ("Press Enter to try again", "Press F8 for Startup Settings", "Press Esc for UEFI Firmware Settings"):
        y = _wrapped(draw, (100, y + 10), key, _font(18), 820, _WHITE)
    return image


def _logo(draw: ImageDraw.ImageDraw, top: int) -> None:
    left = (_WINDOWS_SIZE[0] - 130) // 2
    for column, row in ((0, 0), (1, 0), (0, 1), (1, 1)):
        x, y = left + column * 68, top + row * 68
        draw.rectangle((x, y, x + 62, y + 62), fill=(0, 164, 239))


def _spinner(draw: ImageDraw.ImageDraw, centre: tuple[int, int]) -> None:
    for dot in range(5):  # five dots part-way round the circle, as caught mid-animation
        x, y = centre[0] - 20 + dot * 10, centre[1] + int(abs(dot - 2) ** 1.5 * 3)
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=_WHITE)


def _centred(draw: ImageDraw.ImageDraw, y: int, text: str, font: ImageFont.FreeTypeFont) -> None:
    draw.text(((_WINDOWS_SIZE[0] - draw.textlength(text, font=font)) / 2, y), text, font=font, fill=_WHITE)


def _automatic_repair(_screen: Screen) -> Image.Image:
    image, draw = _canvas(_WINDOWS_SIZE, _BLACK)
    _logo(draw, 230)
    _spinner(draw, (_WINDOWS_SIZE[0] // 2, 480))
    _centred(draw, 540, "Preparing Automatic Repair", _font(24))
    return image


def _updating(_screen: Screen) -> Image.Image:
    image, draw = _canvas(_WINDOWS_SIZE, _BLUE)
    _spinner(draw, (_WINDOWS_SIZE[0] // 2, 330))
    _centred(draw, 390, "Getting Windows ready", _font(28))
    _centred(draw, 436, "Don't turn off your computer", _font(28))
    return image


def _applying_policy(_screen: Screen) -> Image.Image:
    image, draw = _canvas(_WINDOWS_SIZE, _BLUE)
    _spinner(draw, (_WINDOWS_SIZE[0] // 2 - 170, 380))
    draw.text((_WINDOWS_SIZE[0] // 2 - 130, 365), "Applying security policy...", font=_font(28), fill=_WHITE)
    return image


def _bootmgr_missing(_screen: Screen) -> Image.Image:
    return _text_mode({0: "BOOTMGR is missing", 1: "Press Ctrl+Alt+Del to restart"})


def _windows_lock(screen: Screen) -> Image.Image:
    image, draw = _canvas(_WINDOWS_SIZE, (16, 42, 84))
    clock = screen.clock or dt.datetime(2026, 11, 25, 8, 45, tzinfo=dt.UTC)
    draw.text((60, 520), clock.strftime("%H:%M"), font=_font(110), fill=_WHITE)
    draw.text((66, 660), clock.strftime("%A, %B %-d"), font=_font(36), fill=_WHITE)
    _centred(draw, 60, "Press Ctrl+Alt+Delete to unlock.", _font(20))
    return image


def _linux_console(screen: Screen) -> Image.Image:
    image, draw = _canvas(_LINUX_SIZE, _BLACK)
    mono = _font(16, mono=True)
    rows = screen.lines[-_ROWS:]
    for row, text in enumerate(rows):
        draw.text((8, row * 24), text, font=mono, fill=_GREY)
    last = rows[-1] if rows else ""
    x, y = 8 + draw.textlength(last, font=mono), max(len(rows) - 1, 0) * 24
    draw.rectangle((x, y + 17, x + 9, y + 20), fill=_GREY)  # the cursor
    return image


_DRAW = {
    "stop_code": _stop_code, "boot_manager": _boot_manager, "recovery": _recovery,
    "automatic_repair": _automatic_repair, "updating": _updating, "applying_policy": _applying_policy,
    "bootmgr_missing": _bootmgr_missing, "windows_lock": _windows_lock, "linux_console": _linux_console,
}
