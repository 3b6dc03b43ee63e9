"""Reports: papermill runs, nbconvert export and the incident archive.

``run_report`` executes a parameterized notebook into ``archive/<incident>/reports/<run>/``
(executed notebook, offline HTML, optional PDF) and appends a manifest to the incident's
hash chain; ``verify_archive`` recomputes every hash. ``kit.report.present`` holds the
helpers the notebooks call (loading sources, escaped HTML tables, saving results).
"""

from kit.report.archive import VerifyResult, incident_dir, read_manifest, record, verify_archive
from kit.report.params import check_parameters, looks_like_secret
from kit.report.runner import ReportRun, run_report

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
