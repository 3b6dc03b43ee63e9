"""``kit timeline BUNDLE [--jsonl OUT] [--html OUT] [--console CAST …]``: one timeline of a bundle's evidence.

Prints the timeline (time UTC, which kind of time, source, severity, kind, summary) — only its
event count when ``--jsonl`` or ``--html`` is given, unless ``--rows``; ``--jsonl``
writes Timesketch's JSONL import form, ``--html`` a self-contained interactive page (plotly.js
embedded once, works offline). Every printed field has its control characters escaped, so an
Activity Log caller holding ``\r`` or an escape sequence cannot rewrite the line. Exit 0, 1 for
an unreadable bundle or transcript or an output that cannot be written, 2 for a bad option.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TextIO

from kit.cli._common import Commands, safe

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["print_rows", "register"]


def register(commands: Commands) -> None:
    """Add ``timeline`` to ``kit``."""
    parser = commands.top.add_parser(
        "timeline",
        help="lay a bundle's Activity Log, boot log and instance view on one UTC timeline",
        description="Build the timeline of an evidence bundle and print it; write Timesketch JSONL with --jsonl "
        "and an interactive self-contained HTML page with --html (existing files are replaced).",
    )
    parser.add_argument("bundle", metavar="BUNDLE", help="an evidence bundle folder")
    parser.add_argument("--jsonl", metavar="OUT", help="write Timesketch JSONL (message, datetime, timestamp_desc, …)")
    parser.add_argument("--html", metavar="OUT", help="write the interactive figure as one offline HTML page")
    parser.add_argument("--console", nargs="+", metavar="CAST", default=(),
                        help="serial console transcripts (.cast) to add to the console lane")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--quiet", "-q", action="store_true", help="do not print the rows, only what was written")
    output.add_argument("--rows", action="store_true",
                        help="print the rows also when writing --jsonl or --html (which otherwise print only a count)")
    parser.set_defaults(handler=_timeline)


def _short(value: object, width: int) -> str:
    text = safe(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def print_rows(df: pd.DataFrame, out: TextIO | None = None) -> None:
    """Print timeline rows as aligned text (time UTC, time kind, source, severity, kind, summary)."""
    out = out or sys.stdout
    for row in df.itertuples(index=False):
        when = (row.time.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if row.time is not None and row.time == row.time
                else "(no wall time)".ljust(23))
        estimate = "~" if str(row.time_desc).startswith("estimated") else " "
        print(f"{when}{estimate} {safe(row.source):<13} {safe(row.severity):<8} {_short(row.kind, 40):<40} "
              f"{_short(row.summary, 140)}", file=out)


def _timeline(args: argparse.Namespace) -> int:
    from kit.analyze.timeline import (
        build_timeline,
        console_events_from_cast,
        timeline_figure,
        to_timesketch_jsonl,
        write_timeline_html,
    )
    from kit.evidence import load_bundle

    bundle = load_bundle(args.bundle)
    console: list[dict[str, Any]] = []
    for cast in args.console:
        console.extend(console_events_from_cast(cast))
    df = build_timeline(bundle, console_events=console or None)
    if not args.quiet:
        if args.rows or not (args.jsonl or args.html):
            print_rows(df)
        untimed = int(df["time"].isna().sum())
        print(f"{len(df)} events" + (f", {untimed} without wall time" if untimed else "")
              + " (~ = estimated time: from kernel uptime or the preceding line)")
    for warning in df.attrs.get("warnings", []):
        print(f"warning: {safe(warning)}", file=sys.stderr)
    if args.jsonl:
        written = to_timesketch_jsonl(df, args.jsonl)
        skipped = len(df) - written
        print(f"wrote {safe(args.jsonl)}: {written} events in Timesketch JSONL"
              + (f" ({skipped} without wall time left out)" if skipped else ""))
    if args.html:
        fig = timeline_figure(df, title=f"{bundle.name}: {len(df):,} events")
        size = write_timeline_html(fig, args.html, note=f"{bundle.name} — bundle {bundle.path}, collected "
                                   f"{bundle.manifest.get('collected_at', '?')}; times in UTC")
        print(f"wrote {safe(args.html)} ({size / 1e6:.1f} MB, opens offline in any current browser)")
    return 0
