"""``run_report``: execute a parameterized notebook into the incident archive.

The steps, each a function of its own::

    resolve_notebook → check_parameters → load_notebook
    → staged (lock the incident, recover dead runs, check) → run_dir in the stage → execute
    → export HTML (→ PDF) → commit (move into place + manifest, one step) → raise if a cell failed

The whole run, from the check to the manifest, holds the incident's lock: a second run into the
same incident waits (saying for whom) and gives up with :class:`~kit.errors.ArchiveBusyError`
after ``wait`` seconds. The kernel writes only into the run's staging folder
(``<incident>/.staging/<id>/``, which it gets as ``archive_dir``; ``run_dir`` is inside it);
nothing there is recorded until the commit moves it into place, so a run killed half-way is
recorded by the next one as ``abandoned`` instead of adopted (:mod:`kit.archive.stage`).

A failing cell still leaves the executed notebook and its HTML (showing the error) in the
run folder, and the archive records the run as ``failed`` before
:class:`~kit.errors.NotebookExecutionError` is raised.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from kit.archive import DEFAULT_WAIT, AfterWrite, incident_dir, staged
from kit.azure.request import StepCallback
from kit.azure.sealing import after_write_from_env
from kit.errors import NotebookExecutionError, ReportError, UsageError
from kit.report.export import export_html, export_pdf
from kit.report.kernel import ThisPythonKernelManager
from kit.report.params import check_parameters
from kit.times import utc_text

__all__ = [
    "NOTEBOOK_DIR",
    "ReportRun",
    "execute",
    "describe_failure",
    "load_notebook",
    "notebook_parameters",
    "resolve_notebook",
    "run_report",
]

#: Where the kit's own notebooks live (``triage``, ``network-diff``, ``postmortem``).
NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"

#: Parameters the runner fills in when the notebook declares them.
_INJECTED = ("incident", "run_dir", "archive_dir")

_log = logging.getLogger(__name__)


@dataclass
class ReportRun:
    """One execution of one notebook, as archived.

    Attributes
    ----------
    incident
        The incident id.
    notebook
        The source notebook.
    run_dir
        ``archive/<incident>/reports/<UTC timestamp>-<notebook>/`` (in the run's staging folder
        while it executes, in the incident once recorded).
    executed
        The executed ``.ipynb`` in ``run_dir``.
    html
        The exported HTML page (``None`` only when the kernel never ran).
    pdf
        The PDF when asked for.
    parameters
        The parameters as recorded (never secrets).
    status
        ``ok`` or ``failed``.
    error
        What failed, in one sentence, or ``None``.
    manifest
        The archive manifest written for this run.
    stage
        The id of the staging folder the run wrote into (``stage`` in its archive event).
    timings
        Seconds per step (``execute``, ``export_html``, ``export_pdf``, ``archive``).
    """

    incident: str
    notebook: Path
    run_dir: Path
    executed: Path
    html: Path | None = None
    pdf: Path | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    status: str = "running"
    error: str | None = None
    manifest: Path | None = None
    stage: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def result(self, name: str) -> Any:
        """The JSON result ``name`` the notebook saved into the run folder (``save_result``)."""
        path = self.run_dir / f"{name}.json"
        if not path.exists():
            raise ReportError(f"{self.notebook.name} saved no result named {name!r} in {self.run_dir}")
        return json.loads(path.read_text())


def resolve_notebook(notebook: str | os.PathLike[str]) -> Path:
    """A notebook path, or the name of one of the kit's notebooks (``triage``).

    Raises
    ------
    UsageError
        No such notebook.
    """
    path = Path(notebook)
    candidates = [path]
    if not path.is_absolute() and len(path.parts) == 1:
        name = path.name if path.suffix == ".ipynb" else f"{path.name}.ipynb"
        candidates.append(NOTEBOOK_DIR / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    known = ", ".join(sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb"))) or "none"
    raise UsageError(f"no notebook {str(notebook)!r}; give a path or one of the kit's notebooks: {known}")


def load_notebook(path: Path) -> nbformat.NotebookNode:
    """Read and validate ``path`` as a notebook.

    Raises
    ------
    UsageError
        It is not a readable notebook.
    """
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # nbformat raises several unrelated types
        raise UsageError(f"{path} is not a valid notebook: {error}") from error
    return nb


def notebook_parameters(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The names declared in the ``parameters``-tagged cell, with their default's source.

    Raises
    ------
    UsageError
        The parameters cell is not valid Python.
    """
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            try:
                tree = ast.parse(cell.source)
            except SyntaxError as error:
                raise UsageError(f"the parameters cell is not valid Python: {error}") from error
            found: dict[str, str] = {}
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else (
                    [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else [])
                for target in targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = ast.get_source_segment(cell.source, node.value) or ""
            return found
    return {}


def execute(source: Path, executed: Path, parameters: Mapping[str, Any], *, cwd: Path,
            timeout: float | None = None, on_cell: Callable[[int, int], None] | None = None) -> None:
    """Execute ``source`` into ``executed`` with papermill on this interpreter's kernel.

    Widget state is not stored (exported HTML would need a CDN for it); the kernel is
    ``sys.executable`` (:mod:`kit.report.kernel`), so no kernelspec needs installing.
    ``on_cell(number, count)`` is told as each code cell starts (from 1). Raises papermill's /
    nbclient's own errors; :func:`run_report` translates them.
    """
    import papermill

    hooks: dict[str, Any] = {}
    if on_cell is not None:
        cells = load_notebook(source).cells
        count = sum(cell.cell_type == "code" for cell in cells) + bool(parameters)  # + the injected parameters
        started: set[int] = set()

        def cell_start(cell: Any, cell_index: int, **_: Any) -> None:
            if cell.cell_type == "code" and cell_index not in started:
                started.add(cell_index)
                on_cell(min(len(started), count), count)

        hooks["on_cell_start"] = cell_start

    papermill.execute_notebook(
        str(source),
        str(executed),
        parameters=dict(parameters),
        kernel_name="python3",
        kernel_manager_class=ThisPythonKernelManager,
        store_widget_state=False,
        progress_bar=False,
        log_output=False,
        cwd=str(cwd),
        execution_timeout=timeout,
        start_timeout=120,
        **hooks,
    )


def describe_failure(error: BaseException) -> tuple[str, dict[str, Any]]:
    """A sentence and fields for a failed execution."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        fields = {"cell_index": error.cell_index, "exec_count": error.exec_count,
                  "ename": error.ename, "evalue": str(error.evalue)[:500]}
        return f"cell In [{error.exec_count}] raised {error.ename}: {str(error.evalue)[:300]}", fields
    if isinstance(error, KeyboardInterrupt):
        return "interrupted", {"ename": "KeyboardInterrupt"}
    return f"{type(error).__name__}: {str(error)[:300]}", {"ename": type(error).__name__}


def _quiet(step: str, note: str) -> None:
    """No progress shown."""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _archive_root(archive_root: str | os.PathLike[str], incident: str) -> Path:
    """The incident folder, refusing an archive root or incident path that is a file or a link."""
    base = Path(archive_root)
    if base.exists() and not base.is_dir():
        raise UsageError(f"--archive {base} is a file; give the folder that holds incident archives")
    root = incident_dir(base, incident)
    if root.is_symlink():
        raise UsageError(f"{root} is a symbolic link; an incident archive must be a plain folder")
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file, not an incident archive folder")
    return root


def _execute_and_export(run: ReportRun, full: Mapping[str, Any], *, pdf: bool, timeout: float | None,
                        progress: StepCallback) -> tuple[BaseException | None, Exception | None]:
    """Execute and export into the stage; the execution failure and the export failure, if any."""
    source, run_dir = run.notebook, run.run_dir
    failure: BaseException | None = None
    started = time.monotonic()
    running = f"running {source.name}"
    progress(running, "starting the kernel")
    try:
        execute(source, run.executed, full, cwd=Path.cwd(), timeout=timeout,
                on_cell=lambda number, count: progress(running, f"cell {number}/{count}"))
    except (Exception, KeyboardInterrupt) as error:  # noqa: BLE001 - every failure is archived, then raised
        failure = error
    run.timings["execute"] = time.monotonic() - started

    export_error: Exception | None = None
    if run.executed.exists():
        progress("exporting HTML", "")
        step = time.monotonic()
        try:
            run.html = export_html(run.executed, run_dir / f"{source.stem}.html",
                                   title=f"{run.incident} · {source.stem}")
        except Exception as error:  # noqa: BLE001 - archive what we have, then report
            export_error = error
        run.timings["export_html"] = time.monotonic() - step
        if pdf and run.html is not None and failure is None:
            progress("printing the PDF", "")
            step = time.monotonic()
            try:
                run.pdf = export_pdf(run.html, run_dir / f"{source.stem}.pdf")
            except ReportError as error:
                export_error = error
            run.timings["export_pdf"] = time.monotonic() - step
    return failure, export_error


def run_report(
    notebook: str | os.PathLike[str],
    *,
    incident: str,
    parameters: Mapping[str, Any] | None = None,
    archive_root: str | os.PathLike[str] = "archive",
    pdf: bool = False,
    timeout: float | None = 1800.0,
    wait: float | None = DEFAULT_WAIT,
    on_wait: Callable[[str], None] | None = _stderr,
    after_write: AfterWrite | None = None,
    progress: StepCallback | None = None,
) -> ReportRun:
    """Execute ``notebook`` with ``parameters`` into the archive of ``incident``.

    Parameters
    ----------
    notebook
        A path or a kit notebook name (``triage``, ``network-diff``, ``postmortem``).
    incident
        The incident id; the run goes to ``<archive_root>/<incident>/reports/…``.
    parameters
        Values for the notebook's ``parameters`` cell. Secret-looking names or values are
        refused. ``incident``, ``run_dir`` and ``archive_dir`` are filled in by the runner
        when the notebook declares them: ``archive_dir`` is the run's staging folder, which
        has the incident's layout (collect into its ``evidence/``, record paths relative to
        it: they stay right once the run is recorded); reading the incident through it works
        (``read_manifest``, the postmortem readers resolve it to the incident).
    archive_root
        The folder holding incident archives.
    pdf
        Also print the HTML to PDF with Debian chromium.
    timeout
        Seconds allowed per cell before it fails as a timeout (default 30 min; ``None``: no limit).
    wait
        Seconds to wait while another run holds the incident (default 10 min; ``None``: as
        long as it takes; ``0``: not at all).
    on_wait
        Told once, with a sentence naming the other run, when this one has to wait (default:
        printed to stderr).
    after_write
        Called under the lock after each manifest written, with its path and bytes (a signer,
        a witness); ``None`` (the default): as the environment says
        (:func:`kit.azure.sealing.after_write_from_env`: ``KIT_ARCHIVE_SIGNING_KEY``,
        ``KIT_ARCHIVE_WITNESS``).
    progress
        Told ``(step, note)`` as the run goes: each code cell, the HTML and PDF exports, the archiving.

    Returns
    -------
    ReportRun
        Paths (in the incident), recorded parameters, status and per-step timings.

    Raises
    ------
    SecretParameterError
        A parameter looks like a secret; nothing is written.
    UsageError
        Unknown notebook, incident id or parameter name, an ``archive_root`` that is a file;
        nothing is written.
    ArchiveBusyError
        Another run held the incident for longer than ``wait`` (exit 6); nothing is written.
    ArchiveError
        The archive changed since its last manifest (``kit verify`` says how); nothing is written.
    NotebookExecutionError
        A cell failed. The executed notebook and HTML are written and the run is archived
        (status ``failed``) first.
    """
    source = resolve_notebook(notebook)
    params = check_parameters(parameters)
    root = _archive_root(archive_root, incident)
    nb = load_notebook(source)
    declared = notebook_parameters(nb)
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise UsageError(
            f"{source.name} has no parameter {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(sorted(declared)) or 'none'}"
        )
    if "incident" in params and params["incident"] != incident:
        raise UsageError(f"parameter incident={params['incident']!r} contradicts --incident {incident}")

    about = {"notebook": source.name, "parameters": {"incident": incident, **params}}
    seal = after_write if after_write is not None else after_write_from_env()
    with staged(root, source.stem, about=about, wait=wait, on_wait=on_wait, after_write=seal) as stage:
        run_dir = stage.run_dir(source.stem)
        run = ReportRun(incident=incident, notebook=source, run_dir=run_dir, executed=run_dir / source.name,
                        parameters=params, stage=stage.id)
        injected = {"incident": incident, "run_dir": str(run_dir.resolve()), "archive_dir": str(stage.folder.resolve())}
        full = {**{k: v for k, v in injected.items() if k in declared}, **params}
        started_at = utc_text()
        failure, export_error = _execute_and_export(run, full, pdf=pdf, timeout=timeout,
                                                    progress=progress or _quiet)

        fields: dict[str, Any] = {}
        if failure is not None:
            run.status = "failed"
            run.error, fields = describe_failure(failure)
        elif export_error is not None:
            run.status = "failed"
            run.error = f"export failed: {export_error}"
        else:
            run.status = "ok"
        (progress or _quiet)("recording the run in the archive", "")
        step = time.monotonic()
        run.manifest = stage.commit({
            "kind": "report",
            "notebook": source.name,
            "run": stage.relative(run_dir),
            "parameters": {"incident": incident, **params},
            "status": run.status,
            "error": run.error,
            **({"failure": fields} if fields else {}),
            "started_at": started_at,
            "finished_at": utc_text(),
        })
        run.timings["archive"] = time.monotonic() - step
        run.run_dir, run.executed = stage.final(run.run_dir), stage.final(run.executed)
        run.html = stage.final(run.html) if run.html is not None else None
        run.pdf = stage.final(run.pdf) if run.pdf is not None else None

    if isinstance(failure, KeyboardInterrupt):
        raise failure
    if failure is not None:
        where = run.html or run.executed
        raise NotebookExecutionError(
            f"{source.name}: {run.error}; the report showing the failure is at {where}"
        ) from failure
    if export_error is not None:
        raise ReportError(f"{source.name} ran, but exporting it failed: {export_error}; "
                          f"the executed notebook is at {run.executed}") from export_error
    return run
