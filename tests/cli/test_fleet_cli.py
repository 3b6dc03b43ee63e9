"""``kit fleet readiness`` as a user runs it: the tables it writes, the report it archives, its usage errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pyarrow.parquet as pq
import pytest

from kit.archive import verify_archive
from kit.cli import main
from kit.lab import RunningLab, running_lab
from kit.lab.fleet import FleetSpec
from kit.report.runner import NOTEBOOK_DIR, notebook_parameters


@pytest.fixture(scope="module")
def fleet_lab() -> Iterator[RunningLab]:
    with running_lab(fleet=FleetSpec(vms=400, seed=5, subscriptions=4)) as lab:
        yield lab


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_against_an_endpoint_the_tables_hold_every_machine_with_its_reasons(
        fleet_lab: RunningLab, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", fleet_lab.token)
    out = tmp_path / "out"
    code = main(["fleet", "readiness", "--subscription", *fleet_lab.fleet.subscriptions, "--out", str(out),
                 "--no-report", "--arm-endpoint", fleet_lab.endpoint, "--ca-bundle", str(fleet_lab.ca_path),
                 "--credential", "env-token"])
    printed = capsys.readouterr().out
    assert code == 0
    rows = _csv(out / "fleet-readiness.csv")
    planted = fleet_lab.fleet.planted
    assert {r["id"].lower(): tuple(filter(None, r["reasons"].split(";"))) for r in rows} == dict(planted)
    table = pq.read_table(out / "fleet-readiness.parquet").to_pylist()
    assert [r["id"] for r in table] == [r["id"] for r in rows]
    assert all(r["ready"] == (r["reasons"] == "") for r in table)
    ready = sum(1 for reasons in planted.values() if not reasons)
    assert f"{ready:,} ready" in printed and "ARM calls" in printed
    not_ready = [r for r in table if not r["ready"]]
    assert not_ready and all(r["fixes"] for r in not_ready)
    assert table[0]["weight"] >= table[-1]["weight"], "worst first"
    document = json.loads((out / "fleet-collection.json").read_text())
    assert document["summary"]["calls"]["total"] < len(rows) / 10


def test_lab_run_archives_the_report_with_its_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, archive = tmp_path / "out", tmp_path / "archive"
    code = main(["fleet", "readiness", "--lab", "--fleet", "150", "--seed", "3", "--subscriptions", "2",
                 "--out", str(out), "--archive", str(archive), "--incident", "FLEET-NIGHTLY"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    html = Path(next(line.split(None, 1)[1] for line in printed.splitlines() if line.startswith("report:")))
    assert html.is_file() and html.is_relative_to(archive / "FLEET-NIGHTLY")
    page = html.read_text(encoding="utf-8")
    assert "Fleet readiness" in page and "computeresources" in page and "kit-filter-" in page
    assert verify_archive(archive / "FLEET-NIGHTLY").ok
    archived = _csv(html.parent / "fleet-readiness.csv")
    assert [r["id"] for r in archived] == [r["id"] for r in _csv(out / "fleet-readiness.csv")]
    assert len(pq.read_table(html.parent / "fleet-readiness.parquet")) == len(archived) == 150
    result = json.loads((html.parent / "fleet-readiness.json").read_text())
    assert result["machines"] == 150 and result["ready"] == sum(r["ready"] == "True" for r in archived)


@pytest.mark.parametrize("argv", [
    ["--subscription", "00000000-0000-4000-8000-000000000001", "--management-group", "mg"],
    ["--subscription", "not-a-guid"],
    [],
    ["--lab", "--arm-endpoint", "https://example.org"],
    ["--subscription", "00000000-0000-4000-8000-000000000001", "--incident", "bad/id"],
])
def test_usage_errors_exit_2_before_anything_is_read(argv: list[str], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fleet", "readiness", "--out", str(tmp_path / "out"), *argv]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert not (tmp_path / "out").exists()


def test_the_report_notebook_is_committed_clean_and_matches_its_builder() -> None:
    path = NOTEBOOK_DIR / "fleet-readiness.ipynb"
    before = path.read_bytes()
    nb = nbformat.reads(before.decode(), as_version=4)
    nbformat.validate(nb)
    assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    assert {"collection", "incident", "run_dir", "archive_dir"} <= set(notebook_parameters(nb))
    subprocess.run([sys.executable, str(NOTEBOOK_DIR / "build_fleet.py")], check=True)
    assert path.read_bytes() == before, "edit notebooks/build_fleet.py, then run it"


def test_a_refused_token_exits_3_and_writes_nothing(fleet_lab: RunningLab, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_ARM_TOKEN", "not-the-labs-token")
    out = tmp_path / "out"
    code = main(["fleet", "readiness", "--subscription", *fleet_lab.fleet.subscriptions, "--out", str(out),
                 "--arm-endpoint", fleet_lab.endpoint, "--ca-bundle", str(fleet_lab.ca_path), "--credential",
                 "env-token"])
    assert code == 3
    assert "HTTP 401" in capsys.readouterr().err
    assert not out.exists()
