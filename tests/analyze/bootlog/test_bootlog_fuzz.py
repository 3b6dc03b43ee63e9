"""Bad input never raises: random bytes, shuffled fragments of real logs, NULs, huge lines."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bootlog_data import DATA, read
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit.analyze.bootlog import SEVERITIES, STAGES, BootReport, parse_boot_log

FRAGMENTS = [line for path in sorted(DATA.glob("*.log")) for line in path.read_bytes().split(b"\n")]
NASTY = [b"\x00" * 64, b"\r", b"\r\r\n", b"\x1b[", b"\x1b", b"[0;1;31m", b"\xff\xfe", b"\xc3", b"\xe2\x82",
         b"[#", b"| False |", b"Up 1e999 seconds",
         b"Cloud-init v. 1 running 'x' at Mon, 99 Foo 99999 99:99:99 +9999. Up -1 seconds.",
         b"[99999999999.999999999]", b"IN= OUT= SRC= DST= PROTO= SPT= DPT=", b"Linux version", b"GNU GRUB",
         b"Computer is booting, SAC started and initialized.", b"9999-99-99T99:99:99Z", b"Feb 30 25:61:61 h x:"]


def _check(report: BootReport, data: bytes) -> None:
    assert report.stage in STAGES
    assert report.os in ("linux", "windows", "unknown")
    assert report.platform in ("azure-hyperv", "hyperv", "unknown")
    assert report.size == len(data)
    for finding in report.findings:
        assert finding.severity in SEVERITIES
        assert 1 <= finding.line <= max(report.lines, 1)
        assert finding.evidence == f"serial.log:{finding.line}"
        assert finding.kind.startswith("boot:")
    for event in report.events:
        assert event.boot < max(report.boots, 1)
        assert event.time is None or event.time.tzinfo is not None
    report.to_json()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes_never_raise(data: bytes) -> None:
    _check(parse_boot_log(data), data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(NASTY), st.binary(max_size=40)), max_size=80),
       st.sampled_from([b"\n", b"\r\n", b"\r\r\n", b"", b"\x00"]))
def test_shuffled_fragments_of_real_logs_never_raise(parts: list[bytes], separator: bytes) -> None:
    data = separator.join(parts)
    _check(parse_boot_log(data), data)


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=2000))
def test_random_text_never_raises(text: str) -> None:
    data = text.encode("utf-8", errors="surrogatepass")
    _check(parse_boot_log(data), data)


def test_one_megabyte_single_line_completes_quickly() -> None:
    data = (b"Failed to start x. Kernel panic - not syncing: \x1b[0;1;31m" * 25_000)[: 1 << 20]
    start = time.perf_counter()
    report = parse_boot_log(data)
    assert time.perf_counter() - start < 5
    assert report.lines == 1 and any(w.kind == "long_line" for w in report.warnings)
    assert report.findings and all(len(f.text) < 600 for f in report.findings)


def test_one_megabyte_of_nul_and_garbage_completes() -> None:
    data = b"\x00" * (1 << 20) + bytes(range(256)) * 1024
    _check(parse_boot_log(data), data)


def test_fifty_megabyte_log_completes_with_the_last_boot_described() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
    from analyze import realistic_log

    data = realistic_log(50 * 1024 * 1024)
    data += read("ubuntu-fstab-emergency.log")
    start = time.perf_counter()
    report = parse_boot_log(data)
    elapsed = time.perf_counter() - start
    assert elapsed < 30
    assert report.stage == "systemd" and report.boots > 20
    assert report.findings_of("boot:systemd:emergency_mode")
    assert report.lines > 450_000
