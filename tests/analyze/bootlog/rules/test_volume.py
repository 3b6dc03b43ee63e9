"""The volume family: LUKS/ADE passphrase prompts and unlock failures, missing LVM volume groups,
logical and physical volumes, and md RAID arrays that failed or run degraded."""

from __future__ import annotations

import pytest
from bootlog_data import ESC, FAILED, OK, only

from kit.analyze.bootlog import Finding, parse_boot_log


def findings(text: str) -> list[Finding]:
    return list(parse_boot_log(text.encode() + b"\r\n").findings)


@pytest.mark.parametrize(("line", "named"), [
    ("Please enter passphrase for disk Virtual_Disk (osencrypt)!: ", "osencrypt on disk Virtual_Disk"),
    (f"{OK} Started Dispatch Password Requests to Console. Please enter passphrase for disk Virtual_Disk "
     "(luks-4a1b2c3d)!", "luks-4a1b2c3d"),
    ("[   12.100231] systemd-cryptsetup[512]: Please enter passphrase for disk sda3_crypt:", "sda3_crypt"),
    ("Please enter passphrase for disk ants--vg-swap_1 (cryptswap1) on none!", "cryptswap1"),
    ("Enter passphrase for /dev/sda2: ", "/dev/sda2"),
    ("Please unlock disk sda5_crypt: ", "sda5_crypt"),
])
def test_a_passphrase_prompt_at_boot_is_critical_and_names_the_volume(line: str, named: str) -> None:
    finding = only(line, "boot:volume:luks_passphrase")
    assert finding.severity == "critical" and named in finding.summary and "Azure" in finding.summary


@pytest.mark.parametrize(("line", "kind", "named", "severity"), [
    ("[   24.817478] dracut-initqueue[261]: + info 'No key found for /dev/sda2.  Will try 1 time(s) more later.'",
     "boot:volume:ade_key_missing", "/dev/sda2", "error"),
    (f"{FAILED} Failed to start {ESC}[0;1;39mCryptography Setup for osencrypt{ESC}[0m.", "boot:volume:crypt_failed",
     "osencrypt", "error"),
    ("[[0;1;31mFAILED[0m] Failed to start [0;1;39msystemd-cryptsetup@osencrypt.service[0m - Cryptography Setup "
     "for osencrypt.", "boot:volume:crypt_failed", "osencrypt", "error"),
    ("cryptsetup: ERROR: sda5_crypt: cryptsetup failed, bad password or options?", "boot:volume:crypt_failed",
     "sda5_crypt", "error"),
    ("No key available with this passphrase.", "boot:volume:crypt_failed", "passphrase", "error"),
    ("[ ***  ] A start job is running for Cryptography Setup for osencrypt (1min 12s / no limit)",
     "boot:volume:crypt_waiting", "osencrypt", "warning"),
])
def test_encrypted_volumes_that_did_not_unlock(line: str, kind: str, named: str, severity: str) -> None:
    finding = only(line, kind)
    assert finding.severity == severity and named in finding.summary


def test_a_failed_cryptography_setup_is_one_volume_finding_not_also_unit_failed() -> None:
    line = f"{FAILED} Failed to start {ESC}[0;1;39mCryptography Setup for osencrypt{ESC}[0m."
    assert [f.kind for f in findings(line)] == ["boot:volume:crypt_failed"]


@pytest.mark.parametrize(("line", "named"), [
    ("  Volume group \"rootvg\" not found", "rootvg"),
    ("[    4.211030] dracut-initqueue[398]: Volume group \"datavg\" not found", "datavg"),
    ("  Cannot process volume group rootvg", "rootvg"),
    ("LV rootvg/rootlv not found", "rootvg/rootlv"),
    ("  Failed to find logical volume \"rootvg/homelv\"", "rootvg/homelv"),
    ("  Refusing activation of partial LV rootvg/rootlv.  Use '--activationmode partial' to override.",
     "rootvg/rootlv"),
])
def test_missing_lvm_volumes_are_critical_and_named(line: str, named: str) -> None:
    finding = only(line, "boot:volume:lvm_missing")
    assert finding.severity == "critical" and named in finding.summary


