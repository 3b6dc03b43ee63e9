"""The sshd family: the forms real consoles and journals print, each read as the right finding
with a summary that names the unit, file, key, directory or user from the line."""

from __future__ import annotations

import pytest
from bootlog_data import ESC, FAILED, OK, only

from kit.analyze.bootlog import Finding, parse_boot_log


def findings(line: str) -> list[Finding]:
    """The findings of the one line ``line`` (with its CRLF, as Azure stores the log)."""
    return list(parse_boot_log(line.encode() + b"\r\n").findings)


SERVICE_FAILED = [
    # systemd 252 (Debian 12, Ubuntu 23.04+): "<unit> - <description>", coloured
    (f"{FAILED} Failed to start {ESC}[0;1;39mssh.service{ESC}[0m - OpenBSD Secure Shell server.", "ssh.service"),
    # the ESC bytes lost on the way (Azure's stored serial log)
    ("[[0;1;31mFAILED[0m] Failed to start [0;1;39mssh.service[0m - OpenBSD Secure Shell server.", "ssh.service"),
    # no colour at all
    ("[FAILED] Failed to start sshd.service - OpenSSH server daemon.", "sshd.service"),
    # the unit name cut by systemd to the console width
    (f"{FAILED} Failed to start {ESC}[0;1;39mssh.servic…{ESC}[0m - OpenBSD Secure Shell server.", "ssh.servic…"),
    ("[[0;1;31mFAILED[0m] Failed to start [0;1;39mssh.servic…[0m - OpenBSD Secure Shell server.", "ssh.servic…"),
    # an ellipsis that cut the colour code after the unit in half
    (f"{FAILED} Failed to start {ESC}[0;1;39mssh.service{ESC}[0;1;…", "ssh.service"),
    ("[[0;1;31mFAILED[0m] Failed to start [0;1;39mssh.service[0;1…", "ssh.service"),
    # older systemd: the description only
    ("[FAILED] Failed to start OpenBSD Secure Shell server.", "OpenBSD Secure Shell server"),
    ("[    8.600000] systemd[1]: Failed to start OpenSSH Daemon.", "OpenSSH Daemon"),
    # the unit's own status lines (kernel stamp, syslog and ISO journal forms)
    ("[    8.520000] systemd[1]: ssh.service: Main process exited, code=exited, status=255/EXCEPTION",
     "status=255/EXCEPTION"),
    ("Nov 25 09:14:02 vm-01 systemd[1]: ssh.service: Failed with result 'exit-code'.", "exit-code"),
    ("2026-11-25T09:14:02.123456+00:00 vm-01 systemd[1]: sshd.service: Start request repeated too quickly.",
     "repeated too quickly"),
    ("Nov 25 09:14:02 vm-01 systemd[1]: sshd.service: main process exited, code=exited, status=255/n/a",
     "status=255/n/a"),
    ("[FAILED] Failed to listen on ssh.socket - OpenBSD Secure Shell server socket.", "ssh.socket"),
    ("Nov 25 09:14:02 vm-01 sshd[812]: fatal: Cannot bind any address.", "bind"),
]


@pytest.mark.parametrize(("line", "named"), SERVICE_FAILED)
def test_the_ssh_service_failing_is_critical_and_names_the_unit(line: str, named: str) -> None:
    finding = only(line, "boot:sshd:service_failed")
    assert finding.severity == "critical"
    assert named in finding.summary and "port 22" in finding.summary
    assert "[0;" not in finding.summary + finding.text and ESC not in finding.summary + finding.text


def test_a_failed_ssh_unit_is_one_sshd_finding_not_also_a_generic_unit_failure() -> None:
    line = "[[0;1;31mFAILED[0m] Failed to start [0;1;39mssh.service[0m - OpenBSD Secure Shell server."
    assert [f.kind for f in findings(line)] == ["boot:sshd:service_failed"]


def test_success_status_and_per_connection_units_are_not_failures() -> None:
    for line in ("Nov 25 09:14:02 vm-01 systemd[1]: ssh.service: Main process exited, code=exited, status=0/SUCCESS",
                 "Nov 25 09:20:02 vm-01 systemd[1]: sshd@3-10.0.0.4:22-203.0.113.7:50522.service: Failed with result "
                 "'exit-code'.",
                 "Nov 25 09:14:02 vm-01 systemd[1]: Starting ssh.service - OpenBSD Secure Shell server...",
                 "[  OK  ] Stopped ssh.service - OpenBSD Secure Shell server."):
        assert not [f for f in findings(line) if f.kind.startswith("boot:sshd:") and f.severity != "info"], line


