"""``kit report`` (run a notebook into the incident archive) and ``kit verify`` (check one).

``kit report NOTEBOOK --incident INC-ID [-p name value …] [--pdf] [--archive DIR]``
    exit 0 and print the HTML path; 1 when a cell failed (the report showing the failure is
    still written and archived); 2 bad usage or a secret-looking parameter.
``kit verify archive/<INC-ID>``
    exit 0 when every file matches the manifest chain; 1 otherwise, one line per finding.
"""

from __future__ import annotations

import argparse
import sys

from kit.cli._common import Commands
from kit.errors import UsageError

__all__ = ["register"]


def register(commands: Commands) -> None:
    """Add ``report`` and ``verify`` to ``kit``."""
    report = commands.top.add_parser(
        "report",
        help="execute a notebook into the incident archive (executed .ipynb + offline HTML)",
        description="Execute NOTEBOOK with papermill into ARCHIVE/INC-ID/reports/<UTC timestamp>-<notebook>/, "
        "export self-contained HTML (and PDF with --pdf) and append to the archive's manifest chain. "
        "NOTEBOOK is a path or one of the kit's notebooks: triage, network-diff, postmortem.",
    )
    report.add_argument("notebook", metavar="NOTEBOOK")
    report.add_argument("--incident", required=True, metavar="INC-ID", help="incident id, e.g. INC-1234")
    report.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a notebook parameter (repeatable); secrets are refused, use the environment")
    report.add_argument("--pdf", action="store_true", help="also print the report to PDF with Debian chromium")
    report.add_argument("--archive", default="archive", metavar="DIR", help="archive root (default: ./archive)")
    report.add_argument("--timeout", type=float, default=1800.0, metavar="SECONDS",
                        help="seconds a cell may run before it fails (default 1800)")
    report.set_defaults(handler=_report)

    verify = commands.top.add_parser(
        "verify",
        help="recompute every hash of an incident archive and check its manifest chain",
        description="Name each file added, removed or altered since the newest manifest, and any break in "
        "the manifest chain. Exit 0 when the archive is intact, 1 otherwise.",
    )
    verify.add_argument("path", metavar="archive/INC-ID")
    verify.set_defaults(handler=_verify)


def _report(args: argparse.Namespace) -> int:
    from kit.report.params import convert_value
    from kit.report.runner import run_report

    parameters: dict[str, object] = {}
    for name, value in args.parameter:
        if name in parameters:
            raise UsageError(f"parameter {name!r} given twice")
        parameters[name] = convert_value(value)
    run = run_report(args.notebook, incident=args.incident, parameters=parameters,
                     archive_root=args.archive, pdf=args.pdf, timeout=args.timeout)
    print(run.html)
    if run.pdf:
        print(run.pdf)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from kit.archive import verify_archive

    result = verify_archive(args.path)
    for line in result.lines():
        print(line)
    stream = sys.stdout if result.ok else sys.stderr
    print(f"{args.path}: {result.summary()}", file=stream)
    return 0 if result.ok else 1
