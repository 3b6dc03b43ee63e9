"""The cloud-init family: the "Up N seconds" anchor kept exactly, network tables, datasource
trouble, failed config modules and failed stages, in console, syslog and journal forms."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bootlog_data import ESC, FAILED, only

from kit.analyze.bootlog import parse_boot_log

MODULE = "<module 'cloudinit.config.cc_{0}' from '/usr/lib/python3/dist-packages/cloudinit/config/cc_{0}.py'>"


def test_a_stage_banner_anchors_uptime_to_wall_time() -> None:
    line = ("[    5.200000] cloud-init[523]: Cloud-init v. 23.3.3-0ubuntu0~22.04.1 running 'init-local' at Wed, 25 Nov "
            "2026 09:13:50 +0000. Up 5.20 seconds.")
    report = parse_boot_log(line.encode() + b"\r\n")
    assert report.anchor is not None and report.anchor.source == "cloud-init"
    assert (report.anchor.time, report.anchor.uptime) == (datetime(2026, 11, 25, 9, 13, 50, tzinfo=UTC), 5.2)
    assert [e.kind for e in report.events] == ["boot:cloud-init:stage"] and report.findings == ()
    assert report.events[0].text.endswith("Up 5.20 seconds.")


def test_a_finished_banner_without_a_datasource_is_an_error_and_still_an_anchor() -> None:
    line = ("[    9.500000] cloud-init[1104]: Cloud-init v. 23.3.3 finished at Wed, 25 Nov 2026 09:13:58 +0000. "
            "Datasource DataSourceNone.  Up 9.50 seconds")
    report = parse_boot_log(line.encode() + b"\r\n")
    assert [(f.kind, f.severity) for f in report.findings] == [("boot:cloud-init:datasource_failed", "error")]
    assert "DataSourceNone" in report.findings[0].summary
    assert report.anchor is not None and report.anchor.time == datetime(2026, 11, 25, 9, 13, 58, tzinfo=UTC)


def test_an_unreadable_banner_date_is_a_warning_not_an_anchor() -> None:
    line = "[ 5.0] cloud-init[1]: Cloud-init v. 23.4 running 'init' at Someday, 99 Foo 2026 +0000. Up 5.00 seconds."
    report = parse_boot_log(line.encode() + b"\r\n")
    assert report.anchor is None and [w.kind for w in report.warnings] == ["date"]


@pytest.mark.parametrize(("line", "module"), [
    (f"[   12.400000] cloud-init[1104]: 2026-11-25 09:14:02,512 - util.py[WARNING]: Running module ssh "
     f"({MODULE.format('ssh')}) failed", "ssh"),
    (f"[CLOUDINIT] util.py[WARNING]: Running module scripts_user ({MODULE.format('scripts_user')}) failed",
     "scripts_user"),
    (f"Nov 25 09:14:02 vm-01 cloud-init[1104]: [CLOUDINIT] util.py[WARNING]: Running module set_passwords "
     f"({MODULE.format('set_passwords')}) failed", "set_passwords"),
    ("2026-11-25T09:14:02.500000+00:00 vm-01 cloud-init[1104]: 2026-11-25 09:14:02,500 - cc_scripts_user.py[WARNING]: "
     "Failed to run module scripts_user (scripts in /var/lib/cloud/instance/scripts)", "scripts_user"),
    ("cloud-init[1104]: 2026-11-25 09:14:02,300 - cc_ssh.py[WARNING]: Failed generating key type rsa to file "
     "/etc/ssh/ssh_host_rsa_key", "ssh"),
    ("cloud-init[1104]: 2026-11-25 09:14:02,510 - main.py[WARNING]: Ran write_files but it failed!", "write_files"),
])
def test_a_failed_module_is_a_warning_naming_the_module(line: str, module: str) -> None:
    finding = only(line, "boot:cloud-init:module_failed")
    assert finding.severity == "warning" and f"module {module} failed" in finding.summary


def test_a_failed_user_script_names_the_script_and_exit_code() -> None:
    finding = only("cloud-init[1104]: 2026-11-25 09:14:02,490 - subp.py[WARNING]: Failed running "
                   "/var/lib/cloud/instance/scripts/part-001 [1]", "boot:cloud-init:module_failed")
    assert "/var/lib/cloud/instance/scripts/part-001 exited with 1" in finding.summary


@pytest.mark.parametrize(("line", "kind", "severity", "named"), [
    ("[    6.320000] cloud-init[598]: ci-info: |  eth0  | False |              .               |       .       |"
     "   .    | 00:0d:3a:5b:8c:2e |", "boot:cloud-init:network_down", "error", "eth0"),
    ("[    6.320000] cloud-init[598]: ci-info: !!!!!!!!!!!!!!!!!!!!!!!!!Route info failed!!!!!!!!!!!!!!!!!!!!!!!!!",
     "boot:cloud-init:network_down", "error", "Route info failed"),
    ("[  131.210000] cloud-init[598]: 2026-11-25 09:15:31,023 - DataSourceAzure.py[ERROR]: Failed to read from IMDS: "
     "request error", "boot:cloud-init:datasource_failed", "error", "Failed to read from IMDS"),
    ("[  131.200000] cloud-init[598]: 2026-11-25 09:15:31,022 - url_helper.py[WARNING]: Calling "
     "'http://169.254.169.254/metadata/instance?api-version=2021-08-01' failed [120/120s]",
     "boot:cloud-init:datasource_failed", "warning", "169.254.169.254"),
    ("[CLOUDINIT] cc_final_message.py[WARNING]: Used fallback datasource", "boot:cloud-init:datasource_failed",
     "error", "no datasource"),
    ("[   12.100000] cloud-init[1104]: 2026-11-25 09:14:02,101 - util.py[ERROR]: Failed to write /etc/hosts",
     "boot:cloud-init:error", "warning", "util.py: Failed to write /etc/hosts"),
    (f"{FAILED} Failed to start {ESC}[0;1;39mcloud-init.service{ESC}[0m - Cloud-init: Network Stage.",
     "boot:cloud-init:failed", "error", "cloud-init.service"),
    ("[[0;1;31mFAILED[0m] Failed to start [0;1;39mcloud-final.service[0m - Cloud-init: Final Stage.",
     "boot:cloud-init:failed", "error", "cloud-final.service"),
    ("[FAILED] Failed to start Initial cloud-init job (metadata service crawler).", "boot:cloud-init:failed", "error",
     "metadata service crawler"),
])
def test_cloud_init_trouble(line: str, kind: str, severity: str, named: str) -> None:
    finding = only(line, kind)
    assert finding.severity == severity and named in finding.summary and "[0;" not in finding.summary


def test_healthy_cloud_init_lines_give_no_warning() -> None:
    log = "\r\n".join([
        "[    6.300000] cloud-init[598]: Cloud-init v. 23.3.3 running 'init' at Wed, 25 Nov 2026 09:13:51 +0000. Up "
        "6.30 seconds.",
        "[    6.320000] cloud-init[598]: ci-info: | Device |  Up  |           Address            |      Mask     | "
        "Scope  |     Hw-Address    |",
        "[    6.320000] cloud-init[598]: ci-info: |  eth0  | True |           10.0.0.4           | 255.255.255.0 | "
        "global | 00:0d:3a:5b:8c:2e |",
        "[    6.320000] cloud-init[598]: ci-info: |   lo   | True |          127.0.0.1           |   255.0.0.0   |  "
        "host  |         .         |",
        "[    6.320000] cloud-init[598]: ci-info: |   2   |  168.63.129.16  | 10.0.0.1 | 255.255.255.255 |    eth0   "
        "|  UGH  |",
        f"[{ESC}[0;32m  OK  {ESC}[0m] Finished {ESC}[0;1;39mcloud-init.service{ESC}[0m - Cloud-init: Network Stage.",
        "[    9.500000] cloud-init[1104]: Cloud-init v. 23.3.3 finished at Wed, 25 Nov 2026 09:13:58 +0000. "
        "Datasource DataSourceAzure [seed=/dev/sr0].  Up 9.50 seconds",
    ]).encode()
    report = parse_boot_log(log + b"\r\n")
    assert not [f for f in report.findings if f.severity != "info"]
    assert any(e.kind == "boot:cloud-init:address" and "10.0.0.4" in e.text for e in report.events)
