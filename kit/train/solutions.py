"""The reference fixes, performed the way a trainee would: through the console session, or ARM.

Each solution reads what the console shows before acting (the offending line from ``sshd -t``, the
stale mount from ``mount -a``), so it follows the variant the drill runs on. Papermill runs the
walkthroughs with ``solution=True`` to prove each one solvable.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kit.errors import KitError

if TYPE_CHECKING:
    from kit.console.session import Session

__all__ = ["CONSOLE_SOLUTIONS", "solve_console"]


def _firewall(session: Session, username: str, password: str, facts: dict[str, Any]) -> list[str]:
    session.login(username, password)
    done = [session.run("sudo iptables -S")]
    for blocked in facts.get("blocked") or [{"src": "203.0.113.7", "port": 22}]:
        network = ".".join(str(blocked["src"]).split(".")[:3]) + ".0/24"
        session.run(f"sudo iptables -I INPUT -p tcp -s {network} --dport {int(blocked['port'])} -j ACCEPT")
    session.run("sudo netfilter-persistent save")
    done.append(session.run("sudo iptables -S"))
    return done


def _fstab(session: Session, username: str, password: str, facts: dict[str, Any]) -> list[str]:
    session.expect(r"Give root password for maintenance", timeout=15)
    session.login("root", password)
    failed = session.run("mount -a")
    match = re.search(r"mount: (\S+): can't find", failed)
    if not match:
        raise KitError(f"the console did not show the failing mount: {failed!r}")
    mount = match.group(1)
    escaped = mount.replace("/", r"\/")
    session.run(f"sed -i '/{escaped}/s/^/#/' /etc/fstab")
    session.run("systemctl daemon-reload")
    after = session.run("mount -a")
    session.sendline("systemctl reboot")
    session.expect(r"login: $", timeout=20)
    return [failed, after]


def _sshd(session: Session, username: str, password: str, facts: dict[str, Any]) -> list[str]:
    session.login(username, password)
    errors = session.run("sudo sshd -t")
    where = re.search(r"^(/\S+?):? line (\d+): Bad configuration option", errors, re.M)
    if not where:
        raise KitError(f"sshd -t did not name a bad line: {errors!r}")
    path, line = where.groups()
    session.run(f"sudo sed -i '{line}s/^/#/' {path}")
    clean = session.run("sudo sshd -t")
    session.run("sudo systemctl restart ssh")
    return [errors, clean]


def _rdp(session: Session, username: str, password: str, facts: dict[str, Any]) -> list[str]:
    session.login(username, password)
    config = session.run("sc qc TermService")
    session.run("sc config TermService start= demand")
    started = session.run("net start TermService")
    return [config, started]


#: scenario → ``fix(session, username, password, facts) -> [console outputs]``
CONSOLE_SOLUTIONS = {"firewall-lockout": _firewall, "fstab-emergency": _fstab, "sshd-broken": _sshd,
                     "windows-rdp": _rdp}


def solve_console(scenario: str, session: Session, username: str, password: str, facts: dict[str, Any]) -> list[str]:
    """Fix ``scenario``'s VM through ``session`` (opened); returns the console outputs it read."""
    try:
        fix = CONSOLE_SOLUTIONS[scenario]
    except KeyError:
        raise KitError(f"{scenario} has no console fix: its right answer is not the console") from None
    return fix(session, username, password, facts)
