"""The lab's boot-diagnostics screenshots: which screen each VM shows, how it is drawn, and serving it over the SDK."""

from __future__ import annotations

import io
import shutil
import struct
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml
from PIL import Image

from kit.errors import LabError
from kit.lab import RunningLab, list_scenarios, running_lab
from kit.lab._screens import SCREENS, Screen, console_rows, render_bmp, screen_from_log
from kit.lab.guest import load_guest
from lab.conftest import DATA, RG, SUB, Token, client_kwargs

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None,
                                     reason="tesseract is not installed (apt-get install tesseract-ocr)")
SCENARIOS = {info.name: info for info in list_scenarios()}


def _screen(scenario: str, vm: str) -> Screen:
    info = SCENARIOS[scenario]
    return screen_from_log((info.path / "serial" / f"{vm}.log").read_bytes(), windows=info.guest.get("os") == "windows")


def _computer_name(info: Any, vm: str) -> str:
    """The host name the console prompts with: a scale-set instance's is its computer name, not its ARM name."""
    view = yaml.safe_load((info.path / "instance_views" / f"{vm}.json").read_text(encoding="utf-8"))
    return str(view.get("computerName") or vm)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_healthy_peer_shows_its_login(scenario: str) -> None:
    info = SCENARIOS[scenario]
    for vm in info.known_good:
        screen = _screen(scenario, vm)
        if info.guest.get("os") == "windows":
            assert screen.kind == "windows_lock"
        else:
            assert screen.kind == "linux_console"  # agents may log below the prompt, as on a real console
            host = _computer_name(info, vm)
            assert any(f"{host} login:" in row for row in screen.lines), screen.lines[-3:]


@pytest.mark.parametrize(("scenario", "last"), [
    ("fstab-emergency", "(or press Control-D to continue):"),
    ("kernel-panic", "on unknown-block(0,0) ]---"),
    ("deallocated", "reboot: Power down"),
    ("sshd-broken", "login:"),
])
def test_broken_linux_vms_show_the_end_of_their_console(scenario: str, last: str) -> None:
    screen = _screen(scenario, SCENARIOS[scenario].broken_vm)
    assert screen.kind == "linux_console" and len(screen.lines) <= 25
    shown = [row for row in screen.lines if row.strip()]
    assert shown[-1].rstrip().endswith(last), screen.lines[-3:]


def test_windows_screens_follow_the_last_boot_in_the_serial_log() -> None:
    assert _screen("windows-rdp", "claims-app-01").kind == "windows_lock"
    stop = screen_from_log(b"Computer is booting, SAC started and initialized.\r\n*** STOP: 0x000000EF (0x1, 0x2)\r\n",
                           windows=True)
    assert (stop.kind, stop.code) == ("stop_code", "CRITICAL_PROCESS_DIED")
    assert screen_from_log(b"*** STOP: 0x00000123\r\n", windows=True).code == "0x00000123"
    assert screen_from_log(b"Stop code: 0x0000007B\r\n", windows=True).code == "INACCESSIBLE_BOOT_DEVICE"
    manager = screen_from_log(b"Windows Boot Manager\r\nFile: \\Boot\\BCD\r\nStatus: 0xc000000f\r\n"
                              b"Info: An error occurred while attempting to read the boot configuration data.\r\n",
                              windows=True)
    assert (manager.kind, manager.code, manager.file) == ("boot_manager", "0xc000000f", "\\Boot\\BCD")
    assert manager.info.startswith("An error occurred")
    again = screen_from_log(b"*** STOP: 0x0000007B\r\nComputer is booting, SAC started and initialized.\r\n",
                            windows=True)
    assert again.kind == "windows_lock"
    assert screen_from_log(b"BOOTMGR is missing\r\n", windows=True).kind == "bootmgr_missing"


def test_a_console_drops_colours_honours_carriage_returns_and_cuts_long_lines() -> None:
    rows = console_rows("\x1b[0;32m  OK  \x1b[0m done\r\nprogress 10%\rprogress 99%\r\n" + "x" * 170 + "\r\n\r\n\r\n")
    assert rows[:2] == ("  OK   done", "progress 99%")
    assert rows[2:5] == ("x" * 80, "x" * 80, "x" * 10) and rows[-1] == ""
    assert len(console_rows("line\n" * 100)) == 25


@pytest.mark.parametrize("kind", SCREENS)
def test_every_screen_is_a_24_bit_bmp_of_a_console_size(kind: str) -> None:
    data = render_bmp(Screen(kind, code="0xc000000e", file="\\Windows\\system32\\winload.exe", info="x.",
                             lines=("host login: ",)))
    magic, size = struct.unpack("<2sI", data[:6])
    width, height, _planes, bits = struct.unpack("<iiHH", data[18:30])
    assert (magic, size, bits) == (b"BM", len(data), 24)
    assert (width, height) == ((800, 600) if kind == "linux_console" else (1024, 768))
    assert render_bmp(Screen(kind)) == render_bmp(Screen(kind)), "deterministic"


