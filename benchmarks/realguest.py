"""Benchmark the real guest: image build (cold, cached), variant creation, boot to login, and per case
study the time from connecting to the serial console to a fix proven by ``kit lab check`` (real SSH).

Run: ``.venv/bin/python benchmarks/realguest.py [--cold] [--only NAME]``. ``--cold`` builds the image
into a scratch cache (minutes; needs the package mirror); without it the cold figure is the one the
cache recorded when it was built. Ratios are against figures measured in the same run: a variant
against a rebuild, a cached build against a cold one, a case study against its boot.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PASSWORD = "Lab-Only-Pa55!"


def _fix_firewall(session: Any) -> None:
    session.execute("sudo iptables -I INPUT -p tcp --dport 22 -j ACCEPT", password=PASSWORD)
    session.execute("sudo netfilter-persistent save", password=PASSWORD)


def _fix_sshd(session: Any) -> None:
    session.execute("sudo sed -i '/StreamLocalBindUnlnk/d' /etc/ssh/sshd_config.d/50-cloud-init.conf",
                    password=PASSWORD)
    session.execute("sudo systemctl reset-failed ssh; sudo systemctl restart ssh", password=PASSWORD)


def _fix_fstab(session: Any) -> None:
    session.execute("sed -i 's|^UUID=b4e2d8f0-61a3-4c57-9d2e-08f7c3a1b965|# &|' /etc/fstab")
    session.sendline("systemctl reboot")


#: scenario → (login user, the fix typed at the console, whether the fix reboots the VM)
CASES: dict[str, tuple[str, Callable[[Any], None], bool]] = {
    "firewall-lockout": ("azureuser", _fix_firewall, False),
    "sshd-broken": ("azureuser", _fix_sshd, False),
    "fstab-emergency": ("root", _fix_fstab, True),
}


def _case(name: str) -> tuple[float, float]:
    """Boot seconds, then seconds from console connect to a passing check."""
    from kit.console import open_lab_session
    from kit.lab import running_lab

    user, fix, reboots = CASES[name]
    with running_lab(scenarios=[name]) as lab:
        guest = lab.add_real_guest(name)
        guest.wait_until_booted(900)
        booted = time.monotonic() - guest.started
        start = time.monotonic()
        with open_lab_session(lab, name, approval="BENCH") as session:
            session.login(user, PASSWORD)
            before = guest.qemu.log_size()
            fix(session)
        if reboots:
            guest.wait_until_booted(900, after=before)
        result = lab.check(name)
        if not result.passed:
            raise SystemExit(f"{name}: the fix did not pass the check: {result.message}")
        return booted, time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="build the image from scratch into a scratch cache")
    parser.add_argument("--only", choices=sorted(CASES), help="one case study")
    args = parser.parse_args(argv)
    from kit.lab.realguest import VARIANTS, accelerator, build_base, make_variant

    if args.cold:
        with tempfile.TemporaryDirectory(prefix="kit-guest-cold-") as scratch:
            start = time.monotonic()
            build_base(Path(scratch))
            cold = time.monotonic() - start
    start = time.monotonic()
    image = build_base(progress=print)
    cached = time.monotonic() - start
    cold = cold if args.cold else image.build_seconds
    print(f"image build, cold:   {cold:7.1f} s  ({'this run' if args.cold else 'recorded by the cache'})")
    print(f"image build, cached: {cached:7.3f} s  ({cold / max(cached, 1e-3):,.0f}x faster than cold)")
    with tempfile.TemporaryDirectory(prefix="kit-guest-variants-") as scratch:
        for variant in VARIANTS:
            start = time.monotonic()
            make_variant(image, variant, Path(scratch) / f"{variant}.img", hostname="bench-01")
            seconds = time.monotonic() - start
            print(f"variant {variant:<24} {seconds:5.1f} s  ({cold / seconds:4.0f}x faster than a rebuild)")
            (Path(scratch) / f"{variant}.img").unlink()
    for name in [args.only] if args.only else CASES:
        booted, fixed = _case(name)
        print(f"{name:<17} boot to prompt {booted:5.0f} s; connect → fix proven by SSH {fixed:5.0f} s "
              f"({fixed / booted:.2f}x the boot)")
    print(f"acceleration: {accelerator(image.disk)} (decided by a probe boot of the guest's kernel)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
