"""Boot-log rules, one module per message family; importing this package registers them all.

Each module defines a rule class with ``NAME``, ``TRIGGERS`` (literal substrings the parser
scans for), a cheap ``matches(line)`` and ``parse_line(line, context)``, and registers one
instance at its bottom. Order matters only for display: every rule sees every triggered line.
"""

from kit.analyze.bootlog.rules import (  # noqa: F401  (imported to register)
    bootloader,
    cloudinit,
    filesystem,
    firewall,
    fstab,
    initramfs,
    kernel,
    platform,
    sshd,
    systemd,
    waagent,
    windows,
)
from kit.analyze.bootlog.rules._base import REGISTRY, Context, Hit, Rule, RuleRegistry, register

__all__ = ["REGISTRY", "Context", "Hit", "Rule", "RuleRegistry", "register"]
