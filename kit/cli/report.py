"""``kit report`` (run a notebook into the incident archive) and ``kit verify`` (check one).

``kit report NOTEBOOK --incident INC-ID [-p name value …] [--pdf] [--archive DIR] [--wait SECONDS]``
    exit 0 and print the HTML path; 1 when a cell failed (the report showing the failure is
    still written and archived) or the archive refuses the run (it changed since its last
    manifest); 2 bad usage or a secret-looking parameter; 6 another run still held the
    incident after ``--wait`` seconds (nothing was written).
``kit verify archive/<INC-ID>`` or ``kit verify archive/`` ``[--allowed-signers FILE] [--witness URL]``
    exit 0 when every file matches the manifest chain (each incident of a folder of incidents),
    and every manifest is signed by an allowed signer and matches the witness when those are given;
    1 otherwise, one line per finding, or when the path holds no incident archive; 2 when the
    path does not exist or is a file.

``kit report`` shows its progress (each cell, the exports) on stderr (:mod:`kit.cli._progress`).

Signing and witnessing the manifests a run writes, and their defaults for ``kit verify``, come
from the environment (:mod:`kit.azure.sealing`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kit.cli._common import Commands, number, safe
from kit.errors import ArchiveError, UsageError

if TYPE_CHECKING:
    from kit.archive import ExtraCheck

__all__ = ["register"]


def register(commands: Commands) -> None:
    """Add ``report`` and ``verify`` to ``kit``."""
    report = commands.top.add_parser(
        "report",
        help="execute a notebook into the incident archive (executed .ipynb + offline HTML)",
        description="Execute NOTEBOOK with papermill into ARCHIVE/INC-ID/reports/<UTC timestamp>-<notebook>/, "
        "export self-contained HTML (and PDF with --pdf) and append to the archive's manifest chain. "
        "NOTEBOOK is a path or one of the kit's notebooks: triage, network-diff, postmortem. "
        "One run at a time writes into an incident: another waits for it (up to --wait seconds). "
        "Exit codes: 0 ok, 1 a cell failed or the archive refused the run, 2 bad usage, "
        "6 the incident stayed busy.",
    )
    report.add_argument("notebook", metavar="NOTEBOOK")
    report.add_argument("--incident", required=True, metavar="INC-ID", help="incident id, e.g. INC-1234")
    report.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a notebook parameter (repeatable); secrets are refused, use the environment")
    report.add_argument("--pdf", action="store_true", help="also print the report to PDF with Debian chromium")
    report.add_argument("--archive", default="archive", metavar="DIR", help="archive root (default: ./archive)")
    report.add_argument("--timeout", type=number(float, minimum=0, maximum=86400, above=True), default=1800.0,
                        metavar="SECONDS", help="seconds a cell may run before it fails (default 1800)")
    report.add_argument("--wait", type=number(float, minimum=0, maximum=86400), default=600.0, metavar="SECONDS",
                        help="seconds to wait while another run writes into the incident (default 600; 0: do not "
                             "wait); then exit 6")
    report.set_defaults(handler=_report)

    verify = commands.top.add_parser(
        "verify",
        help="recompute every hash of an incident archive and check its manifest chain",
        description="Name each file added, removed or altered since the newest manifest, each link or special "
        "file, and any break in the manifest chain; say what verifying the folder alone cannot detect. "
        "PATH is an incident folder, or a folder of incidents (each is verified). "
        "Exit 0 when intact, 1 otherwise, 2 when PATH does not exist or is a file.",
    )
    verify.add_argument("path", metavar="PATH", help="archive/INC-ID, or archive/ for every incident in it")
    verify.add_argument("--allowed-signers", metavar="FILE",
                        help="check every manifest's SSH signature against this allowed_signers file "
                             "(default: $KIT_ARCHIVE_ALLOWED_SIGNERS)")
    verify.add_argument("--witness", metavar="URL",
                        help="compare the chain with its witness: https://<account>.blob.core.windows.net/"
                             "<container>, file:///path or a path (default: $KIT_ARCHIVE_WITNESS)")
    verify.set_defaults(handler=_verify)


def _report(args: argparse.Namespace) -> int:
    from kit.cli._progress import Progress
    from kit.report.params import convert_value
    from kit.report.runner import run_report

    archive = Path(args.archive)
    if archive.exists() and not archive.is_dir():
        raise UsageError(f"--archive {archive} is a file; give the folder that holds incident archives")
    parameters: dict[str, object] = {}
    for name, value in args.parameter:
        if name in parameters:
            raise UsageError(f"parameter {name!r} given twice")
        parameters[name] = convert_value(value)
    with Progress("report") as progress:
        run = run_report(args.notebook, incident=args.incident, parameters=parameters, archive_root=args.archive,
                         pdf=args.pdf, timeout=args.timeout, wait=args.wait, progress=progress)
    print(run.html)
    if run.pdf:
        print(run.pdf)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from kit.archive import find_incidents, is_incident, verify_archive
    from kit.azure.sealing import verify_checks

    path = Path(args.path)
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"{path} does not exist")
    if path.is_symlink() or not path.is_dir():
        what = "a symbolic link" if path.is_symlink() else "a file"
        raise UsageError(f"{path} is {what}; give an incident folder (archive/INC-ID) or a folder of incidents")
    incidents = [path] if is_incident(path) else find_incidents(path)
    if not incidents:
        raise ArchiveError(f"{path} is not an incident archive (it has no manifest.json) and holds none")
    several = len(incidents) > 1 or incidents[0] != path
    checks = verify_checks(allowed_signers=args.allowed_signers, witness=args.witness)
    failed = 0
    limits: list[str] = []
    for root in incidents:
        try:
            result = verify_archive(root, checks=checks)
        except ArchiveError as error:
            failed += 1
            print(safe(f"{root}: {error}"), file=sys.stderr)
            continue
        prefix = f"{root.name}: " if several else ""
        for line in result.lines():
            print(safe(prefix + line))
        for note in result.notes:
            print(safe(f"{prefix}note: {note}"))
        limits = limits or result.limits
        if not several:
            _print_coverage(checks, limits)
        print(safe(f"{root}: {result.summary()}"), file=sys.stdout if result.ok else sys.stderr)
        failed += 0 if result.ok else 1
    if several:
        _print_coverage(checks, limits)
        print(safe(f"{path}: {len(incidents) - failed} of {len(incidents)} incident(s) ok"),
              file=sys.stdout if not failed else sys.stderr)
    return 0 if not failed else 1


def _print_coverage(checks: list[ExtraCheck], limits: list[str]) -> None:
    """What beyond the hashes and the chain was checked, and what could not be."""
    for check in checks:
        print(safe(f"checked: {getattr(check, 'checked', check)}"))
    for limit in limits:
        print(f"not checked: {limit}")
