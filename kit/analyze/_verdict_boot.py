"""Which boot-log findings may drive the classification: a finding must survive a good boot.

- A detect-only finding (context: a soft lockup that passed, an old OOM kill) never counts.
- A finding of a boot that a later boot followed up to its login prompt does not count: that boot
  went well after it.
- A boot-blocking finding (``_verdict_rules.BOOT_BLOCKING``: firmware, boot loader, initramfs,
  fstab, volumes, SELinux policy, systemd freezing or emergency mode, kernel panics and lockups …)
  followed by a login prompt later in the same boot does not count: the boot got past it.
- Every other finding breaks access whenever it happens (sshd, the guest firewall, an OOM-killed
  sshd, a full disk, a full conntrack table, a banned responder) and counts even after a login prompt.

A login prompt is an event of stage ``login`` (``boot:systemd:login_prompt``) or ``windows-login``.
"""

from __future__ import annotations

from kit.analyze._verdict_rules import BOOT_BLOCKING, BOOT_SIGNALS
from kit.analyze.bootlog import BootReport, Finding

__all__ = ["COUNTED_SEVERITIES", "LOGIN_STAGES", "blocks_boot", "boot_signal", "counted_findings"]

#: Severities that can drive the classification (info findings are positive evidence).
COUNTED_SEVERITIES = ("critical", "error", "warning")
#: Stages that mark a login prompt.
LOGIN_STAGES = ("login", "windows-login")


def boot_signal(kind: str) -> str | None:
    """The signal a boot finding kind raises (longest matching key of ``BOOT_SIGNALS``), if any."""
    parts = kind.split(":")
    for cut in range(len(parts), 1, -1):
        signal = BOOT_SIGNALS.get(":".join(parts[:cut]))
        if signal is not None:
            return signal
    return None


def blocks_boot(kind: str) -> bool:
    """Whether a finding kind stops a boot (a key of ``BOOT_BLOCKING`` or under one)."""
    return any(kind == key or kind.startswith(key + ":") for key in BOOT_BLOCKING)


def counted_findings(report: BootReport) -> tuple[Finding, ...]:
    """The findings of every boot that may drive the classification, in log order (see the module)."""
    last_login: dict[int, int] = {}
    for event in report.events:
        if event.stage in LOGIN_STAGES:
            last_login[event.boot] = max(last_login.get(event.boot, 0), event.line)
    return tuple(
        finding for finding in (*report.earlier_findings, *report.findings)
        if finding.severity in COUNTED_SEVERITIES and not getattr(finding, "detect_only", False)
        and not any(boot > finding.boot for boot in last_login)
        and not (blocks_boot(finding.kind) and last_login.get(finding.boot, 0) > finding.line)
    )
