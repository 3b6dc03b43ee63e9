"""No secret reaches the archive: canary values in the environment, the lab token, guest passwords."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kit.archive import record, verify_archive
from kit.report import run_report

CANARIES = {
    "AZURE_CLIENT_SECRET": "canary-client-secret-3b9f1e7c",
    "AZURE_PASSWORD": "canary-password-a41d",
    "KIT_CANARY_SAS": "sv=2024-01-01&sig=canarySASsignature0042",
    "ARM_ACCESS_TOKEN": "eyJhbGciOiJub25lIn0.eyJjYW5hcnkiOiJ0b2tlbiJ9.canarysig77",
}


@pytest.mark.slow
def test_canaries_and_the_lab_token_never_reach_the_archive(collected: dict[str, Path], lab: object, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KIT_ARM_TOKEN", lab.token)  # type: ignore[attr-defined]  # as `kit lab serve` says to export it
    scenario = "firewall-lockout"
    info = lab.scenario(scenario)  # type: ignore[attr-defined]
    root = tmp_path / "archive" / "INC-CANARY"
    evidence = root / "evidence" / "copied"
    shutil.copytree(collected[scenario].parent, evidence)
    record(root, {"kind": "evidence", "source": f"lab:{scenario}"})
    run_report("triage", incident="INC-CANARY", archive_root=tmp_path / "archive", parameters={
        "source": f"bundle:{evidence / info.broken_vm}", "responder_ip": info.responder_ip})
    # the kernel starts its own lab and collects into the archive itself
    run_report("triage", incident="INC-CANARY", archive_root=tmp_path / "archive",
               parameters={"source": f"lab:{scenario}"})
    assert verify_archive(root).ok
    assert any(p.name == "serial.log" for p in (root / "evidence").rglob("*") if "copied" not in p.parts)
    secrets = [*CANARIES.values(), lab.token]  # type: ignore[attr-defined]
    password = (info.guest or {}).get("password")
    if password:
        secrets.append(str(password))
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) > 20
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"a secret reached {path.relative_to(root)}"
        assert b"Bearer ey" not in data
