"""Run a walkthrough headless with papermill (``solution=True`` performs the fix) and archive it.

The executed notebook is written outside the archive while it runs (papermill rewrites it cell by
cell, and the archive only takes files that never change), then copied into
``archive/<drill>/walkthrough/`` and recorded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kit.archive import atomic_write, new_incident
from kit.azure.sealing import sealed
from kit.errors import UsageError
from kit.report.runner import describe_failure, execute
from kit.times import utc_text
from kit.train.records import DrillRow, drill_prefix, drill_rows
from kit.train.registry import get_walkthrough

if TYPE_CHECKING:
    from kit.train.lab import TrainingLab

__all__ = ["WalkthroughRun", "run_walkthrough"]


@dataclass
class WalkthroughRun:
    """One headless walkthrough run.

    Attributes
    ----------
    drill
        The drill id (its incident folder under the archive root).
    executed
        The executed notebook, as archived.
    error
        The failing cell's error, or ``None``.
    row
        The drill as ``kit train report`` lists it (``None`` if the drill never started).
    """

    drill: str
    executed: Path | None
    error: str | None
    row: DrillRow | None

    @property
    def passed(self) -> bool:
        """Whether the drill's check passed."""
        return bool(self.row and self.row.passed)


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    before = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_walkthrough(scenario: str, *, seed: int | None = None, solution: bool = False,
                    archive_root: str | os.PathLike[str] = "archive", lab: TrainingLab | None = None,
                    postmortem: bool = False, trainee: str = "", figures: bool = False,
                    timeout: float | None = 300) -> WalkthroughRun:
    """Execute ``notebooks/training/<scenario>.ipynb`` and record it with the drill.

    Parameters
    ----------
    scenario
        The walkthrough.
    seed
        The variant (with ``lab``: must be the one it serves; ``None`` takes it).
    solution
        Perform the fix (through the session API, or ARM for ``nsg-deny``).
    archive_root
        Where the drill goes.
    lab
        A :class:`~kit.train.lab.TrainingLab` to run against (the scenario is reset first);
        ``None`` lets the notebook's kernel start its own.
    postmortem
        Also generate the trainee's postmortem (about 10 s more).
    trainee
        Recorded with the drill.
    figures
        Draw the interactive timeline (about 5 MB of plotly in the archived notebook).
    timeout
        Seconds allowed per cell.
    """
    walkthrough = get_walkthrough(scenario)
    if lab is not None:
        served = lab.seeds.get(scenario)
        if served is None:
            raise UsageError(f"the training lab does not serve {scenario}")
        if seed is not None and seed != served:
            raise UsageError(f"the training lab serves seed {served} of {scenario}, not {seed}")
        seed = served
        lab.reset(scenario)
    seed_value = 0 if seed is None else int(seed)
    root = new_incident(archive_root, drill_prefix(scenario, seed_value))
    drill = root.name
    parameters = {"scenario": scenario, "seed": seed_value, "solution": bool(solution), "trainee": trainee,
                  "archive_root": str(Path(archive_root).resolve()), "drill_id": drill, "postmortem": bool(postmortem),
                  "figures": bool(figures)}
    work = Path(tempfile.mkdtemp(prefix="kit-walkthrough-"))
    executed = work / walkthrough.notebook.name
    error: str | None = None
    try:
        with _environment(lab.env() if lab is not None else {}):
            try:
                execute(walkthrough.notebook, executed, parameters, cwd=work, timeout=timeout)
            except Exception as failure:  # noqa: BLE001 - archived, then reported in the result
                error = describe_failure(failure)[0]
        archived = None
        with sealed(root, "walkthrough", about={"notebook": f"training/{executed.name}"}) as stage:
            if executed.exists():
                atomic_write(stage.folder / "walkthrough" / executed.name, executed.read_bytes())
                archived = root / "walkthrough" / executed.name
            stage.commit({"kind": "drill", "event": "walkthrough", "at": utc_text(),
                          "notebook": f"training/{executed.name}", "parameters": parameters,
                          "status": "failed" if error else "ok", "error": error})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    row = next((r for r in drill_rows(archive_root) if r.drill == drill), None)
    return WalkthroughRun(drill=drill, executed=archived, error=error, row=row)
