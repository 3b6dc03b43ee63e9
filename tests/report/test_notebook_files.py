"""The committed notebooks: no outputs, a tagged parameters cell, kernelspec python3, no secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kit.report.runner import NOTEBOOK_DIR, notebook_parameters

NOTEBOOKS = [NOTEBOOK_DIR / f"{name}.ipynb" for name in ("triage", "network-diff", "postmortem")]
SECRETS = ("token", "password", "secret", "sas", "credential_secret")


def test_the_three_notebooks_exist() -> None:
    assert all(p.is_file() for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])], "a parameters cell"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "outputs stripped"
    params = notebook_parameters(nb)
    assert {"incident", "run_dir", "archive_dir"} <= set(params)
    assert not [name for name in params if any(word in name.lower() for word in SECRETS)]


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem != "postmortem"], ids=lambda p: p.stem)
def test_evidence_notebooks_take_the_common_parameters(path: Path) -> None:
    params = notebook_parameters(nbformat.read(path, as_version=4))
    assert {"source", "subscription", "resource_group", "vm", "known_good", "window_start", "window_end",
            "window_hours", "responder_ip", "arm_endpoint", "cloud", "credential"} <= set(params)


def test_notebooks_match_their_builder(tmp_path: Path) -> None:
    """notebooks/build.py regenerates exactly what is committed (edit the builder, not the JSON)."""
    before = {p.name: p.read_bytes() for p in NOTEBOOKS}
    subprocess.run([sys.executable, str(NOTEBOOK_DIR / "build.py")], check=True)
    after = {p.name: p.read_bytes() for p in NOTEBOOKS}
    assert after == before
