"""Training-grade walkthroughs through the session API: a wrong fix stays red, the right fix turns green.

Each scenario runs twice: through the lab (ARM connect POST, wss gateway, TLS verified) when the
lab serves the scenario, and against the scripted guest alone (MockTransport bridging to it), so
the guest is covered even before a scenario's data is committed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from kit.console import MockTransport, Session, open_lab_session
from kit.lab.guest import load_guest

SCENARIOS = ("firewall-lockout", "fstab-emergency", "sshd-broken", "windows-rdp")
DEFAULT_PASSWORD = "Lab-Passw0rd!"


@pytest.fixture(scope="module")
def console_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A lab with every console scenario that exists (rendered by the builder if not committed yet)."""
    from kit.lab import running_lab
    from kit.lab.scenario import list_scenarios

    dirs = None
    if not set(SCENARIOS) <= {info.name for info in list_scenarios()}:
        out = tmp_path_factory.mktemp("scenarios")
        subprocess.run([sys.executable, "-m", "kit.lab.scenarios.build", "--out", str(out)], check=True,
                       capture_output=True)
        dirs = [out]
    with running_lab(scenario_dirs=dirs) as lab:
        yield lab


@pytest.fixture(scope="module")
def variant_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The same incidents with seeded details (VM names, mount point, sshd option, ranges): no memorising."""
    from kit.lab import running_lab
    from kit.lab.variants import render_variants

    root = render_variants(dict.fromkeys(SCENARIOS, 7), tmp_path_factory.mktemp("variants"))
    with running_lab(scenario_dirs=[root]) as lab:
        yield lab


class Walkthrough:
    """One scenario's session plus a way to ask whether the fix is right."""

    def __init__(self, session: Session, check: Any, credentials: tuple[str, str], facts: dict[str, Any],
                 boot_log: Any) -> None:
        self.session, self.check, self.credentials, self.facts = session, check, credentials, facts
        self.boot_log = boot_log


def _served_boot_log(lab: Any, scenario: str) -> str:
    """The serial log as a responder downloads it: retrieveBootDiagnosticsData, then the SAS URL."""
    import ssl
    import urllib.request

    from azure.mgmt.compute import ComputeManagementClient

    from kit.azure.target import AzureTarget

    info = lab.scenario(scenario)
    target = AzureTarget.for_lab(lab)
    client = ComputeManagementClient(target.sync_credential(), info.subscription_id, **target.client_kwargs())
    uris = client.virtual_machines.retrieve_boot_diagnostics_data(info.resource_group, info.broken_vm)
    context = ssl.create_default_context(cafile=str(lab.ca_path))
    with urllib.request.urlopen(uris.serial_console_log_blob_uri, context=context) as response:
        return response.read().decode("utf-8", errors="replace")


