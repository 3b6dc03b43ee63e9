"""The walkthrough matrix, executed once per test session: 6 walkthroughs × 3 seeds in solution mode,
and every walkthrough once without the fix.

Per seed, one training lab serves the six variants, and one kernel executes the parameterized
walkthroughs one after the other (papermill's parameterization, the kit's report kernel): the same
cells a trainee runs, without paying a kernel start and the imports 24 times on a 2-core box.
No-fix runs (spread over the seeds) go first, so the solution runs need no reset in between.
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
                                                      "postmortem": False, "trainee": "pytest",
                                                      "figures": False})
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t != "parameters"]
                cells.append(cell)
        cells.append(nbformat.v4.new_code_cell("drill.close()"))
    head = nbformat.v4.new_code_cell("# the runs below carry their own parameters")
    head.metadata["tags"] = ["parameters"]
    for index, cell in enumerate([head, *cells]):  # unique ids before nbformat validates the whole notebook
        cell.id = f"c{index:03d}"
        cell.metadata.setdefault("tags", [])
    return nbformat.v4.new_notebook(cells=[head, *cells], metadata=copy.deepcopy(nb.metadata))


def _kernel_manager(extra_env: dict[str, str]) -> type:
    """The kit's report kernel manager, starting kernels with ``extra_env`` (one training lab each)."""
    from kit.report.kernel import ThisPythonKernelManager

    class _Manager(ThisPythonKernelManager):
        async def start_kernel(self, **kw: Any) -> None:
            kw["env"] = {**os.environ, **(kw.get("env") or {}), **extra_env}
            await super().start_kernel(**kw)

    return _Manager


def _execute(source: Path, executed: Path, seed: int, cwd: Path) -> None:
    import papermill

    from kit.train import training_lab

    with training_lab({s: seed for s in SCENARIOS}) as lab:
        papermill.execute_notebook(str(source), str(executed), parameters={}, kernel_name="python3",
                                   kernel_manager_class=_kernel_manager(lab.env()), store_widget_state=False,
                                   progress_bar=False, log_output=False, cwd=str(cwd), execution_timeout=180,
                                   start_timeout=120)


@pytest.fixture(scope="session")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    import time
    from concurrent.futures import ThreadPoolExecutor

    from kit.train import drill_rows

    archive = tmp_path_factory.mktemp("train-archive")
    work = tmp_path_factory.mktemp("train-work")
    drills: dict[tuple[str, int, bool], str] = {}
    executed: dict[int, Path] = {}
    started = time.monotonic()
    jobs = []
    for seed in SEEDS:
        no_fix = [s for i, s in enumerate(SCENARIOS) if SEEDS[i % len(SEEDS)] == seed]
        runs = [(s, False) for s in no_fix] + [(s, True) for s in SCENARIOS]
        source = work / f"seed{seed}.ipynb"
        nbformat.write(_combined(seed, archive, runs, drills), source)
        executed[seed] = work / f"seed{seed}-executed.ipynb"
        jobs.append((source, executed[seed], seed, work))
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:  # the seeds' labs and kernels run side by side
        for future in [pool.submit(_execute, *job) for job in jobs]:
            future.result()
    rows = {row.drill: row for row in drill_rows(archive)}
    yield Matrix(archive, drills, rows, executed, time.monotonic() - started)
