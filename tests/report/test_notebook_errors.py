"""Bad input in a notebook reads as the CLI's one line, not a Python traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.errors import NotebookExecutionError
from kit.report.runner import run_report

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
MESSAGE = "set the approval parameter to the change or incident ticket allowing this console access"


def test_console_without_an_approval_fails_with_one_line_and_no_display_handle(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with pytest.raises(NotebookExecutionError, match=f"raised UsageError: {MESSAGE}"):
        run_report(NOTEBOOKS / "console.ipynb", incident="INC-APPROVAL", parameters={"approval": ""},
                   archive_root=archive)
    executed = next(archive.glob("INC-APPROVAL/reports/*-console/console.ipynb"))
    outputs = [output for cell in json.loads(executed.read_text())["cells"] for output in cell.get("outputs", [])]
    errors = [output for output in outputs if output["output_type"] == "error"]
    assert [(error["ename"], error["traceback"]) for error in errors] == [("UsageError", [f"error: {MESSAGE}"])]
    page = executed.with_suffix(".html").read_text()
    assert MESSAGE in page and "Traceback" not in page and "DisplayHandle" not in page
