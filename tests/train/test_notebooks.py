"""The walkthrough notebooks are committed as built: no outputs, a parameters cell, kernelspec python3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kit.train import list_walkthroughs

FOLDER = Path(__file__).resolve().parents[2] / "notebooks" / "training"


@pytest.mark.parametrize("walkthrough", list_walkthroughs(), ids=lambda w: w.scenario)
def test_walkthrough_is_clean_and_parameterized(walkthrough) -> None:
    nb = nbformat.read(walkthrough.notebook, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and f'scenario = "{walkthrough.scenario}"' in tagged[0].source
    for name in ("seed", "solution", "approval", "archive_root", "postmortem"):
        assert f"\n{name} = " in "\n" + tagged[0].source
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    text = "\n".join(c.source for c in nb.cells)
    assert "drill.check()" in text and "drill.postmortem()" in text and 'drill.question("level"' in text
    if walkthrough.fix == "console":
        assert "console_widget(session)" in text and "drill.console(approval)" in text
    else:
        assert "console_widget" not in text        # not the console: ARM, or the repair-VM decision
    if walkthrough.fix == "nsg":
        assert "drill.delete_nsg_rule(nsg, rule)" in text


def test_build_reproduces_the_committed_notebooks(tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in FOLDER.glob("*.ipynb")}
    subprocess.run([sys.executable, str(FOLDER / "build.py")], check=True, capture_output=True)
    after = {p.name: p.read_bytes() for p in FOLDER.glob("*.ipynb")}
    assert before == after, "run python notebooks/training/build.py and commit the notebooks"
