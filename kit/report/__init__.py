"""Reports: papermill runs, nbconvert export and the incident archive.

``run_report`` executes a parameterized notebook into ``archive/<incident>/reports/<run>/``
(executed notebook, offline HTML, optional PDF) and appends a manifest to the incident's
hash chain; ``verify_archive`` recomputes every hash. ``kit.report.present`` holds the
helpers the notebooks call (loading sources, escaped HTML tables, saving results).

Names are imported on first use, so a notebook kernel importing ``kit.report.present`` does
not pay for papermill and nbformat.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ReportRun",
    "VerifyResult",
    "check_parameters",
    "incident_dir",
    "looks_like_secret",
    "read_manifest",
    "record",
    "run_report",
    "verify_archive",
]

_WHERE = {
    "ReportRun": "kit.report.runner",
    "run_report": "kit.report.runner",
    "VerifyResult": "kit.report.archive",
    "incident_dir": "kit.report.archive",
    "read_manifest": "kit.report.archive",
    "record": "kit.report.archive",
    "verify_archive": "kit.report.archive",
    "check_parameters": "kit.report.params",
    "looks_like_secret": "kit.report.params",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kit.report' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