@pytest.mark.parametrize(("line", "named"), [
    (f"{OK} Started {ESC}[0;1;39mssh.service{ESC}[0m - OpenBSD Secure Shell server.", "ssh.service"),
    ("[[0;32m  OK  [0m] Started [0;1;39msshd.service[0m - OpenSSH server daemon.", "sshd.service"),
    ("[  OK  ] Started OpenBSD Secure Shell server.", "OpenBSD Secure Shell server"),
    (f"{OK} Listening on {ESC}[0;1;39mssh.socket{ESC}[0m - OpenBSD Secure Shell server socket.", "ssh.socket"),
    ("Nov 25 09:14:02 vm-01 sshd[812]: Server listening on 0.0.0.0 port 22.", "0.0.0.0 port 22"),
    ("2026-11-25T09:14:02.123456+00:00 vm-01 sshd[812]: Server listening on :: port 22.", ":: port 22"),
])
def test_a_clean_start_is_info_only(line: str, named: str) -> None:
    found = findings(line)
    assert [(f.kind, f.severity) for f in found] == [("boot:sshd:started", "info")]
    assert named in found[0].summary


@pytest.mark.parametrize(("line", "named"), [
    ("[    8.510000] sshd[1021]: /etc/ssh/sshd_config line 42: Bad configuration option: PermitRootLogn",
     "PermitRootLogn in /etc/ssh/sshd_config line 42"),
    ("Nov 25 09:14:02 vm-01 sshd[812]: /etc/ssh/sshd_config.d/50-cloud-init.conf line 3: Bad configuration option: "
     "StreamLocalBindUnlnk", "StreamLocalBindUnlnk in /etc/ssh/sshd_config.d/50-cloud-init.conf line 3"),
    ("[    8.511000] sshd[1021]: /etc/ssh/sshd_config: terminating, 1 bad configuration options",
     "/etc/ssh/sshd_config has 1 bad"),
    ("2026-11-25T09:14:02.123456+00:00 vm-01 sshd[812]: /etc/ssh/sshd_config: terminating, 3 bad configuration "
     "options", "has 3 bad"),
    ("Nov 25 09:14:02 vm-01 sshd[812]: /etc/ssh/sshd_config: No such file or directory", "/etc/ssh/sshd_config"),
])
def test_bad_configuration_is_an_error_naming_file_line_and_option(line: str, named: str) -> None:
    finding = only(line, "boot:sshd:bad_config")
    assert finding.severity == "error" and named in finding.summary


@pytest.mark.parametrize(("line", "named"), [
    ("[    8.512000] sshd[1021]: fatal: Missing privilege separation directory: /run/sshd", "/run/sshd"),
    ("Nov 25 09:14:02 vm-01 sshd[812]: /var/empty/sshd must be owned by root and not group or world-writable.",
     "/var/empty/sshd"),
    ("2026-11-25T09:14:02.123456+00:00 vm-01 sshd[4022]: /var/lib/empty must be owned by root and not group or "
     "world-writable.", "/var/lib/empty"),
    ("sshd[812]: fatal: Privilege separation user sshd does not exist", "user sshd"),
])
def test_missing_privilege_separation_is_critical(line: str, named: str) -> None:
    finding = only(line, "boot:sshd:privsep_missing")
    assert finding.severity == "critical" and named in finding.summary


@pytest.mark.parametrize(("line", "named"), [
    ("[    8.510000] sshd[1021]: Unable to load host key: /etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_rsa_key"),
    ("Nov 25 09:14:02 vm-01 sshd[812]: error: Could not load host key: /etc/ssh/ssh_host_ecdsa_key",
     "/etc/ssh/ssh_host_ecdsa_key"),
    ("[    8.513000] sshd[1021]: sshd: no hostkeys available -- exiting.", "no hostkeys available"),
    (f"{FAILED} Failed to start {ESC}[0;1;39msshd-keygen@rsa.service{ESC}[0m - OpenSSH rsa Server Key Generation.",
     "sshd-keygen@rsa.service"),
])
def test_host_key_problems_name_the_key(line: str, named: str) -> None:
    finding = only(line, "boot:sshd:host_key")
    assert finding.severity == "error" and named in finding.summary


