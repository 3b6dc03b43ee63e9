"""SELinux: a relabel at boot, a policy that did not load (PID 1 freezes) and AVC denials.

A relabel is normal once (after /.autorelabel or enabling SELinux) and takes minutes on a big disk;
one in every boot is a loop (judged from the findings' ``boot``, each relabel finding belongs to the
boot it is in). A policy that fails to load in enforcing mode stops the boot before anything runs.

Sources: Microsoft, "SSH connection to Azure Linux virtual machines fails due to SELinux
misconfiguration" (learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-selinux-troubleshooting:
"Failed to load SELinux policy"); systemd src/core/selinux-setup.c ("Failed to load SELinux policy",
"Failed to load new SELinux policy. Continuing with old policy."); policycoreutils selinux-autorelabel
("*** Warning -- SELinux %s policy relabel is required.", "*** Relabeling could take a very long
time") and fixfiles ("Relabeling"); libselinux load_policy ("SELinux:  Could not open policy file");
the kernel's security/selinux/avc.c (``avc:  denied  { … } for  pid=… comm=…``); setroubleshoot
("SELinux is preventing …"); AWS EC2Rescue ``selinuxpermissive`` module.
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_DOCS = "https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-selinux-troubleshooting"
_AUTORELABEL = "fedora-selinux/policycoreutils:policycoreutils/scripts/selinux-autorelabel"
_FIELD = re.compile(r'\b(?P<key>name|path|tclass|permissive|scontext|tcontext)=(?:"(?P<quoted>[^"]*)"|(?P<bare>\S+))')


def _type(context: str) -> str:
    """The SELinux type of a context (``system_u:system_r:sshd_t:s0`` → ``sshd_t``)."""
    parts = context.split(":")
    return parts[2] if len(parts) > 2 else context


def _policy(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    where = f" ({match.group('file')})" if match.group("file") else ""
    return signature.hit(match, summary=f"The SELinux policy could not be loaded{where} and the system is enforcing: "
                         "init stops and nothing starts (boot with selinux=0 or enforcing=0, then fix "
                         "/etc/selinux/config or reinstall the policy package).")


def _relabeling(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    paths = match.group("paths").split()
    shown = " ".join(paths[:6]) + (" …" if len(paths) > 6 else "")
    return signature.hit(match, summary=f"SELinux is relabelling {shown}: the boot pauses until it finishes, then "
                         "reboots.")


def _denied(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    fields = {m.group("key"): m.group("quoted") if m.group("quoted") is not None else m.group("bare")
              for m in _FIELD.finditer(match.group("rest"))}
    target = fields.get("path") or fields.get("name")
    what = f" on {fields.get('tclass', 'object')} {target}" if target else (
        f" on a {fields['tclass']}" if "tclass" in fields else "")
    types = ""
    if "scontext" in fields and "tcontext" in fields:
        types = f" ({_type(fields['scontext'])} → {_type(fields['tcontext'])})"
    perms = " ".join(match.group("perms").split())
    if fields.get("permissive") == "1":
        return signature.hit(match, severity="info", summary=(
            f"SELinux logged (permissive, not enforced) a denial of {perms} for {match.group('comm')} "
            f"(pid {match.group('pid')}){what}{types}."))
    return signature.hit(match, summary=f"SELinux denied {perms} to {match.group('comm')} (pid {match.group('pid')})"
                         f"{what}{types}: wrong file labels (restorecon) or a missing policy rule.")


RULE = register(Rule("selinux", [
    Signature("boot:selinux:policy_load_failed",
              r"Failed to load SELinux policy|Unable to load SELinux Policy|"
              r"SELinux:  ?(?:Could not load policy|Could not open policy file (?:<= )?(?P<file>\S+?):?(?=\s|$))",
              build=_policy,
              severity="critical", os="linux", source=_DOCS,
              samples=("[    1.734001] systemd[1]: Failed to load SELinux policy. Freezing.",
                       "Failed to load SELinux policy :No such file or directory",
                       "Unable to load SELinux Policy. Machine is in enforcing mode. Halting now.",
                       "SELinux:  Could not open policy file <= /etc/selinux/targeted/policy/policy.33:  No such "
                       "file or directory")),
    Signature("boot:selinux:policy_reload_failed", r"Failed to load new SELinux policy",
              "systemd could not load the new SELinux policy and kept the one the initramfs loaded: labels or rules "
              "may be out of date.", severity="warning", os="linux",
              source="systemd/systemd:src/core/selinux-setup.c (mac_selinux_setup)",
              samples=("[    2.100231] systemd[1]: Failed to load new SELinux policy. Continuing with old policy.",)),
    Signature("boot:selinux:relabel", r"\*\*\* Warning -- SELinux (?P<policy>\S+) policy relabel is required",
              "SELinux relabels every file system at this boot ({policy} policy): the boot pauses for minutes and "
              "reboots once; a relabel at every boot is a loop (/.autorelabel cannot be removed).",
              severity="warning", os="linux", source=_AUTORELABEL,
              samples=("[    4.351970] selinux-autorelabel[869]: *** Warning -- SELinux targeted policy relabel is "
                       "required.",
                       "*** Warning -- SELinux targeted policy relabel is required.")),
    Signature("boot:selinux:relabel", r"\*\*\* Relabeling could take a very long time",
              "SELinux is relabelling the file systems: the boot pauses until it finishes, then reboots.",
              severity="warning", os="linux", source=_AUTORELABEL,
              samples=("[    4.352094] selinux-autorelabel[869]: *** Relabeling could take a very long time, depending "
                       "on file system size and speed of hard drives.",)),
    Signature("boot:selinux:relabel", r"\bRelabeling (?P<paths>/\S*(?: /\S*)*)",
              build=_relabeling,
              severity="warning", os="linux", source="fedora-selinux/policycoreutils:policycoreutils/scripts/fixfiles",
              samples=("Relabeling / /boot /dev /dev/hugepages /dev/mqueue /dev/pts /dev/shm /run",
                       "Relabeling /")),
    Signature("boot:selinux:relabel", r"Starting (?:selinux-autorelabel\.service - )?Relabel all filesystems",
              "SELinux's autorelabel service started (/.autorelabel was present): the boot pauses for the relabel, "
              "then reboots.", severity="warning", os="linux",
              source="fedora-selinux/policycoreutils:policycoreutils/scripts/selinux-autorelabel.service",
              samples=("         Starting Relabel all filesystems...",
                       "         Starting selinux-autorelabel.service - Relabel all filesystems...")),
    Signature("boot:selinux:denied",
              r"avc:  denied  \{ (?P<perms>[^}]*?) \} for +pid=(?P<pid>\d+) comm=\"(?P<comm>[^\"]*)\"(?P<rest>.*)",
              build=_denied, severity="warning", os="linux", source="torvalds/linux:security/selinux/avc.c",
              samples=("[   12.512001] audit: type=1400 audit(1764061991.123:45): avc:  denied  { read } for  pid=812 "
                       "comm=\"sshd\" name=\"authorized_keys\" dev=\"sda2\" ino=1234 "
                       "scontext=system_u:system_r:sshd_t:s0-s0:c0.c1023 "
                       "tcontext=unconfined_u:object_r:user_home_t:s0 tclass=file permissive=0",
                       "Nov 25 09:14:02 vm-01 kernel: audit: type=1400 audit(1764061991.123:46): avc:  denied  "
                       "{ name_bind } for  pid=812 comm=\"sshd\" src=2222 scontext=system_u:system_r:sshd_t:s0 "
                       "tcontext=system_u:object_r:unreserved_port_t:s0 tclass=tcp_socket permissive=0")),
    Signature("boot:selinux:denied",
              r"SELinux is preventing (?P<comm>\S+) from (?P<perm>[\w ,]+?) access on the (?P<tclass>\S+) "
              r"(?P<target>\S+?)\.?\s*(?:For complete|$)",
              "SELinux denied {perm} access to {comm} on the {tclass} {target} (setroubleshoot report).",
              severity="warning", os="linux", source="fedora-selinux/setroubleshoot",
              samples=("Nov 25 09:14:05 vm-01 setroubleshoot[1201]: SELinux is preventing /usr/sbin/sshd from read "
                       "access on the file authorized_keys. For complete SELinux messages run: sealert -l 5c3a",)),
]))
