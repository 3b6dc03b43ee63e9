"""Screens for the OCR tests, drawn by the lab as Azure would serve them, and the skip without Tesseract."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pytest

from kit.analyze.screenshot import ScreenshotReport, analyze_screenshot
from kit.lab._screens import Screen, render_bmp, screen_from_log

SCENARIOS = Path(__file__).resolve().parents[3] / "kit" / "lab" / "scenarios"

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None,
                                     reason="tesseract is not installed (apt-get install tesseract-ocr)")

WINLOAD = "\\Windows\\system32\\winload.exe"
SCREENS: dict[str, Screen] = {
    "stop-code": Screen("stop_code", code="CRITICAL_PROCESS_DIED", what_failed="ntfs.sys"),
    "stop-code-inaccessible": Screen("stop_code", code="INACCESSIBLE_BOOT_DEVICE"),
    "boot-manager-winload": Screen("boot_manager", code="0xc000000e", file=WINLOAD,
                                   info="The selected entry could not be loaded because the application is "
                                        "missing or corrupt."),
    "boot-manager-bcd": Screen("boot_manager", code="0xc000000f", file="\\Boot\\BCD",
                               info="An error occurred while attempting to read the boot configuration data."),
    "recovery-bcd": Screen("recovery", code="0xc0000034", file="\\Boot\\BCD",
                           info="The Boot Configuration Data file doesn't contain valid information for an "
                                "operating system."),
    "automatic-repair": Screen("automatic_repair"),
    "updating": Screen("updating"),
    "applying-policy": Screen("applying_policy"),
    "bootmgr-missing": Screen("bootmgr_missing"),
    "windows-lock": Screen("windows_lock"),
}
#: Linux consoles: the last rows of a built-in scenario VM's serial log.
CONSOLES = {
    "linux-login": "firewall-lockout/serial/sched-02.log",
    "linux-emergency": "fstab-emergency/serial/customs-proc-01.log",
    "linux-panic": "kernel-panic/serial/hist-app-01.log",
}


@cache
def shot(name: str) -> bytes:
    """The BMP of screen ``name`` (a key of SCREENS or CONSOLES)."""
    if name in CONSOLES:
        return render_bmp(screen_from_log((SCENARIOS / CONSOLES[name]).read_bytes(), windows=False))
    return render_bmp(SCREENS[name])


@cache
def report(name: str) -> ScreenshotReport:
    """The screenshot report of screen ``name``, read once per test run."""
    return analyze_screenshot(shot(name))
