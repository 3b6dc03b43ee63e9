"""Secret-looking parameters are refused before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.cli import main
from kit.errors import SecretParameterError, UsageError
from kit.report import check_parameters, run_report
from kit.report.params import convert_value

TINY = Path(__file__).parent / "data" / "tiny.ipynb"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMiLCJhdWQiOiJ4In0.c2lnbmF0dXJlLXZhbHVl"


@pytest.mark.parametrize("name", ["token", "arm_token", "password", "client_secret", "storage_key", "sas_url",
                                  "credentials", "apiKey"])
def test_secret_names_are_refused(name: str) -> None:
    with pytest.raises(SecretParameterError, match=repr(name)):
        check_parameters({name: "whatever"})


@pytest.mark.parametrize("value", [
    JWT,
    f"Bearer {JWT}",
    "https://acct.blob.core.windows.net/c/serial.log?sv=2022-11-02&se=2026&sig=AbCdEf%2B123",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----",
    ["vm-a", {"nested": JWT}],
    "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc==",
])
def test_secret_values_are_refused_without_echoing_them(value: object) -> None:
    with pytest.raises(SecretParameterError) as caught:
        check_parameters({"known_good": value})
    assert "eyJ" not in str(caught.value) and "sig=Ab" not in str(caught.value)


def test_ordinary_parameters_and_credential_kinds_pass() -> None:
    params = {"source": "lab:firewall-lockout", "vm": "vm-web-01", "known_good": "vm-web-02,vm-web-03",
              "responder_ip": "203.0.113.7", "credential": "env-token", "window_hours": 6}
    assert check_parameters(params) == params


def test_credential_must_name_a_kind_not_hold_one() -> None:
    with pytest.raises(SecretParameterError, match="credential kind"):
        check_parameters({"credential": "s3cr3t-client-secret"})


def test_cli_refuses_a_secret_with_exit_2_and_writes_nothing(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", str(TINY), "--incident", "INC-9", "--archive", str(tmp_path / "archive"),
                 "-p", "greeting", JWT])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: refusing parameter 'greeting'") and JWT not in err
    assert not (tmp_path / "archive").exists()
    with pytest.raises(SecretParameterError):
        run_report(TINY, incident="INC-9", parameters={"password": "x"}, archive_root=tmp_path / "archive")
    assert not (tmp_path / "archive").exists()


def test_unknown_parameters_are_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="has no parameter 'vm_nmae'"):
        run_report(TINY, incident="INC-9", parameters={"vm_nmae": "x"}, archive_root=tmp_path)
    assert not (tmp_path / "INC-9").exists()


def test_cli_values_are_converted() -> None:
    assert [convert_value(v) for v in ["6", "1.5", "true", "None", "vm-1"]] == [6, 1.5, True, None, "vm-1"]
