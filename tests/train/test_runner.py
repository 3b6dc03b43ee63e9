"""One walkthrough end to end through papermill, as `run_walkthrough` runs it: its own lab, the fix,
the check, the trainee's postmortem, all in one verified drill archive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.mark.slow
def test_walkthrough_with_postmortem_is_archived_and_verifies(tmp_path: Path) -> None:
    from kit.archive import verify_archive
    from kit.train import run_walkthrough

    run = run_walkthrough("nsg-deny", seed=3, solution=True, archive_root=tmp_path, postmortem=True,
                          trainee="Ada")
    assert run.error is None and run.passed, run.row
    assert run.row is not None and run.row.trainee == "Ada" and run.row.seed == 3
    root = tmp_path / run.drill
    assert run.executed == root / "walkthrough" / "nsg-deny.ipynb"
    postmortems = list(root.glob("reports/*-postmortem/postmortem.html"))
    assert postmortems, "the trainee's postmortem is generated from the drill's archive"
    summary = json.loads(next(root.glob("reports/*-postmortem/postmortem.json")).read_text())
    assert summary["cause"] == "nsg_deny" and summary["vm"] != "pos-api-01"     # the variant's VM
    assert verify_archive(root).ok
    token_env = json.loads(run.executed.read_text())
    assert "KIT_ARM_TOKEN" not in json.dumps(token_env) and "eyJ0eXAi" not in json.dumps(token_env)   # no lab token


