"""What importing the kit's layers costs, in fresh interpreters, against a bare interpreter's start.

    python benchmarks/imports.py [--runs 9] [--tree DIR]

Each statement runs in a new ``python -P -c`` (the working folder not on ``sys.path``) ``--runs`` times; \
the median minus the median of
``python -c pass`` is its cost, printed with the ratio to that bare start and how many modules
(of the kit, of the Azure SDK) it loads. ``--tree DIR`` measures another checkout of the kit
(``git worktree add /tmp/before <commit>``), so a change can be compared with what came before.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

STATEMENTS = (
    "import kit.azure",
    "import kit.analyze",
    "import kit.console",
    "import kit.report.present",
    "import kit.cli",
    "import kit.azure.serialconsole",
    "import kit.analyze.verdict",
    "import kit.analyze.timeline",
)


def _run(code: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-P", "-c", code], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"
    return done.stdout


def _median(code: str, env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-P", "-c", code], env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> int:
    """Measure and print every statement."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per statement (default 9)")
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the checkout of the kit to measure (default: this one)")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(args.tree.resolve())}
    where = _run("import kit, sys; print(kit.__file__)", env).strip()
    bare = _median("pass", env, args.runs)
    print(f"kit from {where}; bare interpreter start {bare * 1000:.0f} ms (median of {args.runs})")
    for statement in STATEMENTS:
        count = ("import sys; before = set(sys.modules); " + statement + "; new = set(sys.modules) - before; "
                 "print(len(new), sum(m.startswith('kit.') for m in new), sum(m.startswith('azure') for m in new))")
        shown = _run(count, env).split()
        if len(shown) != 3:
            print(f"{statement:<34} {' '.join(shown)}")
            continue
        cost = max(_median(statement, env, args.runs) - bare, 0.0)
        print(f"{statement:<34} {cost * 1000:7.1f} ms  {cost / bare:5.2f}x bare start  "
              f"modules {shown[0]:>4} (kit {shown[1]:>3}, azure {shown[2]:>3})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
