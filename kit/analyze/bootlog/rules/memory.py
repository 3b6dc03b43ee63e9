"""Memory exhaustion: the kernel's OOM killer in every form it has printed, OOM panics, failed
page allocations, and the user-space OOM killers (systemd's unit results, systemd-oomd, earlyoom).

Sources: the kernel's mm/oom_kill.c (``dump_header``, ``__oom_kill_process``, ``out_of_memory``,
``check_panic_on_oom``) and mm/page_alloc.c (``warn_alloc``) across 2.6 → 6.x; gcpdiag
``gce/warn_2021_005`` (serial logs don't contain out-of-memory messages) and its runbook's
``OOM_PATTERNS`` (gcpdiag/runbook/gce/constants.py); EC2Rescue for Linux's ``oomkiller`` module
(awslabs/aws-ec2rescue-linux, mod.d/oomkiller.yaml, docs/modules/oomkiller.md); systemd's
src/core/unit.c (``unit_check_oom``) and src/oom/oomd-manager.c.

When the process killed is sshd (or the Azure VM agent, waagent) the kind is ``oom_killed_sshd``:
SSH logins (or the agent's extension and password-reset work) stop until it is restarted.
"""

from __future__ import annotations

import re

from kit.analyze.bootlog.rules._base import Context, Hit, Rule, Signature, register

__all__ = ["RULE"]

_OOM_SOURCE = "kernel mm/oom_kill.c; gcpdiag gce/warn_2021_005 (OOM_PATTERNS)"
_UNIT_SOURCE = "systemd src/core/unit.c ('A process of this unit has been killed by the OOM killer')"
#: Processes (kernel comm names) and units whose death alone makes the VM unreachable over SSH or unmanageable
#: by Azure; a per-connection sshd-session is not one of them.
_ACCESS_NAMES = "sshd|waagent|WALinuxAgent"
_ACCESS_UNITS = "sshd?|walinuxagent|waagent"
_ANY_NAME = "[^)]{1,16}"

#: The forms that name the process killed, as templates over the process-name (or unit-name) pattern.
#: 2.6.18 "Out of Memory: Killed process 2592 (mysqld)."; 2.6.3x–4.x "Out of memory: Kill process N (x)
#: score S or sacrifice child" then "Killed process N (x) total-vm:…"; 5.x+ "Out of memory: Killed process
#: N (x) total-vm:…" after "oom-kill:constraint=…,task=x,pid=N"; the memory-cgroup and
#: oom_kill_allocating_task forms carry their own prefix.
_KERNEL_KILL = (r"(?P<why>Out of [Mm]emory(?: \([\w ]+\))?|Memory cgroup out of memory): [Kk]ill(?:ed)? process "
                r"(?P<pid>\d+) \((?P<name>{names})\)")
_BARE_KILL = r"Killed process (?P<pid>\d+) \((?P<name>{names})\)"
_SUMMARY_KILL = r"oom-kill:constraint=(?P<constraint>\w+).*?task=(?P<name>{names}),pid=(?P<pid>\d+)"
_UNIT_KILL = r"(?P<unit>{units})\.service: A process of this unit has been killed by the OOM killer"
_EARLYOOM_KILL = r"sending SIG(?:TERM|KILL) to process (?P<pid>\d+)(?: uid \d+)? \"(?P<name>{names})\""


