"""The walkthrough matrix, executed once per test session: 6 walkthroughs × 3 seeds in solution mode,
and every walkthrough once without the fix.

Per seed, one training lab serves the six variants, and one kernel executes the parameterized
walkthroughs one after the other (papermill's parameterization, the kit's report kernel): the same
cells a trainee runs, without paying a kernel start and the imports 24 times on a 2-core box.
No-fix runs go first, so the solution runs need no reset in between.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

SCENARIOS = ("firewall-lockout", "fstab-emergency", "sshd-broken", "windows-rdp", "nsg-deny", "kernel-panic")
SEEDS = (0, 4, 11)


@dataclass
class Matrix:
    archive: Path
    drills: dict[tuple[str, int, bool], str]      # (scenario, seed, solution) -> drill id
    rows: dict[str, Any]                            # drill id -> DrillRow
    executed: dict[int, Path]                       # seed -> executed combined notebook
    seconds: float


def _combined(seed: int, archive: Path, runs: list[tuple[str, bool]], drills: dict[tuple[str, int, bool], str]
              ) -> nbformat.NotebookNode:
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from kit.train import get_walkthrough

    cells = []
    for scenario, solution in runs:
        drill = f"DRILL-{scenario}-s{seed}-{'fix' if solution else 'nofix'}-{dt.datetime.now(dt.UTC):%H%M%S%f}"
        drills[(scenario, seed, solution)] = drill
        nb = load_notebook_node(str(get_walkthrough(scenario).notebook))
        nb = parameterize_notebook(copy.deepcopy(nb), {"scenario": scenario, "seed": seed, "solution": solution,
                                                      "archive_root": str(archive), "drill_id": drill,
                                                      "postmortem": False, "trainee": "pytest"})
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t != "parameters"]
                cells.append(cell)
        cells.append(nbformat.v4.new_code_cell("drill.close()"))
    head = nbformat.v4.new_code_cell("# the runs below carry their own parameters")
    head.metadata["tags"] = ["parameters"]
    out = nbformat.v4.new_notebook(cells=[head, *cells], metadata=copy.deepcopy(nb.metadata))
    for index, cell in enumerate(out.cells):
        cell.id = f"c{index:03d}"
        cell.metadata.setdefault("tags", [])
    return out


@pytest.fixture(scope="session")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    import time

    from kit.report.runner import execute
    from kit.train import drill_rows, training_lab

    archive = tmp_path_factory.mktemp("train-archive")
    work = tmp_path_factory.mktemp("train-work")
    drills: dict[tuple[str, int, bool], str] = {}
    executed: dict[int, Path] = {}
    started = time.monotonic()
    for seed in SEEDS:
        runs = ([(s, False) for s in SCENARIOS] if seed == SEEDS[1] else []) + [(s, True) for s in SCENARIOS]
        nb = _combined(seed, archive, runs, drills)
        source = work / f"seed{seed}.ipynb"
        nbformat.write(nb, source)
        executed[seed] = work / f"seed{seed}-executed.ipynb"
        with training_lab({s: seed for s in SCENARIOS}) as lab:
            before = {k: os.environ.get(k) for k in lab.env()}
            os.environ.update(lab.env())
            try:
                execute(source, executed[seed], {}, cwd=work, timeout=120)
            finally:
                for key, value in before.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
    rows = {row.drill: row for row in drill_rows(archive)}
    yield Matrix(archive, drills, rows, executed, time.monotonic() - started)
