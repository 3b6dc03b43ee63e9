"""Reports: papermill runs and nbconvert export into the incident archive.

``run_report`` executes a parameterized notebook into ``archive/<incident>/reports/<run>/``
(executed notebook, offline HTML, optional PDF) and records it in the incident's hash chain
(:mod:`kit.archive`). ``kit.report.present`` holds the helpers the notebooks call (loading
sources, escaped HTML tables, saving results).

Names are imported on first use, so a notebook kernel importing ``kit.report.present`` does
not pay for papermill and nbformat (about 0.5 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kit._lazy import lazy_exports

if TYPE_CHECKING:
    from kit.report.params import check_parameters, looks_like_secret
    from kit.report.runner import ReportRun, run_report

__all__ = ["ReportRun", "check_parameters", "looks_like_secret", "run_report"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "ReportRun": "kit.report.runner",
    "run_report": "kit.report.runner",
    "check_parameters": "kit.report.params",
    "looks_like_secret": "kit.report.params",
})
