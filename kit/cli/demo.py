"""``kit demo``: one whole incident on the lab, from collection to a verified archived report.

``kit demo [--scenario firewall-lockout] [--archive archive]`` starts the lab in this process,
collects the scenario's broken VM and its known-good peers with the real Azure SDK into
``archive/DEMO-<UTC time>/evidence/<time>/<vm>/``, runs ``triage.ipynb`` on them into
``archive/DEMO-<UTC time>/reports/…``, verifies the archive, and prints the HTML report's path
and the top hypothesis. Exit 0 on success; 1 when the notebook failed (its report is archived)
or the archive does not verify, or the scenario is unknown; 2 when ``--archive`` is a file.
Progress goes to stderr (:mod:`kit.cli._progress`); stdout carries only the results.
"""

from __future__ import annotations

import argparse

from kit.cli._common import Commands, existing_folder, safe

__all__ = ["register"]


def register(commands: Commands) -> None:
    """Add ``demo`` to ``kit``."""
    demo = commands.top.add_parser(
        "demo",
        help="run a whole lab incident: collect, triage report, verified archive",
        description="Start the embedded lab (HTTPS, TLS verified, bearer token), collect the scenario's broken VM "
        "and its known-good peers with the real Azure SDK into ARCHIVE/DEMO-<time>/evidence/, run the triage "
        "notebook into ARCHIVE/DEMO-<time>/reports/, verify the archive and print the report's path.",
    )
    demo.add_argument("--scenario", default="firewall-lockout", help="lab scenario (default firewall-lockout)")
    demo.add_argument("--archive", default="archive", metavar="DIR", help="archive root (default ./archive)")
    demo.add_argument("--real-guest", action="store_true",
                      help="the broken VM is a real Debian 12 under QEMU (firewall-lockout, fstab-emergency, "
                           "sshd-broken, kernel-panic; booting adds 20-60 s on TCG)")
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from kit.cli._progress import Progress
    from kit.lab import load_scenario
    from kit.report.demo import run_demo

    existing_folder(args.archive, "--archive")
    info = load_scenario(args.scenario)
    print(f"scenario {safe(info.name)}: {safe(info.title)}", flush=True)
    with Progress("demo") as progress:
        result = run_demo(args.scenario, archive_root=args.archive, progress=progress, real_guest=args.real_guest)
    top = result.top
    print(f"archive:  {safe(result.archive)} ({safe(result.verify_summary)})")
    print(f"top hypothesis: {safe(top.get('kind'))} (next step: {safe(top.get('next_step'))})")
    t = result.timings
    print(f"took {t['total']:.1f} s: lab {t['lab start']:.1f} s, collect {t['collect']:.1f} s, "
          f"notebook {t['execute']:.1f} s, HTML {t['export']:.1f} s")
    print(f"report:   {safe(result.html)}")
    return 0
