"""Screens whose facts sit on separate lines are joined into one line the rules read; OCR slips are fixed."""

from __future__ import annotations

import pytest

from kit.analyze._screen_layouts import fix_line, join_layouts

BOOT_MANAGER = [
    "Windows Boot Manager",
    "Windows failed to start. A recent hardware or software change might be the",
    "cause. To fix the problem:",
    "File: \\Windows\\system32\\winload.exe",
    "Status: 0xc000000e",
    "Info: The selected entry could not be loaded because the application is",
    "missing or corrupt.",
    "ENTER=Continue ESC=Exit",
]


def test_boot_manager_facts_become_one_line_in_place_of_the_title() -> None:
    layout, lines = join_layouts(BOOT_MANAGER)
    assert layout == "boot_manager"
    assert lines[0] == ("Windows Boot Manager: Status: 0xc000000e File: \\Windows\\system32\\winload.exe Info: The "
                        "selected entry could not be loaded because the application is missing or corrupt.")
    assert lines[1:] == tuple(BOOT_MANAGER[1:3]) + ("ENTER=Continue ESC=Exit",)


def test_boot_manager_without_its_title_bar_is_still_joined() -> None:
    layout, lines = join_layouts(["File: \\Boot\\BCD", "Status: 0xc000000f", "Info: An error occurred."])
    assert layout == "boot_manager"
    assert lines == ("Windows Boot Manager: Status: 0xc000000f File: \\Boot\\BCD Info: An error occurred.",)


def test_stop_code_screen_is_joined_to_the_headline() -> None:
    layout, lines = join_layouts([
        "1", "Your PC ran into a problem and needs to restart. We're just",
        "collecting some error info, and then we'll restart for you.", "20% complete",
        "If you call a support person, give them this info", "Stop code: CRITICAL_PROCESS_DIED",
        "What failed: ntfs.sys"])
    assert layout == "stop_code"
    assert lines == ("1", "Your PC ran into a problem and needs to restart. Stop code: CRITICAL_PROCESS_DIED "
                     "What failed: ntfs.sys", "collecting some error info, and then we'll restart for you.",
                     "20% complete", "If you call a support person, give them this info")


def test_a_stop_code_without_headline_stays_a_line_of_its_own() -> None:
    assert join_layouts(["Stop code: 0x000000EF"]) == ("stop_code", ("Stop code: 0x000000EF",))
    assert join_layouts(["Your device ran into a problem and needs to restart."])[0] == "stop_code"


def test_recovery_screen_is_joined_with_its_sentence() -> None:
    layout, lines = join_layouts([
        "Recovery", "Your PC/Device needs to be repaired",
        "The Boot Configuration Data file doesn't contain valid information for an operating system.",
        "File: \\Boot\\BCD", "Error code: 0xc0000034", "You'll need to use recovery tools."])
    assert layout == "recovery"
    assert lines == ("Recovery: Your PC/Device needs to be repaired. File: \\Boot\\BCD Error code: 0xc0000034 Info: "
                     "The Boot Configuration Data file doesn't contain valid information for an operating system.",
                     "You'll need to use recovery tools.")


def test_other_screens_pass_as_read() -> None:
    lines = ["Preparing Automatic Repair"]
    assert join_layouts(lines) == ("text", tuple(lines))
    assert join_layouts([]) == ("text", ())


@pytest.mark.parametrize(("read", "fixed"), [
    ("Status: @xc000000e", "Status: 0xc000000e"),
    ("Error code: Oxc00O0034", "Error code: 0xc0000034"),
    ("sched-@2 login: _", "sched-02 login: _"),
    ("[ OK ] Started serial-getty@ttyS@.service", "[ OK ] Started serial-getty@ttyS0.service"),
    ("Stop code: CRITICAL PROCESS DIED", "Stop code: CRITICAL_PROCESS_DIED"),
    ("File: \\Windows\\system32\\winload. exe", "File: \\Windows\\system32\\winload.exe"),
    ("  getty@tty1 and user@host stay  ", "getty@tty1 and user@host stay"),
    ("0xc000000e is already right", "0xc000000e is already right"),
])
def test_ocr_slips_that_break_rules_are_corrected(read: str, fixed: str) -> None:
    assert fix_line(read) == fixed