def _kill(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    """Who was killed, by what, and (for sshd or the VM agent) what stops working."""
    groups = match.groupdict()
    why = groups.get("why") or ""
    if match.group(0).startswith("sending SIG"):
        how = "earlyoom"
    elif groups.get("unit"):
        how = "The OOM killer"
    else:
        how = "The kernel's memory-cgroup OOM killer" if "cgroup" in why or "MEMCG" in (
            groups.get("constraint") or "") else "The kernel's OOM killer"
    if groups.get("unit"):
        victim = f"a process of {groups['unit']}.service"
        name = groups["unit"]
    else:
        name = groups["name"]
        victim = f"{name} (pid {groups['pid']})"
    if signature.kind.endswith(":oom_killed_sshd"):
        if name.startswith("ssh"):
            effect = "SSH logins fail until sshd is restarted"
        else:
            effect = "the Azure VM agent stops handling extensions and password resets until it is restarted"
        return signature.hit(match, summary=f"{how} killed {victim}: the VM ran out of memory and {effect}.")
    return signature.hit(match, summary=f"{how} killed {victim}: the VM ran out of memory.")


def _panic(signature: Signature, match: re.Match[str], context: Context) -> Hit:
    line = match.string
    if "panic_on_oom" in line:
        why = "panic_on_oom is set, so running out of memory panics the kernel instead of killing a process"
    elif "deadlocked" in line:
        why = "the system is deadlocked on memory (the OOM killer's victim could not exit)"
    else:
        why = "it ran out of memory and the OOM killer found no process left to kill"
    return signature.hit(match, summary=f"The kernel panicked because {why}: the VM is down until it is restarted.")


RULE = register(Rule("memory", [
    Signature("boot:memory:oom_panic",
              r"Out of memory and no killable processes|System is deadlocked on memory"
              r"|Out of memory: (?:system-wide|compulsory) panic_on_oom is enabled",
              build=_panic, severity="critical", stage="kernel", os="linux",
              source="kernel mm/oom_kill.c (out_of_memory, check_panic_on_oom)",
              samples=("[ 8812.001342] Kernel panic - not syncing: Out of memory and no killable processes...",
                       "[ 8812.001342] Kernel panic - not syncing: System is deadlocked on memory",
                       "[  931.442187] Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled",
                       "Kernel panic - not syncing: Out of memory: compulsory panic_on_oom is enabled")),
    # sshd or the VM agent killed: the same forms as below, restricted to those names (tried first).
    Signature("boot:memory:oom_killed_sshd", _KERNEL_KILL.format(names=_ACCESS_NAMES), build=_kill,
              severity="critical", os="linux", source=_OOM_SOURCE,
              samples=("[ 6612.420117] Out of memory: Killed process 812 (sshd) total-vm:15432kB, anon-rss:1024kB, "
                       "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:64kB oom_score_adj:0",
                       "Out of memory: Kill process 1022 (waagent) score 31 or sacrifice child")),
    Signature("boot:memory:oom_killed_sshd", _BARE_KILL.format(names=_ACCESS_NAMES), build=_kill,
              severity="critical", os="linux", source=_OOM_SOURCE,
              samples=("Nov 25 09:14:02 vm-01 kernel: Killed process 812 (sshd) total-vm:15432kB, anon-rss:1024kB, "
                       "file-rss:0kB",)),
    Signature("boot:memory:oom_killed_sshd", _SUMMARY_KILL.format(names=_ACCESS_NAMES), build=_kill,
              severity="critical", os="linux", source="kernel mm/oom_kill.c (dump_oom_summary)",
              samples=("[ 6612.419877] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
                       "global_oom,task_memcg=/system.slice/ssh.service,task=sshd,pid=812,uid=0",)),
    Signature("boot:memory:oom_killed_sshd", _UNIT_KILL.format(units=_ACCESS_UNITS), build=_kill,
              severity="critical", os="linux", source=_UNIT_SOURCE,
              samples=("[ 6613.0] systemd[1]: ssh.service: A process of this unit has been killed by the OOM killer.",
                       "Nov 25 09:14:02 vm-01 systemd[1]: walinuxagent.service: A process of this unit has been "
                       "killed by the OOM killer.")),
    Signature("boot:memory:oom_killed_sshd", _EARLYOOM_KILL.format(names=_ACCESS_NAMES), build=_kill,
              severity="critical", os="linux", source="rfjakob/earlyoom kill.c (kill_process)",
              samples=('Nov 25 09:14:02 vm-01 earlyoom[701]: sending SIGTERM to process 812 uid 0 "sshd": '
                       'oom_score 12, VmRSS 9 MiB',)),
    Signature("boot:memory:oom_kill", _KERNEL_KILL.format(names=_ANY_NAME), build=_kill,
              severity="error", os="linux", source=_OOM_SOURCE,
              samples=("[ 6612.420117] Out of memory: Killed process 4121 (java) total-vm:9812344kB, "
                       "anon-rss:7034112kB, file-rss:0kB, shmem-rss:0kB, UID:1001 pgtables:14160kB oom_score_adj:0",
                       "[ 6612.420117] Out of memory: Kill process 4121 (java) score 912 or sacrifice child",
                       "Out of Memory: Killed process 2592 (mysqld).",
                       "[  812.100000] Memory cgroup out of memory: Killed process 2210 (node) total-vm:2291004kB, "
                       "anon-rss:1048576kB, file-rss:30212kB, shmem-rss:0kB, UID:0 pgtables:2560kB oom_score_adj:0",
                       "[  812.100000] Memory cgroup out of memory: Kill process 2210 (node) score 1000 or "
                       "sacrifice child",
                       "[ 6612.420117] Out of memory (oom_kill_allocating_task): Killed process 977 (python3) "
                       "total-vm:812344kB, anon-rss:701412kB, file-rss:0kB, shmem-rss:0kB")),
    Signature("boot:memory:oom_kill", _BARE_KILL.format(names=_ANY_NAME), build=_kill,
              severity="error", os="linux", source=_OOM_SOURCE,
              samples=("[ 6612.428001] Killed process 4121 (java) total-vm:9812344kB, anon-rss:7034112kB, "
                       "file-rss:0kB, shmem-rss:0kB",)),
    Signature("boot:memory:oom_kill", _SUMMARY_KILL.format(names="[^,]{1,16}"), build=_kill,
              severity="error", os="linux", source="kernel mm/oom_kill.c (dump_oom_summary)",
              samples=("[ 6612.419877] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
                       "global_oom,task_memcg=/system.slice/tomcat.service,task=java,pid=4121,uid=1001",
                       "[ 6612.419877] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
                       "oom_memcg=/system.slice/app.service,task_memcg=/system.slice/app.service,task=node,pid=2210,"
                       "uid=0")),
    Signature("boot:memory:oom_kill", _UNIT_KILL.format(units=r"[\w@.:\\-]+"), build=_kill,
              severity="error", os="linux", source=_UNIT_SOURCE,
              samples=("Nov 25 09:14:02 vm-01 systemd[1]: tomcat.service: A process of this unit has been killed by "
                       "the OOM killer.",)),
    Signature("boot:memory:oom_kill", _EARLYOOM_KILL.format(names='[^"]{1,32}'), build=_kill,
              severity="error", os="linux", source="rfjakob/earlyoom kill.c (kill_process)",
              samples=('Nov 25 09:14:02 vm-01 earlyoom[701]: sending SIGTERM to process 4121 uid 1001 "java": '
                       'oom_score 912, VmRSS 7012 MiB, cmdline "/usr/bin/java -jar app.jar"',)),
    Signature("boot:memory:oom_kill", r"Task in (?P<cgroup>\S+) killed as a result of limit of (?P<limit>\S+)",
              "The memory-cgroup OOM killer killed a task of {cgroup} (the limit of {limit} was reached).",
              severity="error", os="linux", source="kernel mm/memcontrol.c (mem_cgroup_print_oom_info, 4.x)",
              samples=("[  812.100000] Task in /system.slice/app.service killed as a result of limit of "
                       "/system.slice/app.service",)),
    Signature("boot:memory:oom_kill",
              r"(?:Killed|Marked) (?P<cgroup>/\S+) (?:for killing )?due to memory (?:pressure|used)",
              "systemd-oomd killed {cgroup} because memory was exhausted.", severity="error", os="linux",
              source="systemd src/oom/oomd-manager.c (monitor_memory_pressure_contexts_handler)",
              samples=("Nov 25 09:14:02 vm-01 systemd-oomd[612]: Killed /user.slice/user-1000.slice/"
                       "session-4.scope due to memory pressure for /user.slice/user-1000.slice being 84.21% > 50.00% "
                       "for > 20s with reclaim activity",
                       "Nov 25 09:14:02 vm-01 systemd-oomd[612]: Marked /system.slice/app.service for killing due to "
                       "memory used (8012345344) / total (8334716928) and swap used (2040109465) / total "
                       "(2147479552) being more than 90.00%")),
    Signature("boot:memory:oom_invoked",
              r"(?P<name>\S{1,16}) invoked oom-killer: gfp_mask=(?P<gfp>[^,\s]+)",
              "{name} found no free memory and invoked the kernel's OOM killer (gfp_mask={gfp}).",
              severity="warning", os="linux", source="kernel mm/oom_kill.c (dump_header); EC2Rescue oomkiller module",
              samples=("[ 6612.419001] java invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), "
                       "order=0, oom_score_adj=0",
                       "Nov 25 09:14:02 vm-01 kernel: [ 6612.419001] kworker/0:2 invoked oom-killer: "
                       "gfp_mask=0x201da, order=0, oom_score_adj=0",
                       "mysqld invoked oom-killer: gfp_mask=0x201d2, order=0, oomkilladj=0")),
    Signature("boot:memory:allocation_failure",
              r"(?P<name>\S{1,16}): page allocation failure[:.] order:(?P<order>\d+)",
              "{name} could not allocate memory (page allocation failure, order {order}).",
              severity="warning", os="linux", explains=False, source="kernel mm/page_alloc.c (warn_alloc)",
              samples=("[ 2210.331201] kworker/u8:3: page allocation failure: order:4, mode:0x40cc0(GFP_KERNEL|"
                       "__GFP_COMP), nodemask=(null),cpuset=/,mems_allowed=0",
                       "[ 2210.331201] swapper/0: page allocation failure. order:1, mode:0x20")),
    Signature("boot:memory:allocation_failure",
              r"(?P<name>\S{1,16}): page allocation stalls for (?P<ms>\d+)ms, order:(?P<order>\d+)",
              "{name} waited {ms} ms for memory (page allocation stall, order {order}): the VM is thrashing.",
              severity="warning", os="linux", explains=False, source="kernel mm/page_alloc.c (warn_alloc, 4.x)",
              samples=("[ 2210.331201] java: page allocation stalls for 10004ms, order:0, "
                       "mode:0x14201ca(GFP_HIGHUSER_MOVABLE|__GFP_COLD), nodemask=(null)",)),
    Signature("boot:memory:oom_reaped", r"oom_reaper: reaped process (?P<pid>\d+) \((?P<name>[^)]{1,16})\)",
              "The OOM reaper freed the memory of {name} (pid {pid}).", os="linux",
              source="kernel mm/oom_kill.c (oom_reap_task_mm)",
              samples=("[ 6612.501773] oom_reaper: reaped process 4121 (java), now anon-rss:0kB, file-rss:0kB, "
                       "shmem-rss:0kB",)),
]))