@pytest.mark.parametrize(("line", "named"), [
    ("  WARNING: Couldn't find device with uuid 8Yd1kA-0Hc3-p6lT-1l2H-W5yF-0Cqg-b8mQ2N.",
     "8Yd1kA-0Hc3-p6lT-1l2H-W5yF-0Cqg-b8mQ2N"),
    ("  WARNING: Device for PV 8Yd1kA-0Hc3-p6lT-1l2H-W5yF-0Cqg-b8mQ2N not found or rejected by a filter.",
     "8Yd1kA-0Hc3-p6lT-1l2H-W5yF-0Cqg-b8mQ2N"),
])
def test_a_missing_physical_volume_is_an_error(line: str, named: str) -> None:
    finding = only(line, "boot:volume:pv_missing")
    assert finding.severity == "error" and named in finding.summary


@pytest.mark.parametrize(("line", "kind", "named", "severity"), [
    ("[    5.102331] md/raid1:md0: not enough operational mirrors.", "boot:volume:raid_failed", "md0", "error"),
    ("[    5.102331] md/raid:md1: not enough operational devices (2/4 failed)", "boot:volume:raid_failed", "md1",
     "error"),
    ("mdadm: failed to RUN_ARRAY /dev/md0: Input/output error", "boot:volume:raid_failed", "/dev/md0", "error"),
    ("mdadm: /dev/md0 assembled from 1 drive - not enough to start the array.", "boot:volume:raid_failed",
     "/dev/md0", "error"),
    ("[    5.102331] md/raid1:md0: active with 1 out of 2 mirrors", "boot:volume:raid_degraded", "1 of 2",
     "warning"),
    ("[    5.102331] md/raid:md1: raid level 5 active with 3 out of 4 devices, algorithm 2",
     "boot:volume:raid_degraded", "3 of 4", "warning"),
    ("[ 8812.331002] md/raid1:md0: Disk failure on sdc1, disabling device.", "boot:volume:raid_degraded", "sdc1",
     "warning"),
    ("Nov 25 09:14:02 vm-01 mdadm[901]: DegradedArray event detected on md device /dev/md0",
     "boot:volume:raid_degraded", "/dev/md0", "warning"),
    ("mdadm: /dev/md0 has been started with 1 drive (out of 2).", "boot:volume:raid_degraded", "1 of 2", "warning"),
    ("[    5.201110] md: md0 stopped.", "boot:volume:raid_stopped", "md0", "info"),
])
def test_raid_arrays(line: str, kind: str, named: str, severity: str) -> None:
    finding = only(line, kind)
    assert finding.severity == severity and named in finding.summary


@pytest.mark.parametrize("line", [
    "[    5.102331] md/raid1:md0: active with 2 out of 2 mirrors",
    "mdadm: No arrays found in config file or automatically",
    f"{OK} Finished {ESC}[0;1;39mCryptography Setup for osencrypt{ESC}[0m.",
    f"{OK} Reached target {ESC}[0;1;39mLocal Encrypted Volumes{ESC}[0m.",
    "         Starting Cryptography Setup for osencrypt...",
    "  Found volume group \"rootvg\" using metadata type lvm2",
    "  2 logical volume(s) in volume group \"rootvg\" now active",
    "[    3.100000] dracut-initqueue[437]: Scanning devices sda4  for LVM logical volumes rootvg/rootlv",
    f"{OK} Started {ESC}[0;1;39mDispatch Password Requests to Console Directory Watch{ESC}[0m.",
])
def test_healthy_volume_lines_give_no_warning_or_worse(line: str) -> None:
    assert not [f for f in findings(line) if f.severity in ("critical", "error", "warning")], line