def test_a_scenario_names_its_screen_in_scenario_yaml() -> None:
    assert Screen.from_setting("automatic_repair", "x") == Screen("automatic_repair")
    assert Screen.from_setting({"kind": "stop_code", "code": "CRITICAL_PROCESS_DIED"}, "x").code == \
        "CRITICAL_PROCESS_DIED"
    for bad in ("blue", {"kind": "stop_code", "colour": "blue"}, {"code": "0x1"}):
        with pytest.raises(LabError, match="scenario.yaml: guest.screen must be one of"):
            Screen.from_setting(bad, "scenario.yaml")  # type: ignore[arg-type]


def _shot(lab: RunningLab, subscription: str, group: str, vm: str) -> Image.Image:
    from azure.mgmt.compute import ComputeManagementClient

    compute = ComputeManagementClient(Token(lab.token), subscription, **client_kwargs(lab))
    uris = compute.virtual_machines.retrieve_boot_diagnostics_data(group, vm, sas_uri_expiration_time_in_minutes=5)
    answer = requests.get(uris.console_screenshot_blob_uri, verify=str(lab.ca_path), timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/bmp"
    image = Image.open(io.BytesIO(answer.content))
    assert image.format == "BMP"
    image.load()
    return image


def test_the_sdk_path_serves_the_console_drawn_from_the_serial_log(tiny_lab: RunningLab) -> None:
    image = _shot(tiny_lab, SUB, RG, "web-01")
    expected = render_bmp(screen_from_log((DATA / "tiny" / "serial" / "web-01.log").read_bytes(), windows=False))
    assert image.size == (800, 600) and image.tobytes() == Image.open(io.BytesIO(expected)).tobytes()


@pytest.fixture(scope="module")
def stop_code_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    """The tiny scenario whose broken VM sits on a stop-code screen (its serial port silent)."""
    root = tmp_path_factory.mktemp("screens")
    shutil.copytree(DATA / "tiny", root / "tiny")
    spec = yaml.safe_load((root / "tiny" / "scenario.yaml").read_text())
    spec["guest"]["screen"] = {"kind": "stop_code", "code": "CRITICAL_PROCESS_DIED", "what_failed": "ntfs.sys"}
    (root / "tiny" / "scenario.yaml").write_text(yaml.safe_dump(spec))
    with running_lab(scenario_dirs=[root]) as lab:
        yield lab


def test_a_scenario_screen_is_served_for_its_broken_vm_only(stop_code_lab: RunningLab) -> None:
    assert _shot(stop_code_lab, SUB, RG, "web-01").size == (1024, 768)
    assert _shot(stop_code_lab, SUB, RG, "web-02").size == (800, 600)


@needs_tesseract
def test_the_served_stop_code_is_read_back_as_a_bugcheck(stop_code_lab: RunningLab) -> None:
    from kit.analyze.screenshot import analyze_screenshot

    out = io.BytesIO()
    _shot(stop_code_lab, SUB, RG, "web-01").save(out, format="BMP")
    report = analyze_screenshot(out.getvalue())
    bugchecks = [f for f in report.findings if f.kind == "boot:windows:bugcheck"]
    assert bugchecks and "CRITICAL_PROCESS_DIED" in bugchecks[0].summary


def _mount_point(info: Any) -> str:
    return str(yaml.safe_load((info.path / "scenario.yaml").read_text())["facts"]["mount_point"])


def _fix_fstab(guest: Any, mount_point: str) -> None:
    guest.feed(guest.shell.password + "\r")
    escaped = mount_point.replace("/", r"\/")
    guest.feed(f"sed -i '/{escaped}/s/^/#/' /etc/fstab\r")
    guest.feed("systemctl reboot\r")


@pytest.fixture(scope="module")
def own_lab() -> Iterator[RunningLab]:
    """A lab of this module's own: the test below changes a guest."""
    with running_lab() as lab:
        yield lab


def test_the_screen_follows_the_guest_after_a_console_fix(own_lab: RunningLab) -> None:
    from kit.lab.gateway import hub_of

    info = own_lab.scenario("fstab-emergency")
    before = _shot(own_lab, info.subscription_id, info.resource_group, info.broken_vm)
    guest = hub_of(own_lab.state).scenario_guest(info.name)  # the guest the serial console drives
    _fix_fstab(guest, _mount_point(info))
    after = _shot(own_lab, info.subscription_id, info.resource_group, info.broken_vm)
    assert before.tobytes() != after.tobytes()
    out = io.BytesIO()
    after.save(out, format="BMP")
    assert render_bmp(screen_from_log(guest.boot_log(), windows=False)) == out.getvalue()
    assert screen_from_log(guest.boot_log(), windows=False).lines[-1].rstrip().endswith(f"{info.broken_vm} login:")


def test_the_guest_boot_log_alone_decides_the_screen() -> None:
    info = SCENARIOS["fstab-emergency"]
    guest = load_guest(info)
    assert screen_from_log(guest.boot_log(), windows=False).lines[-1].startswith("(or press Control-D")
    _fix_fstab(guest, _mount_point(info))
    assert screen_from_log(guest.boot_log(), windows=False).lines[-1].rstrip().endswith("login:")
