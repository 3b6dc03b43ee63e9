"""``kit train …``: guided drills on the lab (list, start, reset, report).

``start`` serves the scenario's variant and JupyterLab in the foreground until Ctrl-C; the lab's
connection reaches the notebook's kernel (and Lab's terminals) through the environment only.

Exit codes: 0 done, 1 JupyterLab or the lab failed, 2 a bad option (an unknown walkthrough, a
negative seed, a port out of range, ``--archive``/``--workspace`` naming a file, ``report`` on an
archive folder that does not exist). Arguments are checked before anything starts; names and
trainees read from the archive are printed with control characters escaped. ``start`` shows its
progress (walkthrough, lab, JupyterLab) on stderr (:mod:`kit.cli._progress`) until the drill is ready.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from contextlib import ExitStack
from pathlib import Path

from kit.cli._common import Commands, existing_folder, number, print_help, print_json, safe, safe_block
from kit.errors import UsageError

__all__ = ["register"]


def register(commands: Commands) -> None:
    """Add ``kit train list|start|reset|report``."""
    train = commands.top.add_parser("train", help="training drills: walkthroughs on the lab, checked automatically")
    sub = train.add_subparsers(dest="train_command", metavar="TRAIN_COMMAND")
    train.set_defaults(handler=lambda _args: print_help(train))

    listing = sub.add_parser("list", help="list the walkthroughs")
    listing.set_defaults(handler=_list)

    start = sub.add_parser("start", help="start the lab and JupyterLab on a walkthrough (foreground until Ctrl-C)")
    start.add_argument("scenario", metavar="SCENARIO")
    start.add_argument("--seed", type=number(int, minimum=0, maximum=2**31 - 1), default=0,
                       help="the variant: VM names, rule names, mount point, sshd option, times (default 0)")
    start.add_argument("--archive", type=Path, default=Path("archive"),
                       help="where drills are recorded (default ./archive)")
    start.add_argument("--workspace", type=Path, default=Path("training"),
                       help="where the trainee's copy of the walkthrough lives (default ./training)")
    start.add_argument("--trainee", default="", help="the trainee's name, for `kit train report`")
    start.add_argument("--port", type=number(int, minimum=0, maximum=65535), default=0,
                       help="JupyterLab's port on 127.0.0.1 (default: a free one)")
    start.add_argument("--fresh", action="store_true", help="start from a fresh copy of the walkthrough")
    start.set_defaults(handler=_start)

    reset = sub.add_parser("reset", help="break the scenario again (in the running lab) and give a fresh walkthrough")
    reset.add_argument("scenario", metavar="SCENARIO")
    reset.add_argument("--workspace", type=Path, default=Path("training"), help="the workspace of `kit train start`")
    reset.add_argument("--archive", type=Path, default=Path("archive"), help="the archive of `kit train start`")
    reset.set_defaults(handler=_reset)

    report = sub.add_parser("report", help="the drills in an archive: scenario, seed, passed, time to repair")
    report.add_argument("--archive", type=Path, default=Path("archive"), help="the archive (default ./archive)")
    report.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    report.set_defaults(handler=_report)



def _list(_args: argparse.Namespace) -> int:
    from kit.train import list_walkthroughs

    rows = [("SCENARIO", "FIX", "TEACHES")] + [(safe(w.scenario), safe(w.fix), safe(w.teaches))
                                               for w in list_walkthroughs()]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    for row in rows:
        print(f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2]}")
    return 0


def _start(args: argparse.Namespace) -> int:
    from kit.cli._progress import Progress
    from kit.train import get_walkthrough, training_lab
    from kit.train.jupyter import prepare_workspace, start_jupyter

    walkthrough = get_walkthrough(args.scenario)
    if args.seed < 0:
        raise UsageError("--seed must be 0 or a positive integer")
    existing_folder(args.archive, "--archive")
    existing_folder(args.workspace, "--workspace")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with ExitStack() as started:
            with Progress("train") as progress:
                progress("preparing the walkthrough (1/3)")
                notebook = prepare_workspace(walkthrough.scenario, args.workspace, archive_root=args.archive,
                                             trainee=args.trainee, fresh=args.fresh)
                progress("starting the lab (2/3)", f"{walkthrough.scenario} seed {args.seed}")
                lab = started.enter_context(training_lab({walkthrough.scenario: args.seed}))
                progress("starting JupyterLab (3/3)")
                server = start_jupyter(args.workspace, env=lab.env(), port=args.port, waiting=lambda seconds:
                                       progress("starting JupyterLab (3/3)", f"waiting for it, {seconds:.0f} s"))
                started.callback(server.stop)
            info = lab.lab.scenario(walkthrough.scenario)
            print(f"drill:      {walkthrough.scenario} (seed {args.seed}): {info.title}")
            print(f"lab:        {lab.endpoint} "
                  "(serving the variant; its token is only in JupyterLab's environment)")
            print(f"notebook:   {notebook}")
            print(f"archive:    {args.archive.resolve()}")
            print(f"\nopen:       {server.notebook_url(notebook.name)}\n")
            print("Run the cells in order. `kit train reset " + walkthrough.scenario + "` "
                  "(in a JupyterLab terminal) breaks the VM again; `kit train report` lists the drills. "
                  "Ctrl-C stops the lab and JupyterLab.",
                  flush=True)
            while not stop.wait(0.5):
                if server.process.poll() is not None:
                    print("JupyterLab exited", file=sys.stderr)
                    return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("training lab and JupyterLab stopped", flush=True)
    return 0


def _reset(args: argparse.Namespace) -> int:
    from kit.train import connect_lab, get_walkthrough
    from kit.train.jupyter import prepare_workspace

    walkthrough = get_walkthrough(args.scenario)
    existing_folder(args.archive, "--archive")
    existing_folder(args.workspace, "--workspace")
    lab = connect_lab()
    if lab is not None and walkthrough.scenario in lab.scenario_names:
        lab.reset(walkthrough.scenario)
        print(f"the lab's {walkthrough.scenario} VM is broken again (consoles to it were closed)")
    else:
        print("no training lab in this shell's environment: the lab is reset by restarting "
              f"`kit train start {walkthrough.scenario}` "
              "(run `kit train reset` from a JupyterLab terminal to reset it live)")
    notebook = prepare_workspace(walkthrough.scenario, args.workspace, archive_root=args.archive, fresh=True)
    print(f"fresh walkthrough: {notebook} (the previous copy is kept next to it); re-open it and run all cells")
    return 0


def _report(args: argparse.Namespace) -> int:
    from kit.train import drill_rows, format_report

    if not Path(args.archive).is_dir():
        raise UsageError(f"--archive {safe(args.archive)} is not a folder (give the archive `kit train start` "
                         "recorded the drills in)")
    rows = drill_rows(args.archive)
    if args.json:
        print_json([r.as_dict() for r in rows])
    else:
        print(safe_block(format_report(rows)))
    return 0