@pytest.mark.parametrize(("line", "named"), [
    ("Nov 25 09:14:02 vm-01 sshd[812]: Permissions 0644 for '/etc/ssh/ssh_host_ed25519_key' are too open.",
     "/etc/ssh/ssh_host_ed25519_key has mode 644"),
    ("[    8.510000] sshd[1021]: @         WARNING: UNPROTECTED PRIVATE KEY FILE!          @", "UNPROTECTED"),
    ("sshd[1021]: error: key_load_private: bad permissions", "bad permissions"),
    ("2026-11-25T09:14:02.123456+00:00 vm-01 sshd[812]: Unable to load host key \"/etc/ssh/ssh_host_rsa_key\": bad "
     "permissions", "/etc/ssh/ssh_host_rsa_key"),
])
def test_key_permissions_are_an_error_naming_the_key(line: str, named: str) -> None:
    finding = only(line, "boot:sshd:key_permissions")
    assert finding.severity == "error" and named in finding.summary


@pytest.mark.parametrize(("line", "named"), [
    ("Nov 25 09:20:07 vm-01 sshd[1447]: Authentication refused: bad ownership or modes for directory "
     "/home/azureuser/.ssh", "directory /home/azureuser/.ssh"),
    ("2026-11-25T09:20:07.123456+00:00 vm-01 sshd[1447]: Authentication refused: bad ownership or modes for file "
     "/home/azureuser/.ssh/authorized_keys", "file /home/azureuser/.ssh/authorized_keys"),
    ("[  612.300000] sshd[1447]: Authentication refused: bad ownership or modes for directory /home/azureuser",
     "directory /home/azureuser"),
])
def test_bad_ownership_names_the_path(line: str, named: str) -> None:
    finding = only(line, "boot:sshd:bad_ownership")
    assert finding.severity == "error" and named in finding.summary


@pytest.mark.parametrize(("line", "named"), [
    ("Nov 25 09:20:07 vm-01 sshd[1447]: User azureuser not allowed because account is locked",
     "user azureuser: not allowed because account is locked"),
    ("Nov 25 09:20:07 vm-01 sshd[1447]: User azureuser from 203.0.113.7 not allowed because not listed in AllowUsers",
     "not listed in AllowUsers"),
    ("2026-11-25T09:20:07.123456+00:00 vm-01 sshd[1447]: Connection closed by authenticating user azureuser "
     "203.0.113.7 port 50522 [preauth]", "user azureuser from 203.0.113.7"),
    ("Nov 25 09:20:07 vm-01 sshd[1447]: Received disconnect from 203.0.113.7 port 50522:14: No supported "
     "authentication methods available [preauth]", "no supported authentication methods"),
    ("Nov 25 09:20:07 vm-01 sshd[1447]: error: maximum authentication attempts exceeded for azureuser from "
     "203.0.113.7 port 50522 ssh2 [preauth]", "azureuser from 203.0.113.7"),
])
def test_refused_logins_are_warnings_naming_the_user(line: str, named: str) -> None:
    finding = only(line, "boot:sshd:auth_refused")
    assert finding.severity == "warning" and named in finding.summary


def test_healthy_sshd_lines_give_no_warning() -> None:
    log = "\r\n".join([
        "         Starting ssh.service - OpenBSD Secure Shell server...",
        f"{OK} Started {ESC}[0;1;39mssh.service{ESC}[0m - OpenBSD Secure Shell server.",
        "Nov 25 09:14:02 vm-01 sshd[812]: Server listening on 0.0.0.0 port 22.",
        "Nov 25 09:20:07 vm-01 sshd[1447]: Accepted publickey for azureuser from 203.0.113.7 port 50522 ssh2: ED25519 "
        "SHA256:Xx",
        "Nov 25 09:20:07 vm-01 sshd[1447]: pam_unix(sshd:session): session opened for user azureuser(uid=1000)",
        "Nov 25 09:14:02 vm-01 sshd[812]: /etc/ssh/sshd_config line 9: Deprecated option UsePrivilegeSeparation",
    ]).encode()
    report = parse_boot_log(log + b"\r\n")
    assert {f.severity for f in report.findings} == {"info"}