@pytest.fixture(params=["lab", "variant", "guest-only"])
def walkthrough(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    def open_(scenario: str) -> Walkthrough:
        if request.param in ("lab", "variant"):
            console_lab = request.getfixturevalue("console_lab" if request.param == "lab" else "variant_lab")
            if scenario not in console_lab.scenario_names:
                pytest.skip(f"the lab does not serve {scenario!r} yet (its scenario data is not committed)")
            info = console_lab.scenario(scenario)
            data = yaml.safe_load((info.path / "scenario.yaml").read_text())
            session = open_lab_session(console_lab, scenario, approval=f"TRAIN-{scenario}",
                                       transcript=tmp_path / f"{scenario}.cast", timeout=15)
            credentials = (info.guest.get("username", "azureuser"), info.guest.get("password", DEFAULT_PASSWORD))
            return Walkthrough(session, lambda: console_lab.check(scenario), credentials, data.get("facts") or {},
                               lambda: _served_boot_log(console_lab, scenario))
        info = SimpleNamespace(name=scenario, broken_vm="vm-train-01", guest={}, responder_ip="203.0.113.7",
                               path=Path("/nonexistent"), facts={})
        guest = load_guest(info)
        transport = MockTransport(guest.feed, banner=guest.connect(), os_type=guest.os)
        session = Session(transport, approval=f"TRAIN-{scenario}", transcript=tmp_path / f"{scenario}.cast",
                          vm_id=f"guest:{scenario}", timeout=15)
        username = guest.definition.get("username", "azureuser")
        return Walkthrough(session, guest.check, (username, guest.definition["password"]), {},
                           lambda: guest.boot_log().decode())

    return open_


def test_firewall_lockout(walkthrough: Any) -> None:
    w = walkthrough("firewall-lockout")
    with w.session as s:
        s.login(*w.credentials)
        rules = s.run("sudo iptables -S")
        assert "-P INPUT DROP" in rules
        assert not w.check().passed
        s.run("sudo ufw disable")                     # wrong: ufw is not what blocks
        assert not w.check().passed
        s.run("sudo iptables -F")                     # wrong: flushing leaves the DROP policy
        assert not w.check().passed
        assert "Chain INPUT (policy DROP)" in s.run("sudo iptables -L -n")
        flows = [(b["src"], b["port"]) for b in w.facts.get("blocked", [])] or [("203.0.113.7", 22)]
        for source, port in flows:
            network = ".".join(source.split(".")[:3]) + ".0/24"
            s.run(f"sudo iptables -I INPUT -p tcp -s {network} --dport {port} -j ACCEPT")
        s.run("sudo iptables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
        result = w.check()
        assert result.passed and "next boot" in result.message  # live fix, not yet persisted
        s.run("sudo netfilter-persistent save")
        assert w.check().passed and "persist" in w.check().message
        s.sendline("sudo reboot")
        s.expect(r"login: $", timeout=15)
        assert w.check().passed                        # the saved rules come back after the reboot


def test_fstab_emergency(walkthrough: Any) -> None:
    w = walkthrough("fstab-emergency")
    with w.session as s:
        s.expect(r"Give root password for maintenance", timeout=10)
        s.login("root", w.credentials[1])
        failed = s.run("mount -a")
        match = re.search(r"mount: (\S+): can't find", failed)
        assert match, failed
        mount_point = match.group(1)
        assert not w.check().passed
        s.sendline("systemctl reboot")                 # wrong: rebooting without fixing fstab
        s.expect(r"Give root password for maintenance[\s\S]*: $", timeout=15)
        s.login("root", w.credentials[1])
        assert not w.check().passed
        assert "emergency mode" in w.boot_log()
        escaped = mount_point.replace("/", r"\/")
        s.run(f"sed -i '/{escaped}/s/^/#/' /etc/fstab")
        assert "#" in s.run(f"grep {mount_point} /etc/fstab")
        assert s.run("mount -a") == ""
        result = w.check()
        assert not result.passed and "reboot" in result.message
        s.sendline("systemctl reboot")
        s.expect(r"login: $", timeout=15)
        assert w.check().passed
        log = w.boot_log()                               # what boot diagnostics serves now
        assert log.rstrip().endswith("login:") and "emergency mode" not in log.splitlines()[-1]


def test_sshd_broken(walkthrough: Any) -> None:
    w = walkthrough("sshd-broken")
    with w.session as s:
        s.login(*w.credentials)
        status = s.run("systemctl status ssh")
        assert "failed" in status
        s.run("sudo systemctl restart ssh")            # wrong: restarting a broken config
        assert not w.check().passed
        errors = s.run("sudo sshd -t")
        where = re.search(r"^(/\S+?):? line (\d+): Bad configuration option", errors, re.M)
        assert where, errors
        path, line = where.groups()
        assert s.run(f"sudo sed -n '{line}p' {path}").strip()            # the offending line
        s.run(f"sudo sed -i '{line}s/^/#/' {path}")
        assert s.run("sudo sshd -t") == ""
        assert not w.check().passed                    # valid now, but not restarted
        s.run("sudo systemctl restart ssh")
        assert "active" in s.run("systemctl is-active ssh")
        assert ":22 " in s.run("sudo ss -tlnp")
        assert w.check().passed


def test_windows_rdp(walkthrough: Any) -> None:
    w = walkthrough("windows-rdp")
    with w.session as s:
        prompt = s.login(*w.credentials)
        assert prompt.endswith(">") and "SAC" not in prompt
        assert "STOPPED" in s.run("sc query TermService")
        assert "1058" in s.run("net start TermService")   # wrong: the service is disabled
        assert not w.check().passed
        assert "DISABLED" in s.run("sc qc TermService")
        assert "SUCCESS" in s.run("sc config TermService start= auto")
        assert "started successfully" in s.run("net start TermService")
        key = "HKLM\\System\\CurrentControlSet\\Control\\Terminal Server"
        assert "0x0" in s.run(f'reg query "{key}" /v fDenyTSConnections')
        assert w.check().passed
