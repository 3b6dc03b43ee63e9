"""``kit demo``: a whole incident on the lab, from collection to a verified archived report.

Steps (each timed, for ``benchmarks/demo.py``): start the lab in this process → collect the
scenario's broken VM and known-good VMs into a staging folder of ``archive/DEMO-<UTC timestamp>/``
and record it (it lands in ``evidence/<stamp>/``) → run ``triage.ipynb`` on it → verify the archive.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.archive import incident_dir, new_incident, verify_archive
from kit.azure.request import CollectionRequest, StepCallback, counting
from kit.azure.sealing import sealed
from kit.azure.target import AzureTarget
from kit.errors import ArchiveError, LabError
from kit.lab import running_lab
from kit.report.runner import run_report
from kit.report.sources import collect_into_archive

__all__ = ["DemoResult", "run_demo"]


@dataclass
class DemoResult:
    """What ``kit demo`` produced.

    Attributes
    ----------
    incident
        ``DEMO-<timestamp>``.
    archive
        The incident folder.
    html
        The triage report.
    top
        The top hypothesis as the report saved it (``kind``, ``next_step`` …).
    expected
        The scenario's expected hypothesis.
    timings
        Seconds per stage: ``lab start``, ``collect``, ``execute``, ``export``, ``verify``, ``total``.
    """

    incident: str
    archive: Path
    html: Path
    top: dict[str, Any]
    expected: str
    verify_summary: str
    timings: dict[str, float] = field(default_factory=dict)


def _quiet(step: str, note: str) -> None:
    """No progress shown."""


def _boot_real_guest(lab: Any, scenario: str, progress: StepCallback) -> None:
    """Make the broken VM a real guest and wait for its boot, saying how long it has taken so far."""
    step = "starting the lab (1/4)"
    guest = lab.add_real_guest(scenario, progress=lambda line: progress(step, line))
    while True:
        elapsed = time.monotonic() - guest.started
        progress(step, f"booting a real Debian 12 under QEMU: {elapsed:.0f} s (20-60 s on TCG, more when busy)")
        try:
            guest.wait_until_booted(5)
            return
        except LabError:
            if elapsed > 900:
                raise


def run_demo(scenario: str = "firewall-lockout", *, archive_root: str | Path = "archive",
             incident: str | None = None, progress: StepCallback = _quiet, real_guest: bool = False) -> DemoResult:
    """Run the demo incident for ``scenario`` and return where the report is.

    ``progress(step, note)`` is told each stage (``starting the lab (1/4)`` …) and what happens inside it.
    With ``real_guest`` the broken VM is a real Debian 12 under QEMU (README, "Real guests"): the
    evidence holds its own boot log; booting adds 20-60 s on TCG, shown as progress.

    Raises
    ------
    LabError
        Unknown scenario.
    NotebookExecutionError
        The triage notebook failed (its report is archived).
    ArchiveError
        The archive did not verify afterwards.
    """
    began = time.monotonic()
    timings: dict[str, float] = {}
    root = incident_dir(archive_root, incident) if incident else new_incident(archive_root, "DEMO")
    incident = root.name
    step = time.monotonic()
    about = {"source": f"lab:{scenario}"}
    progress("starting the lab (1/4)", "")
    with running_lab(scenarios=[scenario]) as lab, sealed(root, "evidence", about=about) as stage:
        if real_guest:
            _boot_real_guest(lab, scenario, progress)
        timings["lab start"] = time.monotonic() - step
        info = lab.scenario(scenario)
        start, end = info.window
        if info.scale_set:  # a scale set's instances, by instance id (bundles are named <scale set>_<id>)
            request = CollectionRequest(info.subscription_id, info.resource_group, info.instance_id(info.broken_vm),
                                        tuple(info.instance_id(vm) for vm in info.known_good), start=start, end=end,
                                        source=f"lab:{scenario}", scale_set=info.scale_set)
        else:
            request = CollectionRequest(info.subscription_id, info.resource_group, info.broken_vm, info.known_good,
                                        start=start, end=end, source=f"lab:{scenario}")
        step = time.monotonic()
        stage_name = "collecting evidence (2/4)"
        progress(stage_name, "")
        result = collect_into_archive(AzureTarget.for_lab(lab), request, stage.folder,
                                      progress=counting(progress, stage_name, list(info.vms)))
        timings["collect"] = time.monotonic() - step
        bundles = [stage.relative(p) for p in result.bundles]
        stage.commit({"kind": "evidence", "source": f"lab:{scenario}", "bundles": bundles})
    run = run_report("triage", incident=incident, archive_root=archive_root, parameters={
        "source": f"bundle:{(root / bundles[0]).resolve()}", "responder_ip": info.responder_ip},
        progress=lambda inner, note: progress(f"report (3/4): {inner}", note))
    timings["execute"] = run.timings.get("execute", 0.0)
    timings["export"] = run.timings.get("export_html", 0.0)
    progress("verifying the archive (4/4)", "")
    step = time.monotonic()
    check = verify_archive(root)
    timings["verify"] = time.monotonic() - step
    if not check.ok:
        raise ArchiveError(f"the demo archive {root} does not verify: {check.summary()}")
    timings["total"] = time.monotonic() - began
    assert run.html is not None
    top = run.result("triage").get("top_hypothesis") or {}
    return DemoResult(incident=incident, archive=root, html=run.html, top=top, expected=info.expected.hypothesis,
                      verify_summary=check.summary(), timings=timings)
